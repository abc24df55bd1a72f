"""A leak audit for any set of folds: what train and test share, and what no fold tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import ParameterError

__all__ = ["FoldAudit", "audit_folds"]

_SHOWN = 8


def _names(values: Iterable[Any]) -> str:
    items = sorted(map(str, values))
    more = f", ... ({len(items) - _SHOWN} more)" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


@dataclass
class FoldAudit:
    """What a set of folds shares between train and test, fold by fold.

    Built by :func:`audit_folds`; ``str(audit)`` is a plain-text summary and
    :meth:`to_markdown` a Markdown one.

    Parameters
    ----------
    folds : pandas.DataFrame
        One row per fold: ``fold``, ``n_train``, ``n_test``, ``test_speakers``,
        ``shared_speakers`` (test speakers also in training), ``shared_texts``,
        ``test_classes`` and ``train_classes`` (label -> count).
    n_clips : int
        Clips the folds are over.
    never_tested : list of int
        Indices of the clips in no test fold.
    tested_more_than_once : list of int
        Indices of the clips in several test folds.
    shared_speaker_names : list of list of str
        Per fold, the shared speakers.
    has_speakers, has_texts : bool
        Whether groups (speakers) and texts were given.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold
    >>> from sertools.datasets import audit_folds
    >>> y = np.array(["a", "b"] * 6)
    >>> spk = np.repeat(["s1", "s2", "s3"], 4)
    >>> audit_folds(LeaveOneGroupOut(), np.zeros((12, 1)), y, spk).speaker_dependent
    False
    >>> audit = audit_folds(StratifiedKFold(2), np.zeros((12, 1)), y, spk)
    >>> audit.speaker_dependent
    True
    >>> print(str(audit).splitlines()[0])
    Speaker-dependent: 2 of 2 folds test speakers that are also in their training data.
    """

    folds: pd.DataFrame
    n_clips: int
    never_tested: list[int] = field(default_factory=list)
    tested_more_than_once: list[int] = field(default_factory=list)
    shared_speaker_names: list[list[str]] = field(default_factory=list)
    has_speakers: bool = False
    has_texts: bool = False

    @property
    def speaker_dependent(self) -> bool:
        """Whether any fold tests a speaker that it also trains on.

        Returns
        -------
        bool
            True when at least one fold shares a speaker; False without speakers.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.model_selection import KFold
        >>> from sertools.datasets import audit_folds
        >>> audit = audit_folds(KFold(2), np.zeros((4, 1)), groups=["a", "b", "a", "b"])
        >>> audit.speaker_dependent
        True
        """
        return bool(self.has_speakers and (self.folds["shared_speakers"] > 0).any())

    def headline(self) -> str:
        """One sentence: speaker-dependent or speaker-independent (or unknown).

        Returns
        -------
        str
            The verdict, with how many folds share speakers.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.model_selection import KFold
        >>> from sertools.datasets import audit_folds
        >>> audit = audit_folds(KFold(2), np.zeros((4, 1)), groups=["a", "b", "a", "b"])
        >>> audit.headline()
        'Speaker-dependent: 2 of 2 folds test speakers that are also in their training data.'
        """
        n = len(self.folds)
        if not self.has_speakers:
            return f"Speakers unknown: {n} folds; whether they share speakers cannot be checked."
        leaky = int((self.folds["shared_speakers"] > 0).sum())
        if not leaky:
            return f"Speaker-independent: no fold of {n} tests a speaker it trains on."
        return (
            f"Speaker-dependent: {leaky} of {n} folds test speakers that are also in their "
            "training data."
        )

    def lines(self) -> list[str]:
        """The summary, one finding per line.

        Returns
        -------
        list of str
            The headline, one line per fold, then the coverage.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.model_selection import KFold
        >>> from sertools.datasets import audit_folds
        >>> audit = audit_folds(KFold(2), np.zeros((4, 1)), groups=["a", "b", "a", "b"])
        >>> audit.lines()[1]
        'fold 1: 2 train / 2 test clips; 2 of 2 test speakers also in training (a, b)'
        """
        out = [self.headline()]
        for row, shared in zip(self.folds.itertuples(), self.shared_speaker_names, strict=True):
            text = f"fold {row.fold}: {row.n_train} train / {row.n_test} test clips"
            if self.has_speakers:
                text += (
                    f"; {row.shared_speakers} of {row.test_speakers} test speakers also in training"
                )
                if shared:
                    text += f" ({_names(shared)})"
            if self.has_texts:
                text += f"; {row.shared_texts} test texts also in training"
            classes = row.test_classes
            if classes:
                text += "; test classes " + ", ".join(f"{k} {v}" for k, v in classes.items())
            out.append(text)
        if self.never_tested:
            out.append(
                f"{len(self.never_tested)} of {self.n_clips} clips are in no test fold "
                f"(indices {_names(self.never_tested)})"
            )
        else:
            out.append(f"every one of the {self.n_clips} clips is in a test fold")
        if self.tested_more_than_once:
            out.append(
                f"{len(self.tested_more_than_once)} clips are in several test folds "
                f"(indices {_names(self.tested_more_than_once)})"
            )
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_markdown(self) -> str:
        """The summary as Markdown: the headline, a table per fold, the coverage.

        Returns
        -------
        str
            Markdown text.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.model_selection import KFold
        >>> from sertools.datasets import audit_folds
        >>> audit = audit_folds(KFold(2), np.zeros((4, 1)), groups=["a", "b", "a", "b"])
        >>> print(audit.to_markdown().splitlines()[2])
        | fold | train | test | test speakers | shared with train | test classes |
        """
        head = "| fold | train | test |"
        rule = "|---|---|---|"
        if self.has_speakers:
            head += " test speakers | shared with train |"
            rule += "---|---|"
        if self.has_texts:
            head += " shared texts |"
            rule += "---|"
        head += " test classes |"
        rule += "---|"
        rows = [f"**{self.headline()}**", "", head, rule]
        for row, shared in zip(self.folds.itertuples(), self.shared_speaker_names, strict=True):
            cells = [str(row.fold), str(row.n_train), str(row.n_test)]
            if self.has_speakers:
                names = f" ({_names(shared)})" if shared else ""
                cells += [str(row.test_speakers), f"{row.shared_speakers}{names}"]
            if self.has_texts:
                cells.append(str(row.shared_texts))
            cells.append(", ".join(f"{k} {v}" for k, v in row.test_classes.items()))
            rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        rows += ["", *self.lines()[len(self.folds) + 1 :]]
        return "\n".join(rows)


def audit_folds(
    splitter: Any,
    X: Any,
    y: Any = None,
    groups: Any = None,
    *,
    texts: Any = None,
) -> FoldAudit:
    """Audit a set of folds for leaks: shared speakers and texts, coverage, class balance.

    Parameters
    ----------
    splitter : cross-validation splitter or iterable of (train, test)
        Anything with ``split(X, y, groups)`` (scikit-learn splitters,
        :class:`~sertools.datasets.PredefinedFolds`), or the folds themselves.
    X : array-like of shape (n_clips, ...)
        The clips (file paths are fine); only their number is used.
    y : array-like of shape (n_clips,), optional
        Labels, for the class balance per fold (and stratified splitters).
    groups : array-like of shape (n_clips,), optional
        Speakers: the audit reports, per fold, the test speakers that are also
        in training. Also passed to the splitter.
    texts : array-like of shape (n_clips,), optional
        Sentence or text ids: reported likewise.

    Returns
    -------
    FoldAudit
        ``speaker_dependent`` says whether any fold shares a speaker;
        ``str()`` and :meth:`FoldAudit.to_markdown` summarise.

    Raises
    ------
    ParameterError
        If ``y``, ``groups`` or ``texts`` do not have one entry per clip, or a
        fold holds an index outside the clips.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import KFold
    >>> from sertools.datasets import audit_folds
    >>> spk = np.array(["a", "a", "b", "b", "b", "b"])
    >>> audit = audit_folds(KFold(2), np.zeros((6, 1)), groups=spk)
    >>> print(audit)
    Speaker-dependent: 2 of 2 folds test speakers that are also in their training data.
    fold 1: 3 train / 3 test clips; 1 of 2 test speakers also in training (b)
    fold 2: 3 train / 3 test clips; 1 of 1 test speakers also in training (b)
    every one of the 6 clips is in a test fold
    """
    n = len(X)

    def column(values: Any, what: str) -> np.ndarray | None:
        if values is None:
            return None
        arr = np.asarray(values)
        if len(arr) != n:
            raise ParameterError(
                f"{what} has {len(arr)} entries but X has {n}; expected one per clip"
            )
        return arr

    y_arr, spk, txt = column(y, "y"), column(groups, "groups"), column(texts, "texts")
    if hasattr(splitter, "split"):
        folds = list(splitter.split(X, y_arr, spk))
    else:
        folds = list(splitter)
    tested = np.zeros(n, dtype=int)
    rows, shared_names = [], []
    for number, (train, test) in enumerate(folds, start=1):
        train, test = np.asarray(train, dtype=int), np.asarray(test, dtype=int)
        if (train.size and (train.min() < 0 or train.max() >= n)) or (
            test.size and (test.min() < 0 or test.max() >= n)
        ):
            raise ParameterError(f"fold {number} holds indices outside the {n} clips")
        tested[test] += 1
        row: dict[str, Any] = {"fold": number, "n_train": train.size, "n_test": test.size}
        shared: list[str] = []
        if spk is not None:
            test_spk, train_spk = set(spk[test].tolist()), set(spk[train].tolist())
            shared = sorted(map(str, test_spk & train_spk))
            row |= {"test_speakers": len(test_spk), "shared_speakers": len(shared)}
        else:
            row |= {"test_speakers": 0, "shared_speakers": 0}
        row["shared_texts"] = (
            len(set(txt[test].tolist()) & set(txt[train].tolist())) if txt is not None else 0
        )
        row["test_classes"] = (
            dict(sorted(Counter(map(str, y_arr[test])).items())) if y_arr is not None else {}
        )
        row["train_classes"] = (
            dict(sorted(Counter(map(str, y_arr[train])).items())) if y_arr is not None else {}
        )
        rows.append(row)
        shared_names.append(shared)
    return FoldAudit(
        folds=pd.DataFrame(rows),
        n_clips=n,
        never_tested=np.flatnonzero(tested == 0).tolist(),
        tested_more_than_once=np.flatnonzero(tested > 1).tolist(),
        shared_speaker_names=shared_names,
        has_speakers=spk is not None,
        has_texts=txt is not None,
    )
