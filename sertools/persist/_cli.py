"""``sertools train`` and ``sertools predict``: the parsers and their handlers.

``sertools.cli`` adds them with :func:`add_commands`; a handler returns the exit
status (0 ok; 1 some files could not be labelled, their rows hold the reason;
``ParameterError`` is reported by ``sertools.cli.main`` as a usage error, 2).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from .._exceptions import ParameterError
from ..utils._cli import name_path_pairs as _pairs
from ..utils._cli import say as _say

__all__ = ["add_commands"]


def _corpus_arg(args: argparse.Namespace) -> tuple[Any, Any]:
    """(corpus, root) from --corpus NAME=PATH | --corpus NAME --root PATH | --manifest PATH."""
    if args.manifest is not None:
        if args.corpus is not None:
            raise ParameterError("give --corpus or --manifest, not both")
        return args.manifest, None
    if args.corpus is None:
        raise ParameterError("give --corpus NAME=PATH (or --corpus NAME --root PATH, --manifest)")
    if args.root is not None:
        if "=" in args.corpus:
            raise ParameterError("--root goes with --corpus NAME (not NAME=PATH)")
        return args.corpus, args.root
    name, sep, path = args.corpus.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise ParameterError(f"--corpus {args.corpus!r}: expected NAME=PATH (or --root PATH)")
    return name.strip(), path.strip()


def _cmd_train(args: argparse.Namespace) -> int:
    from ..study import model_param
    from . import read_card, train_model

    started = time.perf_counter()
    corpus, root = _corpus_arg(args)
    params: dict[str, Any] = {}
    models = _pairs(args.model, "model")
    unknown = sorted(set(models) - {args.features})
    if unknown:
        raise ParameterError(
            f"--model {', '.join(unknown)}=...: not the feature set trained ({args.features})"
        )
    if args.features in models:
        key = model_param(args.features)
        if key is None:
            raise ParameterError(f"--model: feature set {args.features!r} takes no checkpoint")
        params[key] = models[args.features]
    if args.model_dir is not None:
        params["model_dir"] = args.model_dir
    if args.device != "auto":
        params["device"] = args.device
    if args.cache is not None:
        params["cache"] = args.cache
    cparams: dict[str, Any] = {}
    if args.dnn_epochs is not None:
        if args.classifier != "dnn":
            raise ParameterError("--dnn-epochs goes with --classifier dnn")
        cparams["max_epochs"] = args.dnn_epochs
    out = Path(args.out)
    train_model(
        corpus,
        root=root,
        feature=args.features,
        classifier=args.classifier,
        embedder_params=params,
        classifier_params=cparams,
        random_state=args.seed,
        study=args.study,
        out=out,
        n_boot=args.n_boot,
        verbose=not args.quiet,
    )
    card = read_card(out)
    train = card["training"]
    _say(
        f"trained {card['feature_set']} × {card['classifier']} on {train.get('corpus')}: "
        f"{train.get('n_clips')} clips, labels {', '.join(card['labels'])}"
    )
    for row in card.get("cross_validation") or []:
        _say(
            f"cross-validated ({row['protocol']}, {row['n_folds']} folds): UAR "
            f"{row['uar_mean']:.2f} % [95 % CI {row['uar_ci_low']:.2f}, "
            f"{row['uar_ci_high']:.2f}], WAR {row['war_mean']:.2f} %"
        )
    _say(f"model: {out} (card: {out.with_suffix('.md')})")
    _say(f"done in {time.perf_counter() - started:.1f} s")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from . import load_model, plot_timeline, predict_files, predict_timeline
    from ._predict import audio_files

    started = time.perf_counter()
    model = load_model(
        args.model_file,
        trusted=args.trust or (),
        models=_pairs(args.checkpoint, "checkpoint"),
        model_dir=args.model_dir,
        device=None if args.device == "auto" else args.device,
        cache=args.cache,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.window is None:
        if args.hop is not None:
            raise ParameterError("--hop goes with --window")
        table = predict_files(model, args.inputs, verbose=not args.quiet)
        table.to_csv(out, index=False)
        failed = table[table.error != ""]
        _say(f"{len(table) - len(failed)} of {len(table)} clips labelled: {out}")
    else:
        import pandas as pd

        hop = args.hop if args.hop is not None else args.window
        frames = []
        files = audio_files(args.inputs)
        for k, path in enumerate(files):
            try:
                tl = predict_timeline(model, path, window=args.window, hop=hop)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:
                frames.append(
                    pd.DataFrame({"file": [path], "error": [f"{type(exc).__name__}: {exc}"]})
                )
                continue
            stem = out.stem if len(files) == 1 else f"{out.stem}_{k:03d}_{Path(path).stem}"
            png = out.with_name(f"{stem}.png")
            plot_timeline(
                tl, png, title=f"{Path(path).name}: {args.window:g} s windows, hop {hop:g} s"
            )
            tl.insert(0, "file", path)
            tl["error"] = ""
            frames.append(tl)
            if not args.quiet:
                _say(f"{path}: {len(tl)} windows, plot {png}")
        table = pd.concat(frames, ignore_index=True)
        table["error"] = table["error"].fillna("")
        table.to_csv(out, index=False)
        failed = table[table.error != ""]
        _say(f"timeline of {len(files) - len(failed)} of {len(files)} recordings: {out}")
    for row in failed.itertuples(index=False):
        print(f"sertools: {row.file}: {row.error}", file=sys.stderr)
    _say(f"done in {time.perf_counter() - started:.1f} s")
    return 1 if len(failed) else 0


def add_commands(sub: Any) -> None:
    """Add ``train`` and ``predict`` to the ``sertools`` command's subparsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The object ``ArgumentParser.add_subparsers`` returned.
    """
    from ..study import CLASSIFIERS, PROTOCOLS

    train = sub.add_parser(
        "train",
        help="fit one pipeline (feature set × classifier) on a whole corpus and save it",
        description="Fit a feature set and a classifier on every clip of a corpus and save the "
        "pipeline with skops (no pickle; loading builds only trusted types and refuses a "
        "neural model whose checkpoint differs). The file carries a model card (sertools "
        "version, feature set, checkpoint fingerprints, labels, training corpus and size, and "
        "with --study the cross-validated UAR/WAR with its CI); a Markdown card is written "
        "beside it. An SVM's probabilities are Platt-scaled (CalibratedClassifierCV with "
        "method='sigmoid', ensemble=False, scikit-learn's replacement of SVC(probability=True)); "
        "the label is the most probable class, which can differ from the SVC's own vote.",
    )
    train.add_argument("--corpus", metavar="NAME=PATH", help="the corpus and its folder")
    train.add_argument("--root", default=None, help="folder of the corpus given as --corpus NAME")
    train.add_argument("--manifest", default=None, help="a manifest file instead of --corpus")
    train.add_argument(
        "--features", default="mfcc", metavar="NAME", help="one feature set (default: mfcc)"
    )
    train.add_argument(
        "--classifier",
        default="svm",
        choices=list(CLASSIFIERS),
        help="; ".join(f"{k}: {v}" for k, v in CLASSIFIERS.items()) + " (default: svm)",
    )
    train.add_argument("--out", default="model.skops", help="model file (default: %(default)s)")
    train.add_argument(
        "--study",
        default=None,
        metavar="OUT",
        help="output folder of a 'sertools study' that cross-validated this corpus, feature "
        "set and classifier: its UAR/WAR and CI go into the model card (protocols: "
        + ", ".join(PROTOCOLS)
        + ")",
    )
    train.add_argument(
        "--model", action="append", metavar="FEATURE=PATH", help="checkpoint of the feature set"
    )
    train.add_argument("--model-dir", default=None, help="folder of local checkpoints")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    train.add_argument("--cache", default=None, help="embedding cache folder")
    train.add_argument("--dnn-epochs", type=int, default=None, metavar="N")
    train.add_argument("--seed", type=int, default=0, help="seed (default: %(default)s)")
    train.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples of the CI")
    train.add_argument("--quiet", action="store_true", help="no progress")
    train.set_defaults(func=_cmd_train)

    predict = sub.add_parser(
        "predict",
        help="label audio files (or a timeline of long recordings) with a trained model",
        description="Label every audio file (folders are searched recursively): one CSV row "
        "per clip with the label, every class probability and an error column (an unreadable "
        "file gets its reason there; the others are kept; exit status 1). With --window, "
        "each recording is cut into windows of that many seconds every --hop seconds and "
        "the CSV is a timeline (file, start, end, label, probabilities), with one PNG plot "
        "per recording beside it.",
    )
    predict.add_argument("model_file", metavar="MODEL", help="a file of 'sertools train'")
    predict.add_argument("inputs", nargs="+", metavar="FILES_OR_FOLDER")
    predict.add_argument("--out", default="predictions.csv", help="CSV (default: %(default)s)")
    predict.add_argument("--window", type=float, default=None, metavar="SECONDS")
    predict.add_argument(
        "--hop", type=float, default=None, metavar="SECONDS", help="default: --window"
    )
    predict.add_argument(
        "--checkpoint",
        action="append",
        metavar="FEATURE=PATH",
        help="checkpoint of the model's neural feature set on this machine",
    )
    predict.add_argument("--model-dir", default=None, help="folder of local checkpoints")
    predict.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    predict.add_argument("--cache", default=None, help="embedding cache folder")
    predict.add_argument(
        "--trust",
        action="append",
        metavar="TYPE",
        help="trust one more type in the model file (module.Class); only for files you trust",
    )
    predict.add_argument("--quiet", action="store_true", help="no progress")
    predict.set_defaults(func=_cmd_predict)
