"""End-to-end speed of the neural embedders on a GPU, with a CPU smoke mode.

For each model family whose backend is importable here — the NeMo families
(TitaNet-L, SpeakerNet, ECAPA-TDNN, AmberNet) on the nemo stack, the S3PRL ones
(wav2vec 2.0 Base, HuBERT Base, DeCoAR) on the s3prl stack — a full-size
random-weight model is built from the published configuration
(``tests/_tiny_nemo.py`` ``full=True``, ``tests/_tiny_s3prl.py`` ``"base"``),
saved, and loaded through the public embedder. On real EMOVO clips it measures,
as "x real time" (seconds of audio per second of wall time, best of the rounds):

* one clip at a time (``batch_seconds=1e-3``), float32;
* batches of several padded-audio budgets, float32, and the speed-up over one
  clip at a time; the minimum cosine (over clips and, for S3PRL, over all 13
  layers) with the one-at-a-time vectors: batching must not change them;
* ``batch_seconds="auto"`` in bfloat16 (``precision="bf16"``): speed, and the
  drift from float32 one at a time;
* end to end: ``transform`` on the file paths (decode, resample, embed, and
  store in the per-clip cache where the embedder has one), first (cold) run;
* peak GPU memory of each run (``torch.cuda.max_memory_allocated``).

On a machine without CUDA (or with ``--smoke``) it runs a short CPU smoke mode:
five short clips, one budget besides "auto", TitaNet-L / wav2vec 2.0 / HuBERT
by default; its numbers check that the script and the GPU-path code run, not
GPU speed.

Each stack writes its own section of the Markdown page (the other stack's
section is kept), so ``nox -s bench`` fills the page from both environments::

    python benchmarks/bench_gpu.py --out docs/benchmarks-gpu.md
    python benchmarks/bench_gpu.py --smoke --out docs/benchmarks-gpu.md

Goals on one current data-centre GPU (issue #15): TitaNet-L >= 1,000x real time
end to end, wav2vec 2.0 / HuBERT Base >= 300x, batched >= 3x one clip at a time
for every family. Runs in under 5 minutes per stack on one GPU.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the checkpoint builders

SR = 16000
#: family -> (backend package, label, embedder class, layered)
FAMILIES = {
    "titanet": ("nemo", "TitaNet-L", "TitaNetEmbedder", False),
    "speakernet": ("nemo", "SpeakerNet", "SpeakerNetEmbedder", False),
    "ecapa": ("nemo", "ECAPA-TDNN", "EcapaTdnnEmbedder", False),
    "ambernet": ("nemo", "AmberNet", "AmberNetEmbedder", False),
    "wav2vec2": ("s3prl", "wav2vec 2.0 Base", "Wav2Vec2Embedder", True),
    "hubert": ("s3prl", "HuBERT Base", "HubertEmbedder", True),
    "decoar": ("s3prl", "DeCoAR", "DecoarEmbedder", True),
}
#: end-to-end goals in x real time on one data-centre GPU (issue #15)
GOALS = {"titanet": 1000.0, "wav2vec2": 300.0, "hubert": 300.0}
SMOKE_FAMILIES = {"nemo": ["titanet"], "s3prl": ["wav2vec2", "hubert"]}


def _default_data() -> Path:
    root = os.environ.get("SERTOOLS_TEST_DATA", str(ROOT.parent / "shared" / "data"))
    return Path(root) / "emovo"


def emovo_paths(data: Path, n_clips: int, *, shorter_half: bool = False) -> list[str]:
    """``n_clips`` EMOVO files spread evenly over the length range (all if 0).

    ``shorter_half``: spread over the shorter half only (the CPU smoke mode).
    """
    import soundfile as sf

    paths = sorted(data.glob("*/*.wav")) if data.is_dir() else []
    if not paths:
        raise SystemExit(f"no EMOVO clips under {data}: pass --data or set SERTOOLS_TEST_DATA")
    by_length = sorted(paths, key=lambda p: (sf.info(str(p)).frames, p.name))
    if shorter_half:
        by_length = by_length[: len(by_length) // 2]
    if 0 < n_clips < len(by_length):
        picks = np.linspace(0, len(by_length) - 1, n_clips).round().astype(int)
        by_length = [by_length[i] for i in picks]
    return [str(p) for p in by_length]


def build(family: str, folder: Path) -> dict:
    """Write a full-size random-weight checkpoint; returns the embedder's model params."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if FAMILIES[family][0] == "nemo":
            import _tiny_nemo

            path = _tiny_nemo.save_model(family, folder / f"{family}.nemo", full=True)
            return {"model": str(path)}
        import _tiny_s3prl as T

        state = T.decoar_state() if family == "decoar" else getattr(T, f"{family}_state")("base")
        return {"checkpoint": str(T.save(state, folder / f"{family}.pt")), "layer": "all"}


def min_cosine(A: np.ndarray, B: np.ndarray, width: int) -> float:
    """Minimum cosine of matching rows, per ``width``-wide block (a layer), over all blocks."""
    n_blocks = A.shape[1] // width
    a = A.reshape(len(A), n_blocks, width).astype(np.float64)
    b = B.reshape(len(B), n_blocks, width).astype(np.float64)
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return float(cos.min())


class Timer:
    """Wall time (best of rounds) and peak GPU memory of a callable."""

    def __init__(self, device: str) -> None:
        import torch

        self.torch = torch
        self.cuda = device.startswith("cuda")

    def __call__(self, fn: Callable[[], np.ndarray], repeats: int) -> tuple[float, float, object]:
        torch = self.torch
        best, peak, out = float("inf"), float("nan"), None
        for _ in range(repeats):
            if self.cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            out = fn()
            if self.cuda:
                torch.cuda.synchronize()
                peak = torch.cuda.max_memory_allocated() / 2**30
            best = min(best, time.perf_counter() - start)
        return best, peak, out


def bench_family(family: str, params: dict, paths: list[str], args: argparse.Namespace) -> dict:
    """Every measurement of one family; see the module docstring."""
    import sertools
    from sertools import audio
    from sertools.features._neural import clear_backend_cache

    backend, label, cls_name, layered = FAMILIES[family]
    cls = getattr(sertools, cls_name)
    timer = Timer(args.device)
    waves = audio.as_waveforms(paths, sampling_rate=None, target_rate=SR)
    audio_s = sum(len(w) for w in waves) / SR

    def make(**extra):
        return cls(sampling_rate=SR, device=args.device, **params, **extra).fit()

    start = time.perf_counter()
    single = make(batch_seconds=1e-3)
    load_s = time.perf_counter() - start
    width = single.hidden_size_ if layered else single.n_features_out_
    single.transform(waves[:2])  # warm-up: first calls allocate, cuDNN picks kernels
    t_single, peak_single, ref = timer(lambda: single.transform(waves), args.repeats)
    auto = make()
    rows = [("one clip at a time", "fp32", t_single, peak_single, 1.0)]
    for budget in [*args.budgets, "auto"]:
        emb = auto if budget == "auto" else make(batch_seconds=budget)
        emb.transform(waves[:2])
        t, peak, out = timer(lambda emb=emb: emb.transform(waves), args.repeats)
        name = f"auto ({auto._batch_seconds():g} s)" if budget == "auto" else f"{budget:g} s"
        rows.append((f"batches of {name}", "fp32", t, peak, min_cosine(out, ref, width)))
    low = make(precision="bf16")
    low.transform(waves[:2])
    t, peak, out = timer(lambda: low.transform(waves), args.repeats)
    rows.append((f"batches of auto ({auto._batch_seconds():g} s)", "bf16", t, peak, None))
    bf16_cos = min_cosine(out, ref, width)
    with tempfile.TemporaryDirectory() as cache:
        e2e = make()
        cached = "cache" in e2e.get_params()
        if cached:
            e2e.set_params(cache=cache)
        t_e2e, peak_e2e, _ = timer(lambda: e2e.transform(paths), 1)
    clear_backend_cache()
    return {
        "family": family,
        "label": label,
        "backend": backend,
        "n_clips": len(waves),
        "audio_s": audio_s,
        "load_s": load_s,
        "rows": rows,
        "bf16_cos": bf16_cos,
        "e2e": (t_e2e, peak_e2e, cached),
        "auto_s": auto._batch_seconds(),
    }


def _gib(peak: float) -> str:
    return "-" if np.isnan(peak) else f"{peak:.2f}"


def section(results: list[dict], args: argparse.Namespace, wall: float, stack: str) -> str:
    """This stack's section of the page."""
    import torch

    smoke = not args.device.startswith("cuda")
    if smoke:
        where = (
            f"**CPU smoke output** ({platform.machine()}, {os.cpu_count()} cores, "
            f"{torch.get_num_threads()} torch thread(s)): torch found no CUDA device when "
            "this ran, so these numbers only show that the GPU-path code runs; they are "
            "not GPU speeds."
        )
    else:
        props = torch.cuda.get_device_properties(0)
        where = f"GPU: {props.name}, {props.total_memory / 2**30:.0f} GiB"
    versions = f"torch {torch.__version__}"
    spec = importlib.util.find_spec(stack)
    if spec is not None:
        module = __import__(stack)
        versions += f", {stack} {getattr(module, '__version__', '?')}"
    lines = [
        f"## {stack} stack",
        "",
        f"* {where}",
        f"* {versions}; written {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by "
        f"`python benchmarks/bench_gpu.py {' '.join(args.argv)}` in {wall / 60:.1f} min.",
        f"* Clips: {results[0]['n_clips']} EMOVO files spread over the "
        f"{'shorter half of the ' if smoke else ''}length range, "
        f"{results[0]['audio_s']:.0f} s of audio; best of {args.repeats} round(s).",
        "",
        "| model | run | precision | x real time | speed-up over one at a time | "
        "peak GPU memory (GiB) | min cosine with one at a time, fp32 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        t_single = r["rows"][0][2]
        for name, precision, t, peak, cos in r["rows"]:
            cos_text = f"{cos:.7f}" if cos is not None else f"{r['bf16_cos']:.5f} (bf16 drift)"
            lines.append(
                f"| {r['label']} | {name} | {precision} | {r['audio_s'] / t:.1f} | "
                f"{t_single / t:.2f}x | {_gib(peak)} | {cos_text} |"
            )
        t_e2e, peak_e2e, cached = r["e2e"]
        what = "decode → embed → cache" if cached else "decode → embed"
        lines.append(
            f"| {r['label']} | end to end from files ({what}), auto | fp32 | "
            f"{r['audio_s'] / t_e2e:.1f} | {t_single / t_e2e:.2f}x | {_gib(peak_e2e)} | - |"
        )
    lines += ["", "Model load (build excluded), s: "]
    lines[-1] += ", ".join(f"{r['label']} {r['load_s']:.1f}" for r in results) + "."
    if not smoke:
        lines += ["", "Goals (issue #15):", ""]
        for r in results:
            t_single = r["rows"][0][2]
            best = min(row[2] for row in r["rows"][1:])
            lines.append(
                f"* {r['label']}: batched {t_single / best:.1f}x one at a time (goal >= 3x)"
                + (
                    f"; end to end {r['audio_s'] / r['e2e'][0]:.0f}x real time "
                    f"(goal >= {GOALS[r['family']]:.0f}x)"
                    if r["family"] in GOALS
                    else ""
                )
            )
    return "\n".join(lines) + "\n"


HEADER = """# Neural embedders on a GPU: throughput, exact batches, bf16, memory

Written by `benchmarks/bench_gpu.py` (`nox -s bench`), one section per software
stack (NeMo and S3PRL need different torch builds). Models are full-size with random
weights from the published configurations (speed does not depend on the weights);
clips are real EMOVO files. "x real time" is seconds of audio per second of wall
time; the cosine column compares each clip's vector with its one-clip-at-a-time
float32 vector (over all 13 layers for wav2vec 2.0 / HuBERT, `layer="all"`):
batches must leave it at 1 to float precision, bf16 shows its drift.
"""


def write_page(out: Path, stack: str, text: str) -> str:
    """Replace this stack's section of ``out`` (keeping the other's) and return the page."""
    sections = {}
    if out.exists():
        for name, body in re.findall(
            r"<!-- bench_gpu:(\w+) -->\n(.*?)<!-- /bench_gpu:\1 -->", out.read_text(), re.S
        ):
            sections[name] = body
    sections[stack] = text
    page = HEADER + "".join(
        f"\n<!-- bench_gpu:{name} -->\n{sections[name]}<!-- /bench_gpu:{name} -->\n"
        for name in sorted(sections)
    )
    out.write_text(page)
    return page


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="Markdown page to write (this stack's section)")
    parser.add_argument("--data", type=Path, default=_default_data(), help="EMOVO folder")
    parser.add_argument("--smoke", action="store_true", help="CPU smoke mode (automatic w/o CUDA)")
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES), help="default: all here")
    parser.add_argument("--n-clips", type=int, help="EMOVO clips (0: all; default 0, smoke 6)")
    parser.add_argument("--budgets", type=float, nargs="+", help="batch_seconds to compare")
    parser.add_argument("--repeats", type=int, help="timed rounds (default 2, smoke 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on a CPU")
    args = parser.parse_args(argv)
    args.argv = argv

    import torch

    stacks = [s for s in ("nemo", "s3prl") if importlib.util.find_spec(s) is not None]
    if not stacks:
        raise SystemExit("neither NeMo nor S3PRL is installed: nothing to benchmark")
    stack = stacks[0]
    smoke = args.smoke or not torch.cuda.is_available()
    args.device = "cpu" if smoke else "cuda"
    families = args.families or (
        SMOKE_FAMILIES[stack] if smoke else [f for f, v in FAMILIES.items() if v[0] == stack]
    )
    args.n_clips = args.n_clips if args.n_clips is not None else (5 if smoke else 0)
    args.budgets = args.budgets or ([8.0] if smoke else [30.0, 120.0, 480.0])
    args.repeats = args.repeats or (1 if smoke else 2)
    if smoke:
        torch.set_num_threads(args.threads)
    if stack == "nemo":
        from nemo.utils import logging as nemo_logging

        nemo_logging.set_verbosity(nemo_logging.ERROR)

    start = time.perf_counter()
    paths = emovo_paths(args.data, args.n_clips, shorter_half=smoke)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for family in families:
            if FAMILIES[family][0] != stack:
                print(f"skipping {family}: its backend ({FAMILIES[family][0]}) is not this stack")
                continue
            print(f"{family}: building the full-size model ...", flush=True)
            params = build(family, Path(folder))
            results.append(bench_family(family, params, paths, args))
            print(f"{family}: done after {time.perf_counter() - start:.0f} s", flush=True)
    text = section(results, args, time.perf_counter() - start, stack)
    print(text)
    if args.out:
        write_page(args.out, stack, text)


if __name__ == "__main__":
    main()
