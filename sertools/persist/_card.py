"""The model card: what a saved model is, what it was trained on, how well it did."""

from __future__ import annotations

import datetime as _dt
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["card_markdown", "make_card"]


def _probabilities(classifier: Any) -> str:
    """How the named classifier's trained model gives class probabilities (its catalogue entry)."""
    from ..study.catalogue import ESTIMATORS

    spec = ESTIMATORS.get(str(classifier))
    return spec.probabilities if spec is not None else "the final step's predict_proba"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import sertools

    out = {"sertools": sertools.__version__, "python": platform.python_version()}
    for dist in ("scikit-learn", "numpy", "skops", "torch", "skorch", "librosa"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


def _jsonable(value: Any) -> Any:
    """Parameters as JSON values (paths and other objects as text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def _fingerprints(model: Any) -> list[dict[str, Any]]:
    from ._io import _PATH_PARAMS, _estimators, _is_path_like

    out = []
    for step, est in _estimators(model):
        fp = getattr(est, "model_fingerprint_", None)
        if fp is None:
            continue
        params = est.get_params(deep=False) if hasattr(est, "get_params") else {}
        # fitted from a file given by path: the loader must be told where it is now
        from_file = any(
            _is_path_like(params.get(k)) for k in _PATH_PARAMS if k != "model_dir" and k in params
        )
        out.append(
            {
                "step": step,
                "embedder": type(est).__name__,
                "fingerprint": str(fp),
                "files": [Path(f).name for f in getattr(est, "model_files_", ()) or ()],
                "from_file": bool(from_file and fp),
            }
        )
    return out


def _study_scores(
    study: str | Path, *, corpus: str, feature: str, classifier: str, n_boot: int
) -> list[dict[str, Any]]:
    """Cross-validated UAR/WAR and CI of the cell(s) (corpus, *, feature, classifier)."""
    from .._exceptions import ParameterError
    from ..study import StudyResult

    result = StudyResult.load(study)
    summary = result.summary(ci=True, n_boot=n_boot)
    rows = []
    for (c, protocol, f, k), row in summary.iterrows():
        if (c, f, k) != (corpus, feature, classifier):
            continue
        rows.append(
            {
                "protocol": str(protocol),
                "n_folds": int(row.n_folds),
                "uar_mean": round(float(row.uar_mean), 2),
                "uar_std": round(float(row.uar_std), 2),
                "war_mean": round(float(row.war_mean), 2),
                "war_std": round(float(row.war_std), 2),
                "uar_ci_low": round(float(row.uar_ci_low), 2),
                "uar_ci_high": round(float(row.uar_ci_high), 2),
                "study": Path(study).name,
            }
        )
    if not rows:
        cells = sorted({f"{c}/{p}/{f}/{k}" for c, p, f, k in summary.index})
        raise ParameterError(
            f"study {study} has no cell for corpus {corpus!r}, feature set {feature!r} and "
            f"classifier {classifier!r}; its cells: {', '.join(cells) or 'none'}"
        )
    return rows


def make_card(
    model: Any,
    *,
    feature_set: str | None = None,
    classifier: str | None = None,
    corpus: str | None = None,
    target: Sequence[Any] | None = None,
    speakers: Sequence[Any] | None = None,
    study: str | Path | None = None,
    n_boot: int = 1000,
) -> dict[str, Any]:
    """The model card of a fitted pipeline, as a JSON-ready dict.

    Parameters
    ----------
    model : estimator
        The fitted pipeline (embedder, then classifier).
    feature_set : str, optional
        Its feature-set name (``"mfcc"``, ``"titanet"``, ...).
    classifier : str, optional
        Its classifier name (``"svm"``, ``"dnn"``, ``"svm-scaled"``).
    corpus : str, optional
        Name of the training corpus.
    target : sequence, optional
        The training labels (their counts go into the card).
    speakers : sequence, optional
        The training clips' speakers (their number goes into the card).
    study : str or path-like, optional
        Output folder of a ``sertools study`` that evaluated this
        (corpus, feature set, classifier): its cross-validated UAR/WAR, fold
        standard deviations and 95 % speaker-bootstrap CI of the UAR, per
        protocol, go into the card.
    n_boot : int, default=1000
        Bootstrap resamples of that CI.

    Returns
    -------
    dict
        ``sertools_version``, ``versions`` (of the libraries that read the
        file), ``created`` (UTC), ``feature_set``, ``embedder``,
        ``embedder_params``, ``classifier``, ``estimator`` (the final step's
        class), ``probabilities`` (how they are obtained), ``labels``,
        ``models`` (checkpoint fingerprints and file names of the neural
        embedders), ``training`` (corpus, clips, per-class counts, speakers)
        and ``cross_validation`` (a list, empty without ``study``).

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.persist import make_card, train_model
    >>> corpus = make_synthetic_corpus(n_per_class=6, random_state=0)
    >>> pipe = train_model(corpus, feature="mfcc", classifier="svm")
    >>> card = make_card(pipe, feature_set="mfcc", classifier="svm", corpus="synthetic",
    ...                  target=corpus.target)
    >>> card["labels"], card["training"]["n_clips"], card["models"]
    (['angry', 'happy', 'neutral', 'sad'], 24, [{'step': 'features', 'embedder':
    'MFCCEmbedder', 'fingerprint': '', 'files': [], 'from_file': False}])
    """
    from ._io import FORMAT, _estimators

    leaves = list(_estimators(model))
    first, last = leaves[0][1], leaves[-1][1]
    labels = getattr(model, "classes_", None)
    embedder_params = first.get_params(deep=False) if hasattr(first, "get_params") else {}
    embedder_params.pop("cache", None)
    training: dict[str, Any] = {"corpus": corpus}
    if target is not None:
        values, counts = np.unique(np.asarray(target).astype(str), return_counts=True)
        training["n_clips"] = int(counts.sum())
        training["per_class"] = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
    if speakers is not None:
        training["n_speakers"] = len(set(map(str, speakers)))
    cv: list[dict[str, Any]] = []
    if study is not None:
        if corpus is None or feature_set is None or classifier is None:
            from .._exceptions import ParameterError

            raise ParameterError(
                "make_card(study=...) needs corpus, feature_set and classifier to find the cell"
            )
        cv = _study_scores(
            study, corpus=corpus, feature=feature_set, classifier=classifier, n_boot=n_boot
        )
    return {
        "format": FORMAT,
        "sertools_version": _versions()["sertools"],
        "versions": _versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "feature_set": feature_set,
        "embedder": type(first).__name__,
        "embedder_params": {k: _jsonable(v) for k, v in sorted(embedder_params.items())},
        "classifier": classifier,
        "estimator": type(last).__name__,
        "probabilities": _probabilities(classifier),
        "labels": [str(c) for c in labels] if labels is not None else None,
        "models": _fingerprints(model),
        "training": training,
        "cross_validation": cv,
    }


def card_markdown(card: Mapping[str, Any], *, model_file: str = "model.skops") -> str:
    """The model card as Markdown (written beside the model file by ``save_model``).

    Parameters
    ----------
    card : mapping
        A card of :func:`make_card` (or :func:`~sertools.persist.read_card`).
    model_file : str, default="model.skops"
        The model file's name, shown in the usage lines.

    Returns
    -------
    str
        A Markdown document: what the model is, labels, training data,
        checkpoint fingerprints, cross-validated scores, how to use it.

    Examples
    --------
    >>> from sertools.persist import card_markdown
    >>> card = {"feature_set": "mfcc", "classifier": "svm", "labels": ["angry", "sad"],
    ...         "training": {"corpus": "emovo", "n_clips": 588}, "sertools_version": "0.1.0"}
    >>> print(card_markdown(card).splitlines()[0])
    # Model card: mfcc × svm, trained on emovo
    """
    train = dict(card.get("training") or {})
    lines = [
        f"# Model card: {card.get('feature_set')} × {card.get('classifier')}, trained on "
        f"{train.get('corpus') or 'unnamed data'}",
        "",
        f"- sertools {card.get('sertools_version')} ({card.get('format', '')}, saved with "
        "skops: loading builds only trusted types, never unpickles)",
        f"- created: {card.get('created', '?')}",
        f"- feature set: `{card.get('feature_set')}` ({card.get('embedder', '?')})",
        f"- classifier: `{card.get('classifier')}` ({card.get('estimator', '?')})",
        f"- probabilities: {card.get('probabilities', '?')}",
        f"- labels: {', '.join(map(str, card.get('labels') or []))}",
    ]
    if train.get("n_clips") is not None:
        per = ", ".join(f"{k} {v}" for k, v in (train.get("per_class") or {}).items())
        spk = f", {train['n_speakers']} speakers" if train.get("n_speakers") else ""
        lines.append(f"- training data: {train.get('n_clips')} clips{spk} ({per})")
    models = card.get("models") or []
    neural = [m for m in models if m.get("fingerprint")]
    if neural:
        lines += ["", "## Pretrained models", "", "| step | embedder | files | fingerprint |"]
        lines.append("|---|---|---|---|")
        for m in neural:
            lines.append(
                f"| {m['step']} | {m['embedder']} | {', '.join(m.get('files') or []) or '?'} "
                f"| `{m['fingerprint']}` |"
            )
        lines += [
            "",
            "Loading refuses a checkpoint whose SHA-256 differs from the one above.",
        ]
    cv = card.get("cross_validation") or []
    if cv:
        lines += [
            "",
            "## Cross-validated scores (from the study)",
            "",
            "| protocol | folds | UAR % | 95 % CI (speaker bootstrap) | WAR % |",
            "|---|---|---|---|---|",
        ]
        for r in cv:
            lines.append(
                f"| {r['protocol']} | {r['n_folds']} | {r['uar_mean']:.2f} ± {r['uar_std']:.2f} "
                f"| [{r['uar_ci_low']:.2f}, {r['uar_ci_high']:.2f}] "
                f"| {r['war_mean']:.2f} ± {r['war_std']:.2f} |"
            )
    else:
        lines += ["", "No cross-validated scores: the model was not trained from a study folder."]
    lines += [
        "",
        "## Use",
        "",
        "```bash",
        f"sertools predict {model_file} FILES_OR_FOLDER --out predictions.csv",
        f"sertools predict {model_file} long.wav --window 3 --hop 1 --out timeline.csv",
        "```",
        "",
    ]
    return "\n".join(lines)
