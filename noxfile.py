"""Developer tasks: ``nox -s tests``, ``lint``, ``demo``, ``bench``, ``mutation``, ``docs``,
``notebooks``.

Every session runs on the Python that runs nox (``python3 -m nox`` uses ``python3``),
provided it is one of the versions that ``pyproject.toml``'s classifiers list (one place
for the supported range). Any other Python fails the session with exit status 1, naming
the versions to install; nothing is ever skipped for a missing interpreter. Another
installed Python: ``python3.12 -m nox ...`` (with nox installed for it).

Two software stacks are tested because the backends disagree on torch:

* ``nemo`` — torch 2.13 (the CPU build where one is on the machine) + NeMo 3, openSMILE,
  transformers, GE2E: the whole suite;
* ``all``  — ``pip install "sertools-emotion[all]"``: torch 2.8 + torchaudio 2.8 +
  s3prl 0.4.18 (s3prl needs ``torchaudio.set_audio_backend``, removed in torchaudio 2.9,
  and torchaudio pins torch exactly) + NeMo 3 + transformers + openSMILE + GE2E, the
  one environment for the paper's whole Table II. From PyPI this torch is the CUDA
  build (~6 GB); it runs on the CPU.

torch is installed first in every session, pinned, so that no later requirement pulls a
different (multi-GB CUDA) build. ``torch==2.13.0`` is taken from the machine's disk
where a wheel lies there for this Python (the CPU build), else from the index.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import time
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True
# Plain venv + pip (pip sees the machine's wheels; uv is never used). nox still probes for
# uv whenever it creates an environment and logs "uv binary not found.", which reads like
# an error: drop that one line.
nox.options.default_venv_backend = "venv"
logging.getLogger("nox").addFilter(lambda record: record.getMessage() != "uv binary not found.")
# A session asked for a Python that is not installed fails (exit 1) instead of passing
# as "skipped" (nox -p 3.12 on a machine without python3.12, say).
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).resolve().parent
TORCH = {"nemo": ["torch==2.13.0"], "all": ["torch==2.8.0", "torchaudio==2.8.0"]}


def supported_pythons() -> list[str]:
    """The ``Programming Language :: Python :: 3.X`` classifiers of ``pyproject.toml``."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', text)
    return sorted(found, key=lambda v: tuple(map(int, v.split("."))))


def _check_python(session: nox.Session) -> None:
    """Fail (exit 1) on a Python outside the supported range, naming the ones to install."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    supported = supported_pythons()
    if running not in supported:
        session.error(
            f"sertools supports Python {', '.join(supported)}; nox is running on Python "
            f"{running} ({sys.executable}). Install one of those (e.g. python{supported[-1]}) "
            f"and run: python{supported[-1]} -m pip install nox && "
            f"python{supported[-1]} -m nox {' '.join(sys.argv[1:])}".rstrip()
        )


def _install(session: nox.Session, stack: str, extras: str) -> None:
    _check_python(session)
    session.install(*TORCH[stack])
    session.install("-e", f".[{extras}]")


#: the tests run in the ``all`` stack: S3PRL, NeMo, transformers, openSMILE and GE2E side by
#: side, and the core tests that touch torch (engine, DNN, GPU paths) on torch 2.8
ALL_STACK_TESTS = [
    "tests/test_table2_all.py",  # one study over the nine paper feature sets (NeMo + S3PRL)
    "tests/test_s3prl.py",
    "tests/test_exact.py",
    "tests/test_nemo.py",
    "tests/test_hf.py",
    "tests/test_opensmile.py",
    "tests/test_ge2e.py",
    "tests/test_engine.py",
    "tests/test_dnn.py",
    "tests/test_gpu.py",
    "tests/test_persist.py",  # train, save with skops, load in a fresh process, predict
]


@nox.session
@nox.parametrize("stack", ["nemo", "all"])
def tests(session: nox.Session, stack: str) -> None:
    """Run the test suite on both stacks (``nox -s tests``).

    ``tests(stack='nemo')`` runs the whole suite on torch 2.13 + NeMo (+ openSMILE,
    transformers, GE2E); ``tests(stack='all')`` installs ``.[test,all]`` — the one
    environment for the paper's whole Table II — and runs the backend tests and the
    torch-touching core tests there (``ALL_STACK_TESTS``, without the ``slow`` whole-corpus
    runs the nemo stack already made). Real-corpus tests run when ``SERTOOLS_TEST_DATA``
    points at the shared data folder and skip with the reason otherwise.
    """
    if stack == "nemo":
        _install(session, stack, "test,nemo,opensmile,hf")
        # GE2E reads the weights in resemblyzer's wheel; webrtcvad-wheels (no build, no
        # pkg_resources) lets the tests import resemblyzer itself for reference values
        session.install("--no-deps", "resemblyzer==0.1.4", "webrtcvad-wheels>=2.0.14")
    else:
        _install(session, stack, "test,all")
        # [all] builds webrtcvad 2.0.10, whose import needs pkg_resources (not in this venv);
        # sertools only reads resemblyzer's weights file, but the GE2E tests import
        # resemblyzer itself for reference values: webrtcvad-wheels provides the module
        session.install("webrtcvad-wheels>=2.0.14")
    args = session.posargs or ["-q", "-p", "no:cacheprovider", "--durations=10"]
    if stack == "all" and not session.posargs:
        args = [*args, "-m", "not slow", *ALL_STACK_TESTS]
    session.run("pytest", *args, env={"MPLBACKEND": "Agg"})


@nox.session
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


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check + ruff format --check."""
    _check_python(session)
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def demo(session: nox.Session) -> None:
    """The main job on the embedded synthetic corpus (``sertools demo``)."""
    _install(session, "nemo", "test")
    out = session.posargs[0] if session.posargs else "sertools-demo"
    session.run("sertools", "demo", "--out", out, env={"MPLBACKEND": "Agg"})


@nox.session
@nox.parametrize("stack", ["nemo", "s3prl"])
def bench(session: nox.Session, stack: str) -> None:
    """Benchmarks (never part of the tests): writes docs/benchmarks-*.md."""
    _install(session, "nemo" if stack == "nemo" else "all", f"test,{stack}")
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


@nox.session
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


#: the corpora whose real-data cells the stored notebook outputs show
NOTEBOOK_CORPORA = ("emovo", "emodb")


@nox.session
def notebooks(session: nox.Session) -> None:
    """Execute the example notebooks, storing their outputs and figures.

    With the real corpora (``SERTOOLS_TEST_DATA`` holding ``emovo/`` and ``emodb/``) the
    notebooks are executed in place: their stored outputs are what the docs publish.
    Without them, the notebooks still run (on the synthetic corpus) but into a scratch
    folder under ``.nox/``, never over the tracked files: ``git status`` stays clean.
    ``nox -s notebooks -- examples/01_quickstart.ipynb`` runs one.

    Stored outputs carry no path of this machine: the repository, the virtual
    environment, the data and the work folder are written as ``<repo>/``-relative paths,
    ``<venv>``, ``$SERTOOLS_TEST_DATA`` and ``$SERTOOLS_EXAMPLES_DIR``.
    """
    _install(session, "nemo", "test,docs,nemo,hf")
    # GE2E reads the pretrained weights shipped in resemblyzer's wheel (never imported)
    session.install("--no-deps", "resemblyzer==0.1.4")
    names = session.posargs or sorted(
        f"examples/{nb}" for nb in os.listdir("examples") if nb.endswith(".ipynb")
    )
    data = os.environ.get("SERTOOLS_TEST_DATA", "")
    real = bool(data) and all(Path(data, c).is_dir() for c in NOTEBOOK_CORPORA)
    tmp = Path(session.create_tmp()).resolve()
    if real:
        out_dir = None
        session.log(f"real corpora in {data}: executing in place")
    else:
        out_dir = tmp / "executed-notebooks"
        out_dir.mkdir(exist_ok=True)
        session.warn(
            "SERTOOLS_TEST_DATA does not hold emovo/ and emodb/: the notebooks run on the "
            f"synthetic corpus into {os.path.relpath(out_dir)}/ (the tracked notebooks, "
            "executed on the real corpora, are left as they are)"
        )
    # the notebooks share one folder of cached features and study cells: start it empty,
    # so that every run computes everything (and the times below are those of a first run)
    # (absolute: nbconvert runs each notebook in its own folder)
    work = tmp / "sertools-examples"
    shutil.rmtree(work, ignore_errors=True)
    venv = Path(session.virtualenv.location).resolve()
    redact = {  # longest first: the work folder and the venv lie inside the repository
        str(work): "$SERTOOLS_EXAMPLES_DIR",
        str(venv): "<venv>",
        str(ROOT) + os.sep: "",
        str(ROOT): ".",
    }
    if data:
        redact[str(Path(data).resolve())] = "$SERTOOLS_TEST_DATA"
        redact[data.rstrip(os.sep)] = "$SERTOOLS_TEST_DATA"
    times = []
    for nb in names:
        start = time.perf_counter()
        where = ["--inplace"] if out_dir is None else ["--output-dir", str(out_dir)]
        session.run(
            *("jupyter", "nbconvert", "--to", "notebook", "--execute", *where),
            "--ExecutePreprocessor.timeout=1200",
            nb,
            env={
                "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                "SERTOOLS_EXAMPLES_DIR": str(work),
                **QUIET_ENV,
            },
        )
        written = Path(nb) if out_dir is None else out_dir / Path(nb).name
        if written.exists():  # not with --install-only
            redact_paths(written, redact)
        times.append(f"{nb}: {time.perf_counter() - start:.0f} s")
    session.log("executed: " + "; ".join(times))
    if out_dir is not None:
        session.log(f"outputs in {os.path.relpath(out_dir)}/ (synthetic data; not committed)")


#: environment of executed notebooks (docs/conf.py sets the same for executed pages): what a
#: reader should not see (tqdm's "IProgress not found" without ipywidgets, joblib's note on
#: a restarted worker, progress bars of model loading)
QUIET_ENV = {
    "PYTHONWARNINGS": "ignore:IProgress not found,ignore:A worker stopped while some jobs",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def redact_paths(notebook: Path, replacements: dict[str, str]) -> None:
    """Rewrite machine paths in a notebook's stored outputs (longest path first)."""
    text = notebook.read_text(encoding="utf-8")
    for old in sorted(replacements, key=len, reverse=True):
        text = text.replace(old, replacements[old])
    notebook.write_text(text, encoding="utf-8")
