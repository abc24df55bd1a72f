"""The paper's four-layer feed-forward DNN as a scikit-learn classifier.

Section III-C of the paper describes the DNN as: an input layer that takes the
time-averaged feature vector (width ``d``), then two hidden layers that halve the
width in turn, so that "the third layer" ends at ``d / 8``; each is accompanied by
batch normalisation, a ReLU and dropout.  We read that as four linear layers::

    Linear(d, d/2)   -> BatchNorm1d -> ReLU -> Dropout   # input layer
    Linear(d/2, d/4) -> BatchNorm1d -> ReLU -> Dropout   # hidden layer 1
    Linear(d/4, d/8) -> BatchNorm1d -> ReLU -> Dropout   # hidden layer 2 ("third layer")
    Linear(d/8, n_classes)                               # output logits

Widths use integer division and never drop below ``n_classes`` (nor 1), so a
39-dimensional MFCC vector with 7 emotions gives ``39 -> 19 -> 9 -> 7 -> 7``.
Training details the paper leaves open (optimiser settings, epochs, input scaling)
were calibrated on EMOVO; see ``docs/dnn.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from .._exceptions import ParameterError
from ..utils._sklearn_compat import Interval, StrOptions
from ..utils._sklearn_compat import fit_context as _fit_context
from ..utils._torch import resolve_device, torch_threads
from . import _core

__all__ = ["DNNClassifier", "DNNRegressor", "PaperMLP", "fit_folds", "paper_widths"]

_N_BLOCKS = 3  # linear blocks before the output layer: d/2, d/4, d/8
_INPUT_ATTRS = ("n_features_in_", "feature_names_in_")  # set by validate_data


def paper_widths(n_features: int, n_classes: int) -> tuple[int, ...]:
    """Output widths of the three blocks of the paper's DNN.

    Parameters
    ----------
    n_features : int
        Width ``d`` of the input feature vector.
    n_classes : int
        Number of classes (width of the output layer).

    Returns
    -------
    widths : tuple of int, length 3
        ``max(d // 2**i, n_classes, 1)`` for ``i = 1, 2, 3``, e.g. ``(96, 48, 24)``
        for ``d=192`` and ``(19, 9, 7)`` for ``d=39`` with 7 classes.

    Examples
    --------
    >>> from sertools.models import paper_widths
    >>> paper_widths(192, 4)
    (96, 48, 24)
    >>> paper_widths(39, 7)  # never narrower than the output layer
    (19, 9, 7)
    """
    return tuple(max(n_features // 2**i, n_classes, 1) for i in range(1, _N_BLOCKS + 1))


class PaperMLP(nn.Module):
    """Feed-forward network ``d -> d/2 -> d/4 -> d/8 -> n_classes``.

    Each of the first three linear layers is followed by ``BatchNorm1d``, ``ReLU``
    and ``Dropout``; the last linear layer returns unnormalised class logits.

    Parameters
    ----------
    n_features : int
        Width ``d`` of the input.
    n_classes : int
        Number of output logits.
    dropout : float, default=0.1
        Dropout probability after every hidden block.

    Attributes
    ----------
    widths : tuple of int
        Output widths of the three hidden blocks (see :func:`paper_widths`).

    Examples
    --------
    >>> import torch
    >>> from sertools.models import PaperMLP
    >>> model = PaperMLP(n_features=39, n_classes=7)
    >>> model.widths
    (19, 9, 7)
    >>> [type(layer).__name__ for layer in model.hidden][:4]  # one block of three
    ['Linear', 'BatchNorm1d', 'ReLU', 'Dropout']
    >>> model.output
    Linear(in_features=7, out_features=7, bias=True)
    """

    def __init__(self, n_features: int, n_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.widths = paper_widths(n_features, n_classes)
        layers: list[nn.Module] = []
        width_in = n_features
        for width in self.widths:
            layers += [
                nn.Linear(width_in, width),
                nn.BatchNorm1d(width),
                nn.ReLU(),
                nn.Dropout(dropout),
            ]
            width_in = width
        self.hidden = nn.Sequential(*layers)
        self.output = nn.Linear(width_in, n_classes)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Class logits.

        Parameters
        ----------
        X : torch.Tensor of shape (batch, n_features), float32
            A mini-batch of feature vectors (at least 2 rows in training mode,
            for batch normalisation).

        Returns
        -------
        logits : torch.Tensor of shape (batch, n_classes)
            Unnormalised class scores (apply a softmax for probabilities).

        Examples
        --------
        >>> import torch
        >>> from sertools.models import PaperMLP
        >>> model = PaperMLP(n_features=39, n_classes=7).eval()
        >>> with torch.no_grad():
        ...     logits = model(torch.zeros(4, 39))
        >>> logits.shape, logits.dtype
        (torch.Size([4, 7]), torch.float32)
        """
        return self.output(self.hidden(X))


def _resolve_device(device: str) -> str:
    """The device policy of :func:`sertools.utils.resolve_device`, as ``"cpu"``/``"cuda:N"``."""
    dev = resolve_device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return str(dev)


def _first_non_finite(X: Any) -> str:
    """``"X[i, j] = nan: "`` for the first non-finite entry of a 2-D numeric ``X``, else ``""``."""
    if np.iscomplexobj(X):  # refused as complex by the validation that follows
        return ""
    try:
        with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf
            arr = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError):
        return ""
    bad = np.argwhere(~np.isfinite(arr)) if arr.ndim == 2 else ()
    if len(bad) == 0:
        return ""
    i, j = bad[0]
    return f"X[{i}, {j}] = {np.asarray(X, dtype=np.float64)[i, j]}: "


def _net_input(X: np.ndarray, scaler: StandardScaler | None) -> np.ndarray:
    """Scale ``X`` (when a scaler is given) and make a writable C-ordered float32 array."""
    if scaler is not None:
        X = scaler.transform(X)
    return np.require(X, dtype=np.float32, requirements=["C", "W"])


class _PaperDNN(BaseEstimator):
    """Parameters, validation and training shared by the classifier and the regressor.

    ``fit`` is ``_prepare`` (validate, split, scale: one :class:`~._core.Job`),
    :func:`~._core.train_stack` on that one job, then ``_finish`` (set the fitted
    attributes); :func:`fit_folds` runs the same three steps for many networks
    with one ``train_stack``.
    """

    _parameter_constraints: dict = {
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "standardize": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        dropout: float = 0.1,
        max_epochs: int = 100,
        lr: float = 1e-2,
        batch_size: int = 32,
        weight_decay: float = 0.0,
        standardize: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        device: str = "cpu",
        n_threads: int | None = 1,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.standardize = standardize
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # CUDA kernels (batch-norm backward) may use non-deterministic atomics.
        tags.non_deterministic = str(self.device).startswith("cuda") or (
            self.device == "auto" and torch.cuda.is_available()
        )
        return tags

    #: :func:`fit_folds` trains this estimator's folds together (the study checks this)
    _fits_folds_together = True

    # -- the three steps of fit
    _loss_name = "ce"

    def _targets(self, y: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """Training targets for the network and the fitted attributes they give."""
        raise NotImplementedError

    #: whether the early-stopping split keeps the class proportions (classes only)
    _stratify = False

    def _split(self, X: np.ndarray, t: np.ndarray, seed: int) -> tuple:
        """Hold out ``validation_fraction`` of ``(X, t)`` for early stopping."""
        try:
            return train_test_split(
                X,
                t,
                test_size=self.validation_fraction,
                stratify=t if self._stratify else None,
                random_state=seed,
            )
        except ValueError as exc:
            stratified = "a stratified " if self._stratify else ""
            raise ParameterError(
                f"early_stopping=True could not hold out {stratified}"
                f"validation_fraction={self.validation_fraction} of the {len(t)} "
                f"training samples: {exc}"
            ) from exc

    def _prepare(self, X: Any, y: Any) -> tuple[_core.Job, _core.Settings, dict[str, Any]]:
        """Validate and scale: one job, its settings, and the fitted attributes so far."""
        X, y = self._validate(X, y, fit=True)
        t, attrs = self._targets(y)
        device = _resolve_device(self.device)
        rng = check_random_state(self.random_state)
        torch_seed, split_seed = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2))
        X_train, t_train, X_valid, t_valid = X, t, None, None
        if self.early_stopping:
            X_train, X_valid, t_train, t_valid = self._split(X, t, split_seed)
        scaler = StandardScaler().fit(X_train) if self.standardize else None
        job = _core.Job(
            X=_net_input(X_train, scaler),
            y=t_train,
            seed=torch_seed,
            X_valid=None if X_valid is None else _net_input(X_valid, scaler),
            y_valid=t_valid,
        )
        settings = _core.Settings(
            n_features=X.shape[1],
            n_outputs=attrs.pop("_n_outputs"),
            dropout=float(self.dropout),
            lr=float(self.lr),
            weight_decay=float(self.weight_decay),
            batch_size=int(self.batch_size),
            max_epochs=int(self.max_epochs),
            loss=self._loss_name,
            patience=int(self.n_iter_no_change) if self.early_stopping else None,
            device=device,
            verbose=int(self.verbose),
        )
        attrs["scaler_"] = scaler
        return job, settings, attrs

    def _finish(self, attrs: dict[str, Any], trained: _core.Trained) -> None:
        for name, value in attrs.items():
            setattr(self, name, value)
        self.module_ = trained.module
        self.history_ = trained.history
        self.n_iter_ = trained.n_iter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> Any:
        # validate_data sets n_features_in_ (and feature_names_in_) before training:
        # restore them when the fit fails or is interrupted, so that a failed first
        # fit leaves the estimator unfitted and a failed refit the previous fit whole
        kept = {k: v for k, v in vars(self).items() if k in _INPUT_ATTRS}
        try:
            job, settings, attrs = self._prepare(X, y)
            with torch_threads(self.n_threads):
                (trained,) = _core.train_stack([job], settings)
        except BaseException:
            for name in _INPUT_ATTRS:
                vars(self).pop(name, None)
            vars(self).update(kept)
            raise
        self._finish(attrs, trained)
        return self

    def _validate(self, X: Any, y: Any = None, *, fit: bool = False) -> Any:
        """``validate_data`` (resetting the input checks in ``fit``), with
        :class:`~sertools.ParameterError` instead of ``ValueError``."""
        try:
            if not fit:
                return validate_data(self, X, dtype=np.float32, reset=False)
            return self._validate_fit(X, y)
        except ParameterError:
            raise
        except ValueError as exc:
            raise ParameterError(f"{_first_non_finite(X)}{exc}") from exc

    def _validate_fit(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _outputs(self, X: Any) -> torch.Tensor:
        """The network's outputs (eval mode) on validated, scaled ``X``, on the CPU."""
        check_is_fitted(self, "module_")
        X = _net_input(self._validate(X), self.scaler_)
        param = next(self.module_.parameters())
        with torch_threads(self.n_threads), torch.no_grad():
            Xt = torch.as_tensor(X, device=param.device, dtype=param.dtype)
            return self.module_.eval()(Xt).cpu()


class DNNClassifier(ClassifierMixin, _PaperDNN):
    """The paper's four-layer DNN as a scikit-learn classifier.

    Architecture ``d -> d/2 -> d/4 -> d/8 -> n_classes`` (:class:`PaperMLP`),
    cross-entropy on the logits, Adam.  ``d`` and ``n_classes`` are read from the
    training data, so the same instance works after any feature extractor.
    Training runs through a lean PyTorch loop (tensors built once, one shuffled
    index per epoch, Adam as a few element-wise operations); :func:`fit_folds`
    trains many of these networks at once, each exactly as :meth:`fit` would.

    Parameters
    ----------
    dropout : float, default=0.1
        Dropout probability after each hidden block.
    max_epochs : int, default=100
        Number of passes over the training data (the maximum when
        ``early_stopping=True``).
    lr : float, default=1e-2
        Adam learning rate.
    batch_size : int, default=32
        Mini-batch size (at least 2, as batch normalisation needs it); a final
        mini-batch of a single sample is dropped each epoch.
    weight_decay : float, default=0.0
        Adam L2 penalty.
    standardize : bool, default=True
        Fit a :class:`~sklearn.preprocessing.StandardScaler` on the training data
        inside :meth:`fit` and apply it before the network.  The paper does not
        mention input scaling; on EMOVO it matters (``docs/dnn.md``).
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the *training* data, stop
        when its loss has not improved for ``n_iter_no_change`` epochs and restore
        the weights of the best epoch.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA when available);
        see :func:`sertools.utils.resolve_device`.
    n_threads : int or None, default=1
        Torch intra-op threads used by :meth:`fit` and :meth:`predict_proba`; the
        previous setting is restored afterwards (``None``: leave torch's setting).
        The network is small, so one thread is fastest; more threads only add
        synchronisation, and are many times slower when the cores are shared with
        other processes (e.g. ``cross_validate(..., n_jobs=2)`` on two cores).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, mini-batch shuffling, dropout and the
        validation split; an int gives identical models on every fit (on CPU).
        Torch's global random state is left as it was.
    verbose : int, default=0
        ``0`` is silent, ``1`` prints a row per epoch (train_loss, valid_loss).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in :meth:`fit`, sorted.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, only when ``X`` had string column names.
    scaler_ : StandardScaler or None
        The scaler fitted on the training data (``None`` if ``standardize=False``).
    module_ : PaperMLP
        The trained network (eval mode).
    history_ : list of dict
        One entry per epoch: ``epoch``, ``train_loss`` (mean over the epoch's
        samples), ``batch_sizes`` and, with early stopping, ``valid_loss``,
        ``n_valid`` and ``best``.
    n_iter_ : int
        Number of epochs actually run.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sertools.features import MFCCEmbedder
    >>> from sertools.models import DNNClassifier
    >>> pipe = make_pipeline(MFCCEmbedder(), DNNClassifier(random_state=0))
    """

    _loss_name = "ce"
    _stratify = True

    def _validate_fit(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        return X, y

    def _targets(self, y: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        encoder = LabelEncoder()
        t = encoder.fit_transform(y).astype(np.int64)
        classes = encoder.classes_
        if len(classes) < 2:
            raise ParameterError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                f"but the data contains only 1 class: {classes.tolist()[0]!r}"
            )
        return t, {"classes_": classes, "_n_outputs": len(classes)}

    def fit(self, X: Any, y: Any) -> DNNClassifier:
        """Train the network on ``X``, ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors (cast to float32).
        y : array-like of shape (n_samples,)
            Class labels (strings or integers), at least two distinct ones.

        Returns
        -------
        self : DNNClassifier
            The fitted estimator.

        Raises
        ------
        ParameterError
            For non-numeric or non-finite features (the message gives the first
            such entry), unusable labels, a single class, or a validation split
            that ``early_stopping`` cannot hold out.
        KeyboardInterrupt
            On Ctrl-C during training: the fit stops and a previous fit, if any,
            is kept whole.

        Examples
        --------
        Three well-separated classes of 8-dimensional vectors:

        >>> from sklearn.datasets import make_blobs
        >>> from sertools.models import DNNClassifier
        >>> X, y = make_blobs(n_samples=60, n_features=8, centers=3, random_state=0)
        >>> clf = DNNClassifier(max_epochs=20, random_state=0).fit(X, y)
        >>> clf.classes_, clf.n_features_in_, clf.n_iter_
        (array([0, 1, 2]), 8, 20)
        >>> clf.module_.widths
        (4, 3, 3)
        >>> clf.score(X, y)
        1.0
        """
        return super().fit(X, y)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors, with the ``n_features_in_`` columns seen in
            :meth:`fit` (cast to float32).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            Columns follow :attr:`classes_`; rows sum to 1.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import make_blobs
        >>> from sertools.models import DNNClassifier
        >>> X, y = make_blobs(n_samples=60, n_features=8, centers=3, random_state=0)
        >>> clf = DNNClassifier(max_epochs=20, random_state=0).fit(X, y)
        >>> proba = clf.predict_proba(X[:5])
        >>> proba.shape, proba.dtype
        ((5, 3), dtype('float64'))
        >>> np.allclose(proba.sum(axis=1), 1.0)
        True
        >>> bool((clf.classes_[proba.argmax(axis=1)] == y[:5]).all())
        True
        """
        return torch.softmax(self._outputs(X).double(), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors, with the ``n_features_in_`` columns seen in
            :meth:`fit` (cast to float32).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from :attr:`classes_`.

        Examples
        --------
        String labels come back as they were given:

        >>> from sklearn.datasets import make_blobs
        >>> from sertools.models import DNNClassifier
        >>> X, y = make_blobs(n_samples=60, n_features=8, centers=2, random_state=0)
        >>> labels = [["neutral", "angry"][i] for i in y]
        >>> clf = DNNClassifier(max_epochs=20, random_state=0).fit(X, labels)
        >>> clf.predict(X[:4])
        array(['angry', 'neutral', 'neutral', 'neutral'], dtype='<U7')
        >>> labels[:4]
        ['angry', 'neutral', 'neutral', 'neutral']
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class DNNRegressor(RegressorMixin, _PaperDNN):
    """The paper's four-layer DNN as a regressor (e.g. arousal, valence, dominance).

    The same network as :class:`DNNClassifier` (``d -> d/2 -> d/4 -> d/8 ->
    n_outputs``, :class:`PaperMLP` with a linear output) through the same
    training core and knobs, trained on standardised targets with the mean
    squared error or with ``1 - CCC`` (Lin's concordance correlation coefficient
    over each mini-batch, per output, averaged over the outputs).  Several
    targets are learnt at once by one network.

    Parameters
    ----------
    loss : {"mse", "ccc"}, default="mse"
        ``"mse"``: mean squared error on the standardised targets; ``"ccc"``:
        ``1 - CCC`` per output (population moments over the mini-batch),
        averaged over the outputs.  CCC is unchanged by the targets'
        standardisation, so the loss optimises the CCC of the predictions.
    dropout : float, default=0.1
        Dropout probability after each hidden block.
    max_epochs : int, default=100
        Number of passes over the training data (the maximum when
        ``early_stopping=True``).
    lr : float, default=1e-2
        Adam learning rate.
    batch_size : int, default=32
        Mini-batch size (at least 2); a final mini-batch of a single sample is
        dropped each epoch.
    weight_decay : float, default=0.0
        Adam L2 penalty.
    standardize : bool, default=True
        Standardise the inputs with a :class:`~sklearn.preprocessing.StandardScaler`
        fitted on the training data (the targets are always standardised).
    early_stopping : bool, default=False
        Hold out a random ``validation_fraction`` of the training data, stop when
        its loss has not improved for ``n_iter_no_change`` epochs and restore the
        best epoch's weights.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    device : str, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
    n_threads : int or None, default=1
        Torch intra-op threads used by :meth:`fit` and :meth:`predict`, restored
        afterwards (``None``: leave torch's setting).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation split.
    verbose : int, default=0
        ``0`` is silent, ``1`` prints a row per epoch.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, only when ``X`` had string column names.
    n_outputs_ : int
        Number of targets.
    scaler_ : StandardScaler or None
        Input scaler fitted on the training data.
    y_mean_, y_scale_ : ndarray of shape (n_outputs_,)
        Mean and standard deviation (1 where it is 0) of the training targets;
        predictions are ``network output * y_scale_ + y_mean_``.
    module_ : PaperMLP
        The trained network (eval mode).
    history_ : list of dict
        One entry per epoch (see :class:`DNNClassifier`).
    n_iter_ : int
        Number of epochs actually run.

    Examples
    --------
    Two targets (think arousal and valence) at once from 32 features:

    >>> import numpy as np
    >>> from sertools.models import DNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 32))
    >>> Y = np.column_stack([X[:, 0] + 0.1 * X[:, 1], X[:, 2] - X[:, 3]])
    >>> reg = DNNRegressor(loss="ccc", max_epochs=30, random_state=0).fit(X, Y)
    >>> reg.predict(X[:3]).shape, reg.n_outputs_
    ((3, 2), 2)
    >>> bool(reg.score(X, Y) > 0.8)
    True
    """

    _parameter_constraints: dict = {
        **_PaperDNN._parameter_constraints,
        "loss": [StrOptions({"mse", "ccc"})],
    }

    def __init__(
        self,
        *,
        loss: str = "mse",
        dropout: float = 0.1,
        max_epochs: int = 100,
        lr: float = 1e-2,
        batch_size: int = 32,
        weight_decay: float = 0.0,
        standardize: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        device: str = "cpu",
        n_threads: int | None = 1,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(
            dropout=dropout,
            max_epochs=max_epochs,
            lr=lr,
            batch_size=batch_size,
            weight_decay=weight_decay,
            standardize=standardize,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            device=device,
            n_threads=n_threads,
            random_state=random_state,
            verbose=verbose,
        )
        self.loss = loss

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    @property
    def _loss_name(self) -> str:  # type: ignore[override]
        return self.loss

    def _validate_fit(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, dtype=np.float32, multi_output=True, y_numeric=True)
        if len(y) < 2:
            raise ParameterError(
                f"{type(self).__name__} needs at least 2 samples (batch normalisation), "
                f"got 1 sample"
            )
        return X, y

    def _targets(self, y: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        y2 = np.asarray(y, dtype=np.float64)
        y2 = y2.reshape(len(y2), -1)
        mean = y2.mean(axis=0)
        scale = y2.std(axis=0)
        scale[scale == 0] = 1.0
        t = np.require((y2 - mean) / scale, dtype=np.float32, requirements=["C", "W"])
        return t, {
            "y_mean_": mean,
            "y_scale_": scale,
            "n_outputs_": y2.shape[1],
            "_y_1d": np.ndim(y) == 1,
            "_n_outputs": y2.shape[1],
        }

    def fit(self, X: Any, y: Any) -> DNNRegressor:
        """Train the network on ``X``, ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors (cast to float32).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets (e.g. arousal, valence, dominance); NaN is an error.

        Returns
        -------
        self : DNNRegressor
            The fitted estimator.

        Raises
        ------
        ParameterError
            For non-numeric or non-finite features or targets, a single sample, or a
            validation split that ``early_stopping`` cannot hold out.

        Examples
        --------
        >>> import numpy as np
        >>> from sertools.models import DNNRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 6))
        >>> reg = DNNRegressor(max_epochs=10, random_state=0).fit(X, X[:, 0])
        >>> reg.n_iter_, reg.n_outputs_, reg.module_.widths
        (10, 1, (3, 1, 1))
        """
        return super().fit(X, y)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature vectors with the ``n_features_in_`` columns seen in :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs_), float64
            One column per target; 1-D when :meth:`fit` got a 1-D ``y``.

        Examples
        --------
        >>> import numpy as np
        >>> from sertools.models import DNNRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 16))
        >>> reg = DNNRegressor(max_epochs=30, dropout=0.0, random_state=0).fit(X, 2 * X[:, 0] + 1)
        >>> pred = reg.predict(X)
        >>> pred.shape, bool(np.corrcoef(pred, X[:, 0])[0, 1] > 0.9)
        ((100,), True)
        """
        out = self._outputs(X).double().numpy() * self.y_scale_ + self.y_mean_
        return out[:, 0] if self._y_1d else out


def fit_folds(
    estimator: _PaperDNN,
    X: Any,
    y: Any,
    folds: Iterable[Any],
    *,
    random_states: Sequence[int] | None = None,
) -> list[Any]:
    """Fit one network per fold (and per seed) together, as one batched model.

    Each returned estimator is, operation for operation, what
    ``clone(estimator).set_params(random_state=seed).fit(X[train], y[train])``
    gives (see ``docs/dnn.md`` for the measured agreement), but all the networks
    are trained in one stack, so the per-step cost of the framework is paid once
    for all of them.

    Parameters
    ----------
    estimator : DNNClassifier or DNNRegressor
        The (unfitted) template; it is cloned, never fitted itself.
    X : array-like of shape (n_samples, n_features)
        All feature vectors.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        All targets.
    folds : iterable of (train, test) index pairs or of train index arrays
        E.g. ``cv.split(X, y)``; only the training indices are used.
    random_states : sequence of int or None, default=None
        Seeds to train each fold with; ``None`` uses the estimator's own
        ``random_state`` for every fold.

    Returns
    -------
    estimators : list
        Fitted clones, fold-major: for fold ``i`` and seed ``j`` the entry
        ``i * len(random_states) + j`` (one per fold without ``random_states``),
        each with its ``random_state`` set to the seed it was trained with.

    Raises
    ------
    ParameterError
        When ``estimator`` is not a sertools DNN, or for bad data in any fold
        (as :meth:`DNNClassifier.fit` would raise).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import clone
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.model_selection import StratifiedKFold
    >>> from sertools.models import DNNClassifier, fit_folds
    >>> X, y = make_blobs(n_samples=120, n_features=8, centers=3, random_state=0)
    >>> folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    >>> clf = DNNClassifier(max_epochs=20)
    >>> fitted = fit_folds(clf, X, y, folds, random_states=[0, 1])
    >>> len(fitted), fitted[1].random_state
    (6, 1)
    >>> train, test = folds[0]
    >>> alone = clone(clf).set_params(random_state=1).fit(X[train], y[train])
    >>> bool(np.allclose(alone.predict_proba(X[test]), fitted[1].predict_proba(X[test]), atol=1e-5))
    True
    """
    if not isinstance(estimator, _PaperDNN):
        raise ParameterError(
            f"fit_folds trains sertools' DNNClassifier or DNNRegressor, got "
            f"{type(estimator).__name__}"
        )
    X_all = X if hasattr(X, "iloc") else np.asarray(X)
    y_all = y if hasattr(y, "iloc") else np.asarray(y)
    seeds: list[Any] = [estimator.random_state] if random_states is None else list(random_states)
    fitted: list[Any] = []
    prepared: list[tuple[Any, _core.Job, _core.Settings, dict[str, Any]]] = []
    for fold in folds:
        train = fold[0] if isinstance(fold, tuple) else fold
        train = np.asarray(train)
        X_tr = X_all.iloc[train] if hasattr(X_all, "iloc") else X_all[train]
        y_tr = y_all.iloc[train] if hasattr(y_all, "iloc") else y_all[train]
        for seed in seeds:
            est = clone(estimator).set_params(random_state=seed)
            est._validate_params()
            job, settings, attrs = est._prepare(X_tr, y_tr)
            prepared.append((est, job, settings, attrs))
            fitted.append(est)
    # one stack per distinct setting (e.g. a fold that lacks a class has fewer outputs)
    groups: dict[_core.Settings, list[int]] = {}
    for i, (_, _, settings, _) in enumerate(prepared):
        groups.setdefault(settings, []).append(i)
    with torch_threads(estimator.n_threads):
        for settings, members in groups.items():
            trained = _core.train_stack([prepared[i][1] for i in members], settings)
            for i, net in zip(members, trained, strict=True):
                est, _, _, attrs = prepared[i]
                est._finish(attrs, net)
    return fitted
