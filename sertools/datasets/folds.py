"""Fixed, published folds as a scikit-learn splitter."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import BaseCrossValidator

from .._exceptions import ParameterError

__all__ = ["PredefinedFolds"]

#: Values of :attr:`PredefinedFolds.membership`.
NEITHER, TRAIN, TEST = 0, 1, 2


class PredefinedFolds(BaseCrossValidator):
    """Cross-validation on fixed folds: which clips train and which test each fold.

    Unlike :class:`~sklearn.model_selection.PredefinedSplit`, a clip may be in
    neither side of a fold, and the training side is given, not implied: the
    splitter reproduces published partitions (EmoBox's, a manifest's fold
    column) exactly.

    Parameters
    ----------
    membership : array-like of shape (n_clips, n_folds)
        ``1`` where the clip trains the fold, ``2`` where it tests it, ``0``
        where it is in neither.

    Examples
    --------
    >>> import numpy as np
    >>> from sertools.datasets import PredefinedFolds
    >>> cv = PredefinedFolds(membership=[[2, 1], [1, 2], [1, 0]])
    >>> cv.get_n_splits()
    2
    >>> [(tr.tolist(), te.tolist()) for tr, te in cv.split(np.zeros((3, 1)))]
    [([1, 2], [0]), ([0], [1])]
    """

    def __init__(self, membership: Any) -> None:
        self.membership = membership

    def _matrix(self) -> np.ndarray:
        matrix = np.asarray(self.membership)
        if matrix.ndim != 2 or matrix.shape[1] < 1:
            raise ParameterError(
                f"membership must be a 2-D array (n_clips, n_folds), got shape {matrix.shape}"
            )
        bad = ~np.isin(matrix, (NEITHER, TRAIN, TEST))
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ParameterError(
                f"membership[{row}, {col}] is {matrix[row, col].item()!r}; expected 0 (neither), "
                "1 (train) or 2 (test)"
            )
        return matrix.astype(np.int8)

    @classmethod
    def from_test_folds(
        cls, test_fold: Sequence[Any], folds: Sequence[Any] | None = None
    ) -> PredefinedFolds:
        """Folds in which each clip tests one fold and trains all the others.

        Parameters
        ----------
        test_fold : sequence of shape (n_clips,)
            The fold each clip tests (any hashable values; ``None`` or ``-1``:
            the clip only trains).
        folds : sequence, optional
            The folds in order (default: the sorted distinct values).

        Returns
        -------
        PredefinedFolds

        Examples
        --------
        >>> from sertools.datasets import PredefinedFolds
        >>> PredefinedFolds.from_test_folds(["a", "b", "a", None]).membership.tolist()
        [[2, 1], [1, 2], [2, 1], [1, 1]]
        """
        values = list(test_fold)
        if folds is None:
            folds = sorted({v for v in values if v is not None and v != -1}, key=str)
        matrix = np.full((len(values), len(folds)), TRAIN, dtype=np.int8)
        for j, fold in enumerate(folds):
            matrix[[v == fold for v in values], j] = TEST
        return cls(membership=matrix)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds.

        Parameters
        ----------
        X, y, groups : object
            Ignored, for the scikit-learn splitter API.

        Returns
        -------
        int
            The number of columns of ``membership``.

        Examples
        --------
        >>> from sertools.datasets import PredefinedFolds
        >>> PredefinedFolds(membership=[[2, 1, 1], [1, 2, 2]]).get_n_splits()
        3
        """
        return int(self._matrix().shape[1])

    def split(
        self, X: Any = None, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield the train and test indices of each fold.

        Parameters
        ----------
        X : array-like of shape (n_clips, ...), optional
            Checked to hold one row per clip of ``membership``.
        y, groups : object
            Ignored, for the scikit-learn splitter API.

        Yields
        ------
        train, test : ndarray of int
            Indices of the fold's training and test clips.

        Examples
        --------
        >>> from sertools.datasets import PredefinedFolds
        >>> cv = PredefinedFolds(membership=[[2, 1], [1, 0], [1, 2]])
        >>> [(tr.tolist(), te.tolist()) for tr, te in cv.split()]
        [([1, 2], [0]), ([0], [2])]
        """
        matrix = self._matrix()
        if X is not None and len(X) != matrix.shape[0]:
            raise ParameterError(
                f"PredefinedFolds holds {matrix.shape[0]} clips but X has {len(X)}; the folds "
                "belong to the dataset they were loaded with"
            )
        for j in range(matrix.shape[1]):
            yield np.flatnonzero(matrix[:, j] == TRAIN), np.flatnonzero(matrix[:, j] == TEST)

    def _iter_test_indices(
        self, X: Any = None, y: Any = None, groups: Any = None
    ) -> Iterator[np.ndarray]:
        for _, test in self.split(X, y, groups):
            yield test
