"""The plan of a dimensional study: tasks, regressors, corpora with ratings, folds, cell digests.

The dimensional counterpart of :mod:`.plan`, and as cheap (ratings and file
lists, no audio, no model): :func:`dimensional_targets` reads the ratings,
:func:`build_regressors` names the regressors of the catalogue,
:func:`as_rated_corpus` normalises a corpus, :func:`dimensional_folds` draws
the folds of a protocol and :func:`cell_digest` names everything that
determines a cell's result. The feature sets are built by
:func:`.plan.build_embedders`, as in the categorical study.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils import Bunch

from .._exceptions import ParameterError
from ._store import fingerprint
from .catalogue import REGRESSORS, _make_estimator, estimator_execution_only
from .plan import _Corpus, _estimator_spec, _named

__all__ = ["DIMENSIONAL_PROTOCOLS", "DIMENSIONS", "dimensional_targets"]

#: dimensional tasks: the Bunch field of each
DIMENSIONS = ("arousal", "valence", "dominance")

#: dimensional protocol name -> description (see :func:`~sertools.study.run_dimensional`)
DIMENSIONAL_PROTOCOLS: dict[str, str] = {
    "paper": "shuffled, seeded n_splits-fold CV, speakers on both sides (the paper's protocol; "
    "not stratified: the targets are continuous)",
    "speaker": "speaker-independent: leave-one-speaker-out up to 12 speakers, else speaker "
    "n_splits-fold; leave-one-session-out on IEMOCAP",
    "loso": "leave-one-speaker-out",
    "session": "leave-one-session-out (IEMOCAP)",
    "speaker-kfold": "speaker-grouped n_splits-fold",
    "predefined": "the corpus's own train/test partition (MSP-Podcast: Train -> Test1)",
}

#: a dimensional cell's coordinates, in the order of its key (the first columns of the
#: result's tables)
CELL = ["corpus", "protocol", "features", "regressor", "task"]


def dimensional_targets(bunch: Any, tasks: Sequence[str]) -> np.ndarray:
    """The ratings of ``tasks`` from a corpus Bunch, one column per task.

    Parameters
    ----------
    bunch : Bunch
        A loader's (or the synthetic corpus's) Bunch with ``arousal``,
        ``valence`` and/or ``dominance`` fields.
    tasks : sequence of str
        Names from :data:`DIMENSIONS`.

    Returns
    -------
    ndarray of shape (n_clips, n_tasks)
        The float64 ratings.

    Raises
    ------
    ParameterError
        For an unknown task, a Bunch without that field, or a rating that is
        not a finite number (naming the clip).

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study.dimensional import dimensional_targets
    >>> corpus = make_synthetic_corpus(n_per_class=2)
    >>> dimensional_targets(corpus, ["arousal", "valence"]).shape
    (8, 2)
    """
    unknown = [t for t in tasks if t not in DIMENSIONS]
    if unknown or not tasks:
        raise ParameterError(
            f"unknown dimensional task(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"expected names from {', '.join(DIMENSIONS)}"
        )

    def field(name: str) -> Any:
        return bunch.get(name) if isinstance(bunch, Mapping) else getattr(bunch, name, None)

    columns = []
    for task in tasks:
        values = field(task)
        if values is None:
            name = field("corpus") or "this corpus"
            raise ParameterError(
                f"task {task!r} needs {task} ratings, but {name} has no {task!r} field"
            )
        try:
            column = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ParameterError(f"the {task} ratings are not numbers") from None
        bad = np.flatnonzero(~np.isfinite(column))
        if bad.size:
            raise ParameterError(
                f"the {task} rating of clip {bad[0]} is {column[bad[0]]} ({bad.size} in all); "
                "every clip needs a finite rating"
            )
        columns.append(column)
    return np.column_stack(columns)


# --------------------------------------------------------------------------- arguments
def read_tasks(tasks: Sequence[str]) -> list[str]:
    """The task names, checked before any corpus is read."""
    tasks = list(tasks)
    dimensional_targets({t: np.zeros(2) for t in DIMENSIONS}, tasks)
    return tasks


def build_regressors(
    regressors: Sequence[str] | Mapping[str, BaseEstimator], random_state: int | None
) -> dict[str, BaseEstimator]:
    """Regressor name -> unfitted estimator (named ones built from the catalogue's registry)."""
    _named("regressors", regressors, REGRESSORS)
    if isinstance(regressors, Mapping):
        return dict(regressors)
    return {r: _make_estimator(r, "regression", random_state, {}) for r in regressors}


def read_protocols(protocols: Sequence[str]) -> list[str]:
    """The protocol names, each one of :data:`DIMENSIONAL_PROTOCOLS`."""
    for protocol in protocols:
        if protocol not in DIMENSIONAL_PROTOCOLS:
            raise ParameterError(
                f"unknown protocol {protocol!r}; expected one of {', '.join(DIMENSIONAL_PROTOCOLS)}"
            )
    return list(protocols)


# --------------------------------------------------------------------------- corpora
@dataclass
class _RatedCorpus(_Corpus):
    """A corpus of the study (:class:`.plan._Corpus`) with its ratings per task."""

    Y: dict[str, np.ndarray] = field(default_factory=dict)


def as_rated_corpus(name: str, value: Any, tasks: Sequence[str]) -> _RatedCorpus:
    """A folder (loaded by name) or a Bunch with the tasks' ratings, as a corpus of the study."""
    from ..datasets import load_corpus

    if isinstance(value, (str, os.PathLike)):
        value = load_corpus(name, value)
    if not hasattr(value, "target") and not isinstance(value, Mapping):
        raise ParameterError(
            f"corpus {name!r}: expected a folder or a sertools.datasets Bunch with "
            f"{', '.join(tasks)} fields, got {type(value).__name__}"
        )
    Y = dimensional_targets(value, tasks)
    files = value.get("filenames") if isinstance(value, Mapping) else None
    X = files if files is not None else value["data"]
    groups = value.get("speaker")
    groups = None if groups is None else np.asarray(groups)
    rate = value.get("sampling_rate") if files is None else None
    return _RatedCorpus(
        name,
        X,
        groups=groups,
        bunch=value,
        sampling_rate=rate,
        digest=fingerprint(Y, groups, clips=X),
        Y=dict(zip(tasks, Y.T, strict=True)),
    )


# --------------------------------------------------------------------------- folds
def dimensional_folds(
    corpus: _RatedCorpus, protocol: str, *, n_splits: int, seed: int | None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds of ``protocol`` on ``corpus``: a list of (train, test) index arrays.

    Leave-one-speaker-out and leave-one-session-out are those of
    :func:`sertools.datasets.protocols.get_cv`, as in the categorical study; the
    targets being continuous, ``"paper"`` is a shuffled, seeded ``KFold`` and
    speaker k-fold a ``GroupKFold`` (neither stratified).
    """
    from ..datasets.protocols import get_cv

    index = np.zeros((len(corpus.X), 1))
    if protocol == "predefined":
        split = corpus.bunch.get("split")
        if split is None:
            raise ParameterError(
                f"protocol 'predefined' needs a corpus with a split field (MSP-Podcast); "
                f"{corpus.name!r} has none"
            )
        from ..datasets.msp_podcast import msp_podcast_split

        return msp_podcast_split(split)
    read_protocols([protocol])
    if protocol == "paper":
        cv, groups = KFold(n_splits=n_splits, shuffle=True, random_state=seed), None
    else:
        protocol = _speaker_protocol(corpus, protocol)
        if protocol == "speaker-kfold":
            n_spk = np.unique(corpus.groups).size
            cv, groups = GroupKFold(n_splits=min(n_splits, n_spk)), corpus.groups
        else:  # leave one speaker or session out
            data = Bunch(
                target=index[:, 0], speaker=corpus.groups, session=corpus.bunch.get("session")
            )
            cv, groups = get_cv(data, protocol)
    return [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(index, groups=groups)]


def _speaker_protocol(corpus: _RatedCorpus, protocol: str) -> str:
    """``"session"``, ``"loso"`` or ``"speaker-kfold"``: what a speaker protocol is on ``corpus``.

    ``"speaker"`` is leave-one-session-out where the corpus has sessions
    (IEMOCAP), else leave-one-speaker-out up to 12 speakers and speaker
    k-fold above.
    """
    session = corpus.bunch.get("session")
    if protocol == "session" or (protocol == "speaker" and session is not None):
        if session is None:
            raise ParameterError(f"protocol 'session' needs sessions; {corpus.name!r} has none")
        return "session"
    if corpus.groups is None:
        raise ParameterError(
            f"protocol {protocol!r} needs speakers, but corpus {corpus.name!r} has none"
        )
    n_spk = np.unique(corpus.groups).size
    if n_spk < 2:
        raise ParameterError(f"protocol {protocol!r} needs 2 or more speakers, got {n_spk}")
    if protocol == "speaker":
        return "loso" if n_spk <= 12 else "speaker-kfold"
    return protocol


# --------------------------------------------------------------------------- cells
def embedder_for(embedder: BaseEstimator, corpus: _RatedCorpus) -> BaseEstimator:
    """A clone of ``embedder`` reading the corpus's arrays at its sampling rate."""
    emb = clone(embedder)
    if corpus.sampling_rate and "sampling_rate" in emb.get_params(deep=False):
        emb.set_params(sampling_rate=corpus.sampling_rate)
    return emb


def cell_digest(
    corpus: _RatedCorpus,
    task: str,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    model: Mapping[str, Any],
    regressor_name: str,
    regressor: BaseEstimator,
    random_state: int | None,
) -> str:
    """Digest of everything that determines a cell's result.

    The corpus (clips, ratings, speakers), the task, the test folds, the
    embedder's identity (:func:`~.plan.model_identity`: class, parameters less
    the execution-only ones, the content of every model file), the
    regressor's class and parameters less its catalogue entry's
    execution-only ones (:func:`~.catalogue.estimator_execution_only`), and
    the seed: the same rules as the categorical study's cells.
    """
    return fingerprint(
        corpus.digest,
        task,
        [te.tolist() for _, te in folds],
        dict(model),
        _estimator_spec(regressor, estimator_execution_only(regressor_name)),
        random_state,
    )
