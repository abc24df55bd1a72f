"""Tests for :mod:`sertools.models.dnn` (the paper's four-layer DNN)."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn

from sertools import ParameterError
from sertools.models import DNNClassifier, PaperMLP, _core, fit_folds, paper_widths

EMOTIONS = ("dis", "gio", "neu", "pau", "rab", "sor", "tri")


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """Four well separated classes in 40 dimensions, 40 samples each."""
    X, y = make_blobs(n_samples=160, n_features=40, centers=4, random_state=0)
    return X, y


def fast(**params: object) -> DNNClassifier:
    """A quickly trained instance for the API tests."""
    params.setdefault("max_epochs", 30)
    params.setdefault("random_state", 0)
    return DNNClassifier(**params)


@parametrize_with_checks([DNNClassifier(max_epochs=10)])
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


# --- architecture -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_features", "n_classes", "expected"),
    [(39, 7, (19, 9, 7)), (192, 7, (96, 48, 24)), (80, 7, (40, 20, 10)), (2, 3, (3, 3, 3)),
     (1, 2, (2, 2, 2)), (1024, 4, (512, 256, 128))],
)  # fmt: skip
def test_paper_widths(n_features: int, n_classes: int, expected: tuple[int, ...]) -> None:
    assert paper_widths(n_features, n_classes) == expected


def test_module_layout_follows_the_paper() -> None:
    module = PaperMLP(192, 7, dropout=0.3)
    kinds = [type(layer) for layer in module.hidden]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout] * 3
    linears = [layer for layer in module.modules() if isinstance(layer, nn.Linear)]
    shapes = [(layer.in_features, layer.out_features) for layer in linears]
    assert shapes == [(192, 96), (96, 48), (48, 24), (24, 7)]
    assert all(layer.p == 0.3 for layer in module.hidden if isinstance(layer, nn.Dropout))
    assert module(torch.zeros(5, 192)).shape == (5, 7)


def test_fit_infers_widths_from_data() -> None:
    X, y = make_blobs(n_samples=70, n_features=39, centers=7, random_state=0)
    clf = fast(max_epochs=2, dropout=0.1).fit(X, y)
    assert isinstance(clf.module_, PaperMLP)
    assert clf.module_.widths == (19, 9, 7)
    assert clf.module_.output.out_features == 7
    assert clf.n_features_in_ == 39
    assert all(p.dtype == torch.float64 for p in clf.module_.parameters())
    assert not clf.module_.training  # eval mode: batch statistics are frozen
    # trained in float64 (docs/dnn.md: the same result on every CPU), inputs are float32


# --- behaviour ----------------------------------------------------------------------


def test_learns_separable_data(blobs) -> None:
    X, y = blobs
    assert fast(max_epochs=30).fit(X, y).score(X, y) > 0.95


def test_reproducible_and_leaves_torch_state_alone(blobs) -> None:
    X, y = blobs
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = fast().fit(X, y).predict_proba(X)
    second = fast().fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads
    other = fast(random_state=1).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("n_threads", [None, 2])
def test_thread_setting_is_restored(blobs, n_threads: int | None) -> None:
    X, y = blobs
    before = torch.get_num_threads()
    torch.set_num_threads(3)  # a count that neither n_threads nor the default gives
    try:
        clf = fast(max_epochs=2, n_threads=n_threads).fit(X, y)
        clf.predict(X)
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    "labels", [np.array(EMOTIONS[:4]), np.array([3, -1, 10, 7]), np.array([0.0, 1.0, 2.0, 3.0])]
)
def test_string_and_integer_labels(blobs, labels: np.ndarray) -> None:
    X, y = blobs
    y_named = labels[y]
    clf = fast().fit(X, y_named)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X)
    assert pred.dtype == clf.classes_.dtype
    assert set(pred) <= set(labels)
    assert clf.score(X, y_named) > 0.8


def test_predict_proba(blobs) -> None:
    X, y = blobs
    clf = fast().fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 4)
    assert proba.dtype == np.float64
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_standardize_stores_training_scaler(blobs) -> None:
    X, y = blobs
    X = X * 100.0 + 5000.0
    scaled = fast().fit(X, y)
    np.testing.assert_allclose(scaled.scaler_.mean_, X.mean(axis=0), rtol=1e-5)
    assert fast(standardize=False).fit(X, y).scaler_ is None


def test_scaler_is_applied_in_fit_and_predict(blobs) -> None:
    """Checked by its effect: a scaler fitted but not applied fails here."""
    X, y = blobs
    X = X.astype(np.float32)
    # Scaling by a power of two is exact in binary floating point, and so are the
    # scaler's mean, variance and square root of the scaled data: the standardised
    # inputs, hence training and predictions, are bit for bit those of X.
    clf, big = fast().fit(X, y), fast().fit(X * 256, y)
    np.testing.assert_array_equal(big.predict_proba(X * 256), clf.predict_proba(X))
    # the network sees standardised features at prediction time too
    Z = torch.as_tensor(clf.scaler_.transform(X), dtype=torch.float64)
    with torch.no_grad():
        logits = clf.module_.eval()(Z).double()
    # the same (float64) network on the same inputs; only the softmax may differ in rounding
    np.testing.assert_allclose(clf.predict_proba(X), torch.softmax(logits, 1), rtol=0, atol=1e-6)
    # without standardisation the raw scale does change the training
    raw, raw_big = fast(standardize=False).fit(X, y), fast(standardize=False).fit(X * 256, y)
    assert not np.array_equal(raw.predict_proba(X), raw_big.predict_proba(X * 256))


def test_float32_and_float64_inputs_agree(blobs) -> None:
    X, y = blobs
    clf = fast().fit(X, y)
    np.testing.assert_allclose(
        clf.predict_proba(X.astype(np.float32)), clf.predict_proba(X), rtol=1e-5, atol=1e-6
    )


def test_clone_and_pickle(blobs) -> None:
    X, y = blobs
    clf = fast(lr=3e-3).fit(X, y)
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params()
    assert not hasattr(fresh, "module_")
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_grid_search(blobs) -> None:
    X, y = blobs
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    grid = {"lr": [1e-6, 1e-2]}  # 10 epochs at 1e-6 barely move the initial weights
    search = GridSearchCV(fast(max_epochs=10), grid, cv=cv, scoring="balanced_accuracy")
    search.fit(X, y)
    # every candidate scores exactly as the classifier cross-validated with its lr
    for i, lr in enumerate(grid["lr"]):
        ref = cross_validate(fast(max_epochs=10, lr=lr), X, y, cv=cv, scoring="balanced_accuracy")
        split = [search.cv_results_[f"split{k}_test_score"][i] for k in range(2)]
        np.testing.assert_array_equal(split, ref["test_score"])
    assert search.cv_results_["mean_test_score"][0] < 0.5  # 4 classes: chance is 0.25
    assert search.cv_results_["mean_test_score"][1] > 0.95
    assert search.best_params_ == {"lr": 1e-2}
    refit = fast(max_epochs=10, lr=1e-2).fit(X, y)
    np.testing.assert_array_equal(search.predict_proba(X), refit.predict_proba(X))


def test_cross_validate_in_parallel(blobs) -> None:
    X, y = blobs
    scores = cross_validate(fast(), X, y, cv=2, n_jobs=2, scoring="balanced_accuracy")
    assert scores["test_score"].shape == (2,)
    assert np.all(scores["test_score"] > 0.8)


def test_pipeline_with_dataframe_keeps_feature_names(blobs) -> None:
    pd = pytest.importorskip("pandas")
    X, y = blobs
    frame = pd.DataFrame(X, columns=[f"mfcc{i}" for i in range(X.shape[1])])
    clf = fast().fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)


# --- early stopping -----------------------------------------------------------------


def test_early_stopping_validates_on_a_split_of_the_training_data(blobs) -> None:
    X, y = blobs  # 160 samples, 40 per class
    clf = fast(early_stopping=True, validation_fraction=0.25, n_iter_no_change=3, max_epochs=200)
    clf.fit(X, y)
    history = clf.history_
    for epoch in history:
        assert sum(epoch["batch_sizes"]) == 120
        assert epoch["n_valid"] == 40
    # the validation split, drawn as fit draws it: stratified, 10 of each class's 40
    rng = np.random.RandomState(0)
    _, split_seed = rng.randint(np.iinfo(np.int32).max, size=2)
    X_tr, X_va, _, y_va = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=int(split_seed)
    )
    assert np.bincount(y_va).tolist() == [10, 10, 10, 10]
    np.testing.assert_allclose(clf.scaler_.mean_, X_tr.mean(axis=0), rtol=1e-5)
    # stopped early and restored the weights of the best validation epoch
    assert clf.n_iter_ < 200
    valid_losses = [e["valid_loss"] for e in history]
    best = int(np.argmin(valid_losses))
    assert best < clf.n_iter_ - 1 and history[best]["best"]
    with torch.no_grad():
        Z = torch.as_tensor(clf.scaler_.transform(X_va), dtype=torch.float64)
        logits = clf.module_.eval()(Z)
        loss = nn.functional.cross_entropy(logits, torch.as_tensor(y_va)).item()
    assert loss == pytest.approx(valid_losses[best], rel=1e-5)


def test_without_early_stopping_all_training_data_is_used(blobs) -> None:
    X, y = blobs
    clf = fast(max_epochs=3).fit(X, y)
    assert clf.n_iter_ == 3
    assert all(sum(e["batch_sizes"]) == 160 for e in clf.history_)
    assert "valid_loss" not in clf.history_[-1]


def test_batch_of_one_sample_is_dropped() -> None:
    X, y = make_blobs(n_samples=33, centers=3, random_state=0)
    clf = fast(max_epochs=2, batch_size=16).fit(X, y)  # 33 = 16 + 16 + 1
    assert clf.history_[-1]["batch_sizes"] == [16, 16]


# --- output -------------------------------------------------------------------------


def test_silent_by_default(blobs, capsys) -> None:
    X, y = blobs
    fast(max_epochs=3).fit(X, y).predict(X)
    fast(max_epochs=30, early_stopping=True, n_iter_no_change=2).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    fast(max_epochs=2, verbose=1).fit(X, y)
    assert "train_loss" in capsys.readouterr().out


# --- errors -------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf, -1e300])
def test_non_finite_features_rejected(blobs, bad: float) -> None:
    X, y = blobs
    X = X.copy()
    X[3, 2] = bad  # -1e300 does not fit float32
    message = "^" + re.escape(f"X[3, 2] = {bad}: Input X contains ") + "(NaN|infinity)"
    with pytest.raises(ParameterError, match=message):
        fast().fit(X, y)
    clf = fast(max_epochs=1).fit(blobs[0], y)
    with pytest.raises(ParameterError, match=message):
        clf.predict(X)


def test_continuous_or_missing_labels_rejected(blobs) -> None:
    X, y = blobs
    with pytest.raises(ParameterError, match="Unknown label type"):
        fast().fit(X, y + 0.5)
    with pytest.raises(ParameterError, match="Input y contains NaN"):
        fast().fit(X, np.where(np.arange(len(y)) == 5, np.nan, y))


def test_single_class_rejected(blobs) -> None:
    X, _ = blobs
    with pytest.raises(ParameterError, match=r"at least 2 classes.*only 1 class: 'neu'"):
        fast().fit(X, np.full(len(X), "neu"))


def test_predict_before_fit(blobs) -> None:
    with pytest.raises(NotFittedError, match="not fitted yet"):
        fast().predict(blobs[0])
    with pytest.raises(NotFittedError):
        fast().predict_proba(blobs[0])


def test_wrong_number_of_features(blobs) -> None:
    X, y = blobs
    clf = fast(max_epochs=1).fit(X, y)
    with pytest.raises(ParameterError, match="expecting 40 features"):
        clf.predict(X[:, :5])


@pytest.mark.parametrize(
    "params",
    [
        {"dropout": 1.0},
        {"lr": 0.0},
        {"batch_size": 1},
        {"validation_fraction": 1.5},
        {"max_epochs": 0},
    ],
)  # fmt: skip  (device: sertools.utils.resolve_device, tests/test_utils.py)
def test_invalid_parameters(blobs, params: dict) -> None:
    with pytest.raises(ValueError, match="parameter of DNNClassifier must be"):
        DNNClassifier(**params).fit(*blobs)


def test_failed_refit_keeps_the_previous_fit(blobs) -> None:
    X, y = blobs
    clf = fast(max_epochs=3).fit(X, y)
    before = clf.predict_proba(X)
    classes, scaler, net = clf.classes_, clf.scaler_, clf.module_
    with pytest.raises(ParameterError, match="could not hold out"):
        clf.set_params(early_stopping=True, validation_fraction=0.1).fit(
            X[:4], np.array(["x", "y", "x", "y"])
        )
    assert clf.classes_ is classes and clf.scaler_ is scaler and clf.module_ is net
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_early_stopping_split_too_small() -> None:
    X, y = make_blobs(n_samples=12, centers=3, random_state=0)
    clf = fast(early_stopping=True, validation_fraction=0.1)
    with pytest.raises(ParameterError, match="early_stopping=True could not hold out"):
        clf.fit(X, y)
    # a failed first fit leaves the estimator unfitted, not half fitted
    assert not hasattr(clf, "n_features_in_")
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_failed_refit_with_other_width_keeps_input_checks(blobs) -> None:
    X, y = blobs
    clf = fast(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="could not hold out"):
        clf.set_params(early_stopping=True).fit(X[:4, :7], np.array(["x", "y", "x", "y"]))
    assert clf.n_features_in_ == 40
    assert clf.predict(X).shape == (len(X),)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda(blobs) -> None:
    with pytest.raises(ParameterError, match="CUDA is not available"):
        fast(device="cuda").fit(*blobs)


# --- real data ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.realdata
def test_real_emovo_mfcc_pipeline(emovo_root) -> None:
    """The paper's MFCC + DNN on real EMOVO, 5-fold stratified CV: UAR >= 68 %.

    ``MFCCEmbedder`` is stateless, so cross-validating the pipeline equals
    cross-validating the DNN on MFCCs extracted once; extracting once keeps the test
    fast (the pipeline would re-extract all 588 clips in every fold).  The first fold
    is also run through the real pipeline and must give the very same predictions.
    """
    from sertools.features import MFCCEmbedder

    paths = sorted(str(p) for p in emovo_root.glob("*/*.wav"))
    assert len(paths) == 588
    paths_arr = np.array(paths)
    y = np.array([p.rsplit("/", 1)[-1].split("-")[0] for p in paths])
    assert set(y) == set(EMOTIONS)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)

    features = MFCCEmbedder(n_jobs=2).fit_transform(paths)
    assert features.shape == (588, 39)
    scores = cross_validate(
        DNNClassifier(random_state=0), features, y, cv=cv, scoring="balanced_accuracy"
    )
    # Measured 0.737 (folds 0.69-0.78) with the defaults; 0.693 without standardisation,
    # chance is 1/7. The bound leaves ~5 points for float differences between machines
    # (the MFCCs differ in the last bits, which changes the training slightly).
    assert scores["test_score"].mean() >= 0.68

    train, test = next(cv.split(features, y))
    pipe = make_pipeline(MFCCEmbedder(n_jobs=2), DNNClassifier(random_state=0))
    pipe.fit(list(paths_arr[train]), y[train])
    pred = pipe.predict(list(paths_arr[test]))
    assert balanced_accuracy_score(y[test], pred) == scores["test_score"][0]


# --- interrupts ---------------------------------------------------------------------


def _interrupt_at_batch(monkeypatch, n_batches: int) -> list[int]:
    """Make the real training step raise KeyboardInterrupt (as Ctrl-C does) at its n-th forward."""
    calls: list[int] = []
    forward = _core._Stack.forward

    def interrupted(self, x, *args, **kwargs):
        calls.append(x.shape[1])
        if len(calls) == n_batches:
            raise KeyboardInterrupt
        return forward(self, x, *args, **kwargs)

    monkeypatch.setattr(_core._Stack, "forward", interrupted)
    return calls


def test_interrupt_during_training_propagates(blobs, monkeypatch) -> None:
    """Ctrl-C stops fit; the classifier must not return a half-trained net."""
    X, y = blobs  # 160 samples, batches of 32: 5 forwards an epoch
    calls = _interrupt_at_batch(monkeypatch, 7)  # in the second epoch
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    clf = fast(max_epochs=5)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert len(calls) == 7  # training stopped at the interrupt, no further epoch
    assert not hasattr(clf, "module_") and not hasattr(clf, "classes_")
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads


def test_interrupted_refit_keeps_the_previous_fit(blobs, monkeypatch) -> None:
    X, y = blobs
    clf = fast(max_epochs=3).fit(X, y)
    before = clf.predict_proba(X)
    classes, scaler, net, n_iter = clf.classes_, clf.scaler_, clf.module_, clf.n_iter_
    _interrupt_at_batch(monkeypatch, 7)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X[:100, :10] * 2.0, y[:100])  # other data, other width
    monkeypatch.undo()
    assert clf.classes_ is classes and clf.scaler_ is scaler and clf.module_ is net
    assert clf.n_iter_ == n_iter == 3
    assert clf.n_features_in_ == 40
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_interrupt_with_early_stopping_propagates(blobs, monkeypatch) -> None:
    X, y = blobs
    _interrupt_at_batch(monkeypatch, 12)  # a validation forward is among them
    with pytest.raises(KeyboardInterrupt):
        fast(max_epochs=50, early_stopping=True, n_iter_no_change=50).fit(X, y)


def test_interrupt_stops_cross_validation(blobs, monkeypatch) -> None:
    """A study must not go on scoring after Ctrl-C (error_score does not catch it)."""
    X, y = blobs
    calls = _interrupt_at_batch(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        cross_validate(fast(max_epochs=5), X, y, cv=2, error_score=np.nan)
    assert len(calls) == 3


# --- folds trained together ---------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"early_stopping": True, "n_iter_no_change": 3}])
def test_fit_folds_equals_each_fold_trained_alone(params: dict) -> None:
    """Folds of unequal size (the uneven steps run as sub-stacks) and two seeds."""
    X, y = make_blobs(n_samples=163, n_features=12, centers=4, cluster_std=4.0, random_state=0)
    folds = list(StratifiedKFold(4, shuffle=True, random_state=0).split(X, y))
    assert len({len(tr) for tr, _ in folds}) > 1  # 122 and 123 training rows
    seeds = [0, 7]
    template = DNNClassifier(max_epochs=25, **params)
    fitted = fit_folds(template, X, y, folds, random_states=seeds)
    assert len(fitted) == len(folds) * len(seeds)
    agree = []
    for i, (train, test) in enumerate(folds):
        for j, seed in enumerate(seeds):
            stacked = fitted[i * len(seeds) + j]
            assert stacked.random_state == seed
            alone = clone(template).set_params(random_state=seed).fit(X[train], y[train])
            assert alone.n_iter_ == stacked.n_iter_
            np.testing.assert_allclose(
                stacked.predict_proba(X[test]), alone.predict_proba(X[test]), rtol=0, atol=1e-4
            )
            agree.append(np.mean(stacked.predict(X[test]) == alone.predict(X[test])))
    assert np.mean(agree) > 0.99
    # the template itself is never fitted
    assert not hasattr(template, "module_")


def test_fit_folds_uses_the_estimators_seed_and_groups_other_shapes() -> None:
    X, y = make_blobs(n_samples=90, n_features=6, centers=3, random_state=0)
    # the second "fold" lacks class 2: a network with 2 outputs, trained in its own stack
    folds = [np.arange(90), np.flatnonzero(y != 2)]
    fitted = fit_folds(DNNClassifier(max_epochs=5, random_state=3), X, y, folds)
    assert [len(f.classes_) for f in fitted] == [3, 2]
    assert all(f.random_state == 3 for f in fitted)
    alone = DNNClassifier(max_epochs=5, random_state=3).fit(X[folds[1]], y[folds[1]])
    np.testing.assert_allclose(fitted[1].predict_proba(X), alone.predict_proba(X), atol=1e-5)


def test_fit_folds_rejects_other_estimators() -> None:
    from sklearn.svm import SVC

    with pytest.raises(ParameterError, match="DNNClassifier or DNNRegressor, got SVC"):
        fit_folds(SVC(), np.zeros((4, 2)), [0, 1, 0, 1], [np.arange(4)])


def test_fit_folds_interrupt_propagates(blobs, monkeypatch) -> None:
    X, y = blobs
    calls = _interrupt_at_batch(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        fit_folds(fast(max_epochs=5), X, y, [np.arange(100), np.arange(50, 160)])
    assert len(calls) == 4


def test_pre_batchnorm_biases_stay_at_their_exact_gradient() -> None:
    """Their exact gradient is zero; float noise must not move them (docs/dnn.md)."""
    X, y = make_blobs(n_samples=100, n_features=16, centers=3, random_state=0)
    clf = fast(max_epochs=10).fit(X, y)  # random_state=0: the torch seed fit draws
    torch_seed, _ = np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=2)
    init = _core.make_module(_core.Settings(16, 3, 0.1, 1e-2, 0.0, 32, 10, "ce"), int(torch_seed))
    for trained, start in zip(clf.module_.hidden, init.hidden, strict=True):
        if isinstance(trained, nn.Linear):
            assert torch.equal(trained.bias, start.bias.double())
            assert not torch.equal(trained.weight, start.weight.double())
    assert not torch.equal(clf.module_.output.bias, init.output.bias.double())


_ISA_SCRIPT = """
import sys, numpy as np, torch
from sklearn.datasets import make_blobs
from sertools.models import DNNClassifier
X, y = make_blobs(n_samples=300, n_features=40, centers=5, cluster_std=6.0, random_state=0)
clf = DNNClassifier(max_epochs=40, random_state=0).fit(X[:200], y[:200])
np.save(sys.argv[1], clf.predict_proba(X[200:]))
print(torch.backends.cpu.get_cpu_capability())
"""


@pytest.mark.slow
def test_same_model_with_avx2_kernels(tmp_path) -> None:
    """The trained network does not depend on the CPU's vector instructions.

    Runs the same fit in two fresh processes: one with the kernels this CPU picks
    (AVX-512 where it has it), one limited to AVX2 (ATen, oneDNN and MKL). On a
    CPU without AVX-512 both runs take the same kernels and the test only
    checks reproducibility.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    runs = {}
    limits = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2"}
    for name, extra in (("native", {}), ("avx2", limits)):
        env = {**os.environ, "PYTHONPATH": root, **extra}
        out = tmp_path / f"{name}.npy"
        done = subprocess.run(
            [sys.executable, "-c", _ISA_SCRIPT, str(out)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        runs[name] = (np.load(out), done.stdout.strip())
    assert runs["avx2"][1] in {"AVX2", "DEFAULT"}
    native, avx2 = runs["native"][0], runs["avx2"][0]
    np.testing.assert_array_equal(native.argmax(1), avx2.argmax(1))
    np.testing.assert_allclose(native, avx2, rtol=0, atol=1e-4)
