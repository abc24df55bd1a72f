"""Cross-validation protocols for the corpora, speaker-independent ones included.

:func:`get_cv` returns a splitter and the matching ``groups`` for
:func:`~sklearn.model_selection.cross_validate`::

    cv, groups = get_cv(bunch, "loso")
    cross_validate(pipe, bunch.filenames, bunch.target, cv=cv, groups=groups)

The paper's protocol (``"paper"``) is random stratified 5-fold cross-validation,
in which every speaker appears in training and test folds; the speaker-independent
protocols keep each speaker (or IEMOCAP session) on one side of every split.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import (
    BaseCrossValidator,
    LeaveOneGroupOut,
    StratifiedGroupKFold,
    StratifiedKFold,
)

from .._exceptions import ParameterError
from ._corpora import CORPUS_SPECS

__all__ = ["PROTOCOLS", "RECOMMENDED_PROTOCOL", "get_cv"]

#: Protocol names accepted by :func:`get_cv`.
PROTOCOLS = ("paper", "loso", "session", "speaker-kfold", "recommended", "emobox", "predefined")

#: Speaker-independent protocol recommended for each corpus (``bunch.corpus``), from the
#: corpus specs (``CorpusSpec.recommended_protocol``).
RECOMMENDED_PROTOCOL = {name: spec.recommended_protocol for name, spec in CORPUS_SPECS.items()}


def _groups(dataset: Any, field: str, protocol: str) -> np.ndarray:
    groups = getattr(dataset, field, None)
    if groups is None:
        raise ParameterError(
            f"protocol {protocol!r} needs dataset.{field}; got a dataset without it "
            "(use a Bunch from a sertools.datasets loader)"
        )
    groups = np.asarray(groups)
    if len(groups) != len(dataset.target):
        raise ParameterError(
            f"dataset.{field} has {len(groups)} entries but dataset.target has "
            f"{len(dataset.target)}; expected one per file"
        )
    if np.unique(groups).size < 2:
        raise ParameterError(
            f"protocol {protocol!r} needs at least 2 distinct values in dataset.{field}, "
            f"got {np.unique(groups).size}"
        )
    return groups


def get_cv(
    dataset: Any,
    protocol: str = "paper",
    *,
    n_splits: int = 5,
    random_state: int | None = 0,
) -> tuple[BaseCrossValidator, np.ndarray | None]:
    """Return a cross-validation splitter and its groups for a loaded corpus.

    Parameters
    ----------
    dataset : :class:`~sklearn.utils.Bunch`
        A loader's result: ``target`` of shape (n_files,), ``speaker`` of shape
        (n_files,) for the speaker protocols, ``session`` of shape (n_files,)
        for ``"session"`` and ``corpus`` for ``"recommended"``.
    protocol : {"paper", "loso", "session", "speaker-kfold", "recommended"}, \
default="paper"
        * ``"paper"``: :class:`~sklearn.model_selection.StratifiedKFold`
          (``n_splits``, shuffled), the paper's speaker-dependent protocol;
          ``groups`` is None.
        * ``"loso"``: leave-one-speaker-out
          (:class:`~sklearn.model_selection.LeaveOneGroupOut` on ``speaker``),
          standard for EMODB, EMOVO and SAVEE.
        * ``"session"``: leave-one-session-out (``LeaveOneGroupOut`` on
          ``session``), standard for IEMOCAP.
        * ``"speaker-kfold"``:
          :class:`~sklearn.model_selection.StratifiedGroupKFold` (``n_splits``,
          shuffled) on ``speaker``, for corpora with many speakers (RAVDESS,
          CREMA-D).
        * ``"recommended"``: the protocol of :data:`RECOMMENDED_PROTOCOL` for
          ``dataset.corpus``.
        * ``"emobox"`` / ``"predefined"``: the dataset's own folds,
          ``dataset.cv`` (:func:`~sertools.datasets.load_emobox`'s EmoBox folds,
          a manifest's fold column); ``groups`` is None.
    n_splits : int, default=5
        Number of folds of ``"paper"`` and ``"speaker-kfold"``.
    random_state : int or None, default=0
        Seed of the shuffling of ``"paper"`` and ``"speaker-kfold"``.

    Returns
    -------
    cv : cross-validation splitter
        Pass as ``cv=`` to :func:`~sklearn.model_selection.cross_validate`.
    groups : ndarray of shape (n_files,) or None
        Pass as ``groups=``.

    Raises
    ------
    ParameterError
        For an unknown protocol, a dataset without the needed field, fewer than
        two groups, fewer groups than ``n_splits``, or ``n_splits`` < 2.

    Examples
    --------
    >>> cv, groups = get_cv(bunch, "loso")  # doctest: +SKIP
    >>> cross_validate(pipe, bunch.filenames, bunch.target, cv=cv, groups=groups)  # doctest: +SKIP
    """
    if protocol == "recommended":
        corpus = getattr(dataset, "corpus", None)
        if corpus not in RECOMMENDED_PROTOCOL:
            raise ParameterError(
                f"no recommended protocol for corpus {corpus!r}; expected dataset.corpus in "
                f"{', '.join(RECOMMENDED_PROTOCOL)}"
            )
        protocol = RECOMMENDED_PROTOCOL[corpus]
    if protocol in ("emobox", "predefined"):
        cv = getattr(dataset, "cv", None)
        if cv is None:
            raise ParameterError(
                f"protocol {protocol!r} needs the dataset's own folds (dataset.cv); load it with "
                "load_emobox, or a manifest with a fold column"
            )
        return cv, None
    if protocol not in PROTOCOLS:
        raise ParameterError(
            f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}"
        )
    if protocol in ("paper", "speaker-kfold") and (
        isinstance(n_splits, bool) or not isinstance(n_splits, int) or n_splits < 2
    ):
        raise ParameterError(f"n_splits must be an integer >= 2, got {n_splits!r}")
    if protocol == "paper":
        return StratifiedKFold(n_splits, shuffle=True, random_state=random_state), None
    if protocol == "loso":
        return LeaveOneGroupOut(), _groups(dataset, "speaker", protocol)
    if protocol == "session":
        return LeaveOneGroupOut(), _groups(dataset, "session", protocol)
    groups = _groups(dataset, "speaker", protocol)
    if np.unique(groups).size < n_splits:
        raise ParameterError(
            f"protocol 'speaker-kfold' with n_splits={n_splits} needs at least {n_splits} "
            f"speakers, got {np.unique(groups).size}; lower n_splits or use 'loso'"
        )
    return StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state), groups
