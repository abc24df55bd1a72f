"""What the per-clip cache and streaming buy on real EMOVO (not a test; ``nox -s bench``).

1. **Cross-validation**: 5-fold ``cross_validate`` (stratified, shuffled, seed 0) of
   ``make_pipeline(embedder, SVC(C=10, gamma=1e-3))`` and then of
   ``make_pipeline(embedder, DNNClassifier())``, for MFCC, a tiny random-weight
   NeMo TitaNet (``tests/_tiny_nemo.py``) and GE2E with its pretrained weights
   (resemblyzer's wheel), three ways: without a cache (*naive*:
   every fold embeds its training and test clips), with an empty cache (*cold*) and
   with the filled cache (*warm*). Reported: clips the model embedded (counted on the
   real backend calls) and wall time.
2. **Peak memory of streaming extraction**: ``MFCCEmbedder().fit().transform(paths)``
   on EMOVO and on EMOVO repeated 4 times, each in a fresh subprocess, peak RSS from
   ``resource.getrusage``; for contrast, decoding every clip up front (what
   ``transform`` did before streaming: ``audio.as_waveforms``).
3. **1 vs 2 jobs**: MFCC extraction with ``n_jobs=1`` and ``n_jobs=2`` (no cache).

Usage::

    python benchmarks/bench_cache.py --out docs/benchmarks-cache.md
    python benchmarks/bench_cache.py --max-clips 147 --dnn-epochs 20   # a shared machine

``--root`` defaults to ``$SERTOOLS_TEST_DATA/emovo``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _emovo(root: str, max_clips: int | None) -> tuple[np.ndarray, np.ndarray]:
    """EMOVO paths and labels; a stratified subset of ``max_clips`` when asked."""
    from sklearn.model_selection import train_test_split

    from sertools.datasets import load_emovo

    data = load_emovo(root)
    X, y = np.asarray(data.filenames, dtype=str), np.asarray(data.target)
    if max_clips is not None and max_clips < len(X):
        X, _, y, _ = train_test_split(X, y, train_size=max_clips, stratify=y, random_state=0)
    return X, y


class _Counter:
    """Counts the clips that reach the real backend (MFCC: librosa; NeMo: the model)."""

    def __init__(self) -> None:
        from sertools.features import ge2e, nemo
        from sertools.features.signal import _LibrosaEmbedder

        self.n = 0
        one = _LibrosaEmbedder._one
        counter = self

        def counted_one(self, *args):
            counter.n += 1
            return one(self, *args)

        def counting(call):
            def counted_call(self, batch, lengths):
                counter.n += int(batch.shape[0])
                return call(self, batch, lengths)

            return counted_call

        _LibrosaEmbedder._one = counted_one
        nemo._NeMoBackend.__call__ = counting(nemo._NeMoBackend.__call__)
        ge2e._GE2EBackend.__call__ = counting(ge2e._GE2EBackend.__call__)


def cross_validation(X, y, *, model: str, dnn_epochs: int | None, cache_root: Path) -> list[dict]:
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    import sertools
    from sertools.models import DNNClassifier

    counter = _Counter()
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    dnn_params = {} if dnn_epochs is None else {"max_epochs": dnn_epochs}
    features = {
        "MFCC": lambda cache: sertools.MFCCEmbedder(cache=cache),
        "tiny TitaNet (NeMo)": lambda cache: sertools.TitaNetEmbedder(
            model=model, device="cpu", n_threads=1, cache=cache
        ),
        # a real pretrained network (the weights in resemblyzer's wheel)
        "GE2E (pretrained)": lambda cache: sertools.GE2EEmbedder(
            device="cpu", n_threads=1, cache=cache
        ),
    }
    rows = []
    for name, make in features.items():
        folder = cache_root / name.split()[0].lower()
        for scenario, cache in (("naive", False), ("cold", folder), ("warm", folder)):
            counter.n = 0
            start = time.perf_counter()
            uar = []
            for clf in (SVC(C=10, gamma=1e-3), DNNClassifier(random_state=0, **dnn_params)):
                res = cross_validate(
                    make_pipeline(make(cache), clf), X, y, cv=cv, scoring=sertools.uar_scorer
                )
                uar.append(float(res["test_score"].mean()))
            seconds = time.perf_counter() - start
            rows.append(
                {
                    "features": name,
                    "scenario": scenario,
                    "embedded": counter.n,
                    "seconds": seconds,
                    "uar_svc": uar[0],
                    "uar_dnn": uar[1],
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def _rss_child(root: str, repeat: int, mode: str, max_clips: int | None) -> None:
    """Runs in a subprocess: extract, then print the peak RSS (KiB) as JSON."""
    import sertools
    from sertools import audio

    X, _ = _emovo(root, max_clips)
    X = np.concatenate([X] * repeat)
    emb = sertools.MFCCEmbedder().fit()
    emb.transform(X[:2])  # imports and first-call allocations before the baseline
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if mode == "stream":
        F = emb.transform(X)
    else:  # decode every clip first, as transform did before streaming
        waves = audio.as_waveforms(X, sampling_rate=None, target_rate=emb._target_rate())
        F = np.zeros((len(waves), 1))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    row = {"n": len(F), "base_kb": base, "peak_kb": peak, "seconds": seconds}
    row["hwm_kb"] = _vm_hwm_kb()  # the kernel's own peak of this process (cross-check)
    print(json.dumps(row))


def _vm_hwm_kb() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_memory(root: str, max_clips: int | None) -> list[dict]:
    rows = []
    for mode in ("stream", "eager"):
        for repeat in (1, 4):
            cmd = [sys.executable, __file__, "--rss-child", mode, "--repeat", str(repeat)]
            cmd += ["--root", root]
            if max_clips is not None:
                cmd += ["--max-clips", str(max_clips)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            row.update(mode=mode, repeat=repeat)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def jobs(X) -> list[dict]:
    import sertools

    rows = []
    for n_jobs in (1, 2):
        emb = sertools.MFCCEmbedder(n_jobs=n_jobs, cache=False).fit()
        emb.transform(X[:4])  # start the workers
        start = time.perf_counter()
        emb.transform(X)
        rows.append({"n_jobs": n_jobs, "seconds": time.perf_counter() - start, "n": len(X)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def report(cv_rows, rss_rows, job_rows, args, n_clips, total_s) -> str:
    lines = [
        "# Benchmark: the per-clip cache, streaming and jobs (real EMOVO)",
        "",
        "Written by `benchmarks/bench_cache.py` (`nox -s bench`); all ratios come from one run.",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs (absolute times vary with",
        "the machine's load; the counts are exact).",
        f"Corpus: EMOVO, {n_clips} clips"
        + (f" (stratified subset, `--max-clips {args.max_clips}`)" if args.max_clips else "")
        + f"; {total_s:.0f} s of audio. DNN: `DNNClassifier("
        + ("" if args.dnn_epochs is None else f"max_epochs={args.dnn_epochs}")
        + ")`.",
        "",
        "## 5-fold cross_validate, SVC then DNN",
        "",
        "| features | run | clips embedded | wall time (s) | vs naive | UAR SVC | UAR DNN |",
        "|---|---|---|---|---|---|---|",
    ]
    naive = {}
    for r in cv_rows:
        if r["scenario"] == "naive":
            naive[r["features"]] = r["seconds"]
        ratio = naive[r["features"]] / r["seconds"]
        lines.append(
            f"| {r['features']} | {r['scenario']} | {r['embedded']} "
            f"({r['embedded'] / n_clips:.1f} N) | {r['seconds']:.1f} | {ratio:.1f}x "
            f"| {100 * r['uar_svc']:.1f} | {100 * r['uar_dnn']:.1f} |"
        )
    lines += [
        "",
        "naive: no cache (each of the 2 x 5 folds embeds its training and test clips);",
        "cold: an empty cache folder; warm: the same folder again. The wall time includes",
        "training the classifiers, the same in every run.",
        "",
        "Cold and warm runs score the same vectors, so their UARs are equal. A naive run",
        "embeds each clip in other batches (each fold's clips together): MFCCs, computed per",
        "clip, are identical, but a batched network's vectors differ at float-rounding level",
        "(GE2E: at most 3.3e-7 between one clip alone and in a batch, measured on these",
        "clips). The SVC does not notice; the DNN's training can amplify it into a few",
        "different test predictions, hence a different DNN UAR.",
        "",
        "## Peak memory of extraction (MFCC, fresh subprocess each)",
        "",
        "| extraction | clips | peak RSS (MB) | above the baseline (MB) | VmHWM (MB) | time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rss_rows:
        what = "streaming `transform`" if r["mode"] == "stream" else "decode all up front"
        lines.append(
            f"| {what} x{r['repeat']} | {r['n']} | {r['peak_kb'] / 1024:.0f} "
            f"| {(r['peak_kb'] - r['base_kb']) / 1024:.0f} "
            f"| {(r['hwm_kb'] or 0) / 1024:.0f} | {r['seconds']:.1f} |"
        )
    by = {(r["mode"], r["repeat"]): r["peak_kb"] for r in rss_rows}
    lines += [
        "",
        f"Growth of the peak from 1x to 4x: streaming "
        f"{100 * (by['stream', 4] / by['stream', 1] - 1):+.1f} %, decoding up front "
        f"{100 * (by['eager', 4] / by['eager', 1] - 1):+.1f} %. Peak RSS is "
        "`resource.getrusage(RUSAGE_SELF).ru_maxrss` at the end of the child; the",
        "baseline is taken after imports and a 2-clip warm-up; VmHWM is the kernel's",
        "peak for the child's own address space (`/proc/self/status`).",
        "",
        "## MFCC extraction, 1 vs 2 jobs (no cache)",
        "",
        "| n_jobs | clips | time (s) | clips/s |",
        "|---|---|---|---|",
    ]
    for r in job_rows:
        lines.append(
            f"| {r['n_jobs']} | {r['n']} | {r['seconds']:.1f} | {r['n'] / r['seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_root = str(Path(os.environ.get("SERTOOLS_TEST_DATA", "data")) / "emovo")
    parser.add_argument("--root", default=default_root)
    parser.add_argument("--out", default=None, help="Markdown file to write")
    parser.add_argument("--max-clips", type=int, default=None, help="stratified EMOVO subset")
    parser.add_argument("--dnn-epochs", type=int, default=None, help="DNN max_epochs")
    parser.add_argument(
        "--rss-max-clips", type=int, default=None, help="EMOVO subset of the memory part"
    )
    parser.add_argument("--rss-child", choices=["stream", "eager"], help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        _rss_child(args.root, args.repeat, args.rss_child, args.max_clips)
        return

    # first, while this process is small: Linux carries the parent's peak RSS over
    # into a child's ru_maxrss when the parent is the larger
    rss_rows = peak_memory(args.root, args.rss_max_clips)

    import _tiny_nemo
    import soundfile as sf

    X, y = _emovo(args.root, args.max_clips)
    total_s = sum(sf.info(p).duration for p in X)
    with tempfile.TemporaryDirectory() as tmp:
        model = str(_tiny_nemo.save_model("titanet", Path(tmp) / "titanet.nemo"))
        cv_rows = cross_validation(
            X, y, model=model, dnn_epochs=args.dnn_epochs, cache_root=Path(tmp)
        )
    job_rows = jobs(X)
    text = report(cv_rows, rss_rows, job_rows, args, len(X), total_s)
    text += f"\nCommand: `python benchmarks/bench_cache.py {' '.join(sys.argv[1:])}`\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
