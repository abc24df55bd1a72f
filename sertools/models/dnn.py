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

from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from torch import nn

from .._exceptions import ParameterError
from ..utils._sklearn_compat import Interval
from ..utils._sklearn_compat import fit_context as _fit_context
from ..utils._torch import resolve_device, torch_threads

__all__ = ["DNNClassifier", "PaperMLP", "paper_widths"]

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


class _FitInterrupted(BaseException):
    """Carries a ``KeyboardInterrupt`` (its ``__cause__``) past skorch's ``partial_fit``."""


class _EarlyStop(KeyboardInterrupt):
    """The stop signal of :class:`_EarlyStopping`, told apart from a real Ctrl-C."""


class _EarlyStopping(EarlyStopping):
    """skorch's early stopping, whose stop signal is not mistaken for Ctrl-C.

    skorch's ``EarlyStopping`` ends training by raising ``KeyboardInterrupt``,
    which skorch's ``partial_fit`` catches. This subclass raises the
    :class:`_EarlyStop` subclass instead, which :class:`_InterruptibleNet` lets
    through to that handler (so the best weights are restored as usual).
    """

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            if self.misses_ != self.patience:
                raise  # a real Ctrl-C while the callback ran
            raise _EarlyStop from None


class _InterruptibleNet(NeuralNetClassifier):
    """skorch's classifier, except that Ctrl-C stops :meth:`fit` with ``KeyboardInterrupt``.

    skorch's ``partial_fit`` catches ``KeyboardInterrupt`` around the fit loop and
    returns the partly trained net as if training had finished; an interrupted
    study would then go on and score it. Here the interrupt leaves the loop
    wrapped, so that skorch's handler does not see it, and
    :meth:`DNNClassifier.fit` raises it again.
    """

    def fit_loop(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().fit_loop(*args, **kwargs)
        except _EarlyStop:
            raise  # skorch's handler ends training normally
        except KeyboardInterrupt as exc:
            raise _FitInterrupted from exc


def _resolve_device(device: str) -> str:
    """The device policy of :func:`sertools.utils.resolve_device`, as ``"cpu"``/``"cuda:N"``."""
    dev = resolve_device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return str(dev)


def _first_non_finite(X: Any) -> str:
    """``"X[i, j] = nan: "`` for the first non-finite entry of a 2-D numeric ``X``, else ``""``."""
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


class DNNClassifier(ClassifierMixin, BaseEstimator):
    """The paper's four-layer DNN, trained with PyTorch through skorch.

    Architecture ``d -> d/2 -> d/4 -> d/8 -> n_classes`` (:class:`PaperMLP`),
    cross-entropy on the logits, Adam.  ``d`` and ``n_classes`` are read from the
    training data, so the same instance works after any feature extractor.

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
        Passed to skorch: ``0`` is silent, ``1`` prints a table row per epoch.

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
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is the :class:`PaperMLP` and
        ``net_.history`` the per-epoch log.
    n_iter_ : int
        Number of epochs actually run.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sertools.features import MFCCEmbedder
    >>> from sertools.models import DNNClassifier
    >>> pipe = make_pipeline(MFCCEmbedder(), DNNClassifier(random_state=0))
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

    @_fit_context(prefer_skip_nested_validation=True)
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
            On Ctrl-C during training: the fit stops (skorch alone would return
            the partly trained net) and a previous fit, if any, is kept whole.

        Examples
        --------
        Three well-separated classes of 8-dimensional vectors:

        >>> from sklearn.datasets import make_blobs
        >>> from sertools.models import DNNClassifier
        >>> X, y = make_blobs(n_samples=60, n_features=8, centers=3, random_state=0)
        >>> clf = DNNClassifier(max_epochs=20, random_state=0).fit(X, y)
        >>> clf.classes_, clf.n_features_in_, clf.n_iter_
        (array([0, 1, 2]), 8, 20)
        >>> clf.net_.module_.widths
        (4, 3, 3)
        >>> clf.score(X, y)
        1.0
        """
        # validate_data sets n_features_in_ (and feature_names_in_) before training:
        # restore them when the fit fails or is interrupted, so that a failed first
        # fit leaves the estimator unfitted and a failed refit the previous fit whole
        kept = {k: v for k, v in vars(self).items() if k in _INPUT_ATTRS}
        try:
            return self._fit(X, y)
        except BaseException:
            for name in _INPUT_ATTRS:
                vars(self).pop(name, None)
            vars(self).update(kept)
            raise

    def _validate(self, X: Any, y: Any = None, *, fit: bool = False) -> Any:
        """``validate_data`` (resetting the input checks in ``fit``), with
        :class:`~sertools.ParameterError` instead of ``ValueError``."""
        try:
            if not fit:
                return validate_data(self, X, dtype=np.float32, reset=False)
            X, y = validate_data(self, X, y, dtype=np.float32)
            check_classification_targets(y)
            return X, y
        except ParameterError:
            raise
        except ValueError as exc:
            raise ParameterError(f"{_first_non_finite(X)}{exc}") from exc

    def _fit(self, X: Any, y: Any) -> DNNClassifier:
        X, y = self._validate(X, y, fit=True)
        encoder = LabelEncoder()
        y_enc = encoder.fit_transform(y).astype(np.int64)
        classes = encoder.classes_
        if len(classes) < 2:
            raise ParameterError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                f"but the data contains only 1 class: {classes.tolist()[0]!r}"
            )
        device = _resolve_device(self.device)
        rng = check_random_state(self.random_state)
        torch_seed, split_seed = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2))

        # Fitted attributes are set only once training succeeded: a failed refit
        # leaves the previous fit whole. The scaler sees the training part only.
        X_train, y_train = X, y_enc
        valid = None
        if self.early_stopping:
            try:
                X_train, X_valid, y_train, y_valid = train_test_split(
                    X,
                    y_enc,
                    test_size=self.validation_fraction,
                    stratify=y_enc,
                    random_state=split_seed,
                )
            except ValueError as exc:
                raise ParameterError(
                    "early_stopping=True could not hold out a stratified "
                    f"validation_fraction={self.validation_fraction} of the {len(y_enc)} "
                    f"training samples: {exc}"
                ) from exc
            valid = (X_valid, y_valid)
        scaler = StandardScaler().fit(X_train) if self.standardize else None
        X_train = _net_input(X_train, scaler)

        train_split = None
        callbacks = []
        if valid is not None:
            train_split = predefined_split(Dataset(_net_input(valid[0], scaler), valid[1]))
            callbacks = [
                _EarlyStopping(monitor="valid_loss", patience=self.n_iter_no_change, load_best=True)
            ]

        batch_size = min(self.batch_size, len(y_train))
        net = _InterruptibleNet(
            PaperMLP,
            module__n_features=X.shape[1],
            module__n_classes=len(classes),
            module__dropout=self.dropout,
            criterion=nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=batch_size,
            iterator_train__shuffle=True,
            # batch normalisation cannot train on a mini-batch of one sample
            iterator_train__drop_last=len(y_train) % batch_size == 1,
            train_split=train_split,
            callbacks=callbacks,
            predict_nonlinearity=None,
            device=device,
            verbose=self.verbose,
        )
        devices = [torch.device(device).index] if device.startswith("cuda") else []
        with torch_threads(self.n_threads), torch.random.fork_rng(devices=devices):
            torch.random.default_generator.manual_seed(torch_seed)
            for index in devices:
                with torch.cuda.device(index):
                    torch.cuda.manual_seed(torch_seed)
            try:
                net.fit(X_train, y_train)
            except _FitInterrupted as stop:
                raise stop.__cause__ from None  # the KeyboardInterrupt, as raised
        self.classes_, self.scaler_, self.net_ = classes, scaler, net
        self.n_iter_ = len(net.history)
        return self

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
        check_is_fitted(self, "net_")
        X = _net_input(self._validate(X), self.scaler_)
        # the data loader draws a seed from torch's global generator: keep it untouched
        with torch_threads(self.n_threads), torch.random.fork_rng(devices=[]):
            logits = self.net_.forward(X, training=False, device="cpu")
        return torch.softmax(logits.double(), dim=1).numpy()

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
