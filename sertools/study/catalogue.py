"""The named parts of a study, as data: feature sets, classifiers, protocols.

* Feature sets come from the one feature-set registry
  (:func:`sertools.features.available_feature_sets`); :data:`FEATURE_SETS` is
  a live view of it and :func:`make_embedder` builds one by name.
* Classifiers are :class:`EstimatorSpec` entries of :data:`ESTIMATORS` (name,
  description, task, how to build it, which parameters only change how it runs);
  :data:`CLASSIFIERS` is the view of its classification entries and
  :func:`make_classifier` builds one by name. Adding a classifier (or, later, a
  regressor) is one entry.
* Protocols are :data:`PROTOCOLS` (name -> description); the folds themselves
  come from :mod:`sertools.datasets.protocols`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.base import BaseEstimator

from .._exceptions import ParameterError
from ..features._registry import FeatureSetNames, get_feature_set

__all__ = [
    "CLASSIFIERS",
    "DEFAULT_EXECUTION_ONLY",
    "ESTIMATORS",
    "FEATURE_SETS",
    "PROTOCOLS",
    "REGRESSORS",
    "EstimatorSpec",
    "embedder_execution_only",
    "estimator_execution_only",
    "feature_set_params",
    "make_classifier",
    "make_embedder",
    "model_param",
]

#: feature-set name -> embedder class name: a live view of the feature-set
#: registry (:func:`sertools.features.available_feature_sets`)
FEATURE_SETS: Mapping[str, str] = FeatureSetNames()

#: protocol name -> description (see :func:`~sertools.study.run_study`)
PROTOCOLS: dict[str, str] = {
    "paper": "stratified 5-fold CV, shuffled and seeded; speakers on both sides (the paper)",
    "speaker": "speaker-independent folds from the corpus's speakers: leave-one-speaker-out "
    "(EMODB, EMOVO, SAVEE), speaker 5-fold (RAVDESS, CREMA-D), leave-one-session-out "
    "(IEMOCAP)",
    "loso": "leave-one-speaker-out",
    "session": "leave-one-session-out (IEMOCAP)",
    "speaker-kfold": "stratified speaker-grouped 5-fold",
    "emobox": "EmoBox's published folds (the corpus loaded with load_emobox; --emobox-root)",
    "predefined": "the corpus's own folds (a manifest's fold column)",
}


# --------------------------------------------------------------------------- feature sets
def _embedder_class(name: str) -> type:
    """The embedder class of a feature-set name, from the feature-set registry."""
    return get_feature_set(name).load()


def feature_set_params(name: str) -> frozenset[str]:
    """The constructor parameters of a feature set's embedder.

    Parameters
    ----------
    name : str
        A feature-set name of :data:`FEATURE_SETS`.

    Returns
    -------
    frozenset of str
        The names :func:`make_embedder` accepts for ``name``.

    Raises
    ------
    ParameterError
        For an unknown feature set.

    Examples
    --------
    >>> from sertools.study.catalogue import feature_set_params
    >>> "n_mfcc" in feature_set_params("mfcc"), "device" in feature_set_params("mfcc")
    (True, False)
    """
    return frozenset(_embedder_class(name)().get_params(deep=False))


#: the private name the study used before :func:`feature_set_params`
_accepted = feature_set_params


def _route_params(names: Sequence[str], params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Split one dict of embedder parameters over feature sets.

    Each key goes to the selected feature sets that accept it; a key that none
    of them accepts is an error naming it and the valid keys.
    """
    accepted = {n: feature_set_params(n) for n in names}
    valid = sorted(set().union(*accepted.values())) if accepted else []
    unknown = [k for k in params if not any(k in a for a in accepted.values())]
    if unknown:
        raise ParameterError(
            f"embedder parameter(s) {', '.join(map(repr, unknown))} not accepted by any of the "
            f"feature sets {', '.join(names)}; valid parameters: {', '.join(valid)}"
        )
    return {n: {k: v for k, v in params.items() if k in accepted[n]} for n in names}


def make_embedder(name: str, **params: Any) -> BaseEstimator:
    """Build the embedder of a named feature set.

    Parameters
    ----------
    name : str
        One of :data:`FEATURE_SETS`.
    **params
        Passed to the embedder's constructor. A key it does not take is a
        :class:`~sertools.ParameterError` naming the key and the valid ones
        (to give one dict to several feature sets, use ``run_study``'s
        ``embedder_params``, which routes each key to the sets that take it).

    Returns
    -------
    BaseEmbedder
        Unfitted embedder of the set's class with ``params``.

    Raises
    ------
    ParameterError
        For an unknown name or parameter.

    Examples
    --------
    >>> make_embedder("mfcc", n_mfcc=20)
    MFCCEmbedder(n_mfcc=20)
    """
    cls = _embedder_class(name)
    valid = feature_set_params(name)
    unknown = [k for k in params if k not in valid]
    if unknown:
        raise ParameterError(
            f"feature set {name!r} ({cls.__name__}) does not take "
            f"{', '.join(map(repr, unknown))}; valid parameters: {', '.join(sorted(valid))}"
        )
    return cls(**params)


def model_param(name: str) -> str | None:
    """The parameter naming the pretrained model of a feature set, if it has one.

    Parameters
    ----------
    name : str
        A feature-set name of :data:`FEATURE_SETS`.

    Returns
    -------
    str or None
        ``"checkpoint"`` (S3PRL sets and others taking a checkpoint file),
        ``"model"`` (NeMo sets), None (signal features).

    Examples
    --------
    >>> model_param("titanet"), model_param("hubert"), model_param("mfcc")
    ('model', 'checkpoint', None)
    """
    accepted = feature_set_params(name)
    for key in ("checkpoint", "model"):
        if key in accepted:
            return key
    return None


#: embedder parameters the study leaves out of its cell keys besides those whose declared
#: role is execution or placement (see :func:`embedder_execution_only`)
_EMBEDDER_EXECUTION_ONLY_EXTRA = frozenset({"batch_seconds"})


def embedder_execution_only(embedder: Any) -> frozenset[str]:
    """The parameters of an embedder that do not change its vectors.

    The parameters whose declared role
    (:meth:`~sertools.features.BaseEmbedder.parameter_roles`) is ``"execution"`` or
    ``"placement"`` (``verbose``, ``n_jobs``, ``n_threads``, ``cache``, ``device``, ...)
    plus ``batch_seconds``; never ``sampling_rate``, which the study keys on itself
    (it says how to read the waveforms of a corpus given as arrays).

    Parameters
    ----------
    embedder : estimator
        An embedder (its class is read).

    Returns
    -------
    frozenset of str
        Parameter names left out of the study's cell keys.

    Examples
    --------
    >>> from sertools.features import MFCCEmbedder
    >>> from sertools.study.catalogue import embedder_execution_only
    >>> sorted(embedder_execution_only(MFCCEmbedder()))
    ['batch_seconds', 'cache', 'n_jobs', 'verbose']
    """
    roles_of = getattr(type(embedder), "parameter_roles", None)
    roles = roles_of() if callable(roles_of) else {}
    declared = frozenset(k for k, r in roles.items() if r in ("execution", "placement"))
    return (declared | _EMBEDDER_EXECUTION_ONLY_EXTRA) - {"sampling_rate"}


# --------------------------------------------------------------------------- estimators
#: parameters of an estimator that change how it runs, not what it predicts
DEFAULT_EXECUTION_ONLY = frozenset({"verbose", "n_jobs"})


@dataclass(frozen=True)
class EstimatorSpec:
    """A named estimator of the study: how to build it and what it is for.

    Parameters
    ----------
    name : str
        Short name (``"svm"``).
    description : str
        One line for help texts and reports.
    build : callable
        ``build(random_state)`` -> an unfitted scikit-learn estimator.
    task : str, default="classification"
        What it predicts; the study's classifiers are the ``"classification"``
        entries (regressors for dimensional tasks are ``"regression"``).
    param_prefix : str, default=""
        Prefix that routes user parameters to one step of a pipeline
        (``"svc__"``: ``C=1`` sets ``svc__C``).
    execution_only : frozenset of str, default=DEFAULT_EXECUTION_ONLY
        Parameters that change how it runs, not what it predicts (left out
        of the study's cell keys).
    calibrate : bool, default=False
        A classifier without class probabilities of its own: a model trained
        for use (:func:`sertools.persist.train_model`) wraps it in Platt
        scaling.
    probabilities : str, default="the final step's predict_proba"
        How a trained model of it gives class probabilities (for its model card).
    types : tuple of str, default=()
        Full names (``"module.Class"``) of the types its fitted model holds:
        the types a saved model of it may build on load
        (:func:`sertools.persist.trusted_types`).

    Examples
    --------
    >>> from sertools.study.catalogue import ESTIMATORS
    >>> spec = ESTIMATORS["svm"]
    >>> spec.task, spec.build(0)
    ('classification', SVC(C=10, gamma=0.001))
    """

    name: str
    description: str
    build: Callable[[int | None], BaseEstimator]
    task: str = "classification"
    param_prefix: str = ""
    execution_only: frozenset[str] = DEFAULT_EXECUTION_ONLY
    calibrate: bool = False
    probabilities: str = "the final step's predict_proba"
    types: tuple[str, ...] = ()


def _svm(random_state: int | None) -> BaseEstimator:
    from sklearn.svm import SVC

    return SVC(C=10, gamma=1e-3)


def _svm_scaled(random_state: int | None) -> BaseEstimator:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return make_pipeline(StandardScaler(), SVC(C=10, gamma="scale"))


def _dnn(random_state: int | None) -> BaseEstimator:
    from ..models import DNNClassifier

    return DNNClassifier(random_state=random_state)


_PLATT = (
    "Platt scaling: CalibratedClassifierCV(SVC, method='sigmoid', ensemble=False), the SVC "
    "fitted on all the training data, one sigmoid per class on its out-of-fold decision values "
    "(scikit-learn's replacement of SVC(probability=True)); the label is the most probable class"
)
_SVC = "sklearn.svm._classes.SVC"
_SCALER = "sklearn.preprocessing._data.StandardScaler"

#: estimator name -> :class:`EstimatorSpec`: every estimator the study can build by name
ESTIMATORS: dict[str, EstimatorSpec] = {
    s.name: s
    for s in (
        EstimatorSpec(
            "svm",
            "SVC(C=10, gamma=1e-3) on unscaled features (the paper)",
            _svm,
            calibrate=True,
            probabilities=_PLATT,
            types=(_SVC,),
        ),
        EstimatorSpec(
            "dnn",
            "DNNClassifier(), the paper's 4-layer feed-forward network",
            _dnn,
            execution_only=DEFAULT_EXECUTION_ONLY | {"n_threads"},
            probabilities="softmax of the DNN's logits; the label is the most probable class",
            types=("sertools.models.dnn.DNNClassifier",),
        ),
        EstimatorSpec(
            "svm-scaled",
            "StandardScaler + SVC(C=10, gamma='scale')",
            _svm_scaled,
            param_prefix="svc__",
            calibrate=True,
            probabilities=_PLATT,
            types=(_SCALER, _SVC),
        ),
    )
}


def estimator_execution_only(name: str) -> frozenset[str]:
    """Execution-only parameters of the estimator named ``name`` (the default for others).

    Parameters
    ----------
    name : str
        A name of :data:`ESTIMATORS`, or any other (a user's own estimator).

    Returns
    -------
    frozenset of str
        Parameter names left out of the study's cell keys.

    Examples
    --------
    >>> from sertools.study.catalogue import estimator_execution_only
    >>> sorted(estimator_execution_only("dnn"))
    ['n_jobs', 'n_threads', 'verbose']
    """
    spec = ESTIMATORS.get(name)
    return spec.execution_only if spec is not None else DEFAULT_EXECUTION_ONLY


class _TaskView(Mapping[str, str]):
    """A live read-only view: name -> description of the :data:`ESTIMATORS` of one task."""

    def __init__(self, task: str) -> None:
        self._task = task

    def _names(self) -> list[str]:
        return [n for n, s in ESTIMATORS.items() if s.task == self._task]

    def __getitem__(self, name: str) -> str:
        spec = ESTIMATORS.get(name)
        if spec is None or spec.task != self._task:
            raise KeyError(name)
        return spec.description

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return repr(dict(self))


#: classifier name -> description: the ``"classification"`` entries of
#: :data:`ESTIMATORS` (see :func:`make_classifier`)
CLASSIFIERS: Mapping[str, str] = _TaskView("classification")


# ----------------------------------------------------- regressors (dimensional tasks)
def _svr(random_state: int | None) -> BaseEstimator:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    return make_pipeline(StandardScaler(), SVR())


def _dnn_regressor(random_state: int | None) -> BaseEstimator:
    from .. import models

    cls = getattr(models, "DNNRegressor", None)  # helper "models"' regression head
    if cls is None:
        raise ParameterError(
            "regressor 'dnn-regressor' needs sertools.models.DNNRegressor, which this version "
            "of sertools does not have; use 'svr'"
        )
    return cls(random_state=random_state)


ESTIMATORS.update(
    {
        s.name: s
        for s in (
            EstimatorSpec(
                "svr",
                "StandardScaler + SVR(C=1, gamma='scale'), the classical baseline",
                _svr,
                task="regression",
                param_prefix="svr__",
                types=(_SCALER, "sklearn.svm._classes.SVR"),
            ),
            EstimatorSpec(
                "dnn-regressor",
                "DNNRegressor(), the paper's 4-layer network as a regressor",
                _dnn_regressor,
                task="regression",
                types=("sertools.models.dnn.DNNRegressor",),
            ),
        )
    }
)

#: regressor name -> description: the ``"regression"`` entries of :data:`ESTIMATORS`
#: (dimensional tasks, see :func:`sertools.study.dimensional.make_regressor`)
REGRESSORS: Mapping[str, str] = _TaskView("regression")


def make_classifier(name: str, *, random_state: int | None = 0, **params: Any) -> BaseEstimator:
    """Build a named classifier.

    Parameters
    ----------
    name : {"svm", "dnn", "svm-scaled"}
        ``svm``: ``SVC(C=10, gamma=1e-3)`` on unscaled features (the paper;
        near chance when the features' scale does not suit ``gamma=1e-3``,
        e.g. large magnitudes);
        ``dnn``: :class:`sertools.models.DNNClassifier` with its defaults;
        ``svm-scaled``: ``make_pipeline(StandardScaler(), SVC(C=10, gamma="scale"))``.
        Any name of :data:`CLASSIFIERS`.
    random_state : int or None, default=0
        Seed of the DNN.
    **params
        Parameters of the estimator (of the ``SVC`` step for ``svm-scaled``),
        e.g. ``max_epochs=20`` for the DNN.

    Returns
    -------
    estimator
        Unfitted scikit-learn classifier.

    Raises
    ------
    ParameterError
        For an unknown name or parameter.

    Examples
    --------
    >>> make_classifier("svm-scaled", C=1)
    Pipeline(steps=[('standardscaler', StandardScaler()), ('svc', SVC(C=1))])
    """
    return _make_estimator(name, "classification", random_state, params)


def _make_estimator(
    name: str, task: str, random_state: int | None, params: Mapping[str, Any]
) -> BaseEstimator:
    """The :data:`ESTIMATORS` entry ``name`` of ``task``, built, with ``params`` set.

    ``task`` ``"classification"`` or ``"regression"``; an unknown name or
    parameter is a :class:`~sertools.ParameterError` naming the valid ones.
    """
    kind = "classifier" if task == "classification" else "regressor"
    spec = ESTIMATORS.get(name)
    if spec is None or spec.task != task:
        raise ParameterError(
            f"unknown {kind} {name!r}; expected one of {', '.join(_TaskView(task))}"
        )
    est = spec.build(random_state)
    if params:
        prefix = spec.param_prefix
        params = {f"{prefix}{k}": v for k, v in params.items()}
        valid = est.get_params(deep=bool(prefix))
        unknown = [k for k in params if k not in valid]
        if unknown:
            shown = sorted(
                k.removeprefix(prefix)
                for k in valid
                if k.startswith(prefix) and "__" not in k.removeprefix(prefix)
            )
            raise ParameterError(
                f"{kind} {name!r} does not take "
                f"{', '.join(repr(k.removeprefix(prefix)) for k in unknown)}; "
                f"valid parameters: {', '.join(shown)}"
            )
        est.set_params(**params)
    return est
