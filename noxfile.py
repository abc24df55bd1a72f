"""Developer tasks: ``nox -s tests``, ``lint``, ``demo``, ``bench``, ``mutation``, ``docs``,
``notebooks``.

Two software stacks are needed because the backends disagree on torch:

* ``nemo``  — torch 2.13 (the CPU build where one is on the machine) + NeMo 3;
* ``s3prl`` — torch 2.8 + torchaudio 2.8 + s3prl 0.4.18 (s3prl needs
  ``torchaudio.set_audio_backend``, removed in torchaudio 2.9, and torchaudio
  pins torch exactly). From PyPI this is the CUDA build (~6 GB, ~3 min); it runs
  on the CPU.

torch is installed first in every session, pinned, so that no later
requirement pulls a different (multi-GB CUDA) build.
"""

from __future__ import annotations

import os
import shutil
import time

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"
TORCH = {"nemo": ["torch==2.13.0"], "s3prl": ["torch==2.8.0", "torchaudio==2.8.0"]}


def _install(session: nox.Session, stack: str, extras: str) -> None:
    session.install(*TORCH[stack])
    session.install("-e", f".[{extras}]")


@nox.session(python=PYTHON)
@nox.parametrize("stack", ["nemo", "s3prl"])
def tests(session: nox.Session, stack: str) -> None:
    """Run the test suite on both backend stacks (``nox -s tests``).

    Real-corpus tests run when ``SERTOOLS_TEST_DATA`` points at the shared data
    folder and skip with the reason otherwise.
    """
    _install(session, stack, f"test,{stack}" + (",opensmile,hf" if stack == "nemo" else ""))
    if stack == "nemo":
        # GE2E reads the weights in resemblyzer's wheel; webrtcvad-wheels (no build, no
        # pkg_resources) lets the tests import resemblyzer itself for reference values
        session.install("--no-deps", "resemblyzer==0.1.4", "webrtcvad-wheels>=2.0.14")
    args = session.posargs or ["-q", "-p", "no:cacheprovider", "--durations=10"]
    if stack == "s3prl" and not session.posargs:
        # The core suite already ran on the nemo stack; here run the S3PRL
        # tests and the core tests that touch torch (engine, DNN).
        args = [*args, "tests/test_s3prl.py", "tests/test_exact.py", "tests/test_engine.py"]
        args = [*args, "tests/test_dnn.py", "tests/test_gpu.py"]
    session.run("pytest", *args, env={"MPLBACKEND": "Agg"})


@nox.session(python=PYTHON)
def mutation(session: nox.Session) -> None:
    """Mutation testing (never part of ``nox -s tests``): ``tools/mutation.py``.

    Curated deliberate bugs (label maps, audio, log-Mel, engine, metrics, DNN), each
    run against a fast subset of the tests, then mutmut on ``sertools/metrics.py``;
    prints killed/survived and the score. Arguments go to the runner, e.g.
    ``nox -s mutation -- --only savee-f-h --jobs 2``.
    """
    _install(session, "nemo", "test")
    session.install("mutmut==3.8.1")
    args = session.posargs or ["--mutmut"]
    session.run("python", "tools/mutation.py", *args, env={"MPLBACKEND": "Agg"})


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check + ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The main job on the embedded synthetic corpus (``sertools demo``)."""
    _install(session, "nemo", "test")
    out = session.posargs[0] if session.posargs else "sertools-demo"
    session.run("sertools", "demo", "--out", out, env={"MPLBACKEND": "Agg"})


@nox.session(python=PYTHON)
@nox.parametrize("stack", ["nemo", "s3prl"])
def bench(session: nox.Session, stack: str) -> None:
    """Benchmarks (never part of the tests): writes docs/benchmarks-*.md."""
    _install(session, stack, f"test,{stack}")
    if stack == "nemo":  # the cache benchmark runs GE2E (weights in resemblyzer's wheel)
        session.install("--no-deps", "resemblyzer==0.1.4")
    session.run("python", f"benchmarks/bench_{stack}.py", "--out", f"docs/benchmarks-{stack}.md")
    # GPU throughput (a short CPU smoke mode without CUDA); one page section per stack
    session.run("python", "benchmarks/bench_gpu.py", "--out", "docs/benchmarks-gpu.md")
    if stack == "nemo":  # the cache benchmark needs MFCC + a tiny NeMo model and real EMOVO
        session.run("python", "benchmarks/bench_cache.py", "--out", "docs/benchmarks-cache.md")
        # the study on real EMOVO + EMODB (docs/benchmarks-study.md), the DNN trainer's speed
        session.run("python", "benchmarks/bench_study.py", "--data", "../shared/data", "--write")
        session.run("python", "benchmarks/bench_dnn.py", "--emovo", "../shared/data/emovo")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site into docs/_build/html, warnings as errors.

    The API reference is generated from the package's ``__all__``; the notebooks are
    rendered with their stored outputs (``nox -s notebooks`` executes them); the
    getting-started and extending pages are executed during the build. intersphinx
    links only to sites that answer (this CI is offline; see docs/conf.py).
    """
    _install(session, "nemo", "docs")
    session.run(
        "sphinx-build",
        *("-b", "html", "-W", "--keep-going", "-q"),
        *(session.posargs or ["docs", "docs/_build/html"]),
        env={"MPLBACKEND": "Agg"},
    )


@nox.session(python=PYTHON)
def notebooks(session: nox.Session) -> None:
    """Execute the example notebooks in place, storing their outputs and figures.

    ``nox -s notebooks -- examples/01_quickstart.ipynb`` runs one. Real-corpus cells
    use ``SERTOOLS_TEST_DATA`` when it is set.
    """
    _install(session, "nemo", "test,docs,nemo,hf")
    # GE2E reads the pretrained weights shipped in resemblyzer's wheel (never imported)
    session.install("--no-deps", "resemblyzer==0.1.4")
    names = session.posargs or sorted(
        f"examples/{nb}" for nb in os.listdir("examples") if nb.endswith(".ipynb")
    )
    # the notebooks share one folder of cached features and study cells: start it empty,
    # so that every run computes everything (and the times below are those of a first run)
    # (absolute: nbconvert runs each notebook in its own folder)
    work = os.path.abspath(os.path.join(session.create_tmp(), "sertools-examples"))
    shutil.rmtree(work, ignore_errors=True)
    times = []
    for nb in names:
        start = time.perf_counter()
        session.run(
            *("jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace"),
            "--ExecutePreprocessor.timeout=1200",
            nb,
            env={
                "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                "SERTOOLS_EXAMPLES_DIR": work,
            },
        )
        times.append(f"{nb}: {time.perf_counter() - start:.0f} s")
    session.log("executed: " + "; ".join(times))
