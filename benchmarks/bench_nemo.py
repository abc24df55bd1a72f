"""Speed and fidelity of the NeMo embedders on the CPU (not a test; ``nox -s bench``).

For each model family (SpeakerNet, TitaNet-L, ECAPA-TDNN, AmberNet) a full-size,
random-weight model is built from the published configuration (``tests/_tiny_nemo.py``
with ``full=True``), saved as ``.nemo`` and loaded through the public embedder. Two
clip sets are embedded: short (0.5-2.5 s) and long (5-10 s) synthetic utterances
(``sertools.datasets.make_synthetic_corpus``, 16 kHz; the speed of these
convolutional models depends on durations only). Compared, on the same model:

* ``per-file``: NeMo's own one-clip inference, ``model.infer_segment(clip)`` in a
  loop (what ``get_embedding`` runs after reading a file);
* the embedder with ``batch_seconds`` tiny (one clip at a time through the engine),
  ``"auto"`` and a few fixed budgets;
* ``raw forward``: ``model.forward`` on the very batches the engine forms at
  ``"auto"``, pre-built as tensors; the engine's overhead is its time over this.

Speeds are in "× real time" (seconds of audio per second of compute), best of
``--repeats`` interleaved rounds so that other load on the machine inflates no
method more than another. Fidelity is the minimum cosine between the embedder's
batched embeddings and NeMo's ``infer_segment`` ones.

Usage::

    python benchmarks/bench_nemo.py --out docs/benchmarks-nemo.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import _tiny_nemo  # noqa: E402  (the published topologies)
from _signals import row_cosine  # noqa: E402

SR = 16000
EMBEDDERS = {
    "speakernet": ("SpeakerNetEmbedder", "SpeakerNet"),
    "titanet": ("TitaNetEmbedder", "TitaNet-L"),
    "ecapa": ("EcapaTdnnEmbedder", "ECAPA-TDNN"),
    "ambernet": ("AmberNetEmbedder", "AmberNet"),
}
CLIP_SETS = {"short": (0.5, 2.5), "long": (5.0, 10.0)}


def make_clips(duration: tuple[float, float], total_s: float, seed: int) -> list[np.ndarray]:
    """Synthetic utterances with durations uniform in ``duration``, about ``total_s`` in all."""
    import sertools

    n = max(2, round(total_s / np.mean(duration)))
    corpus = sertools.datasets.make_synthetic_corpus(
        n_per_class=-(-n // 2),
        classes=("angry", "sad"),
        duration=duration,
        sampling_rate=SR,
        random_state=seed,
    )
    return list(corpus.data[:n])


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and process CPU time of one call, in seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_family(
    family: str, path: Path, sets: dict, budgets: list[float], repeats: int, threads: int
) -> list[dict]:
    """Time every method on every clip set for one model."""
    import torch

    import sertools
    from sertools.features._engine import plan_batches

    cls_name, _ = EMBEDDERS[family]
    cls = getattr(sertools, cls_name)

    def embedder(batch_seconds):
        return cls(
            model=str(path),
            sampling_rate=SR,
            batch_seconds=batch_seconds,
            max_chunk_seconds=None,
            n_threads=threads,
        ).fit()

    auto = embedder("auto")
    model = auto._backend.model
    auto_seconds = auto._batch_seconds()
    single = embedder(1e-6)
    fixed = {b: embedder(b) for b in budgets}
    rows = []
    for set_name, clips in sets.items():
        audio_s = sum(len(c) for c in clips) / SR

        def per_file(clips=clips):
            return np.concatenate([model.infer_segment(c)[0].numpy() for c in clips])

        # the engine's batches at "auto", pre-built as tensors
        lengths = [len(c) for c in clips]
        batches = []
        for idx in plan_batches(lengths, max_batch_samples=int(auto_seconds * SR)):
            x = np.zeros((len(idx), lengths[idx[0]]), dtype=np.float32)
            for row, j in enumerate(idx):
                x[row, : lengths[j]] = clips[j]
            batches.append((torch.from_numpy(x), torch.tensor([lengths[j] for j in idx])))

        def raw_forward(batches=batches):
            with torch.inference_mode():
                for x, n in batches:
                    model.forward(input_signal=x, input_signal_length=n)

        # per-file, engine auto and raw forward run back to back in each round, so
        # that their per-round ratios compare runs under the same machine load
        methods = {
            "per-file": per_file,
            "engine auto": lambda clips=clips: auto.transform(clips),
            "raw forward": raw_forward,
            "engine 1-at-a-time": lambda clips=clips: single.transform(clips),
            **{
                f"engine {b:g} s": (lambda e=e, clips=clips: e.transform(clips))
                for b, e in fixed.items()
            },
        }
        torch.set_num_threads(threads)
        walls = {name: [] for name in methods}
        cpus = {name: [] for name in methods}
        for _ in range(repeats):
            for name, fn in methods.items():
                w, c = timed(fn)
                walls[name].append(w)
                cpus[name].append(c)
        wall = {name: min(t) for name, t in walls.items()}

        def paired(num: str, den: str, times: dict = walls) -> float:
            """Median over rounds of the time ratio ``num / den``."""
            return float(np.median(np.divide(times[num], times[den])))

        ref = per_file()
        fid = float(row_cosine(auto.transform(clips), ref).min())
        rows.append(
            {
                "family": family,
                "set": set_name,
                "n_clips": len(clips),
                "audio_s": audio_s,
                "n_batches": len(batches),
                "speed": {name: audio_s / t for name, t in wall.items()},
                "ratio": paired("per-file", "engine auto"),
                "cpu_ratio": paired("per-file", "engine auto", cpus),
                "overhead": paired("engine auto", "raw forward") - 1,
                "cpu_overhead": paired("engine auto", "raw forward", cpus) - 1,
                "min_cos": fid,
            }
        )
        print(
            f"{family:10s} {set_name:5s} "
            + "  ".join(f"{k}={v:.1f}x" for k, v in rows[-1]["speed"].items())
            + f"  ratio={rows[-1]['ratio']:.2f}/{rows[-1]['cpu_ratio']:.2f}"
            f"  overhead={rows[-1]['overhead']:+.1%}"
            f"/{rows[-1]['cpu_overhead']:+.1%}  min_cos={fid:.7f}",
            flush=True,
        )
    return rows


def to_markdown(
    rows: list[dict],
    params: dict[str, float],
    budgets: list[float],
    args: argparse.Namespace,
    build_s: dict[str, float],
    load: tuple[float, float],
) -> str:
    """The results as a markdown page."""
    import torch

    import sertools
    from sertools.features._neural import AUTO_BATCH_SECONDS

    names = [
        "per-file",
        "engine 1-at-a-time",
        "engine auto",
        *[f"engine {b:g} s" for b in budgets],
        "raw forward",
    ]
    lines = [
        "# NeMo embedders: CPU speed and fidelity",
        "",
        f"Generated by `python benchmarks/bench_nemo.py --out {args.out}` "
        f"({time.strftime('%Y-%m-%d')}): sertools {sertools.__version__}, torch "
        f"{torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{args.threads} torch threads (`os.cpu_count()` = {os.cpu_count()}), "
        f"best of {args.repeats} interleaved rounds; 1-min load average "
        f"{load[0]:.1f} at the start, {load[1]:.1f} at the end (other processes on the "
        "machine slow every method alike; the ratios are the robust figures).",
        "",
        "Full-size models with random weights, built from the published configurations "
        "(`tests/_tiny_nemo.py`, `full=True`): "
        + ", ".join(
            f"{EMBEDDERS[f][1]} {params[f]:.1f} M parameters (built in {build_s[f]:.1f} s)"
            for f in params
        )
        + ". Clips: synthetic utterances at 16 kHz, short = 0.5–2.5 s, long = 5–10 s.",
        "",
        "Speed in × real time (audio seconds per compute second; higher is faster). "
        "`per-file` is NeMo's `infer_segment` one clip at a time (the `get_embedding` "
        f'loop); `engine auto` is the embedder\'s default (`batch_seconds="auto"` = '
        f"{AUTO_BATCH_SECONDS['cpu']:g} s of padded audio per batch on a CPU); `raw forward` "
        "runs `model.forward` on the same batches pre-built as tensors. The speed columns "
        "are the best of the rounds. The last columns compare methods run back to back in "
        "each round and give the median over rounds of the time ratio (robust to load "
        "that varies between rounds): auto vs per-file = per-file time / engine auto time "
        "(> 1: the engine is faster); overhead = engine auto time / raw forward time − 1; "
        "both from wall-clock time and from process CPU time; min cos = smallest cosine "
        "between `engine auto` and `per-file` embeddings.",
        "",
        "| model | clips | n | audio (s) | auto batches | "
        + " | ".join(names)
        + " | auto vs per-file, median (wall / CPU) | overhead, median (wall / CPU) | min cos |",
        "|---|---|---:|---:|---:|" + "---:|" * len(names) + "---:|---:|---:|",
    ]
    for r in rows:
        s = r["speed"]
        lines.append(
            f"| {EMBEDDERS[r['family']][1]} | {r['set']} | {r['n_clips']} | {r['audio_s']:.0f} | "
            f"{r['n_batches']} | "
            + " | ".join(f"{s[n]:.1f}" for n in names)
            + f" | {r['ratio']:.2f}× / {r['cpu_ratio']:.2f}× | "
            f"{r['overhead']:+.1%} / {r['cpu_overhead']:+.1%} | {r['min_cos']:.7f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="markdown file to write the results to")
    parser.add_argument("--families", nargs="+", default=list(EMBEDDERS), choices=list(EMBEDDERS))
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (best is kept)")
    parser.add_argument("--short-seconds", type=float, default=120.0, help="audio in the short set")
    parser.add_argument("--long-seconds", type=float, default=120.0, help="audio in the long set")
    parser.add_argument(
        "--budgets",
        type=float,
        nargs="*",
        default=[4.0, 16.0, 32.0],
        help="fixed batch_seconds to compare with auto",
    )
    args = parser.parse_args(argv)

    import torch
    from nemo.utils import logging as nemo_logging

    nemo_logging.set_verbosity(nemo_logging.ERROR)
    torch.set_num_threads(args.threads)
    sets = {
        "short": make_clips(CLIP_SETS["short"], args.short_seconds, seed=1),
        "long": make_clips(CLIP_SETS["long"], args.long_seconds, seed=2),
    }
    load_start = os.getloadavg()[0]
    rows, params, build_s = [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for family in args.families:
            start = time.perf_counter()
            model = _tiny_nemo.build_model(family, full=True)
            build_s[family] = time.perf_counter() - start
            params[family] = sum(p.numel() for p in model.parameters()) / 1e6
            path = Path(tmp) / f"{family}.nemo"
            model.save_to(str(path))
            del model
            rows += bench_family(family, path, sets, args.budgets, args.repeats, args.threads)
    load = (load_start, os.getloadavg()[0])
    text = to_markdown(rows, params, args.budgets, args, build_s, load)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
