"""Fit one pipeline (feature set × classifier) on a whole corpus."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._exceptions import ParameterError

__all__ = ["resolve_corpus", "train_model"]

#: step names of the pipelines sertools trains
EMBEDDER_STEP = "features"
CLASSIFIER_STEP = "classifier"


def resolve_corpus(corpus: Any, root: str | os.PathLike[str] | None = None) -> Any:
    """A corpus Bunch from a Bunch, a name and a root, ``"NAME=PATH"`` or a manifest path.

    Parameters
    ----------
    corpus : Bunch, str or path-like
        A loaded corpus (a Bunch with ``target`` and ``filenames`` or
        ``data``); a corpus name (with ``root``); ``"NAME=PATH"``; or the path
        of a manifest file (given to :func:`sertools.datasets.load_corpus`).
    root : str or path-like, optional
        The corpus folder, with a corpus name.

    Returns
    -------
    Bunch
        With ``target``, and ``filenames`` (or ``data`` and ``sampling_rate``).

    Raises
    ------
    ParameterError
        If the corpus cannot be found or loaded (the loader's message).

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.persist._train import resolve_corpus
    >>> resolve_corpus(make_synthetic_corpus(n_per_class=2)).corpus
    'synthetic'
    """
    from ..datasets import load_corpus

    if hasattr(corpus, "target"):
        return corpus
    if root is not None:
        return load_corpus(str(corpus), root)
    text = os.fspath(corpus) if isinstance(corpus, (str, os.PathLike)) else None
    if text is None:
        raise ParameterError(
            f"corpus of type {type(corpus).__name__}: expected a corpus Bunch, a corpus name "
            "with root=, 'NAME=PATH' or a manifest file"
        )
    name, sep, path = text.partition("=")
    if sep and not Path(text).exists():
        return load_corpus(name.strip(), path.strip())
    if Path(text).is_file():  # a manifest: the corpus loaders read it
        try:
            return load_corpus(text)  # type: ignore[call-arg]
        except TypeError as exc:  # a sertools whose load_corpus needs (name, root)
            raise ParameterError(
                f"corpus {text!r}: this sertools's load_corpus does not read manifest files "
                f"({exc}); give 'NAME=PATH' or a corpus name with root="
            ) from exc
    raise ParameterError(
        f"corpus {text!r}: expected 'NAME=PATH', a corpus name with root=, or a manifest file"
    )


#: folds of the Platt scaling of the SVMs (fewer when a class has fewer clips)
CALIBRATION_FOLDS = 5


def platt_calibrated(clf: Any, target: Any) -> Any:
    """Give a classifier without probabilities (an SVC, or a pipeline ending in one) Platt scaling.

    For the catalogue's classifiers marked ``calibrate`` (the SVMs). The final
    estimator becomes ``CalibratedClassifierCV(SVC, method="sigmoid",
    ensemble=False)``: the SVC is fitted on all the training data, and one sigmoid
    per class is fitted on its out-of-fold decision values (5 stratified folds,
    no shuffling, so no seed). This is scikit-learn's replacement of
    ``SVC(probability=True)`` (deprecated in scikit-learn 1.9); the label
    is the most probable class.

    Parameters
    ----------
    clf : SVC or Pipeline
        The unfitted classifier of ``make_classifier(name)`` for a name whose
        catalogue entry has ``calibrate=True`` (``"svm"``, ``"svm-scaled"``).
    target : array-like of shape (n_clips,)
        The training labels (the smallest class bounds the number of folds).

    Returns
    -------
    estimator
        The calibrated classifier (a pipeline keeps its scaler first).

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> from sertools.persist._train import platt_calibrated
    >>> platt_calibrated(SVC(C=10, gamma=1e-3), ["a"] * 6 + ["b"] * 3)
    CalibratedClassifierCV(cv=3, ensemble=False, estimator=SVC(C=10, gamma=0.001))
    """
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import Pipeline

    counts = np.unique(np.asarray(target).astype(str), return_counts=True)[1]
    folds = int(min(CALIBRATION_FOLDS, counts.min()))
    if folds < 2:
        raise ParameterError(
            "an SVM's probabilities are calibrated on held-out folds: every class needs at "
            f"least 2 training clips, the smallest has {counts.min()}"
        )

    def wrap(svc: Any) -> Any:
        return CalibratedClassifierCV(svc, method="sigmoid", cv=folds, ensemble=False)

    if isinstance(clf, Pipeline):
        return Pipeline([*clf.steps[:-1], (clf.steps[-1][0], wrap(clf.steps[-1][1]))])
    return wrap(clf)


def _clips(bunch: Any) -> tuple[Any, int | None]:
    filenames = getattr(bunch, "filenames", None)
    if filenames is not None:
        return list(map(str, filenames)), None
    data = getattr(bunch, "data", None)
    rate = getattr(bunch, "sampling_rate", None)
    if data is None or rate is None:
        raise ParameterError(
            "the corpus has neither filenames nor data with a sampling_rate; expected a "
            "Bunch of sertools.datasets"
        )
    return data, int(rate)


def train_model(
    corpus: Any,
    *,
    feature: str = "mfcc",
    classifier: str = "svm",
    root: str | os.PathLike[str] | None = None,
    embedder_params: Mapping[str, Any] | None = None,
    classifier_params: Mapping[str, Any] | None = None,
    random_state: int = 0,
    study: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    n_boot: int = 1000,
    verbose: bool = False,
) -> Any:
    """Fit one pipeline — a feature set then a classifier — on a whole corpus.

    Parameters
    ----------
    corpus : Bunch, str or path-like
        The training data: a loaded corpus Bunch, a corpus name with ``root``,
        ``"NAME=PATH"``, or a manifest file (see :func:`resolve_corpus`).
    feature : str, default="mfcc"
        A feature-set name of the registry
        (:func:`sertools.features.available_feature_sets`).
    classifier : {"svm", "svm-scaled", "dnn"}, default="svm"
        ``svm``: the paper's ``SVC(C=10, gamma=1e-3)``; ``svm-scaled``:
        ``StandardScaler`` + ``SVC(C=10, gamma="scale")``; both with Platt-scaled
        probabilities (:func:`platt_calibrated`: scikit-learn's
        ``CalibratedClassifierCV(..., method="sigmoid", ensemble=False)``, the
        replacement of the deprecated ``SVC(probability=True)``). ``dnn``:
        :class:`sertools.DNNClassifier` (softmax probabilities).
    root : str or path-like, optional
        The corpus folder, when ``corpus`` is a name.
    embedder_params : mapping, optional
        Parameters of the embedder (``model=`` / ``checkpoint=`` for a neural
        feature set, ``device``, ``cache``, ...).
    classifier_params : mapping, optional
        Parameters of the classifier (e.g. ``{"max_epochs": 50}`` for the DNN).
    random_state : int, default=0
        Seed of the DNN.
    study : str or path-like, optional
        Output folder of a ``sertools study`` that evaluated this corpus,
        feature set and classifier: its cross-validated scores go into the
        model card (needs ``out``).
    out : str or path-like, optional
        Save the fitted pipeline there (:func:`~sertools.persist.save_model`,
        with its card and the Markdown card beside it).
    n_boot : int, default=1000
        Bootstrap resamples of the card's confidence interval.
    verbose : bool, default=False
        Progress of the embedding.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``"features"`` (the embedder) and ``"classifier"``, fitted on
        every clip of the corpus.

    Raises
    ------
    ParameterError
        For an unknown feature set, classifier or parameter, or a corpus that
        cannot be loaded.

    Examples
    --------
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.persist import train_model
    >>> corpus = make_synthetic_corpus(n_per_class=6, random_state=0)
    >>> pipe = train_model(corpus, feature="mfcc", classifier="svm")
    >>> pipe
    Pipeline(steps=[('features', MFCCEmbedder(sampling_rate=16000)),
                    ('classifier',
                     CalibratedClassifierCV(cv=5, ensemble=False,
                                            estimator=SVC(C=10, gamma=0.001)))])
    >>> pipe.predict_proba(corpus.data[:2]).shape
    (2, 4)
    """
    from sklearn.pipeline import Pipeline

    from ..study import CLASSIFIERS, make_classifier, make_embedder
    from ..study.catalogue import ESTIMATORS

    if classifier not in CLASSIFIERS:
        raise ParameterError(
            f"unknown classifier {classifier!r}; expected one of {', '.join(CLASSIFIERS)}"
        )
    if study is not None and out is None:
        raise ParameterError(
            "train_model(study=...) puts the study's scores in the saved card: give out= too"
        )
    bunch = resolve_corpus(corpus, root)
    X, rate = _clips(bunch)
    params = dict(embedder_params or {})
    if rate is not None:
        params.setdefault("sampling_rate", rate)
    if verbose:
        params.setdefault("verbose", True)
    embedder = make_embedder(feature, **params)
    clf = make_classifier(classifier, random_state=random_state, **dict(classifier_params or {}))
    if ESTIMATORS[classifier].calibrate:
        clf = platt_calibrated(clf, bunch.target)
    pipe = Pipeline([(EMBEDDER_STEP, embedder), (CLASSIFIER_STEP, clf)])
    pipe.fit(X, bunch.target)
    if out is not None:
        from ._card import make_card
        from ._io import save_model

        name = str(getattr(bunch, "corpus", None) or "corpus")
        card = make_card(
            pipe,
            feature_set=feature,
            classifier=classifier,
            corpus=name,
            target=bunch.target,
            speakers=getattr(bunch, "speaker", None),
            study=study,
            n_boot=n_boot,
        )
        save_model(pipe, out, card=card)
    return pipe
