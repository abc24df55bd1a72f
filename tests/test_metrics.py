"""UAR / WAR and CCC / r / MAE: definitions, label checks, scorers, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import sklearn.metrics
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import cross_val_predict, cross_validate

import sertools
from sertools import (
    SCORING,
    ParameterError,
    uar_scorer,
    unweighted_average_recall,
    war_scorer,
    weighted_average_recall,
)
from sertools.metrics import (
    REGRESSION_SCORING,
    ccc,
    ccc_scorer,
    check_labels,
    mae,
    mae_scorer,
    pearson_r,
    pearson_scorer,
)

labels = st.lists(st.sampled_from(["angry", "happy", "neutral", "sad"]), min_size=1, max_size=60)


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_uar_equals_balanced_accuracy_and_war_equals_accuracy(data):
    y_true = data.draw(labels)
    y_pred = data.draw(
        st.lists(
            st.sampled_from(["angry", "happy", "neutral", "sad", "fear"]),
            min_size=len(y_true),
            max_size=len(y_true),
        )
    )
    assert unweighted_average_recall(y_true, y_pred) == pytest.approx(
        balanced_accuracy_score(y_true, y_pred)
    )
    assert weighted_average_recall(y_true, y_pred) == pytest.approx(accuracy_score(y_true, y_pred))


@settings(max_examples=100, deadline=None)
@given(y=st.lists(st.integers(0, 5), min_size=1, max_size=40))
def test_balanced_classes_make_uar_equal_war(y):
    # Repeat every label the same number of times: balanced y_true.
    y_true = np.repeat(np.unique(y), 3)
    y_pred = np.roll(y_true, 1)
    assert unweighted_average_recall(y_true, y_pred) == pytest.approx(
        weighted_average_recall(y_true, y_pred)
    )


def test_hand_computed_imbalanced_example():
    y_true = ["a"] * 8 + ["b"] * 2
    y_pred = ["a"] * 8 + ["a", "b"]
    # recalls: a 8/8, b 1/2 -> UAR 0.75; WAR = accuracy 9/10
    assert unweighted_average_recall(y_true, y_pred) == pytest.approx(0.75)
    assert weighted_average_recall(y_true, y_pred) == pytest.approx(0.9)


def test_classes_only_in_predictions_do_not_count():
    assert unweighted_average_recall(["a", "a"], ["a", "zzz"]) == pytest.approx(0.5)


@pytest.mark.parametrize("func", [unweighted_average_recall, weighted_average_recall])
def test_errors(func):
    with pytest.raises(ParameterError, match="different lengths: 3 != 2"):
        func([1, 2, 3], [1, 2])
    with pytest.raises(ParameterError, match=r"^y_true and y_pred are empty; at least one sample"):
        func([], [])
    with pytest.raises(ParameterError, match=r"^y_true and y_pred must be 1-D label arrays"):
        func([[1, 2]], [[1, 2]])
    # one 2-D side alone is an error too (it would broadcast against the other)
    with pytest.raises(ParameterError, match=r"got shapes \(3,\) and \(3, 1\)"):
        func([1, 2, 3], [[1], [2], [3]])
    with pytest.raises(ParameterError, match=r"got shapes \(3, 1\) and \(3,\)"):
        func([[1], [2], [3]], [1, 2, 3])
    assert issubclass(ParameterError, ValueError)


def test_scorers_in_cross_validate():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.array(["a"] * 45 + ["b"] * 15)
    res = cross_validate(DummyClassifier(strategy="most_frequent"), X, y, cv=3, scoring=SCORING)
    np.testing.assert_allclose(res["test_uar"], 0.5)  # one of two classes recalled
    np.testing.assert_allclose(res["test_war"], 0.75)  # accuracy
    res = cross_validate(DummyClassifier(), X, y, cv=3, scoring=uar_scorer)
    np.testing.assert_allclose(res["test_score"], 0.5)
    assert war_scorer._score_func is weighted_average_recall
    assert sertools.metrics.SCORING is SCORING


# --- label types (issue 20 item 7) -------------------------------------------------
# Each of these scored silently before: 0.0 for int vs str and str vs bytes, 0.5 for NaN.


@pytest.mark.parametrize("func", [unweighted_average_recall, weighted_average_recall])
@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([0, 0, 1, 1], ["0", "0", "1", "1"], r"y_true holds number labels \(e\.g\. 0 at index 0\)"),
        (["0", "0", "1", "1"], [0, 0, 1, 1], r"y_pred holds number labels \(e\.g\. 0 at index 0\)"),
        (["a", "b"], [b"a", b"b"], r"y_pred holds bytes labels \(e\.g\. b'a' at index 0\)"),
        (["a", 1], ["a", "a"], r"y_true holds string labels .* y_true holds number labels"),
        ([1.0, 2.0], ["1.0", "2.0"], r"y_pred holds string labels \(e\.g\. '1\.0'"),
    ],
)
def test_mixed_label_types_raise(func, y_true, y_pred, message):
    with pytest.raises(ParameterError, match=r"^mix of label input types: .*" + message):
        func(y_true, y_pred)


@pytest.mark.parametrize("func", [unweighted_average_recall, weighted_average_recall])
@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        (
            np.array([0.0, np.nan, 1.0, 1.0]),
            [0.0, 0.0, 1.0, 1.0],
            r"^y_true holds a missing label \(NaN\) at index 1",
        ),
        (
            [0.0, 0.0, 1.0, 1.0],
            np.array([0.0, 1.0, np.nan, 1.0]),
            r"^y_pred holds a missing label \(NaN\) at index 2",
        ),
        (
            [0.0, 0.0, 1.0, 1.0],
            [0.0, 1.0, np.nan, 1.0],
            r"^y_pred holds a missing label \(nan\) at index 2",
        ),
        (["a", None, "b"], ["a", "a", "b"], r"^y_true holds a missing label \(None\) at index 1"),
        (["a", "b", "b"], ["a", "b", np.nan], r"^y_pred holds a missing label \(nan\) at index 2"),
        (["a", "b", "b"], ["a", "b", pd.NA], r"^y_pred holds a missing label \(<NA>\) at index 2"),
    ],
)
def test_missing_labels_raise(func, y_true, y_pred, message):
    with pytest.raises(ParameterError, match=message):
        func(y_true, y_pred)


def test_label_types_that_agree_still_score():
    # ints, floats and bools mix as in scikit-learn; numpy and Python strings agree
    assert unweighted_average_recall([0, 0, 1, 1], [0.0, 1.0, 1.0, 1.0]) == 0.75
    assert unweighted_average_recall(np.array(["a", "b"]), ["a", "b"]) == 1.0
    assert unweighted_average_recall(np.array(["a", "b"], dtype=object), ["a", "a"]) == 0.5
    assert weighted_average_recall([b"a", b"b"], np.array([b"a", b"a"])) == 0.5
    assert unweighted_average_recall(pd.Series(["x", "y"]), pd.Series(["x", "y"])) == 1.0


def test_scorers_check_label_types():
    X = np.zeros((4, 1))
    clf = DummyClassifier(strategy="constant", constant="0").fit(X, ["0", "1", "0", "1"])
    with pytest.raises(ParameterError, match="mix of label input types"):
        uar_scorer(clf, X, [0, 1, 0, 1])
    with pytest.raises(ParameterError, match="mix of label input types"):
        war_scorer(clf, X, [0, 1, 0, 1])


def test_check_labels_returns_arrays_and_is_what_the_metrics_use():
    y_true, y_pred = check_labels(["a", "b"], ("a", "a"))
    assert isinstance(y_true, np.ndarray) and isinstance(y_pred, np.ndarray)
    assert y_true.tolist() == ["a", "b"] and y_pred.tolist() == ["a", "a"]
    with pytest.raises(ParameterError, match="different lengths: 3 != 2"):
        check_labels([1, 2, 3], [1, 2])
    with pytest.raises(ParameterError, match="must be 1-D label arrays"):
        check_labels([[1]], [[1]])


# --- dimensional targets: CCC, Pearson's r, MAE -----------------------------------


def _ccc_reference(t: list[float], p: list[float]) -> float:
    """Lin's CCC from its definition with plain Python sums (population moments)."""
    n = len(t)
    mt = math.fsum(t) / n
    mp = math.fsum(p) / n
    vt = math.fsum((a - mt) ** 2 for a in t) / n
    vp = math.fsum((b - mp) ** 2 for b in p) / n
    cov = math.fsum((a - mt) * (b - mp) for a, b in zip(t, p, strict=True)) / n
    return 2 * cov / (vt + vp + (mt - mp) ** 2)


def _ccc_numpy_cov(t: np.ndarray, p: np.ndarray) -> float:
    c = np.cov(t, p, bias=True)
    return 2 * c[0, 1] / (c[0, 0] + c[1, 1] + (t.mean() - p.mean()) ** 2)


def test_ccc_equals_independent_references_on_random_data():
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(200):
        n = int(rng.integers(2, 300))
        t = rng.normal(rng.uniform(-3, 3), rng.uniform(0.1, 5), n)
        p = rng.uniform(-1, 1) * t + rng.normal(rng.uniform(-2, 2), rng.uniform(0.01, 3), n)
        ours = ccc(t, p)
        for ref in (_ccc_reference(t.tolist(), p.tolist()), _ccc_numpy_cov(t, p)):
            worst = max(worst, abs(ours - ref))
        assert -1 <= ours <= 1
    # measured: max |diff| 3.3e-16 (plain sums) and 8.9e-16 (np.cov) over the 200 draws
    assert worst < 1e-12


def test_pearson_r_and_mae_equal_references_on_random_data():
    rng = np.random.default_rng(1)
    for _ in range(50):
        t = rng.normal(size=40)
        p = 0.5 * t + rng.normal(size=40)
        assert abs(pearson_r(t, p) - scipy.stats.pearsonr(t, p)[0]) < 1e-12
        assert abs(mae(t, p) - sklearn.metrics.mean_absolute_error(t, p)) < 1e-12


def test_ccc_penalises_shift_and_scale_where_r_does_not():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    assert ccc(t, t) == 1.0 and pearson_r(t, t) == 1.0
    assert ccc(t, -t) < 0 and pearson_r(t, -t) == pytest.approx(-1.0)
    shifted = ccc(t, t + 1)  # var 1.25 each: 2 * 1.25 / (2.5 + 1)
    assert shifted == pytest.approx(2.5 / 3.5, abs=1e-15)
    scaled = ccc(t, 2 * t)  # cov 2.5, vars 1.25 and 5, shift 2.5: 5 / (6.25 + 6.25)
    assert scaled == pytest.approx(5 / 12.5, abs=1e-15)
    assert pearson_r(t, t + 1) == pytest.approx(1.0) and pearson_r(t, 2 * t) == pytest.approx(1.0)


def test_ccc_multioutput():
    rng = np.random.default_rng(2)
    t = rng.normal(size=(50, 3))
    p = t + rng.normal(scale=[0.1, 1.0, 3.0], size=(50, 3))
    raw = ccc(t, p, multioutput="raw_values")
    assert raw.shape == (3,)
    for j in range(3):
        assert raw[j] == pytest.approx(
            _ccc_reference(t[:, j].tolist(), p[:, j].tolist()), abs=1e-12
        )
    assert raw[0] > raw[1] > raw[2]
    assert ccc(t, p) == pytest.approx(raw.mean(), abs=1e-15)
    assert ccc(t, p, multioutput=[1, 0, 0]) == pytest.approx(raw[0], abs=1e-15)
    assert ccc(t[:, 0], p[:, 0], multioutput="raw_values").shape == (1,)
    np.testing.assert_allclose(
        pearson_r(t, p, multioutput="raw_values")[0],
        scipy.stats.pearsonr(t[:, 0], p[:, 0])[0],
        atol=1e-12,
    )
    np.testing.assert_allclose(
        mae(t, p, multioutput="raw_values"), np.abs(t - p).mean(axis=0), atol=1e-15
    )
    with pytest.raises(ParameterError, match="multioutput must be 'raw_values'"):
        ccc(t, p, multioutput="variance_weighted")
    with pytest.raises(ParameterError, match="multioutput weights must be 3 finite"):
        ccc(t, p, multioutput=[1, 1])


def test_ccc_degenerate_columns():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    c = np.full(4, 2.5)
    # constant predictions or constant targets: covariance 0, so CCC 0 (from the formula)
    assert ccc(t, c) == 0.0
    assert ccc(c, t) == 0.0
    assert ccc(c, c + 1) == 0.0  # two different constants: denominator 1, covariance 0
    # the same constant on both sides: 0 / 0 by the formula; every prediction is exact -> 1
    assert ccc(c, c) == 1.0
    # Pearson's r is undefined for a constant side: 1 when exact, else 0, never NaN
    assert pearson_r(t, c) == 0.0 and pearson_r(c, c) == 1.0 and pearson_r(c, c + 1) == 0.0
    assert mae(c, c + 1) == 1.0


@pytest.mark.parametrize("func", [ccc, pearson_r, mae])
def test_regression_metric_errors(func):
    with pytest.raises(
        ParameterError, match=r"^y_true holds a non-finite value \(nan\) at index 1"
    ):
        func([1.0, np.nan, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(
        ParameterError, match=r"^y_pred holds a non-finite value \(inf\) at index 2"
    ):
        func([1.0, 2.0, 3.0], [1.0, 2.0, np.inf])
    with pytest.raises(ParameterError, match=r"non-finite value \(-inf\) at index \(1, 0\)"):
        func([[1.0], [2.0]], [[1.0], [-np.inf]])
    with pytest.raises(ParameterError, match=r"different lengths: 3 != 2"):
        func([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ParameterError, match=r"different numbers of outputs"):
        func(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ParameterError, match=r"hold 1 sample\(s\); at least 2"):
        func([1.0], [1.0])
    with pytest.raises(ParameterError, match="y_true must hold numbers"):
        func(["high", "low"], [1.0, 2.0])
    with pytest.raises(ParameterError, match=r"shape \(n_samples,\) or \(n_samples, n_outputs\)"):
        func(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))


def test_regression_scorers_in_cross_validate():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 4))
    y = X @ [1.0, -0.5, 0.0, 0.2] + rng.normal(scale=0.3, size=90)
    res = cross_validate(LinearRegression(), X, y, cv=3, scoring=REGRESSION_SCORING)
    assert (res["test_ccc"] > 0.8).all() and (res["test_r"] > 0.8).all()
    assert (res["test_neg_mae"] < 0).all()
    pred = cross_val_predict(LinearRegression(), X, y, cv=3)
    folds = [slice(0, 30), slice(30, 60), slice(60, 90)]
    np.testing.assert_allclose(res["test_ccc"], [ccc(y[f], pred[f]) for f in folds], atol=1e-12)
    np.testing.assert_allclose(
        res["test_neg_mae"], [-mae(y[f], pred[f]) for f in folds], atol=1e-12
    )
    # multi-output targets: the scorer averages the columns
    Y = np.column_stack([y, -y])
    model = LinearRegression().fit(X, Y)
    assert ccc_scorer(model, X, Y) == pytest.approx(ccc(Y, model.predict(X)), abs=1e-15)
    assert pearson_scorer(model, X, Y) == pytest.approx(pearson_r(Y, model.predict(X)), abs=1e-15)
    assert mae_scorer(model, X, Y) == pytest.approx(-mae(Y, model.predict(X)), abs=1e-15)


def test_macro_f1_equals_scikit_learns_on_random_labels():
    from sklearn.metrics import f1_score

    from sertools.metrics import macro_f1

    rng = np.random.default_rng(0)
    for _ in range(100):
        n = int(rng.integers(2, 60))
        y_true = rng.choice(["angry", "happy", "sad", "neutral"], n)
        y_pred = rng.choice(["angry", "happy", "sad", "fear"], n)  # a class never true
        ref = f1_score(y_true, y_pred, average="macro", zero_division=0)
        assert macro_f1(y_true, y_pred) == pytest.approx(ref, abs=1e-12)
    assert macro_f1([1, 1, 2], [1, 1, 2]) == 1.0


def test_macro_f1_checks_labels_like_uar():
    from sertools.metrics import macro_f1

    with pytest.raises(ParameterError, match="mix"):
        macro_f1([0, 1], ["0", "1"])
