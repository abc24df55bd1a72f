"""Command line: ``sertools demo`` and ``sertools study``.

``sertools demo [--out DIR]`` runs the whole study on the built-in synthetic
corpus (no data, no downloads). ``sertools study --corpus emovo --root PATH``
runs it on a local copy of a real corpus. Both print a UAR/WAR table and write
per-fold scores (CSV), the summary (CSV, Markdown), a confusion matrix of the
best pipeline and a bar chart (PNG).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _say(msg: str) -> None:
    print(msg, flush=True)


def _available_classifiers(names: list[str]) -> list[str]:
    """Drop ``dnn`` with a notice when skorch/torch cannot be imported."""
    if "dnn" not in names:
        return names
    try:
        import sertools.models  # noqa: F401
    except ImportError as exc:
        _say(f"note: skipping the DNN ({exc})")
        return [n for n in names if n != "dnn"]
    return names


def _report(result, out: Path, *, title: str, started: float) -> None:
    paths = result.save(out, title=title)
    _say("")
    _say(result.to_markdown())
    feat, clf = result.best()
    _say("")
    _say(f"best pipeline: {feat} + {clf}")
    for key, path in paths.items():
        _say(f"wrote {key:>9}: {path}")
    _say(f"done in {time.perf_counter() - started:.1f} s")


def _cmd_demo(args: argparse.Namespace) -> int:
    from .datasets import make_synthetic_corpus
    from .study import run_study

    started = time.perf_counter()
    corpus = make_synthetic_corpus(n_per_class=args.n_per_class, random_state=args.seed)
    _say(
        f"synthetic corpus: {len(corpus.target)} clips, classes {list(corpus.target_names)}, "
        f"{len(set(corpus.speaker))} speakers, {corpus.sampling_rate} Hz"
    )
    result = run_study(
        corpus.data,
        corpus.target,
        features=_csv(args.features),
        classifiers=_available_classifiers(_csv(args.classifiers)),
        embedder_params={"sampling_rate": corpus.sampling_rate},
        random_state=args.seed,
        n_jobs=args.n_jobs,
        progress=_say,
    )
    _report(result, Path(args.out), title="synthetic", started=started)
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    from .datasets import load_corpus
    from .datasets.protocols import get_cv
    from .study import run_study

    started = time.perf_counter()
    bunch = load_corpus(args.corpus, args.root)
    _say(
        f"{args.corpus}: {len(bunch.target)} clips, classes {list(bunch.target_names)}, "
        f"{len(set(bunch.speaker))} speakers"
    )
    cv, groups = get_cv(bunch, args.protocol, random_state=args.seed)
    embedder_params = {"device": args.device, "verbose": args.verbose}
    if args.model_dir:
        embedder_params["model_dir"] = args.model_dir
    out = Path(args.out)
    result = run_study(
        bunch.filenames,
        bunch.target,
        features=_csv(args.features),
        classifiers=_available_classifiers(_csv(args.classifiers)),
        cv=cv,
        groups=groups,
        embedder_params=embedder_params,
        cache_dir=None if args.no_cache else out / "features",
        random_state=args.seed,
        n_jobs=args.n_jobs,
        progress=_say,
    )
    _report(result, out, title=args.corpus, started=started)
    return 0


def _parser() -> argparse.ArgumentParser:
    from .study import CLASSIFIERS, FEATURE_SETS

    parser = argparse.ArgumentParser(
        prog="sertools", description="Speech emotion recognition studies (UAR/WAR)."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the study on the built-in synthetic corpus")
    demo.add_argument("--out", default="sertools-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--features", default="mel,mfcc", help="comma-separated feature sets")
    demo.add_argument("--classifiers", default="svm,dnn", help="comma-separated classifiers")
    demo.add_argument("--n-per-class", type=int, default=40, help="clips per emotion")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument(
        "--n-jobs", type=int, default=2, help="folds fitted in parallel (default: %(default)s)"
    )
    demo.set_defaults(func=_cmd_demo)

    study = sub.add_parser("study", help="run the study on a local copy of a corpus")
    study.add_argument(
        "--corpus",
        required=True,
        choices=["cremad", "emodb", "emovo", "iemocap", "ravdess", "savee"],
    )
    study.add_argument("--root", required=True, help="folder of the corpus")
    study.add_argument(
        "--features",
        default="mel,mfcc",
        help=f"comma-separated, from {','.join(FEATURE_SETS)} (default: %(default)s)",
    )
    study.add_argument(
        "--classifiers",
        default="svm,dnn",
        help=f"comma-separated, from {','.join(CLASSIFIERS)} (default: %(default)s)",
    )
    study.add_argument(
        "--protocol",
        default="paper",
        help="cross-validation: paper (stratified 5-fold), loso, session, speaker-kfold",
    )
    study.add_argument("--out", default="sertools-study", help="output folder")
    study.add_argument("--model-dir", default=None, help="folder of local .nemo checkpoints")
    study.add_argument("--device", default="auto", help="auto, cpu or cuda")
    study.add_argument("--seed", type=int, default=0)
    study.add_argument("--n-jobs", type=int, default=None, help="folds fitted in parallel")
    study.add_argument("--no-cache", action="store_true", help="do not cache features")
    study.add_argument("--verbose", action="store_true", help="progress bars")
    study.set_defaults(func=_cmd_study)
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
        Exit status.
    """
    from ._exceptions import ParameterError

    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ParameterError as exc:
        print(f"sertools: error: {exc}", file=sys.stderr)
        return 2
