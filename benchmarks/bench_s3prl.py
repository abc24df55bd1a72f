"""Benchmark the S3PRL embedders: speed, batching drift and engine overhead.

Runs full-size random-weight models (wav2vec 2.0 Base and HuBERT Base, 95 M
parameters, and S3PRL's fixed DeCoAR, 67 M) built with S3PRL's own classes
(``tests/_tiny_s3prl.py``, ``size="base"``) on real EMOVO clips, or on the
synthetic corpus when EMOVO is not there, and writes a Markdown report::

    python benchmarks/bench_s3prl.py --out docs/benchmarks-s3prl.md

Measured, per upstream:

* real-time factor (processing seconds per second of audio) one clip at a time
  with 1 and 2 torch threads, and in padded batches of a few budgets;
* drift of the batched embeddings from one-at-a-time extraction (cosine per
  clip; wav2vec 2.0 and HuBERT Base normalise the first convolution's output
  over the whole padded time axis, so padding changes them);
* the engine's overhead: ``transform`` against a bare loop over
  ``S3PRLUpstream(wav, len)`` on the same clips, one at a time.

Random weights stand in for the pretrained ones (no download here): speed is
the same, drift magnitudes may differ. The run takes about 5-8 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the checkpoint builders

import _tiny_s3prl  # noqa: E402
import torch  # noqa: E402
from _signals import row_cosine  # noqa: E402

from sertools import DecoarEmbedder, HubertEmbedder, Wav2Vec2Embedder, audio  # noqa: E402
from sertools.features._engine import plan_batches  # noqa: E402
from sertools.features._neural import clear_backend_cache  # noqa: E402

SR = 16000
EMBEDDERS = {"wav2vec2": Wav2Vec2Embedder, "hubert": HubertEmbedder, "decoar": DecoarEmbedder}


def _default_data() -> Path:
    root = os.environ.get("SERTOOLS_TEST_DATA", str(ROOT.parent / "shared" / "data"))
    return Path(root) / "emovo"


def load_clips(data: Path, n_clips: int) -> tuple[list[np.ndarray], str]:
    """``n_clips`` EMOVO clips spread evenly over the length range, at 16 kHz.

    Returns
    -------
    clips : list of ndarray of shape (n_samples_i,), float32
    source : str
        Where they came from, for the report.
    """
    import soundfile as sf

    paths = sorted(data.glob("*/*.wav")) if data.is_dir() else []
    if paths:
        by_length = sorted(paths, key=lambda p: (sf.info(str(p)).frames, p.name))
        picks = np.linspace(0, len(by_length) - 1, n_clips).round().astype(int)
        chosen = [str(by_length[i]) for i in picks]
        waves = audio.as_waveforms(chosen, sampling_rate=None, target_rate=SR)
        # named, not the machine's absolute path (the report is committed)
        where = (
            "$SERTOOLS_TEST_DATA/emovo" if data == _default_data() else f"--data .../{data.name}"
        )
        return waves, f"EMOVO ({where})"
    from sertools.datasets import make_synthetic_corpus

    corpus = make_synthetic_corpus(n_per_class=-(-n_clips // 4), duration=(1.0, 6.0))
    waves = audio.as_waveforms(
        corpus.data[:n_clips], sampling_rate=corpus.sampling_rate, target_rate=SR
    )
    return waves, "synthetic corpus (EMOVO not found)"


def build_checkpoints(folder: Path, upstreams: list[str]) -> dict[str, Path]:
    """Write full-size random-weight checkpoints; returns upstream -> path."""
    T = _tiny_s3prl
    builders = {
        "wav2vec2": lambda: T.wav2vec2_state("base"),
        "hubert": lambda: T.hubert_state("base"),
        "decoar": T.decoar_state,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {u: T.save(builders[u](), folder / f"{u}.pt") for u in upstreams}


def _timed(fn, repeats: int) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls (the machine may be shared) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _padding_share(clips: list[np.ndarray], budget: float) -> np.ndarray:
    """Share of each clip's padded row that is padding, under the engine's batch plan."""
    lengths = [len(c) for c in clips]
    share = np.zeros(len(clips))
    for batch in plan_batches(lengths, max_batch_samples=max(1, int(budget * SR))):
        longest = max(lengths[i] for i in batch)
        for i in batch:
            share[i] = 1 - lengths[i] / longest
    return share


def bench_upstream(
    name: str, path: Path, clips: list[np.ndarray], budgets: list[float], repeats: int
) -> dict:
    """Speed, drift and overhead of one upstream; see the module docstring."""
    cls = EMBEDDERS[name]
    seconds = sum(len(c) for c in clips) / SR

    def make(**params):
        return cls(checkpoint=str(path), sampling_rate=SR, layer="all", **params).fit()

    start = time.perf_counter()
    single = make(batch_seconds=1e-3, n_threads=1)
    load_s = time.perf_counter() - start
    upstream = single._backend.model.upstream  # the S3PRLUpstream the engine drives
    n_layers, width = single.n_layers_, single.hidden_size_

    def raw_loop() -> None:
        with torch.inference_mode():
            for wave in clips:
                upstream(torch.from_numpy(wave)[None], torch.tensor([len(wave)]))

    # every timed method runs once per round, back to back, so that per-round
    # ratios compare runs under the same machine load
    batched = {b: make(batch_seconds=b, n_threads=1) for b in budgets}
    methods = {
        "raw": raw_loop,
        "single": lambda: single.transform(clips),
        **{b: (lambda e=e: e.transform(clips)) for b, e in batched.items()},
    }
    torch.set_num_threads(1)
    with torch.inference_mode():  # warm-up: first calls allocate
        upstream(torch.from_numpy(clips[0])[None], torch.tensor([len(clips[0])]))
    for e in (single, *batched.values()):
        e.transform(clips[:1])
    times: dict = {m: [] for m in methods}
    for _ in range(repeats):
        for m, fn in methods.items():
            times[m].append(_timed(fn, 1)[0])
    F_single = single.transform(clips)

    def paired(num, den) -> float:
        """Median over rounds of the time ratio ``num / den``."""
        return float(np.median(np.divide(times[num], times[den])))

    # two threads, on the shorter half of the clips (it can be slow on a shared machine)
    two = make(batch_seconds=1e-3, n_threads=2)
    half = sorted(clips, key=len)[: max(1, len(clips) // 2)]
    two_s, _ = _timed(lambda: two.transform(half), 1)
    two_rtf = two_s / (sum(len(c) for c in half) / SR)

    rows = []
    last = slice((n_layers - 1) * width, n_layers * width)
    for budget, embedder in batched.items():
        F = embedder.transform(clips)
        per_layer = np.stack(
            [
                row_cosine(
                    F[:, i * width : (i + 1) * width], F_single[:, i * width : (i + 1) * width]
                )
                for i in range(n_layers)
            ]
        )
        last_cos = row_cosine(F[:, last], F_single[:, last])
        worst = per_layer.min(axis=0)
        padding = _padding_share(clips, budget)
        rows.append(
            {
                "budget": budget,
                "rtf": min(times[budget]) / seconds,
                "speedup": paired("single", budget),
                "min_last": float(last_cos.min()),
                "median_last": float(np.median(last_cos)),
                "min_any": float(per_layer.min()),
                "share_ok": float((worst >= 0.999).mean()),
                "padding_worst": float(padding[np.argmin(worst)]),
                "padding_ok": float(padding[worst >= 0.999].max(initial=0.0)),
                "padding_bad": float(padding[worst < 0.999].min(initial=np.inf)),
            }
        )
    torch.set_num_threads(1)
    clear_backend_cache()
    return {
        "name": name,
        "n_layers": n_layers,
        "width": width,
        "load_s": load_s,
        "audio_s": seconds,
        "n_clips": len(clips),
        "rtf_1": min(times["single"]) / seconds,
        "rtf_2": two_rtf,
        "raw_s": min(times["raw"]),
        "engine_s": min(times["single"]),
        "overhead": paired("single", "raw") - 1,
        "batched": rows,
    }


def report(
    results: list[dict],
    source: str,
    clips: dict[str, list[np.ndarray]],
    wall: float,
    command: str,
    load_at_start: float,
) -> str:
    """Markdown tables of the results."""
    import s3prl

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    lines = [
        "# S3PRL embedders: speed, batching drift, engine overhead",
        "",
        f"Written by `{command}` in {wall / 60:.1f} min.",
        "",
        f"* Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"1-minute load average {load_at_start:.1f} at the start, "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) at the end "
        "(a load above the core count means the cores were shared: timings are the best "
        "of the repeats).",
        f"* torch {torch.__version__}, s3prl {s3prl.__version__}, CPU.",
        f"* Clips: {source}, spread evenly over the length range.",
        "* Models: full-size random weights built with S3PRL's classes (wav2vec 2.0 Base and "
        "HuBERT Base: 13 hidden states x 768; DeCoAR: 1 x 2048), loaded through "
        '`checkpoint=` and the `*_local` loaders; `layer="all"`.',
        "",
        "## Real-time factor (seconds of processing per second of audio; lower is faster)",
        "",
        "Best of the rounds. In brackets, the speed-up of the batches over one clip at a "
        "time: the median over rounds of the per-round time ratio (every method runs once "
        "per round, back to back).",
        "",
        "| upstream | clips | audio (s) | load (s) | 1 at a time, 1 thread | "
        "1 at a time, 2 threads (shorter half, one run) | "
        + " | ".join(
            f"batches of {r['budget']:g} s, 1 thread (speed-up)" for r in results[0]["batched"]
        )
        + " |",
        "|---|---|---|---|---|---|" + "---|" * len(results[0]["batched"]),
    ]
    for r in results:
        batched = " | ".join(f"{b['rtf']:.3f} ({b['speedup']:.2f}x)" for b in r["batched"])
        lines.append(
            f"| {r['name']} | {r['n_clips']} | {r['audio_s']:.1f} | {r['load_s']:.1f} | "
            f"{r['rtf_1']:.3f} | {r['rtf_2']:.3f} | {batched} |"
        )
    lines += [
        "",
        "## Drift of padded batches from one-at-a-time extraction",
        "",
        "Cosine similarity between each clip's batched and one-at-a-time embedding: of the "
        "last layer (min and median over clips), of any layer (min), and the share of clips "
        "whose every layer stays at or above 0.999.",
        "",
        "| upstream | batch budget (s) | min cos, last layer | median cos, last layer | "
        "min cos, any layer | clips with all layers >= 0.999 | padding of the worst clip | "
        "most padding with all layers >= 0.999 | least padding with a layer < 0.999 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for b in r["batched"]:
            lines.append(
                f"| {r['name']} | {b['budget']:g} | {b['min_last']:.5f} | "
                f"{b['median_last']:.5f} | {b['min_any']:.5f} | {100 * b['share_ok']:.0f} % | "
                f"{100 * b['padding_worst']:.0f} % | {100 * b['padding_ok']:.0f} % | "
                + ("-" if np.isinf(b["padding_bad"]) else f"{100 * b['padding_bad']:.1f} %")
                + " |"
            )
    lines += [
        "",
        "## Engine overhead over the bare upstream forward",
        "",
        "`transform` (input checks, sorting, padding, masked pooling of every layer, order "
        "restore) against a loop calling `S3PRLUpstream(wav, len)` on the same clips, one "
        "at a time, 1 thread; times are the best of the rounds, the overhead is the median "
        "over rounds of the per-round time ratio (both run back to back in each round).",
        "",
        "| upstream | bare forward (s) | transform (s) | overhead |",
        "|---|---|---|---|",
    ]
    for r in results:
        overhead = r["overhead"]
        lines.append(
            f"| {r['name']} | {r['raw_s']:.2f} | {r['engine_s']:.2f} | {100 * overhead:+.1f} % |"
        )
    lengths = {k: np.array([len(c) / SR for c in v]) for k, v in clips.items()}
    lines += [
        "",
        "Clip lengths (s): "
        + "; ".join(
            f"{k}: {v.min():.1f}-{v.max():.1f}, median {np.median(v):.1f}"
            for k, v in lengths.items()
        )
        + ".",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="Markdown file to write")
    parser.add_argument("--data", type=Path, default=_default_data(), help="EMOVO folder")
    parser.add_argument("--n-clips", type=int, default=10, help="clips for wav2vec 2.0/HuBERT")
    parser.add_argument("--decoar-clips", type=int, default=6, help="clips for DeCoAR (slow)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budgets", type=float, nargs="+", default=[4.0, 8.0, 30.0])
    parser.add_argument("--upstreams", nargs="+", default=list(EMBEDDERS), choices=EMBEDDERS)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    threads = torch.get_num_threads()
    clips, source = load_clips(args.data, args.n_clips)
    decoar_clips = clips[:: max(1, len(clips) // args.decoar_clips)][: args.decoar_clips]
    per_upstream = {u: decoar_clips if u == "decoar" else clips for u in args.upstreams}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_checkpoints(Path(tmp), args.upstreams)
        for name in args.upstreams:
            print(f"{name} ...", flush=True)
            results.append(
                bench_upstream(name, paths[name], per_upstream[name], args.budgets, args.repeats)
            )
            paths[name].unlink()  # 380 MB each
    torch.set_num_threads(threads)
    command = " ".join(
        ["python benchmarks/bench_s3prl.py", *(sys.argv[1:] if argv is None else argv)]
    )
    wall = time.perf_counter() - start
    text = report(results, source, per_upstream, wall, command, load_at_start)
    if args.out is None:
        print(text)
    else:
        args.out.write_text(text)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
