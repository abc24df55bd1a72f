"""Unweighted and weighted average recall (UAR, WAR) and their scorers.

Definitions (for classes :math:`k = 1..K` present in ``y_true``, recall
:math:`R_k = TP_k / (TP_k + FN_k)`):

* UAR :math:`= \\frac{1}{K} \\sum_k R_k`, the *mean* of the per-class recalls
  (scikit-learn's ``balanced_accuracy_score``, ``recall_score(average="macro")``
  over the classes of ``y_true``);
* WAR :math:`= \\sum_k \\alpha_k R_k` with :math:`\\alpha_k = n_k / n` the share of
  class *k* in ``y_true``; it equals plain accuracy.

The paper's equations (1)-(2) and text contain errata that this module does
*not* follow: equation (1) writes UAR as a *sum* of recalls (it must be divided
by *K*), the text says the weights of UAR are "1/k" (they are 1/K), and it says
UAR equals accuracy (it is WAR that equals accuracy; UAR equals it only when
the classes are balanced in ``y_true``). See ``docs/paper-errata.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import make_scorer

from ._exceptions import ParameterError

__all__ = [
    "SCORING",
    "uar_scorer",
    "unweighted_average_recall",
    "war_scorer",
    "weighted_average_recall",
]


def _per_class_recall(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(recalls, supports)`` over the classes present in ``y_true``."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ParameterError(
            "y_true and y_pred must be 1-D label arrays; got shapes "
            f"{y_true.shape} and {y_pred.shape}"
        )
    if y_true.shape[0] != y_pred.shape[0]:
        raise ParameterError(
            f"y_true and y_pred have different lengths: {y_true.shape[0]} != {y_pred.shape[0]}"
        )
    if y_true.shape[0] == 0:
        raise ParameterError("y_true and y_pred are empty; at least one sample is needed")
    _, inverse, supports = np.unique(y_true, return_inverse=True, return_counts=True)
    # every class of y_true occurs in inverse, so there is one bin per class
    hits = np.bincount(inverse, weights=(y_true == y_pred))
    return hits / supports, supports


def unweighted_average_recall(y_true: Any, y_pred: Any) -> float:
    """Unweighted average recall: the mean of the per-class recalls.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (strings or integers).
    y_pred : array-like of shape (n_samples,)
        Predicted labels.

    Returns
    -------
    float
        Mean recall over the classes present in ``y_true``, in [0, 1]. Equal to
        :func:`sklearn.metrics.balanced_accuracy_score`.

    Raises
    ------
    ParameterError
        If the inputs are empty, not 1-D, or differ in length.

    Examples
    --------
    >>> unweighted_average_recall(["a", "a", "a", "b"], ["a", "a", "a", "a"])
    0.5
    """
    recalls, _ = _per_class_recall(y_true, y_pred)
    return float(recalls.mean())


def weighted_average_recall(y_true: Any, y_pred: Any) -> float:
    """Weighted average recall: per-class recalls weighted by class support.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (strings or integers).
    y_pred : array-like of shape (n_samples,)
        Predicted labels.

    Returns
    -------
    float
        :math:`\\sum_k (n_k / n) R_k`, in [0, 1]; equal to accuracy.

    Raises
    ------
    ParameterError
        If the inputs are empty, not 1-D, or differ in length.

    Examples
    --------
    >>> weighted_average_recall(["a", "a", "a", "b"], ["a", "a", "a", "a"])
    0.75
    """
    recalls, supports = _per_class_recall(y_true, y_pred)
    return float(np.dot(recalls, supports) / supports.sum())


#: scikit-learn scorer for UAR (``cross_validate(..., scoring=uar_scorer)``).
uar_scorer = make_scorer(unweighted_average_recall)
#: scikit-learn scorer for WAR.
war_scorer = make_scorer(weighted_average_recall)
#: Multi-metric scoring dict: ``cross_validate(..., scoring=SCORING)`` gives
#: ``test_uar`` and ``test_war``.
SCORING = {"uar": uar_scorer, "war": war_scorer}
