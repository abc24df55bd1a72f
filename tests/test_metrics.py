"""UAR / WAR: definitions, scorers, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.dummy import DummyClassifier
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import cross_validate

import sertools
from sertools import (
    SCORING,
    ParameterError,
    uar_scorer,
    unweighted_average_recall,
    war_scorer,
    weighted_average_recall,
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
