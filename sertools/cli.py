"""Command line: ``sertools study``, ``compare``, ``demo``, ``train`` and ``predict``.

``sertools study --corpus emovo=PATH --corpus emodb=PATH --protocol paper speaker``
runs every (corpus, protocol, feature set, classifier) cell, stores each finished
cell atomically under ``OUT/cells`` (a re-run resumes), and writes Table II
(Markdown, LaTeX, CSV), the paper side by side, statistics, figures and one
HTML report. ``sertools compare OUT CELL_A CELL_B`` tests two cells of a study.
``sertools demo`` runs the same code on the built-in synthetic corpus.

Exit status: 0 all cells finished; 1 some cells failed (the reports hold the
rest, each failure is one line on stderr) or a model could not be obtained (an
offline hub, a failed download: not the arguments' fault); 2 bad arguments,
refused before any work; 130 interrupted (finished cells are kept; the same
command resumes).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .utils._cli import name_path_pairs as _pairs
from .utils._cli import say as _say

__all__ = ["main"]

EXIT_FAILED_CELLS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _UsageError(Exception):
    """A bad command-line value (exit status 2)."""


def _csv(value: str, what: str, valid: Sequence[str]) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise _UsageError(f"--{what} {value!r} names nothing; expected some of {', '.join(valid)}")
    return names


def _check_numbers(args: argparse.Namespace) -> None:
    """Refuse, before any work, numbers and an output path that would fail later."""
    checks = [
        ("n_splits", "--n-splits", 2, "2 or more folds"),
        ("n_boot", "--n-boot", 1, "a positive number of bootstrap resamples"),
        ("dnn_epochs", "--dnn-epochs", 1, "a positive number of epochs"),
        ("n_per_class", "--n-per-class", 1, "a positive number of clips per emotion"),
    ]
    for attr, flag, low, what in checks:
        value = getattr(args, attr, None)
        if value is not None and value < low:
            raise _UsageError(f"{flag} {value}: expected {what}")
    n_jobs = getattr(args, "n_jobs", None)
    if n_jobs == 0:
        raise _UsageError("--n-jobs 0: expected a positive number of jobs or -1 (every core)")
    out = getattr(args, "out", None)
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise _UsageError(f"--out {out}: is an existing file; expected a folder")


def _network_failure(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by a model that could not be fetched (an offline hub).

    Such a failure is not the arguments' fault: exit 1 with the reason, not 2.
    """
    seen = set()
    cause = exc.__cause__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, (ConnectionError, TimeoutError)) or (
            isinstance(cause, OSError)
            and not isinstance(cause, (FileNotFoundError, IsADirectoryError, NotADirectoryError))
            and any(
                word in f"{type(cause).__module__}.{type(cause).__name__} {cause}".lower()
                for word in ("offline", "connect", "http", "hub", "download", "url", "network")
            )
        ):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _corpora(args: argparse.Namespace) -> dict[str, str]:
    from .datasets._corpora import CORPORA, canonical_corpus_name, is_manifest

    given = list(args.corpus or ())
    if args.root is not None:
        if len(given) != 1 or "=" in given[0]:
            raise _UsageError(
                "--root goes with exactly one --corpus NAME (or use --corpus NAME=PATH)"
            )
        given = [f"{given[0]}={args.root}"]
    if not given:
        raise _UsageError("give at least one --corpus NAME=PATH")
    pairs = _pairs(given, "corpus")
    out: dict[str, str] = {}
    for name, path in pairs.items():
        try:
            unknown_manifest = is_manifest(path) and name.lower() not in CORPORA
            canon = name if unknown_manifest else canonical_corpus_name(name)
        except Exception as exc:
            raise _UsageError(str(exc)) from exc
        if canon in out:
            raise _UsageError(f"--corpus {canon!r} given more than once")
        out[canon] = path
    return out


def _placement_params(args: argparse.Namespace) -> dict[str, Any]:
    """Embedder parameters from ``--device`` (unless auto) and ``--model-dir``."""
    params: dict[str, Any] = {}
    if getattr(args, "device", "auto") != "auto":
        params["device"] = args.device
    if getattr(args, "model_dir", None):
        params["model_dir"] = args.model_dir
    return params


def _common_run(args: argparse.Namespace, corpora: dict[str, Any], *, title: str) -> int:
    """Run the study on ``corpora`` and write the reports: the body of study and demo."""
    from .study import CLASSIFIERS, FEATURE_SETS, run_study, write_reports
    from .study.catalogue import feature_set_params

    started = time.perf_counter()
    features = _csv(args.features, "features", list(FEATURE_SETS))
    classifiers = _csv(args.classifiers, "classifiers", list(CLASSIFIERS))
    device = getattr(args, "device", "auto")
    if device != "auto":
        from ._exceptions import ParameterError
        from .utils import resolve_device

        try:  # the package's one device policy; fails here, before any work
            resolve_device(device)
        except ParameterError as exc:
            raise _UsageError(f"--device: {exc}") from exc
    params = _placement_params(args)
    known = [f for f in features if f in FEATURE_SETS]
    if not args.quiet and any("verbose" in feature_set_params(f) for f in known):
        params["verbose"] = True
    cparams = {}
    if args.dnn_epochs is not None:
        if "dnn" not in classifiers:
            raise _UsageError("--dnn-epochs needs the dnn classifier in --classifiers")
        cparams["dnn"] = {"max_epochs": args.dnn_epochs}
    out = Path(args.out)
    result = run_study(
        corpora,
        features=features,
        classifiers=classifiers,
        protocols=args.protocol,
        n_splits=args.n_splits,
        embedder_params=params,
        models=_pairs(getattr(args, "model", None), "model"),
        classifier_params=cparams,
        cross_corpus=getattr(args, "cross_corpus", False),
        store=out / "cells",
        cache_dir=out / "embeddings",
        keep_going=getattr(args, "keep_going", False),
        n_jobs=args.n_jobs,
        random_state=args.seed,
        progress=not args.quiet,
    )
    paths = write_reports(result, out, title=title, n_boot=args.n_boot)
    for key in paths:
        if key.startswith("table2_") and key.endswith("_md"):
            _say("")
            _say(paths[key].read_text(encoding="utf-8").rstrip())
    if "paper_comparison_md" in paths:
        _say("\nOurs vs the paper's Table II (protocol paper; Δ = ours − paper):\n")
        _say(paths["paper_comparison_md"].read_text(encoding="utf-8").rstrip())
    _say("")
    _say(f"reports: {paths['report_md']} and {paths['report_html']} (+ CSV, LaTeX, PNG in {out})")
    _say(f"done in {time.perf_counter() - started:.1f} s")
    if not result.ok:
        for row in result.failures.itertuples(index=False):
            print(
                f"sertools: failed cell {row.corpus}/{row.protocol}/{row.feature}/"
                f"{row.classifier}: {row.reason}",
                file=sys.stderr,
            )
        print(
            f"sertools: {len(result.failures)} cell(s) failed; the reports hold the others",
            file=sys.stderr,
        )
        return EXIT_FAILED_CELLS
    return 0


#: corpora whose loaders give arousal / valence / dominance ratings
_RATED_CORPORA = ("iemocap", "msp_podcast")


def _tasks(values: Sequence[str]) -> list[str]:
    """``--task`` names, space- or comma-separated, in order, without repeats."""
    from .study.dimensional import DIMENSIONS

    valid = ("emotion", *DIMENSIONS)
    names = list(dict.fromkeys(n.strip() for v in values for n in v.split(",") if n.strip()))
    unknown = [n for n in names if n not in valid]
    if unknown or not names:
        raise _UsageError(
            f"--task {' '.join(values)!r}: unknown task(s) {', '.join(unknown) or '(none)'}; "
            f"expected some of {', '.join(valid)}"
        )
    return names


def _dimensional_run(args: argparse.Namespace, corpora: dict[str, Any], tasks: list[str]) -> int:
    """The dimensional part of ``sertools study --task ...``: regressors, CCC, reports."""
    from .study import FEATURE_SETS, run_study
    from .study.catalogue import REGRESSORS

    started = time.perf_counter()
    features = _csv(args.features, "features", list(FEATURE_SETS))
    regressors = _csv(args.regressors, "regressors", list(REGRESSORS))
    params = _placement_params(args)
    out = Path(args.out)
    result = run_study(
        corpora,
        task=tasks,
        features=features,
        regressors=regressors,
        protocols=args.protocol,
        n_splits=args.n_splits,
        embedder_params=params,
        store=out / "cells-dimensional",
        cache_dir=out / "embeddings",  # shared with the categorical study
        n_boot=args.n_boot,
        random_state=args.seed,
        progress=(lambda _m: None) if args.quiet else _say,
    )
    written = result.write_reports(out / "dimensional")
    for protocol in dict.fromkeys(result.scores["protocol"]):
        _say(f"\nCCC [speaker-level 95 % CI], protocol {protocol}:\n")
        _say(result.table(protocol=protocol).to_string())
    _say(f"\nreports: {written[-1]} (+ CSV, PNG in {out / 'dimensional'})")
    _say(f"done in {time.perf_counter() - started:.1f} s")
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    from .study.catalogue import REGRESSORS

    _check_numbers(args)
    corpora: dict[str, Any] = _corpora(args)
    emobox_root = getattr(args, "emobox_root", None)
    if "emobox" in (args.protocol or ()) and not emobox_root:
        raise _UsageError("--protocol emobox needs --emobox-root (EmoBox's data/ folder)")
    tasks = _tasks(args.task)
    dims = [t for t in tasks if t != "emotion"]
    if dims:  # checked before any work
        unrated = [c for c in corpora if c not in _RATED_CORPORA]
        if unrated:
            raise _UsageError(
                f"--task {' '.join(dims)} needs rated corpora ({', '.join(_RATED_CORPORA)}); "
                f"{', '.join(unrated)} has no dimensional ratings"
            )
        names = _csv(args.regressors, "regressors", list(REGRESSORS))
        unknown = [r for r in names if r not in REGRESSORS]
        if unknown:
            raise _UsageError(
                f"--regressors: unknown regressor(s) {', '.join(unknown)}; expected some of "
                f"{', '.join(REGRESSORS)}"
            )
    if emobox_root:
        from .datasets import load_emobox

        try:  # EmoBox's listing mapped onto each copy; its folds become bunch.cv
            corpora = {n: load_emobox(n, emobox_root, p) for n, p in corpora.items()}
        except Exception as exc:
            raise _UsageError(f"--emobox-root: {exc}") from exc
    status = 0
    if "emotion" in tasks:
        status = _common_run(args, corpora, title=f"sertools study: {', '.join(corpora)}")
    if dims:
        status = max(status, _dimensional_run(args, corpora, dims))
    return status


def _cmd_demo(args: argparse.Namespace) -> int:
    from .datasets import make_synthetic_corpus

    _check_numbers(args)
    corpus = make_synthetic_corpus(n_per_class=args.n_per_class, random_state=args.seed)
    classes = [str(c) for c in corpus.target_names]
    _say(
        f"synthetic corpus: {len(corpus.target)} clips, classes {classes}, "
        f"{len(set(corpus.speaker))} speakers, {corpus.sampling_rate} Hz"
    )
    return _common_run(args, {"synthetic": corpus}, title="sertools demo: synthetic corpus")


def _cmd_compare(args: argparse.Namespace) -> int:
    from .study import StudyResult, compare

    _check_numbers(args)
    result = StudyResult.load(args.results)
    c = compare(result, args.cell_a, args.cell_b, n_boot=args.n_boot)
    _say(f"A: {c['a']}  UAR {c['uar_a']:.2f} % (mean over folds)")
    _say(f"B: {c['b']}  UAR {c['uar_b']:.2f} %")
    _say(f"A - B: {c['diff']:+.2f} pp")
    _say(
        f"corrected resampled t-test (Nadeau & Bengio 2003): t = {c['t']:.3f}, "
        f"p = {c['p_ttest']:.4g}"
    )
    _say(
        f"paired speaker bootstrap of the pooled UAR difference: {c['boot_diff']:+.2f} pp, "
        f"95 % CI [{c['boot_low']:+.2f}, {c['boot_high']:+.2f}], p = {c['p_boot']:.4g}"
    )
    return 0


def _add_run_options(
    p: argparse.ArgumentParser, *, features: str, classifiers: str, protocols: list[str]
) -> None:
    from .study import CLASSIFIERS, FEATURE_SETS, PROTOCOLS

    p.add_argument(
        "--features",
        default=features,
        metavar="LIST",
        help="comma-separated feature sets (default: %(default)s); one of: "
        + "; ".join(f"{k} ({v})" for k, v in FEATURE_SETS.items()),
    )
    p.add_argument(
        "--classifiers",
        default=classifiers,
        metavar="LIST",
        help="comma-separated classifiers (default: %(default)s); one of: "
        + "; ".join(f"{k}: {v}" for k, v in CLASSIFIERS.items()),
    )
    p.add_argument(
        "--protocol",
        nargs="+",
        default=protocols,
        choices=list(PROTOCOLS),
        metavar="NAME",
        help="one or more cross-validation protocols (default: %(default)s): "
        + "; ".join(f"{k}: {v}" for k, v in PROTOCOLS.items()),
    )
    p.add_argument(
        "--n-splits",
        type=int,
        default=5,
        help="folds of 'paper' and speaker k-fold (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the shuffled folds and of the DNN (default: %(default)s)",
    )
    p.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="folds fitted in parallel (joblib; default: one at a time)",
    )
    p.add_argument(
        "--dnn-epochs",
        type=int,
        default=None,
        metavar="N",
        help="training epochs of the DNN (default: the DNNClassifier's, 100)",
    )
    p.add_argument(
        "--n-boot",
        type=int,
        default=1000,
        help="bootstrap resamples of the CIs and paired tests (default: %(default)s)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars or progress lines")


#: what ``--model`` takes, per backend family of the feature-set registry
_MODEL_KINDS = {
    "nemo": "NeMo sets ({names}): a .nemo file or a pretrained name",
    "s3prl": "S3PRL sets ({names}): the upstream checkpoint file",
    "hf": "Hugging Face sets ({names}): a hub name or a local model folder",
    "ge2e": "GE2E ({names}): a Resemblyzer-format .pt file (default: the packaged one)",
}


def _model_help() -> str:
    from .features import available_feature_sets

    by_family: dict[str, list[str]] = {}
    for name, fs in available_feature_sets().items():
        by_family.setdefault(fs.family, []).append(name)
    parts = [
        kind.format(names=", ".join(by_family[family]))
        for family, kind in _MODEL_KINDS.items()
        if family in by_family
    ]
    return "; ".join(parts)


def _parser() -> argparse.ArgumentParser:
    from .datasets._corpora import CORPUS_SPECS

    parser = argparse.ArgumentParser(
        prog="sertools",
        description="Speech emotion recognition studies in the layout of the paper's Table II: "
        "UAR/WAR per corpus, protocol, feature set and classifier, with speaker-level "
        "confidence intervals and paired significance tests.",
        epilog="Exit status: 0 ok; 1 some cells failed, or a model could not be fetched; "
        "2 bad arguments (refused before any work); 130 interrupted (finished cells are "
        "kept, re-run to resume).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    study = sub.add_parser(
        "study",
        help="run a study on local copies of corpora",
        description="Cross-validate every (corpus, protocol, feature set, classifier) cell. "
        "Each finished cell is stored atomically in OUT/cells and a re-run with the same "
        "settings reads it back (no fit, no embedding); an interrupted run resumes. Each clip "
        "is embedded once per feature set: the vectors go to the per-clip cache OUT/embeddings, "
        "so an interrupted extraction resumes where it stopped. A cell "
        "that fails (unreadable corpus, corpus without speakers under 'speaker', failing "
        "extraction) is reported while the rest goes on. Every model is loaded before any "
        "extraction, so a missing checkpoint stops the run at once (unless --keep-going). "
        "Writes OUT/report.md, OUT/report.html (self-contained), Table II per protocol "
        "(table2_<protocol>.md/.tex/.csv), paper_comparison.md/.csv (the paper's Table II "
        "beside ours), summary.csv (mean, std with ddof=1, 95 % speaker-bootstrap CI), "
        "significance.csv, scores.csv, predictions.csv (every out-of-fold prediction) and "
        "PNG figures.",
    )
    study.add_argument(
        "--corpus",
        action="append",
        metavar="NAME=PATH",
        help="a corpus and its folder, or any name and a manifest (.csv, .tsv, .jsonl); "
        "repeat for several. NAME: "
        + ", ".join(
            f"{n} ({', '.join(s.aliases)})" if s.aliases else n for n, s in CORPUS_SPECS.items()
        ),
    )
    study.add_argument(
        "--root", default=None, help="folder of the corpus when a single --corpus NAME is given"
    )
    study.add_argument(
        "--emobox-root",
        default=None,
        metavar="DIR",
        help="EmoBox's data/ folder: each --corpus is then loaded with EmoBox's listing and "
        "folds (sertools.datasets.load_emobox), for --protocol emobox",
    )
    _add_run_options(
        study, features="mel,mfcc", classifiers="svm,dnn,svm-scaled", protocols=["paper"]
    )
    study.add_argument(
        "--task",
        nargs="+",
        default=["emotion"],
        metavar="NAME",
        help="what to predict (default: emotion): emotion (categories: classifiers, UAR/WAR) "
        "and/or arousal, valence, dominance (ratings of IEMOCAP and MSP-Podcast: "
        "regressors, CCC, r, MAE, speaker-level CIs of the CCC; reports in OUT/dimensional, "
        "cells in OUT/cells-dimensional, embeddings shared in OUT/embeddings); space- or "
        "comma-separated",
    )
    study.add_argument(
        "--regressors",
        default="svr",
        metavar="LIST",
        help="comma-separated regressors of the dimensional tasks (default: %(default)s); "
        "one of: svr (StandardScaler + SVR), dnn-regressor (DNNRegressor)",
    )
    study.add_argument(
        "--model",
        action="append",
        metavar="FEATURE=PATH",
        help="checkpoint or model of a neural feature set, e.g. --model "
        "titanet=titanet_large.nemo --model hubert=hubert_base_ls960.pt; "
        + _model_help()
        + "; repeat for several",
    )
    study.add_argument(
        "--model-dir",
        default=None,
        help="folder of local checkpoints, for offline use: NeMo <model>.nemo files, S3PRL "
        "upstream checkpoints, Hugging Face model folders (config.json + weights); "
        "default: $SERTOOLS_MODEL_DIR",
    )
    study.add_argument(
        "--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)"
    )
    study.add_argument(
        "--cross-corpus",
        action="store_true",
        help="also train on each corpus and test on each other one (shared "
        "labels); adds a train x test UAR matrix per feature set",
    )
    study.add_argument(
        "--keep-going",
        action="store_true",
        help="a feature set whose model cannot be loaded fails its cells "
        "instead of stopping the run",
    )
    study.add_argument(
        "--out", default="sertools-study", help="output folder (default: %(default)s)"
    )
    study.set_defaults(func=_cmd_study)

    compare = sub.add_parser(
        "compare",
        help="test whether two cells of a finished study differ",
        description="Corrected resampled t-test (Nadeau & Bengio 2003) on the fold UARs and "
        "a paired speaker bootstrap of the pooled UAR difference, for two cells of one corpus "
        "and protocol.",
    )
    compare.add_argument(
        "results", help="output folder of a study (holds scores.csv and predictions.csv)"
    )
    compare.add_argument(
        "cell_a", help="corpus/protocol/feature/classifier, e.g. emovo/paper/mfcc/svm"
    )
    compare.add_argument("cell_b", help="a cell of the same corpus and protocol")
    compare.add_argument(
        "--n-boot", type=int, default=1000, help="bootstrap resamples (default: %(default)s)"
    )
    compare.set_defaults(func=_cmd_compare)

    demo = sub.add_parser(
        "demo",
        help="run the study on the built-in synthetic corpus",
        description="The same code as 'sertools study', on the synthetic corpus (no data, "
        "no downloads).",
    )
    _add_run_options(demo, features="mel,mfcc", classifiers="svm,dnn", protocols=["paper"])
    demo.add_argument(
        "--n-per-class", type=int, default=40, help="clips per emotion (default: %(default)s)"
    )
    demo.add_argument("--out", default="sertools-demo", help="output folder (default: %(default)s)")
    demo.set_defaults(func=_cmd_demo)
    from .persist._cli import add_commands  # sertools train | predict

    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sertools`` command.

    Parameters
    ----------
    argv : sequence of str or None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 ok, 1 some cells failed (or a model could not be
        fetched), 2 bad arguments, 130 interrupted.

    Examples
    --------
    ``sertools compare`` on the output folder of a study (here a two-fold
    study on a small synthetic corpus, of which only the two CSV files that
    ``compare`` reads are written):

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sertools.cli import main
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> result.scores.to_csv(Path(tmp.name) / "scores.csv", index=False)
    >>> result.predictions.to_csv(Path(tmp.name) / "predictions.csv", index=False)
    >>> main(["compare", tmp.name, "synthetic/paper/mel/svm-scaled",
    ...       "synthetic/paper/mfcc/svm-scaled", "--n-boot", "200"])
    A: synthetic/paper/mel/svm-scaled  UAR 62.50 % (mean over folds)
    B: synthetic/paper/mfcc/svm-scaled  UAR 29.17 %
    A - B: +33.33 pp
    corrected resampled t-test (Nadeau & Bengio 2003): t = 1.155, p = 0.4544
    paired speaker bootstrap of the pooled UAR difference: +33.33 pp,
    95 % CI [+16.67, +50.00], p = 0.00995
    0
    >>> tmp.cleanup()

    A whole study on the synthetic corpus, every report written to ``OUT``
    (takes a few seconds, so it is not run here), and one on a real corpus:

    >>> main(["demo", "--n-per-class", "4", "--features", "mfcc",
    ...       "--classifiers", "svm-scaled", "--quiet", "--out", "OUT"])  # doctest: +SKIP
    synthetic corpus: 16 clips, ...
    0
    >>> main(["study", "--corpus", "emodb=path/to/emodb", "--out", "OUT"])  # doctest: +SKIP
    """
    from ._exceptions import ParameterError

    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ParameterError, _UsageError) as exc:
        print(f"sertools: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1 if _network_failure(exc) else EXIT_USAGE
    except KeyboardInterrupt:
        where = getattr(args, "out", None)
        kept = f" in {Path(where) / 'cells'}" if where and args.command != "compare" else ""
        print(
            f"sertools: interrupted; finished cells are kept{kept}; run the same command "
            "again to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except Exception as exc:  # one clear line, never a traceback
        print(
            f"sertools: error: {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr
        )
        return 1
