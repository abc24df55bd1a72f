"""Study benchmark on real corpora: Table II's signal rows, end to end and broken down.

Runs, on the real EMOVO and EMODB copies of ``../shared/data`` (see its README):

1. **Extraction**, per corpus and feature set (``mel``, ``mfcc``): decoding alone
   (``sertools.audio.read_audio``), resampling alone (``sertools.audio.resample``
   to the embedders' 22,050 Hz), the bare embedder (``cache=False``), the embedder
   with a cold cache (an empty folder) and with a warm one (same folder again).
2. **Classifiers**, per corpus and protocol (``paper``: stratified 5-fold;
   ``speaker``: speaker-independent folds), on the MFCC and Mel vectors: the SVM's
   5 fits, the DNN's 5 fits one after the other (``DNNClassifier.fit``, and the
   former skorch trainer for the "before" column) and the 5 networks in one stack
   (``sertools.models.fit_folds``).
3. **End to end**: ``run_study`` on both corpora, ``features=("mel", "mfcc")``,
   ``classifiers=("svm", "dnn")``, ``protocols=("paper", "speaker")`` with a fresh
   cache folder, then ``StudyResult.save`` (every table, figure and report).
   With ``--baseline-tree PATH`` the same end-to-end run is also timed with the
   sertools checkout at PATH (e.g. the main branch before this change), in a
   subprocess.

and writes ``docs/benchmarks-study.md`` (``--write``): seconds per hour of audio and the
extrapolation to the six corpora of the paper (about 9.5 h of audio) against the
10-minute goal of issue 24. Not a timed test: run it by hand, once, on a quiet machine
if you have one::

    PYTHONPATH=$PWD python benchmarks/bench_study.py --data ../shared/data --write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

SIX_CORPORA_HOURS = 9.5
GOAL_S = 600.0

_E2E = """
import json, sys, time, tempfile
from pathlib import Path
from sertools.datasets import load_corpus
from sertools.study import run_study
data = Path(sys.argv[1])
corpora = {name: load_corpus(name, data / name) for name in ("emovo", "emodb")}
with tempfile.TemporaryDirectory() as tmp:
    start = time.perf_counter()
    result = run_study(corpora, features=("mel", "mfcc"), classifiers=("svm", "dnn"),
                       protocols=("paper", "speaker"), cache_dir=Path(tmp) / "cache")
    study_s = time.perf_counter() - start
    start = time.perf_counter()
    result.save(Path(tmp) / "out", title="bench")
    save_s = time.perf_counter() - start
s = result.scores
print(json.dumps({
    "study_s": study_s, "save_s": save_s, "ok": bool(result.ok),
    "fit_s": {f"{c}": float(s[s.classifier == c].fit_time.sum()) for c in ("svm", "dnn")},
    "uar": {"/".join(k): float(v) for k, v in s.groupby(
        ["corpus", "protocol", "feature", "classifier"]).uar.mean().items()},
}))
"""


def _timed(fn, *args, **kwargs):
    """CPU seconds of this process (far less sensitive than wall time to other jobs)."""
    start = time.process_time()
    out = fn(*args, **kwargs)
    return time.process_time() - start, out


def _load(data: Path) -> dict:
    from sertools.datasets import load_corpus

    return {
        "emovo": load_corpus("emovo", data / "emovo"),
        "emodb": load_corpus("emodb", data / "emodb"),
    }


def extraction(corpora: dict, full: bool) -> tuple[dict, dict]:
    from sertools.audio import read_audio, resample
    from sertools.features import MelSpectrogramEmbedder, MFCCEmbedder

    rows, feats = {}, {}
    for cname, bunch in corpora.items():
        paths = [str(p) for p in bunch.X] if hasattr(bunch, "X") else list(bunch.filenames)
        decode_s, clips = _timed(lambda ps=paths: [read_audio(p) for p in ps])
        seconds = sum(len(x) / sr for x, sr in clips)
        resample_s, _ = _timed(
            lambda cs=clips: [resample(x, orig_sr=sr, target_sr=22050) for x, sr in cs]
        )
        rows[cname] = {"clips": len(paths), "audio_s": seconds, "decode": decode_s,
                       "resample": resample_s}  # fmt: skip
        for fname, cls in (("mel", MelSpectrogramEmbedder), ("mfcc", MFCCEmbedder)):
            with tempfile.TemporaryDirectory() as tmp:
                # bare and cold cache alternate (twice with --full; the best of each is kept)
                bare, cold = [], []
                for i in range(2 if full else 1):
                    t, F = _timed(cls(cache=False).fit_transform, paths)
                    bare.append(t)
                    t, Fc = _timed(cls(cache=str(Path(tmp) / f"c{i}")).fit_transform, paths)
                    cold.append(t)
                warm, Fw = _timed(cls(cache=str(Path(tmp) / "c0")).fit_transform, paths)
            assert np.array_equal(F, Fc) and np.array_equal(F, Fw)
            rows[cname][fname] = {"bare": min(bare), "cold": min(cold), "warm": warm}
            feats[cname, fname] = F
    return rows, feats


def classifiers(corpora: dict, feats: dict, full: bool) -> dict:
    from sklearn.base import clone
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.svm import SVC

    from sertools.models import DNNClassifier, fit_folds
    from sertools.study.plan import _as_corpus, _splits  # the study's own fold rules

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_dnn import skorch_fit

    out = {}
    for (cname, fname), F in feats.items():
        corpus = _as_corpus(cname, corpora[cname])
        y = corpus.y
        _, y_int = np.unique(y, return_inverse=True)
        for proto in ("paper", "speaker"):
            folds = _splits(corpus, proto, n_splits=5, seed=0)
            cell = {}
            start = time.process_time()
            for tr, _ in folds:
                SVC(C=10, gamma=1e-3).fit(F[tr], y[tr])
            cell["svm"] = time.process_time() - start
            start = time.process_time()
            for tr, _ in folds:
                mu, sd = F[tr].mean(0), F[tr].std(0)
                sd[sd == 0] = 1
                skorch_fit(((F[tr] - mu) / sd).astype(np.float32), y_int[tr], 0)
            cell["dnn_skorch"] = time.process_time() - start
            dnn = DNNClassifier(random_state=0)
            start = time.process_time()
            alone = [clone(dnn).fit(F[tr], y[tr]) for tr, _ in folds] if full else []
            cell["dnn_alone"] = time.process_time() - start if full else float("nan")
            t, stacked = _timed(fit_folds, dnn, F, y, folds)
            cell["dnn_stack"] = t
            uar = [
                [
                    balanced_accuracy_score(y[te], m.predict(F[te]))
                    for m, (_, te) in zip(ms, folds, strict=False)
                ]
                for ms in (alone, stacked)
            ]  # without --full, alone is empty: its UAR is nan
            cell["uar_alone"], cell["uar_stack"] = (100 * float(np.mean(u)) for u in uar)
            cell["n_folds"] = len(folds)
            out[f"{cname}/{proto}/{fname}"] = cell
            print(f"  {cname}/{proto}/{fname}: {cell}", flush=True)
    return out


def end_to_end(data: Path, tree: Path) -> dict:
    import resource

    env = {**os.environ, "PYTHONPATH": str(tree), "MPLBACKEND": "Agg"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # cwd=tree: ``python -c`` puts the working directory first on sys.path
    done = subprocess.run(
        [sys.executable, "-c", _E2E, str(data)], env=env, capture_output=True, text=True, cwd=tree
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return out


def render(meta: dict, ext: dict, cls: dict, e2e: dict, base: dict | None) -> str:
    hours = sum(r["audio_s"] for r in ext.values()) / 3600
    per_corpus = [f"{c} {r['clips']} clips / {r['audio_s'] / 60:.1f} min" for c, r in ext.items()]
    lines = [
        "# Study benchmark: Table II's signal rows on real EMOVO and EMODB",
        "",
        "Written by `benchmarks/bench_study.py` (one run; not a timed test). "
        f"Machine: {meta['machine']}. **The machine was shared with other jobs while this "
        f"ran (load average {meta['load']:.1f} at the start on {meta['cpus']} cores)**, so "
        "absolute seconds are inflated and only the side-by-side ratios of one run "
        "compare well.",
        "",
        f"Audio: {sum(r['clips'] for r in ext.values())} clips, {hours * 60:.1f} min "
        "(" + ", ".join(per_corpus) + ").",
        "",
        "Classifier and extraction times are CPU seconds of the benchmark's process (one "
        "torch thread), the end-to-end rows wall and CPU seconds of a fresh process; the "
        "extrapolation uses CPU seconds (what a quiet 1-core run would take; a 2-core run "
        "with `n_jobs=2` can halve the fits).",
        "",
        "## Extraction (CPU seconds)",
        "",
        "| corpus | decode | resample to 22,050 Hz | feature | bare | cold cache | cold / bare "
        "| warm cache |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c, r in ext.items():
        for f in ("mel", "mfcc"):
            x = r[f]
            lines.append(
                f"| {c} | {r['decode']:.2f} | {r['resample']:.2f} | {f} | {x['bare']:.2f} "
                f"| {x['cold']:.2f} | {x['cold'] / x['bare']:.2f} | {x['warm']:.2f} |"
            )
    lines += [
        "",
        "Decode and resample are timed alone (the embedders do both inside); bare and "
        "cold-cache runs alternate (twice with `--full`, keeping the best of each).",
        "",
        "## Classifier fits per cell (CPU seconds for all folds)",
        "",
        "| cell | folds | SVM | DNN, skorch (before) | DNN, `fit` one by one | DNN, "
        "`fit_folds` | speed-up vs before | UAR alone / stacked (%) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k, r in cls.items():
        lines.append(
            f"| {k} | {r['n_folds']} | {r['svm']:.2f} | {r['dnn_skorch']:.1f} | "
            f"{r['dnn_alone']:.1f} | {r['dnn_stack']:.1f} | "
            f"{r['dnn_skorch'] / r['dnn_stack']:.1f}x | {r['uar_alone']:.2f} / "
            f"{r['uar_stack']:.2f} |"
        )
    tot = {k: sum(r[k] for r in cls.values()) for k in ("svm", "dnn_skorch", "dnn_alone",
                                                          "dnn_stack")}  # fmt: skip
    lines += [
        f"| **all cells** | | {tot['svm']:.1f} | {tot['dnn_skorch']:.1f} | "
        f"{tot['dnn_alone']:.1f} | {tot['dnn_stack']:.1f} | "
        f"{tot['dnn_skorch'] / tot['dnn_stack']:.1f}x | |",
        "",
        "## End to end: `run_study` + `StudyResult.save`",
        "",
        "Both corpora, mel and mfcc, svm and dnn, paper and speaker protocols, fresh cache.",
        "",
        "| checkout | study (s) | of which fits: SVM / DNN (s) | reports (s) | total wall (s) "
        "| total CPU (s) | CPU s per hour of audio | six corpora (9.5 h), extrapolated "
        "| vs 10-min goal |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in (("before (baseline tree)", base), ("this branch", e2e)):
        if r is None:
            continue
        total = r["study_s"] + r["save_s"]
        per_hour = r["cpu_s"] / hours
        six = per_hour * SIX_CORPORA_HOURS
        lines.append(
            f"| {name} | {r['study_s']:.1f} | {r['fit_s']['svm']:.1f} / "
            f"{r['fit_s']['dnn']:.1f} | {r['save_s']:.1f} | {total:.1f} | {r['cpu_s']:.1f} | "
            f"{per_hour:.0f} | "
            f"{six / 60:.1f} min | {six / GOAL_S:.2f}x |"
        )
    lines += [
        "",
        "The extrapolation scales this run linearly with hours of audio: extraction and "
        "the DNN's epochs are linear in clips, the SVM's fits grow faster but stay "
        "seconds; reports grow with the number of cells, not the audio.",
        "",
        "UAR per cell, this branch (mean over folds, %):",
        "",
        "| cell | UAR |",
        "|---|---|",
        *(f"| {k} | {100 * v:.2f} |" for k, v in sorted(e2e["uar"].items())),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--baseline-tree", type=Path, default=None)
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks-study.md")
    parser.add_argument(
        "--full", action="store_true", help="also time DNNClassifier.fit one fold at a time"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
        f"({torch.backends.cpu.get_cpu_capability()})",
        "load": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    print(meta, flush=True)
    corpora = _load(args.data)
    ext, feats = extraction(corpora, args.full)
    print(json.dumps(ext, indent=1), flush=True)
    root = Path(__file__).resolve().parents[1]
    e2e = end_to_end(args.data.resolve(), root)
    print("this branch:", json.dumps(e2e), flush=True)
    cls = classifiers(corpora, feats, args.full)
    base = None
    if args.baseline_tree is not None:
        base = end_to_end(args.data.resolve(), args.baseline_tree.resolve())
        print("baseline:", json.dumps(base), flush=True)
    page = render(meta, ext, cls, e2e, base)
    print(page)
    if args.write:
        (root / "docs" / "benchmarks-study.md").write_text(page)


if __name__ == "__main__":
    main()
