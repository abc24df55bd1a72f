"""Curated mutation testing of sertools: does the test suite notice small deliberate bugs?

Each mutant is one exact text replacement in one source file (the "bug"), plus the
fast subset of tests that should notice it. For every mutant the runner writes the
bug into a private copy of ``sertools/`` and ``tests/``, runs the tests there with
pytest, and restores the file: a failing run *kills* the mutant, a passing run
means it *survived* (the suite cannot tell the bug from the real code). The score
is killed / total.

The mutants are the kinds of bug that give silent wrong results: swapped labels in
the corpus loaders' label maps, audio that is not resampled or scaled, a log-Mel
computed with ``np.log``, engine batches put back in the wrong order, a DNN whose
scaler is fitted but not applied, UAR computed as a sum, and so on (issue #10
lists ten of them; all are here).

Usage (from the repository root, in an environment with the test dependencies; the
``nox -s mutation`` session sets one up)::

    python tools/mutation.py                 # every mutant, one at a time
    python tools/mutation.py --list          # what the mutants are
    python tools/mutation.py --only savee-f-h ravdess-04-05
    python tools/mutation.py --jobs 2        # two mutants at a time
    python tools/mutation.py --mutmut        # also mutmut (all operators) on metrics.py

A mutant whose text is no longer in its file is reported as *stale* (the code
moved on; update the mutant), and so is a file that changed under the runner.
The exit status is 0 only when every mutant was killed.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: fast test subsets, by the code they guard
DATASETS = ["tests/test_datasets.py"]
AUDIO = ["tests/test_audio.py"]
SIGNAL = ["tests/test_signal_features.py"]
ENGINE = ["tests/test_engine.py", "tests/test_engine_errors.py"]
METRICS = ["tests/test_metrics.py"]
DNN_API = "tests/test_dnn.py"


def _dnn(expr: str) -> list[str]:
    return [DNN_API, "-k", expr]


@dataclass(frozen=True)
class Mutant:
    """One deliberate bug: in ``path``, replace each ``old`` (which must occur once) by ``new``."""

    id: str
    path: str
    edits: tuple[tuple[str, str], ...]
    tests: tuple[str, ...]
    what: str


def _m(id: str, path: str, old: str | tuple[str, ...], new: str | tuple[str, ...],
       tests: list[str], what: str) -> Mutant:  # fmt: skip
    olds, news = ((old,), (new,)) if isinstance(old, str) else (old, new)
    return Mutant(id, path, tuple(zip(olds, news, strict=True)), tuple(tests), what)


MUTANTS: list[Mutant] = [
    # --- the loaders' label maps (swapped or wrong labels) ---------------------------
    _m("savee-f-h", "sertools/datasets/savee.py",
       '"f": "fear",\n    "h": "happy",', '"f": "happy",\n    "h": "fear",', DATASETS,
       "SAVEE codes f and h swapped (issue #10)"),
    _m("savee-sa-su", "sertools/datasets/savee.py",
       '"sa": "sad",\n    "su": "surprise",', '"sa": "surprise",\n    "su": "sad",', DATASETS,
       "SAVEE codes sa and su swapped"),
    _m("ravdess-04-05", "sertools/datasets/ravdess.py",
       '"04": "sad",\n    "05": "angry",', '"04": "angry",\n    "05": "sad",', DATASETS,
       "RAVDESS codes 04 and 05 swapped (issue #10)"),
    _m("ravdess-01-02", "sertools/datasets/ravdess.py",
       '"01": "neutral",\n    "02": "calm",', '"01": "calm",\n    "02": "neutral",', DATASETS,
       "RAVDESS neutral and calm swapped"),
    _m("ravdess-intensity", "sertools/datasets/ravdess.py",
       '_INTENSITY = {"01": "normal", "02": "strong"}',
       '_INTENSITY = {"01": "strong", "02": "normal"}', DATASETS,
       "RAVDESS intensity codes swapped"),
    _m("emodb-a-f", "sertools/datasets/emodb.py",
       '"A": "fear",  # Angst\n    "F": "happy",', '"A": "happy",  # Angst\n    "F": "fear",',
       DATASETS, "EMODB A (Angst) and F (Freude) swapped"),
    _m("emodb-gender", "sertools/datasets/emodb.py",
       '("03", "10", "11", "12", "15"), "male"', '("08", "10", "11", "12", "15"), "male"',
       DATASETS, "EMODB speaker 08 listed as male (and 03 as none)"),
    _m("emovo-pau-rab", "sertools/datasets/emovo.py",
       '"pau": "fear",  # paura\n    "rab": "angry",',
       '"pau": "angry",  # paura\n    "rab": "fear",', DATASETS,
       "EMOVO pau (paura) and rab (rabbia) swapped"),
    _m("emovo-gender", "sertools/datasets/emovo.py",
       '_GENDER = {"f": "female", "m": "male"}', '_GENDER = {"f": "male", "m": "female"}',
       DATASETS, "EMOVO genders swapped"),
    _m("cremad-fea-hap", "sertools/datasets/cremad.py",
       '"FEA": "fear",\n    "HAP": "happy",', '"FEA": "happy",\n    "HAP": "fear",', DATASETS,
       "CREMA-D FEA and HAP swapped"),
    _m("cremad-intensity", "sertools/datasets/cremad.py",
       '"LO": "low", "MD": "medium"', '"LO": "medium", "MD": "low"', DATASETS,
       "CREMA-D intensity LO and MD swapped"),
    _m("iemocap-hap-neu", "sertools/datasets/iemocap.py",
       '"hap": "happy", "neu": "neutral"', '"hap": "neutral", "neu": "happy"', DATASETS,
       "IEMOCAP hap and neu swapped"),
    # --- audio: reading, scaling, resampling -------------------------------------------
    _m("resample-removed", "sertools/audio.py",
       "    wave = resample(wave, orig_sr=sr, target_sr=int(target_rate))\n",
       "    wave = wave\n", AUDIO, "clips are never resampled (issue #10)"),
    _m("file-rate-ignored", "sertools/audio.py",
       "        wave, sr = read_audio(item)\n",
       "        wave, sr = read_audio(item)\n        sr = int(target_rate)\n", AUDIO,
       "files are taken to be at the target rate (not resampled)"),
    _m("resample-low-quality", "sertools/audio.py",
       "quality=RESAMPLE_TYPE)", 'quality="LQ")',
       [*AUDIO, "tests/test_signal_features.py::test_audio_resampling_equals_librosa_soxr_hq"],
       "resampling with soxr's low quality instead of soxr_hq"),
    _m("int16-scale", "sertools/audio.py",
       "np.dtype(np.int16): (0.0, 2.0**15)", "np.dtype(np.int16): (0.0, 2.0**16)", AUDIO,
       "int16 PCM divided by 2**16"),
    _m("uint8-centre", "sertools/audio.py",
       "np.dtype(np.uint8): (128.0, 2.0**7)", "np.dtype(np.uint8): (0.0, 2.0**7)", AUDIO,
       "uint8 PCM not centred on 128"),
    _m("downmix-first-channel", "sertools/audio.py",
       "else data.mean(axis=1, dtype=np.float32)", "else data[:, 0].copy()", AUDIO,
       "stereo files keep the left channel instead of the mean"),
    _m("file-nan-unchecked", "sertools/audio.py",
       "    if not np.isfinite(data).all():\n", "    if False:\n", AUDIO,
       "NaN/inf in float files not checked"),
    _m("truncation-unchecked", "sertools/audio.py",
       ("    if info.truncated:\n", "    if data.shape[0] < expected:\n"),
       ("    if False:\n", "    if False:\n"), AUDIO,
       "truncated files accepted (both checks, header and frames read, removed)"),
    _m("pcm-scale-unwarned", "sertools/audio.py",
       "    if peak > PCM_SCALE_PEAK:\n", "    if False:\n", AUDIO,
       "float audio at PCM scale not warned about"),
    # --- signal features ---------------------------------------------------------------
    _m("log-mel-np-log", "sertools/features/signal.py",
       "librosa.power_to_db(mel) if self.log else mel", "np.log(mel + 1e-10) if self.log else mel",
       SIGNAL, "log-Mel computed with np.log instead of power_to_db (issue #10)"),
    # --- the neural engine ---------------------------------------------------------------
    _m("engine-order", "sertools/features/_engine.py",
       "            out[batch_idx] = emb.", "            out[sorted(batch_idx)] = emb.", ENGINE,
       "batch rows written back in index order, not batch order"),
    _m("engine-chunk-weights", "sertools/features/_engine.py",
       "weight.append(float(stop - start))", "weight.append(1.0)", ENGINE,
       "chunks averaged without their duration weights"),
    _m("engine-no-chunking", "sertools/features/_engine.py",
       "if max_chunk_samples is None or n_samples <= max_chunk_samples:", "if True:", ENGINE,
       "long clips never split into chunks"),
    _m("engine-no-min-padding", "sertools/features/_engine.py",
       "            if len(piece) < min_samples:\n", "            if False:\n", ENGINE,
       "short clips not padded to the backend's minimum"),
    _m("engine-budget", "sertools/features/_engine.py",
       "(len(current) + 1) * longest > max_batch_samples",
       "len(current) * longest > max_batch_samples", ENGINE,
       "batches one piece over the padded-audio budget"),
    _m("masked-mean-unmasked", "sertools/features/_engine.py",
       "summed = (hidden * mask[..., None].to(hidden.dtype)).sum(dim=1)",
       "summed = hidden.sum(dim=1)", ENGINE, "padding frames pooled into the mean"),
    _m("masked-mean-denominator", "sertools/features/_engine.py",
       "return summed / lengths[:, None].to(hidden.dtype)", "return summed / n_frames", ENGINE,
       "masked mean divided by the padded frame count"),
    _m("engine-grad", "sertools/features/_engine.py",
       "        torch.inference_mode(),\n", "        contextlib.nullcontext(),\n", ENGINE,
       "backends run with autograd on"),
    _m("engine-error-leaks", "sertools/features/_engine.py",
       "            except Exception as exc:  # name the clips",
       "            except ZeroDivisionError as exc:  # name the clips", ENGINE,
       "a torch RuntimeError leaks from the engine unnamed"),
    _m("engine-oom-unnoticed", "sertools/features/_engine.py",
       '    return "out of memory" in text or "can\'t allocate memory" in text',
       '    return "out of memory" in text', ENGINE, "a CPU allocation failure not called OOM"),
    # --- metrics -------------------------------------------------------------------------
    _m("uar-sum", "sertools/metrics.py",
       "return float(recalls.mean())", "return float(recalls.sum())", METRICS,
       "UAR as the sum of recalls (the paper's erratum; issue #10)"),
    _m("uar-weighted", "sertools/metrics.py",
       "    recalls, _ = _per_class_recall(y_true, y_pred)\n    return float(recalls.mean())",
       "    recalls, n = _per_class_recall(y_true, y_pred)\n"
       "    return float(np.dot(recalls, n) / n.sum())",
       METRICS, "UAR weighted by class support (= WAR)"),
    _m("war-unweighted", "sertools/metrics.py",
       "return float(np.dot(recalls, supports) / supports.sum())",
       "return float(recalls.mean())", METRICS, "WAR not weighted by support (= UAR)"),
    _m("recall-over-predicted", "sertools/metrics.py",
       "np.unique(y_true, return_inverse=True, return_counts=True)",
       "np.unique(y_pred, return_inverse=True, return_counts=True)", METRICS,
       "per-class recall over predicted classes (precision-like)"),
    # --- the DNN ---------------------------------------------------------------------------
    _m("dnn-scaler-not-applied", "sertools/models/dnn.py",
       "        X = scaler.transform(X)\n", "        X = X\n",
       _dnn("scaler or standardize"), "scaler fitted but never applied (issue #10)"),
    _m("dnn-scaler-train-only", "sertools/models/dnn.py",
       "X = _net_input(self._validate(X), self.scaler_)", "X = _net_input(self._validate(X), None)",
       _dnn("scaler or standardize"), "scaler applied in fit but not in predict"),
    _m("dnn-scaler-predict-only", "sertools/models/dnn.py",
       "X_train = _net_input(X_train, scaler)", "X_train = _net_input(X_train, None)",
       _dnn("scaler or standardize"), "scaler applied in predict but not in fit"),
    _m("dnn-interrupt-swallowed", "sertools/models/dnn.py",
       "            raise _FitInterrupted from exc\n", "            return None\n",
       _dnn("interrupt"), "Ctrl-C during training swallowed (issue #10)"),
    _m("dnn-widths", "sertools/models/dnn.py",
       "max(n_features // 2**i, n_classes, 1)", "max(n_features // 2**i, 1)",
       _dnn("widths or layout"), "hidden widths may drop below the number of classes"),
    _m("dnn-drop-last", "sertools/models/dnn.py",
       "iterator_train__drop_last=len(y_train) % batch_size == 1,",
       "iterator_train__drop_last=False,", _dnn("batch_of_one"),
       "a final mini-batch of one sample is kept (batch norm fails on it)"),
    _m("dnn-seed", "sertools/models/dnn.py",
       "            torch.random.default_generator.manual_seed(torch_seed)\n",
       "            pass\n", _dnn("reproducible"), "random_state does not seed torch"),
    _m("dnn-argmin", "sertools/models/dnn.py",
       "self.classes_[np.argmax(proba, axis=1)]", "self.classes_[np.argmin(proba, axis=1)]",
       _dnn("predict_proba or learns"), "predict returns the least probable class"),
    _m("dnn-softmax-axis", "sertools/models/dnn.py",
       "torch.softmax(logits.double(), dim=1)", "torch.softmax(logits.double(), dim=0)",
       _dnn("predict_proba"), "softmax over samples instead of classes"),
    _m("dnn-not-stratified", "sertools/models/dnn.py",
       "                    stratify=y_enc,\n", "                    stratify=None,\n",
       _dnn("early_stopping_validates"), "early-stopping split not stratified"),
    _m("dnn-no-best-weights", "sertools/models/dnn.py",
       "patience=self.n_iter_no_change, load_best=True", "patience=self.n_iter_no_change",
       _dnn("early_stopping_validates"), "early stopping keeps the last weights, not the best"),
    _m("dnn-failed-fit-keeps-checks", "sertools/models/dnn.py",
       "            vars(self).update(kept)\n", "            pass\n", _dnn("failed or interrupted"),
       "a failed refit loses the previous fit's n_features_in_"),
    _m("dnn-error-type", "sertools/models/dnn.py",
       "            raise ParameterError(f\"{_first_non_finite(X)}{exc}\") from exc",
       "            raise", _dnn("non_finite or labels"),
       "bad features raise sklearn's plain ValueError"),
]  # fmt: skip


def _copy_tree(workdir: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".hypothesis")
    for name in ("sertools", "tests"):
        shutil.copytree(ROOT / name, workdir / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", workdir / "pyproject.toml")  # pytest settings


def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(workdir), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant must never run from a stale .pyc
    env["MPLBACKEND"] = "Agg"
    env.pop("SERTOOLS_TEST_DATA", None)  # real-corpus tests are too slow for this
    return env


def _pytest(workdir: Path, tests: tuple[str, ...], timeout: float) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        res = subprocess.run(
            cmd, cwd=workdir, env=_env(workdir), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return -1, "timeout"
    lines = (res.stdout + res.stderr).strip().splitlines()
    return res.returncode, lines[-1] if lines else ""


def _check_import(workdir: Path) -> None:
    code = "import sertools; print(sertools.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=workdir, env=_env(workdir), capture_output=True, text=True
    )
    where = Path(out.stdout.strip()).resolve()
    if workdir.resolve() not in where.parents:
        raise SystemExit(f"the copy is not the sertools that imports ({where}); aborting")


def run_mutant(mutant: Mutant, workdir: Path, timeout: float) -> tuple[str, float, str]:
    """Apply ``mutant`` in ``workdir``, run its tests, restore; (status, seconds, detail)."""
    target = workdir / mutant.path
    original = mutated = target.read_text()
    for old, new in mutant.edits:
        if original.count(old) != 1:
            n = original.count(old)
            return "stale", 0.0, f"{old!r} occurs {n} times in {mutant.path} (need 1)"
        mutated = mutated.replace(old, new)
    target.write_text(mutated)
    start = time.perf_counter()
    try:
        code, last = _pytest(workdir, mutant.tests, timeout)
    finally:
        target.write_text(original)
    seconds = time.perf_counter() - start
    if code == -1:
        return "killed", seconds, "timeout"
    if code == 0:
        return "survived", seconds, last
    if code in (1, 2):  # tests failed, or collection/import failed because of the bug
        return "killed", seconds, last
    return "error", seconds, f"pytest exit status {code}: {last}"


def run_mutmut(timeout: float) -> bool:
    """mutmut 3 (every operator) on sertools/metrics.py against tests/test_metrics.py."""
    with tempfile.TemporaryDirectory(prefix="sertools-mutmut-") as tmp:
        work = Path(tmp)
        _copy_tree(work)
        with open(work / "pyproject.toml", "a") as fh:
            fh.write(
                '\n[tool.mutmut]\nsource_paths = ["sertools/metrics.py"]\n'
                'also_copy = ["sertools", "tests"]\n'
                'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
                'pytest_add_cli_args_test_selection = ["tests/test_metrics.py"]\n'
            )
        env = _env(work)
        # mutmut puts its own mutants/ folder first on the path
        env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
        run = [sys.executable, "-m", "mutmut"]
        print("\nmutmut on sertools/metrics.py (tests/test_metrics.py) ...", flush=True)
        done = subprocess.run([*run, "run", "--max-children", "2"], cwd=work, env=env,
                              timeout=timeout, capture_output=True, text=True)  # fmt: skip
        res = subprocess.run([*run, "results", "--all", "true"], cwd=work, env=env,
                             capture_output=True, text=True)  # fmt: skip
        rows = [ln.strip() for ln in res.stdout.splitlines() if ln.strip().startswith("sertools.")]
        if done.returncode != 0 or not rows:
            print(f"mutmut did not run (exit status {done.returncode}):")
            print((done.stdout + done.stderr)[-2000:])
            return False
        killed = sum(ln.endswith(": killed") for ln in rows)
        print(f"mutmut: {killed}/{len(rows)} killed")
        for ln in rows:
            if not ln.endswith(": killed"):
                print("  " + ln)
        return killed == len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at the same time")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    parser.add_argument("--mutmut", action="store_true", help="also run mutmut on metrics.py")
    args = parser.parse_args(argv)

    mutants = MUTANTS
    if args.only:
        unknown = set(args.only) - {m.id for m in MUTANTS}
        if unknown:
            parser.error(f"unknown mutant(s): {', '.join(sorted(unknown))}")
        mutants = [m for m in MUTANTS if m.id in args.only]
    if args.list:
        for m in mutants:
            print(f"{m.id:28s} {m.path:32s} {m.what}  [{' '.join(m.tests)}]")
        return 0

    jobs = max(1, min(args.jobs, len(mutants)))
    workdirs: queue.Queue[Path] = queue.Queue()
    with tempfile.TemporaryDirectory(prefix="sertools-mutation-") as tmp:
        for j in range(jobs):
            workdir = Path(tmp) / f"w{j}"
            workdir.mkdir()
            _copy_tree(workdir)
            workdirs.put(workdir)
        _check_import(Path(tmp) / "w0")

        if not args.no_baseline:  # every selection of tests must pass on the real code
            for tests in dict.fromkeys(m.tests for m in mutants):
                code, last = _pytest(Path(tmp) / "w0", tests, args.timeout)
                print(f"baseline  {' '.join(tests)}: {last}", flush=True)
                if code != 0:
                    print("the unmutated code fails these tests; no score", flush=True)
                    return 2

        lock = threading.Lock()
        results: dict[str, tuple[str, float, str]] = {}

        def work(m: Mutant) -> None:
            workdir = workdirs.get()
            try:
                results[m.id] = run_mutant(m, workdir, args.timeout)
            finally:
                workdirs.put(workdir)
            status, seconds, detail = results[m.id]
            with lock:
                print(f"{status.upper():9s} {m.id:28s} {seconds:6.1f} s  {m.what}", flush=True)
                if status != "killed":
                    print(f"{'':9s} {detail}", flush=True)

        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(work, mutants))

    killed = [m.id for m in mutants if results[m.id][0] == "killed"]
    others = [m.id for m in mutants if results[m.id][0] != "killed"]
    print(f"\nmutation score: {len(killed)}/{len(mutants)} killed", flush=True)
    for mid in others:
        print(f"  {results[mid][0]}: {mid}")
    mutmut_ok = run_mutmut(args.timeout * 4) if args.mutmut else True
    return 0 if not others and mutmut_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
