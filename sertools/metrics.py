"""Metrics of speech emotion recognition: UAR and WAR for classes, CCC for dimensions.

Categorical targets
-------------------

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

Labels are checked the way scikit-learn checks them (:func:`check_labels`): a
mix of label types (``0`` vs ``"0"``, ``"a"`` vs ``b"a"``) or a missing label
(None, NaN) raises :class:`~sertools.ParameterError` instead of scoring every
prediction as wrong.

Dimensional targets
-------------------
Arousal, valence and dominance are scored with Lin's concordance correlation
coefficient (:func:`ccc`, population moments), Pearson's correlation
(:func:`pearson_r`) and the mean absolute error (:func:`mae`); each takes one
target (shape ``(n_samples,)``) or several (``(n_samples, n_outputs)``, one
score per column, averaged by default). ``REGRESSION_SCORING`` is the scorer
dict for :func:`~sklearn.model_selection.cross_validate`.
"""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import numpy as np
from sklearn.metrics import make_scorer

from ._exceptions import ParameterError

__all__ = [
    "REGRESSION_SCORING",
    "SCORING",
    "ccc",
    "ccc_scorer",
    "check_labels",
    "macro_f1",
    "macro_f1_scorer",
    "mae",
    "mae_scorer",
    "pearson_r",
    "pearson_scorer",
    "uar_scorer",
    "unweighted_average_recall",
    "war_scorer",
    "weighted_average_recall",
]


def _label_kind(label: Any) -> str | None:
    """``"string"``, ``"bytes"`` or ``"number"``; None for a missing label (None, NaN)."""
    if isinstance(label, str):
        return "string"
    if isinstance(label, bytes):
        return "bytes"
    if isinstance(label, (Number, np.number, np.bool_)):
        value = complex(label)
        if math.isnan(value.real) or math.isnan(value.imag):
            return None
        return "number"
    if label is None or type(label).__name__ in {"NAType", "NaTType"}:  # pandas.NA, NaT
        return None
    return type(label).__name__


def _kinds(name: str, y: np.ndarray) -> dict[str, tuple[int, Any]]:
    """Label kinds of one array: kind -> (first index, first label); missing labels raise."""
    if y.dtype.kind == "U":
        return {"string": (0, y[0])} if y.size else {}
    if y.dtype.kind == "S":
        return {"bytes": (0, y[0])} if y.size else {}
    if y.dtype.kind in "biuc":
        return {"number": (0, y[0])} if y.size else {}
    if y.dtype.kind == "f":
        bad = np.flatnonzero(np.isnan(y))
        if bad.size:
            raise ParameterError(
                f"{name} holds a missing label (NaN) at index {bad[0]} ({bad.size} in all); "
                "every clip needs a label"
            )
        return {"number": (0, y[0])} if y.size else {}
    found: dict[str, tuple[int, Any]] = {}
    for i, label in enumerate(y.tolist()):
        kind = _label_kind(label)
        if kind is None:
            raise ParameterError(
                f"{name} holds a missing label ({label!r}) at index {i}; every clip needs a label"
            )
        found.setdefault(kind, (i, label))
    return found


def check_labels(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check a pair of label arrays as scikit-learn's classification metrics do.

    Both arrays must be 1-D, non-empty, of the same length, and hold labels of
    one kind: all strings, all bytes or all numbers (integers, floats and bools
    mix freely, as in scikit-learn). A mix of kinds (``0`` vs ``"0"``) or a
    missing label (None, NaN, ``pandas.NA``) is an error: comparing such labels
    would silently count every prediction as wrong.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.

    Returns
    -------
    y_true, y_pred : ndarray of shape (n_samples,)
        The labels as numpy arrays.

    Raises
    ------
    ParameterError
        If an array is not 1-D, they differ in length, they are empty, a label
        is missing, or the labels mix kinds (within or across the arrays); the
        message names the array, the index and the label.

    Examples
    --------
    >>> from sertools.metrics import check_labels
    >>> y_true, y_pred = check_labels(["a", "b"], ["a", "a"])
    >>> y_true.tolist(), y_pred.tolist()
    (['a', 'b'], ['a', 'a'])
    >>> try:
    ...     check_labels([0, 0, 1, 1], ["0", "0", "1", "1"])
    ... except ValueError as err:
    ...     print(err)
    mix of label input types: y_true holds number labels (e.g. 0 at index 0),
    y_pred holds string labels (e.g. '0' at index 0); use one type for both
    """
    y_true_in, y_pred_in = y_true, y_pred
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
    kinds = {
        # a list is read element by element: np.asarray(["a", 1]) would turn 1 into "1"
        name: _kinds(name, y if isinstance(y, np.ndarray) else np.asarray(y, dtype=object))
        for name, y in (("y_true", y_true_in), ("y_pred", y_pred_in))
    }
    seen = [(name, kind, where) for name, found in kinds.items() for kind, where in found.items()]
    if len({kind for _, kind, _ in seen}) > 1:
        parts = [
            f"{name} holds {kind} labels (e.g. {label!r} at index {i})"
            for name, kind, (i, label) in seen
        ]
        raise ParameterError(f"mix of label input types: {', '.join(parts)}; use one type for both")
    return y_true, y_pred


def _per_class_recall(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(recalls, supports)`` over the classes present in ``y_true``."""
    y_true, y_pred = check_labels(y_true, y_pred)
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
        If the inputs are empty, not 1-D, differ in length, hold a missing
        label or mix label types (see :func:`check_labels`).

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
        If the inputs are empty, not 1-D, differ in length, hold a missing
        label or mix label types (see :func:`check_labels`).

    Examples
    --------
    >>> weighted_average_recall(["a", "a", "a", "b"], ["a", "a", "a", "a"])
    0.75
    """
    recalls, supports = _per_class_recall(y_true, y_pred)
    return float(np.dot(recalls, supports) / supports.sum())


def macro_f1(y_true: Any, y_pred: Any) -> float:
    """Macro-averaged F1: the unweighted mean of per-class F1 scores.

    Classes are those occurring in ``y_true`` or ``y_pred``; a class with no
    true and no predicted clip cannot occur, and a class with precision and
    recall both 0 scores F1 = 0. Equal to scikit-learn's
    ``f1_score(y_true, y_pred, average="macro")`` (EmoBox reports it beside WA
    and UA).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (strings or integers).
    y_pred : array-like of shape (n_samples,)
        Predicted labels.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ParameterError
        If the inputs are empty, not 1-D, differ in length, hold a missing
        label or mix label types (see :func:`check_labels`).

    Examples
    --------
    >>> round(macro_f1(["a", "a", "b", "b"], ["a", "a", "a", "b"]), 4)
    0.7333
    """
    y_true, y_pred = check_labels(y_true, y_pred)
    classes, codes = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    t, p = codes[: len(y_true)], codes[len(y_true) :]
    k = len(classes)
    hits = np.bincount(t[t == p], minlength=k).astype(float)
    n_true = np.bincount(t, minlength=k).astype(float)
    n_pred = np.bincount(p, minlength=k).astype(float)
    # F1 = 2 TP / (|true| + |pred|); the denominator is > 0 for every class listed
    return float(np.mean(2.0 * hits / (n_true + n_pred)))


# --------------------------------------------------------------- dimensional targets


def _check_targets(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate regression targets: numeric, finite, same shape, >= 2 samples; float64 2-D."""
    arrays = []
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        try:
            a = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ParameterError(
                f"{name} must hold numbers (arousal, valence, ... ratings); "
                f"could not convert it to float: {exc}"
            ) from None
        if a.ndim not in (1, 2):
            raise ParameterError(
                f"{name} must have shape (n_samples,) or (n_samples, n_outputs); got {a.shape}"
            )
        bad = np.argwhere(~np.isfinite(a))
        if bad.size:
            where = tuple(int(i) for i in bad[0])
            index = where[0] if a.ndim == 1 else where
            raise ParameterError(
                f"{name} holds a non-finite value ({a[where]}) at index {index} "
                f"({len(bad)} in all); every clip needs a finite rating and prediction"
            )
        arrays.append(a)
    t, p = arrays
    if t.shape[0] != p.shape[0]:
        raise ParameterError(
            f"y_true and y_pred have different lengths: {t.shape[0]} != {p.shape[0]}"
        )
    t2 = t.reshape(len(t), -1)
    p2 = p.reshape(len(p), -1)
    if t2.shape != p2.shape:
        raise ParameterError(
            f"y_true and y_pred have different numbers of outputs: shapes {t.shape} and {p.shape}"
        )
    if t2.shape[0] < 2:
        raise ParameterError(
            f"y_true and y_pred hold {t2.shape[0]} sample(s); at least 2 are needed for a "
            "correlation"
        )
    if t2.shape[1] == 0:
        raise ParameterError("y_true and y_pred have no outputs (shape (n_samples, 0))")
    return t2, p2


def _average(scores: np.ndarray, multioutput: Any) -> float | np.ndarray:
    """Combine per-output scores as scikit-learn's ``multioutput`` does."""
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return scores
        if multioutput == "uniform_average":
            return float(scores.mean())
        raise ParameterError(
            f"multioutput must be 'raw_values', 'uniform_average' or an array of "
            f"{scores.size} weights; got {multioutput!r}"
        )
    weights = np.asarray(multioutput, dtype=np.float64)
    if weights.shape != scores.shape or not np.isfinite(weights).all() or weights.sum() <= 0:
        raise ParameterError(
            f"multioutput weights must be {scores.size} finite non-negative numbers with a "
            f"positive sum, one per output; got {multioutput!r}"
        )
    return float(np.average(scores, weights=weights))


def ccc(y_true: Any, y_pred: Any, *, multioutput: Any = "uniform_average") -> float | np.ndarray:
    """Compute Lin's concordance correlation coefficient (CCC), one per output.

    .. math::

        \\rho_c = \\frac{2 s_{tp}}{s_t^2 + s_p^2 + (\\bar t - \\bar p)^2}

    with **population** moments (divisor *n*, ``ddof=0``) as in Lin (1989) and
    the emotion literature (AVEC, Odyssey 2024, MSP-Podcast baselines): means
    :math:`\\bar t, \\bar p`, variances :math:`s_t^2, s_p^2` and covariance
    :math:`s_{tp}`. CCC is in [-1, 1]; it is 1 only when every prediction
    equals its target, and unlike Pearson's r it penalises a shift or a scale
    difference between predictions and targets.

    Degenerate columns follow the formula where it is defined: constant
    predictions (or constant targets) give :math:`s_{tp} = 0`, so CCC = 0. The
    denominator is 0 only when targets and predictions are the *same* constant;
    every prediction is then exact, so CCC = 1 (the choice of scikit-learn's
    ``r2_score`` for a perfect prediction of a constant target).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True ratings (e.g. arousal, valence, dominance columns).
    y_pred : array-like of the same shape
        Predictions.
    multioutput : {"uniform_average", "raw_values"} or array-like, default="uniform_average"
        ``"raw_values"`` returns one CCC per output; ``"uniform_average"`` their
        mean; an array, their weighted mean.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        The CCC (``"raw_values"``: one per column, also for 1-D input).

    Raises
    ------
    ParameterError
        If a value is NaN or infinite or not a number, the shapes differ, fewer
        than 2 samples are given, or ``multioutput`` is not valid.

    References
    ----------
    L. I.-K. Lin, "A concordance correlation coefficient to evaluate
    reproducibility", Biometrics 45(1):255-268, 1989.

    Examples
    --------
    >>> from sertools.metrics import ccc
    >>> ccc([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    1.0
    >>> round(ccc([1.0, 2.0, 3.0], [2.0, 3.0, 4.0]), 4)  # shifted by 1: r = 1, CCC < 1
    0.5714
    >>> ccc([[1.0, 5.0], [2.0, 4.0], [3.0, 3.0]], [[1.0, 3.0], [2.0, 4.0], [3.0, 5.0]],
    ...     multioutput="raw_values").tolist()
    [1.0, -1.0]
    """
    t, p = _check_targets(y_true, y_pred)
    dt = t - t.mean(axis=0)
    dp = p - p.mean(axis=0)
    cov = (dt * dp).mean(axis=0)
    shift = t.mean(axis=0) - p.mean(axis=0)
    denom = (dt * dt).mean(axis=0) + (dp * dp).mean(axis=0) + shift * shift
    identical = denom == 0  # same constant on both sides: every prediction exact
    scores = np.where(identical, 1.0, 2 * cov / np.where(identical, 1.0, denom))
    return _average(scores, multioutput)


def pearson_r(
    y_true: Any, y_pred: Any, *, multioutput: Any = "uniform_average"
) -> float | np.ndarray:
    """Compute Pearson's correlation coefficient of targets and predictions, one per output.

    Where a column of ``y_true`` or ``y_pred`` is constant the correlation is
    undefined; it is reported as 1.0 when every prediction equals its target
    and 0.0 otherwise (no linear association can be shown), never NaN.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True ratings.
    y_pred : array-like of the same shape
        Predictions.
    multioutput : {"uniform_average", "raw_values"} or array-like, default="uniform_average"
        As for :func:`ccc`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        Pearson's r in [-1, 1].

    Raises
    ------
    ParameterError
        As for :func:`ccc`.

    Examples
    --------
    >>> from sertools.metrics import pearson_r
    >>> pearson_r([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
    1.0
    """
    t, p = _check_targets(y_true, y_pred)
    dt = t - t.mean(axis=0)
    dp = p - p.mean(axis=0)
    var = (dt * dt).sum(axis=0) * (dp * dp).sum(axis=0)
    degenerate = var == 0
    exact = (t == p).all(axis=0)
    r = (dt * dp).sum(axis=0) / np.sqrt(np.where(degenerate, 1.0, var))
    scores = np.where(degenerate, np.where(exact, 1.0, 0.0), np.clip(r, -1.0, 1.0))
    return _average(scores, multioutput)


def mae(y_true: Any, y_pred: Any, *, multioutput: Any = "uniform_average") -> float | np.ndarray:
    """Mean absolute error, one per output.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True ratings.
    y_pred : array-like of the same shape
        Predictions.
    multioutput : {"uniform_average", "raw_values"} or array-like, default="uniform_average"
        As for :func:`ccc`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        :math:`\\frac{1}{n} \\sum_i |t_i - p_i|`, in the targets' units.

    Raises
    ------
    ParameterError
        As for :func:`ccc`.

    Examples
    --------
    >>> from sertools.metrics import mae
    >>> mae([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    0.6666666666666666
    """
    t, p = _check_targets(y_true, y_pred)
    return _average(np.abs(t - p).mean(axis=0), multioutput)


#: scikit-learn scorer for the CCC (mean over outputs for multi-output targets).
ccc_scorer = make_scorer(ccc)
#: scikit-learn scorer for Pearson's r.
pearson_scorer = make_scorer(pearson_r)
#: scikit-learn scorer for the MAE; negated (greater is better), like scikit-learn's
#: ``neg_mean_absolute_error``.
mae_scorer = make_scorer(mae, greater_is_better=False)
#: Multi-metric scoring dict for dimensional targets: ``cross_validate(...,
#: scoring=REGRESSION_SCORING)`` gives ``test_ccc``, ``test_r`` and ``test_neg_mae``.
REGRESSION_SCORING = {"ccc": ccc_scorer, "r": pearson_scorer, "neg_mae": mae_scorer}


#: scikit-learn scorer for UAR (``cross_validate(..., scoring=uar_scorer)``).
uar_scorer = make_scorer(unweighted_average_recall)
#: scikit-learn scorer for WAR.
war_scorer = make_scorer(weighted_average_recall)
#: scikit-learn scorer for macro-F1.
macro_f1_scorer = make_scorer(macro_f1)
#: Multi-metric scoring dict: ``cross_validate(..., scoring=SCORING)`` gives
#: ``test_uar`` and ``test_war``.
SCORING = {"uar": uar_scorer, "war": war_scorer}
