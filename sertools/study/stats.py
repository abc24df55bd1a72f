"""Statistics of a study: speaker-level confidence intervals and paired tests.

Utterances of one speaker are correlated, so resampling utterances gives
intervals that are too narrow. Here the speakers are the units:

* :func:`cluster_bootstrap_uar` — a confidence interval of a cell's UAR from
  its out-of-fold predictions, resampling speakers (clusters) with
  replacement (:func:`scipy.stats.bootstrap`, percentile method).
* :func:`corrected_resampled_ttest` — Nadeau & Bengio (2003)'s t-test on the
  per-fold score differences of two pipelines evaluated on the same folds,
  with the variance inflated by ``n_test / n_train`` for the overlap of the
  training sets.
* :func:`paired_bootstrap_uar` — a paired speaker bootstrap of the UAR
  difference of two pipelines on the same clips.
* :func:`compare` — both tests for two cells of a :class:`StudyResult`.

References
----------
C. Nadeau and Y. Bengio, "Inference for the generalization error",
Machine Learning 52(3):239-281, 2003.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .._exceptions import ParameterError
from ._cluster_stats import cluster_interval

__all__ = [
    "cluster_bootstrap_uar",
    "compare",
    "corrected_resampled_ttest",
    "paired_bootstrap_uar",
    "significance_table",
]


def _per_group_confusions(y_true, y_preds, groups):
    """Confusion counts per group: (n_groups, n_pred_sets, k, k + 1), classes, n_groups.

    Column ``k`` counts predictions of labels absent from ``y_true``: they
    add to their true class's row (a miss) without being a class of their own.
    """
    y_true = np.asarray(y_true)
    groups = np.asarray(groups)
    if y_true.ndim != 1 or len(y_true) == 0:
        raise ParameterError(f"y_true must be a non-empty 1-D array, got shape {y_true.shape}")
    preds = [np.asarray(p) for p in y_preds]
    for p in preds:
        if p.shape != y_true.shape:
            raise ParameterError(f"y_pred has shape {p.shape}; expected {y_true.shape} like y_true")
    _check_label_types(y_true, *preds)
    if groups.shape != y_true.shape:
        raise ParameterError(f"groups has shape {groups.shape}; expected {y_true.shape}")
    classes = np.unique(y_true)
    _, g_idx = np.unique(groups, return_inverse=True)
    t_idx = np.searchsorted(classes, y_true)
    k = len(classes)
    n_g = int(g_idx.max()) + 1
    out = np.zeros((n_g, len(preds), k, k + 1))
    for j, p in enumerate(preds):
        pos = np.minimum(np.searchsorted(classes, p), k - 1)
        col = np.where(classes[pos] == p, pos, k)
        np.add.at(out, (g_idx, j, t_idx, col), 1)
    return out, classes, n_g


def _check_label_types(*arrays: np.ndarray) -> None:
    """Refuse labels mixing strings and numbers (scikit-learn's "Mix of label input types")."""
    from sklearn.utils.multiclass import unique_labels

    try:
        unique_labels(*arrays)
    except (ValueError, TypeError) as exc:
        kinds = ", ".join(sorted({_kind(a) for a in arrays}))
        raise ParameterError(
            f"Mix of label types ({kinds}): y_true and the predictions must use the same "
            f"labels ({' '.join(str(exc).split())})"
        ) from exc


def _kind(a: np.ndarray) -> str:
    values = a.ravel().tolist()
    types = sorted({type(v).__name__ for v in values})
    if a.dtype == object:
        return "/".join(types)
    return {"i": "int", "u": "int", "f": "float", "b": "bool", "U": "str", "S": "bytes"}.get(
        a.dtype.kind, str(a.dtype)
    )


def _uar_from_counts(cm: np.ndarray) -> np.ndarray:
    """UAR of (..., k, k + 1) counts: mean recall over classes with a non-empty row."""
    k = cm.shape[-2]
    diag = np.diagonal(cm[..., :k], axis1=-2, axis2=-1)
    rows = cm.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(rows > 0, diag / np.where(rows > 0, rows, 1), np.nan)
    return np.nanmean(recall, axis=-1)


def cluster_bootstrap_uar(
    y_true: Any,
    y_pred: Any,
    groups: Any,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> tuple[float, float, float]:
    """UAR and its speaker-level (cluster) bootstrap confidence interval.

    Each resample draws as many speakers as there are, with replacement, and
    pools all their predictions; the UAR of a resample averages the recall of
    the classes it contains. The interval is the percentile interval of
    :func:`scipy.stats.bootstrap` over the speakers.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_predictions,)
        Out-of-fold predictions (every repeat pooled).
    groups : array-like of shape (n_predictions,)
        Speaker of each prediction. With one group per prediction this is an
        utterance-level bootstrap (too narrow for correlated utterances).
    n_boot : int, default=1000
        Bootstrap resamples.
    confidence : float, default=0.95
        Coverage of the interval.
    random_state : int or None, default=0
        Seed of the resampling.

    Returns
    -------
    uar : float
        UAR of all predictions pooled, in [0, 1].
    low, high : float
        Interval bounds; both equal ``uar`` when there is one speaker.

    Examples
    --------
    >>> y = ["a", "b"] * 6
    >>> uar, lo, hi = cluster_bootstrap_uar(y, y, [1, 1, 2, 2, 3, 3] * 2)
    >>> (uar, lo, hi)
    (1.0, 1.0, 1.0)
    """
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be in (0, 1), got {confidence!r}")
    counts, _, _ = _per_group_confusions(y_true, [y_pred], groups)
    counts = counts[:, 0]
    uar = float(_uar_from_counts(counts.sum(axis=0)))
    return cluster_interval(
        uar,
        counts,
        _uar_from_counts,
        n_boot=n_boot,
        confidence=confidence,
        random_state=random_state,
    )


def corrected_resampled_ttest(
    scores_a: Any, scores_b: Any, *, n_train: Any, n_test: Any
) -> tuple[float, float]:
    """Nadeau & Bengio's corrected resampled t-test of two pipelines on the same folds.

    With per-fold differences ``d_j`` (``j = 1..J`` over all folds of all
    repeats), ``t = mean(d) / sqrt((1/J + n_test/n_train) * var(d))`` with
    ``var`` the sample variance (ddof=1) and ``J - 1`` degrees of freedom;
    the ``n_test/n_train`` term corrects for the overlap of training sets
    that makes the plain paired t-test too liberal.

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (n_folds,)
        Scores of the two pipelines on the same folds, in the same order.
    n_train, n_test : int or array-like of shape (n_folds,)
        Training and test sizes (their mean is used when they vary, as in
        leave-one-speaker-out); ``n_train`` positive, ``n_test`` non-negative
        (0 gives the plain paired t-test).

    Returns
    -------
    t : float
        The corrected t statistic (positive when ``scores_a`` is higher).
    p : float
        Two-sided p-value. When every difference is equal, ``t`` is 0 and
        ``p`` is 1 if they are zero; otherwise ``t`` is ±inf and ``p`` is 0.

    Examples
    --------
    >>> t, p = corrected_resampled_ttest(
    ...     [0.71, 0.69, 0.75, 0.70, 0.73], [0.66, 0.68, 0.70, 0.64, 0.69],
    ...     n_train=400, n_test=100,
    ... )
    >>> round(t, 2), round(p, 3)
    (3.25, 0.031)
    """
    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ParameterError(
            f"scores of both pipelines must be 1-D and of equal length, got {a.shape} and {b.shape}"
        )
    J = len(a)
    if J < 2:
        raise ParameterError(f"the corrected resampled t-test needs 2 or more folds, got {J}")
    sizes = {}
    for name, value, low in (("n_train", n_train, "positive"), ("n_test", n_test, "non-negative")):
        mean = float(np.mean(np.asarray(value, dtype=float)))
        if not np.isfinite(mean) or mean < 0 or (mean == 0 and name == "n_train"):
            raise ParameterError(
                f"{name}={value!r}: the corrected resampled t-test needs a {low} {name} "
                "(n_test=0 gives the plain paired t-test)"
            )
        sizes[name] = mean
    d = a - b
    ratio = sizes["n_test"] / sizes["n_train"]
    var = d.var(ddof=1)
    mean = d.mean()
    if var == 0:
        if mean == 0:
            return 0.0, 1.0
        return float(np.sign(mean) * np.inf), 0.0
    t = mean / np.sqrt((1 / J + ratio) * var)
    p = 2 * sps.t.sf(abs(t), df=J - 1)
    return float(t), float(p)


def paired_bootstrap_uar(
    y_true: Any,
    y_pred_a: Any,
    y_pred_b: Any,
    groups: Any,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> dict[str, float]:
    """Paired speaker bootstrap of the UAR difference of two pipelines.

    Both pipelines' predictions of the same clips are resampled together,
    speaker by speaker.

    Parameters
    ----------
    y_true, y_pred_a, y_pred_b, groups : array-like of shape (n_predictions,)
        Aligned: row ``i`` is the same clip (and repeat) for both pipelines.
    n_boot : int, default=1000
        Bootstrap resamples.
    confidence : float, default=0.95
        Coverage of the interval.
    random_state : int or None, default=0
        Seed of the resampling.

    Returns
    -------
    dict
        ``diff`` (UAR of a minus UAR of b), ``low``, ``high`` (percentile
        interval of the difference) and ``p`` (two-sided bootstrap p-value:
        ``2 (k + 1) / (n_boot + 1)`` with ``k`` resampled differences on the
        other side of 0, at most 1; never below ``2 / (n_boot + 1)``).

    Examples
    --------
    Pipeline a is right on 7 of 8 clips, pipeline b on 4 of them; four speakers
    of two clips each:

    >>> from sertools.study import paired_bootstrap_uar
    >>> y_true = ["angry", "sad"] * 4
    >>> y_pred_a = ["angry", "sad", "angry", "sad", "angry", "sad", "angry", "angry"]
    >>> y_pred_b = ["angry", "angry", "angry", "sad", "sad", "sad", "sad", "angry"]
    >>> groups = ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"]
    >>> res = paired_bootstrap_uar(y_true, y_pred_a, y_pred_b, groups, n_boot=200)
    >>> {k: round(v, 3) for k, v in res.items()}
    {'diff': 0.375, 'low': 0.125, 'high': 0.5, 'p': 0.03}
    """
    counts, _, n_g = _per_group_confusions(y_true, [y_pred_a, y_pred_b], groups)
    total = counts.sum(axis=0)
    diff = float(_uar_from_counts(total[0]) - _uar_from_counts(total[1]))
    if n_g < 2:
        return {"diff": diff, "low": diff, "high": diff, "p": float("nan")}
    rng = np.random.default_rng(random_state)
    idx = rng.integers(0, n_g, size=(n_boot, n_g))
    boot = counts[idx].sum(axis=1)  # (n_boot, 2, k, k)
    diffs = _uar_from_counts(boot[:, 0]) - _uar_from_counts(boot[:, 1])
    alpha = 1 - confidence
    low, high = np.nanquantile(diffs, [alpha / 2, 1 - alpha / 2])
    other_side = np.sum(diffs <= 0) if diff >= 0 else np.sum(diffs >= 0)
    # (count + 1) / (n + 1): a bootstrap p-value is never 0, at least 2 / (n_boot + 1)
    p = 2 * (other_side + 1) / (n_boot + 1)
    return {"diff": diff, "low": float(low), "high": float(high), "p": float(min(p, 1.0))}


def _parse_cell(cell: Any) -> tuple[str, str, str, str]:
    if isinstance(cell, str):
        parts = tuple(cell.split("/"))
    else:
        parts = tuple(cell)
    if len(parts) != 4:
        raise ParameterError(f"a cell is 'corpus/protocol/feature/classifier', got {cell!r}")
    return parts  # type: ignore[return-value]


def compare(
    result: Any,
    cell_a: Any,
    cell_b: Any,
    *,
    n_boot: int = 1000,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Compare two cells of a study evaluated on the same folds.

    Parameters
    ----------
    result : StudyResult
        A finished study (or :meth:`StudyResult.load` of its folder).
    cell_a, cell_b : str or tuple
        ``"corpus/protocol/feature/classifier"`` or a 4-tuple; both cells
        must share corpus and protocol (same clips, same folds).
    n_boot : int, default=1000
        Bootstrap resamples.
    random_state : int or None, default=0
        Seed of the resampling.

    Returns
    -------
    dict
        ``a``, ``b``, ``uar_a``, ``uar_b`` (mean over folds, percent),
        ``diff`` (percent points), ``t``, ``p_ttest`` (corrected resampled
        t-test on fold UARs), ``boot_diff``, ``boot_low``, ``boot_high``
        (pooled-UAR difference and its 95 % paired speaker-bootstrap
        interval, percent points) and ``p_boot``.

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> from sertools.study import compare
    >>> c = compare(result, "synthetic/paper/mel/svm-scaled",
    ...             ("synthetic", "paper", "mfcc", "svm-scaled"), n_boot=200)
    >>> c["a"], c["b"]
    ('synthetic/paper/mel/svm-scaled', 'synthetic/paper/mfcc/svm-scaled')
    >>> {k: round(float(v), 2) for k, v in c.items() if k not in ("a", "b")}
    {'uar_a': 62.5, 'uar_b': 29.17, 'diff': 33.33, 't': 1.15, 'p_ttest': 0.45, 'boot_diff': 33.33,
    'boot_low': 16.67, 'boot_high': 50.0, 'p_boot': 0.01}
    """
    a = _parse_cell(cell_a)
    b = _parse_cell(cell_b)
    if a[:2] != b[:2]:
        raise ParameterError(
            f"cells {'/'.join(a)} and {'/'.join(b)} are on different corpora or protocols; "
            "a paired comparison needs the same clips and folds"
        )
    s = result.scores
    sa = s[(s[list(result.KEYS)] == pd.Series(a, index=result.KEYS)).all(axis=1)]
    sb = s[(s[list(result.KEYS)] == pd.Series(b, index=result.KEYS)).all(axis=1)]
    for cell, sel in ((a, sa), (b, sb)):
        if sel.empty:
            raise ParameterError(
                f"no cell {'/'.join(cell)}; cells: "
                + ", ".join("/".join(k) for k in result.summary(ci=False).index)
            )
    sa = sa.sort_values(["repeat", "fold"])
    sb = sb.sort_values(["repeat", "fold"])
    if not np.array_equal(sa.n_test.to_numpy(), sb.n_test.to_numpy()):
        raise ParameterError(
            f"cells {'/'.join(a)} and {'/'.join(b)} were not run on the same folds"
        )
    t, p = corrected_resampled_ttest(
        sa.uar.to_numpy(),
        sb.uar.to_numpy(),
        n_train=sa.n_train.to_numpy(),
        n_test=sa.n_test.to_numpy(),
    )
    pa = result.cell_predictions(*a).sort_values(["repeat", "index"])
    pb = result.cell_predictions(*b).sort_values(["repeat", "index"])
    if not np.array_equal(pa["index"].to_numpy(), pb["index"].to_numpy()):
        raise ParameterError(f"cells {'/'.join(a)} and {'/'.join(b)} did not test the same clips")
    boot = paired_bootstrap_uar(
        pa.y_true.to_numpy(),
        pa.y_pred.to_numpy(),
        pb.y_pred.to_numpy(),
        pa.group.to_numpy(),
        n_boot=n_boot,
        random_state=random_state,
    )
    return {
        "a": "/".join(a),
        "b": "/".join(b),
        "uar_a": 100 * sa.uar.mean(),
        "uar_b": 100 * sb.uar.mean(),
        "diff": 100 * (sa.uar.mean() - sb.uar.mean()),
        "t": t,
        "p_ttest": p,
        "boot_diff": 100 * boot["diff"],
        "boot_low": 100 * boot["low"],
        "boot_high": 100 * boot["high"],
        "p_boot": boot["p"],
    }


def significance_table(
    result: Any, *, alpha: float = 0.05, n_boot: int = 1000, random_state: int | None = 0
) -> pd.DataFrame:
    """Every cell against the best cell of its corpus and protocol.

    Parameters
    ----------
    result : StudyResult
        A finished study (or :meth:`StudyResult.load` of its folder).
    alpha : float, default=0.05
        Level of the corrected resampled t-test, after Holm's correction over
        the comparisons of one corpus and protocol.
    n_boot : int, default=1000
        Bootstrap resamples.
    random_state : int or None, default=0
        Seed of the resampling.

    Returns
    -------
    pandas.DataFrame
        One row per non-best cell: ``corpus``, ``protocol``, ``best``,
        ``other`` (feature/classifier), the columns of :func:`compare`,
        ``p_holm`` and ``significant`` (``p_holm < alpha``).

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import run_study
    >>> corpus = make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)
    >>> result = run_study({"synthetic": corpus}, features=["mfcc", "mel"],
    ...                    classifiers=["svm-scaled"], n_splits=2)
    >>> from sertools.study import significance_table
    >>> sig = significance_table(result, n_boot=200)
    >>> sig[["best", "other", "diff", "p_ttest", "p_holm", "significant"]].round(3)
                 best            other    diff  p_ttest  p_holm  significant
    0  mel/svm-scaled  mfcc/svm-scaled  33.333    0.454   0.454        False
    """
    summary = result.summary(ci=False)
    rows = []
    for (corpus, protocol), block in summary.groupby(level=[0, 1], sort=False):
        best = block["uar_mean"].idxmax()
        family = []
        for key in block.index:
            if key == best or block.loc[key, "n_folds"] < 2:
                continue
            c = compare(result, best, key, n_boot=n_boot, random_state=random_state)
            family.append(
                {
                    "corpus": corpus,
                    "protocol": protocol,
                    "best": f"{best[2]}/{best[3]}",
                    "other": f"{key[2]}/{key[3]}",
                    **{k: v for k, v in c.items() if k not in ("a", "b")},
                }
            )
        # Holm's step-down adjustment within the family
        order = np.argsort([r["p_ttest"] for r in family])
        running = 0.0
        m = len(family)
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * family[i]["p_ttest"]))
            family[i]["p_holm"] = running
            family[i]["significant"] = bool(running < alpha)
        rows += family
    cols = [
        "corpus",
        "protocol",
        "best",
        "other",
        "uar_a",
        "uar_b",
        "diff",
        "t",
        "p_ttest",
        "boot_diff",
        "boot_low",
        "boot_high",
        "p_boot",
        "p_holm",
        "significant",
    ]
    return pd.DataFrame(rows, columns=cols)
