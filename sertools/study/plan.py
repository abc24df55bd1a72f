"""The plan of a study: its corpora, protocols and folds, the cells' keys, what is left to compute.

Everything here is cheap (file lists and labels, no audio, no model): the steps
of :func:`~sertools.study.run_study` that come before any extraction.

* :func:`read_corpora`, :func:`read_protocols`, :func:`build_embedders`,
  :func:`build_estimators` check the arguments and name every part;
* :func:`make_plan` loads the corpora (file lists), draws the folds of every
  (corpus, protocol), computes each cell's digest (clips, labels, folds and
  everything that determines the models' predictions) and reads back the
  finished cells of the store: a :class:`Plan`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold, check_cv

from .._exceptions import ParameterError
from ._store import CellStore, fingerprint
from .catalogue import (
    CLASSIFIERS,
    FEATURE_SETS,
    PROTOCOLS,
    _embedder_class,
    _route_params,
    make_classifier,
    make_embedder,
    model_param,
)
from .result import StudyResult

#: a cell's key: (corpus, protocol, feature set, classifier)
CellKey = tuple[str, str, str, str]


# --------------------------------------------------------------------------- corpora
@dataclass
class _Corpus:
    name: str
    X: Any = None
    y: np.ndarray | None = None
    groups: np.ndarray | None = None  # speakers (clusters of the bootstrap)
    bunch: Any = None
    sampling_rate: int | None = None
    error: str | None = None
    digest: str = ""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, ParameterError):
        return text
    return f"{type(exc).__name__}: {text}"


def _canonical(name: Any) -> str:
    """A known corpus alias as its canonical name (``crema-d`` -> ``cremad``); else as is."""
    from ..datasets._corpora import canonical_corpus_name

    try:
        return canonical_corpus_name(name)
    except ParameterError:
        return str(name)


def _as_corpus(name: str, value: Any) -> _Corpus:
    """Normalise a corpus given as a folder, a loader Bunch or ``(X, y[, groups])``."""
    from ..datasets import load_corpus

    try:
        if isinstance(value, (str, os.PathLike)):
            value = load_corpus(name, value)
        if isinstance(value, tuple):
            if len(value) not in (2, 3):
                raise ParameterError(
                    f"corpus {name!r}: expected (X, y) or (X, y, groups), got a tuple of "
                    f"{len(value)}"
                )
            X, y = value[0], np.asarray(value[1])
            groups = None if len(value) == 2 or value[2] is None else np.asarray(value[2])
            bunch = None
            rate = None
        elif hasattr(value, "target"):
            bunch = value
            y = np.asarray(bunch.target)
            files = getattr(bunch, "filenames", None)
            X = files if files is not None else bunch.data
            groups = getattr(bunch, "speaker", None)
            groups = None if groups is None else np.asarray(groups)
            rate = getattr(bunch, "sampling_rate", None) if files is None else None
        else:
            raise ParameterError(
                f"corpus {name!r}: expected a folder, a sertools.datasets Bunch or (X, y), "
                f"got {type(value).__name__}"
            )
        if len(X) != len(y):
            raise ParameterError(f"corpus {name!r}: X has {len(X)} clips but y has {len(y)} labels")
        if groups is not None and len(groups) != len(y):
            raise ParameterError(
                f"corpus {name!r}: groups has {len(groups)} entries but y has {len(y)}"
            )
        corpus = _Corpus(name, X, y, groups, bunch, rate)
        corpus.digest = fingerprint(y, groups, clips=X)
        return corpus
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        return _Corpus(name, error=f"corpus {name!r} could not be loaded: {_one_line(exc)}")


def _splits(corpus: _Corpus, protocol: Any, *, n_splits: int, seed: int | None) -> list:
    """Folds of ``protocol`` on ``corpus``: a list of (train, test) index arrays."""
    from ..datasets.protocols import PROTOCOLS as GET_CV_PROTOCOLS
    from ..datasets.protocols import RECOMMENDED_PROTOCOL, get_cv

    y = corpus.y
    groups = None
    if not isinstance(protocol, str):
        cv = check_cv(protocol, y, classifier=True)
        groups = corpus.groups
    elif protocol == "paper":
        cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    elif protocol == "speaker" or protocol in GET_CV_PROTOCOLS:
        own_folds = protocol in ("emobox", "predefined")
        if (
            not own_folds
            and corpus.groups is None
            and getattr(corpus.bunch, "session", None) is None
        ):
            raise ParameterError(
                f"protocol {protocol!r} needs speakers, but corpus {corpus.name!r} has no "
                "speaker information; give (X, y, speakers) or a loader's Bunch"
            )
        data = corpus.bunch
        if data is None:
            from sklearn.utils import Bunch

            data = Bunch(target=y, speaker=corpus.groups, corpus=corpus.name)
        if protocol == "speaker":
            name = getattr(data, "corpus", None)
            if name in RECOMMENDED_PROTOCOL:
                protocol = RECOMMENDED_PROTOCOL[name]
            else:  # few speakers: leave one out; many: grouped k-fold
                n_spk = np.unique(corpus.groups).size
                protocol = "loso" if n_spk <= 12 else "speaker-kfold"
        cv, groups = get_cv(data, protocol, n_splits=n_splits, random_state=seed)
    else:
        raise ParameterError(
            f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)} "
            "(or a scikit-learn splitter)"
        )
    return [
        (np.asarray(tr), np.asarray(te)) for tr, te in cv.split(np.zeros((len(y), 1)), y, groups)
    ]


def _repeats(folds: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[int]:
    """Repeat number of each fold: a new repeat starts when a fold tests a clip again."""
    out, seen, rep = [], set(), 0
    for _, test in folds:
        t = set(test.tolist())
        if seen & t:
            rep, seen = rep + 1, set()
        seen |= t
        out.append(rep)
    return out


#: parameters that do not change results (left out of cell and cache keys)
_VOLATILE = frozenset({"verbose", "n_jobs", "n_threads", "batch_seconds", "cache"})


def _estimator_spec(est: BaseEstimator) -> dict[str, Any]:
    params = est.get_params(deep=True)
    return {
        "class": type(est).__name__,
        "params": {
            k: repr(v)
            for k, v in sorted(params.items())
            if k.rsplit("__", 1)[-1] not in _VOLATILE and not isinstance(v, BaseEstimator)
        },
    }


# --------------------------------------------------------------------------- arguments
def read_corpora(X: Any, y: Any, groups: Any) -> dict[str, Any]:
    """The corpora by canonical name, as given (folders, Bunches or tuples; nothing loaded)."""
    if isinstance(X, Mapping):
        if y is not None or groups is not None:
            raise ParameterError("give y and groups inside each corpus when X is a mapping")
        if not X:
            raise ParameterError("no corpora given")
        raw = {}
        for key, value in X.items():
            name = _canonical(key)
            if name in raw:
                raise ParameterError(f"corpus {name!r} given more than once")
            if isinstance(value, (str, os.PathLike)):
                from ..datasets._corpora import canonical_corpus_name, is_manifest

                if not is_manifest(value):  # a manifest may be named anything
                    canonical_corpus_name(name)  # a folder needs a known corpus name
            raw[name] = value
        return raw
    if y is None:
        raise ParameterError("y is required when X is a sequence of clips")
    if len(X) != len(np.asarray(y)):
        raise ParameterError(f"X has {len(X)} clips but y has {len(np.asarray(y))} labels")
    return {"corpus": (X, y, groups)}


def read_protocols(protocols: Sequence[Any] | None, cv: Any) -> dict[str, Any]:
    """Protocol name -> protocol (a name of :data:`PROTOCOLS` or a splitter, named ``"cv"``)."""
    if protocols is None:
        protocols = ("paper",) if cv is None else (cv,)
    elif cv is not None:
        raise ParameterError("give either protocols or cv, not both")
    protocols = list(protocols)
    if not protocols:
        raise ParameterError(f"no protocols given; expected some of {', '.join(PROTOCOLS)}")
    for p in protocols:
        if isinstance(p, str) and p not in PROTOCOLS:
            raise ParameterError(f"unknown protocol {p!r}; expected one of {', '.join(PROTOCOLS)}")
    names = [p if isinstance(p, str) else "cv" for p in protocols]
    if len(set(names)) != len(names):
        raise ParameterError(f"protocols named more than once: {names}")
    return dict(zip(names, protocols, strict=True))


def _named(
    kind: str,
    spec: Sequence[str] | Mapping[str, Any],
    valid: Mapping[str, str],
) -> list[str]:
    names = list(spec)
    if not names:
        raise ParameterError(f"no {kind} given; expected some of {', '.join(valid)}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ParameterError(f"{kind} named more than once: {', '.join(dup)}")
    return names


def build_embedders(
    features: Sequence[str] | Mapping[str, BaseEstimator],
    embedder_params: Mapping[str, Any] | None,
    models: Mapping[str, str | os.PathLike[str]] | None,
) -> dict[str, BaseEstimator]:
    """Feature-set name -> unfitted embedder (named sets built from the catalogue)."""
    names = _named("feature sets", features, FEATURE_SETS)
    if isinstance(features, Mapping):
        return dict(features)
    for n in names:
        _embedder_class(n)
    routed = _route_params(names, dict(embedder_params or {}))
    for fname, path in (models or {}).items():
        if fname not in names:
            raise ParameterError(
                f"a model was given for {fname!r}, which is not among the selected feature "
                f"sets {', '.join(names)}"
            )
        key = model_param(fname)
        if key is None:
            raise ParameterError(
                f"feature set {fname!r} has no pretrained model; models can be given for "
                + ", ".join(n for n in FEATURE_SETS if model_param(n))
            )
        routed[fname][key] = os.fspath(path)
    return {n: make_embedder(n, **routed[n]) for n in names}


def build_estimators(
    classifiers: Sequence[str] | Mapping[str, BaseEstimator],
    classifier_params: Mapping[str, Mapping[str, Any]] | None,
    random_state: int | None,
) -> dict[str, BaseEstimator]:
    """Classifier name -> unfitted estimator (named ones built from the catalogue)."""
    names = _named("classifiers", classifiers, CLASSIFIERS)
    if isinstance(classifiers, Mapping):
        return dict(classifiers)
    cparams = dict(classifier_params or {})
    for cname in cparams:
        if cname not in names:
            raise ParameterError(
                f"classifier_params for {cname!r}, which is not among the selected "
                f"classifiers {', '.join(names)}"
            )
    return {n: make_classifier(n, random_state=random_state, **cparams.get(n, {})) for n in names}


# --------------------------------------------------------------------------- the plan
def _failed(key: Sequence[str], reason: str) -> dict[str, Any]:
    return dict(zip(StudyResult.KEYS, key, strict=True), reason=reason)


@dataclass
class Plan:
    """Corpora, folds and cells of a study; which cells are finished and which are left.

    Built by :func:`make_plan`; :mod:`.execute` computes the cells left.
    """

    corpora: dict[str, _Corpus]
    protocols: list[str]
    embedders: dict[str, BaseEstimator]
    estimators: dict[str, BaseEstimator]
    store: CellStore | None = None
    folds: dict[tuple[str, str], list] = field(default_factory=dict)
    #: (corpus, feature) -> the (protocol, classifier) cells still to compute
    todo: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    #: finished cells (read back or computed): key -> record
    done: dict[CellKey, dict] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    cross_pairs: list[tuple[str, str]] = field(default_factory=list)

    def embedder_for(self, fname: str, corpus: _Corpus) -> BaseEstimator:
        """A fresh clone of ``fname``'s embedder, given the corpus's rate when it has none."""
        emb = clone(self.embedders[fname])
        params = emb.get_params(deep=False)
        if corpus.sampling_rate is not None and params.get("sampling_rate", 0) is None:
            emb.set_params(sampling_rate=corpus.sampling_rate)
        return emb

    def digest(self, cname: str, pname: str, fname: str, clf_name: str) -> str:
        """Digest of everything that determines a cell's result."""
        corpus = self.corpora[cname]
        tests = [te for _, te in self.folds[cname, pname]]
        trains = [tr for tr, _ in self.folds[cname, pname]]
        return fingerprint(
            corpus.digest,
            fingerprint(*tests, *trains),
            _estimator_spec(self.embedder_for(fname, corpus)),
            _estimator_spec(self.estimators[clf_name]),
        )

    def cross_digest(self, a: str, b: str, f: str, c: str, labels: list) -> str:
        """Digest of a cross-corpus cell (train on ``a``, test on ``b``, on ``labels``)."""
        return fingerprint(
            self.corpora[a].digest,
            self.corpora[b].digest,
            labels,
            _estimator_spec(self.embedder_for(f, self.corpora[a])),
            _estimator_spec(self.embedder_for(f, self.corpora[b])),
            _estimator_spec(self.estimators[c]),
        )

    def cell_keys(self) -> list[CellKey]:
        """Every in-corpus cell of the study, in its stable order."""
        return [
            (c, p, f, m)
            for c in self.corpora
            for p in self.protocols
            for f in self.embedders
            for m in self.estimators
        ]

    def n_todo(self) -> int:
        """Number of in-corpus cells still to compute."""
        return sum(len(v) for v in self.todo.values())

    def needed_features(self) -> set[str]:
        """Feature sets with a cell left to compute (in-corpus or cross-corpus)."""
        needed = {f for (_, f) in self.todo}
        if self.cross_pairs:
            from .cross import shared_labels

            for a, b in self.cross_pairs:
                labels = shared_labels(self.corpora[a].y, self.corpora[b].y)
                if len(labels) < 2:
                    continue
                for f in self.embedders:
                    for c in self.estimators:
                        key = ("cross", a, b, f, c)
                        if (
                            self.store is None
                            or self.store.load(key, self.cross_digest(a, b, f, c, labels)) is None
                        ):
                            needed.add(f)
        return needed


def make_plan(
    raw: Mapping[str, Any],
    protocols: Mapping[str, Any],
    embedders: dict[str, BaseEstimator],
    estimators: dict[str, BaseEstimator],
    *,
    n_splits: int,
    seed: int | None,
    store: CellStore | None,
    cross_corpus: bool,
    say: Callable[[str], None],
) -> Plan:
    """Load the corpora (file lists), draw the folds, read back the finished cells."""
    plan = Plan(
        corpora={name: _as_corpus(name, value) for name, value in raw.items()},
        protocols=list(protocols),
        embedders=embedders,
        estimators=estimators,
        store=store,
    )
    _draw_folds(plan, protocols, n_splits=n_splits, seed=seed, say=say)
    _read_back(plan)
    if cross_corpus:
        ok = [c for c in plan.corpora if plan.corpora[c].error is None]
        plan.cross_pairs = [(a, b) for a in ok for b in ok if a != b]
    if plan.done:
        say(f"{len(plan.done)} finished cell(s) read back from {store.folder}")
    return plan


def _draw_folds(
    plan: Plan,
    protocols: Mapping[str, Any],
    *,
    n_splits: int,
    seed: int | None,
    say: Callable[[str], None],
) -> None:
    """Folds of every (corpus, protocol); a corpus or protocol that fails fails its cells."""
    for cname, corpus in plan.corpora.items():
        if corpus.error is not None:
            say(f"[{cname}] {corpus.error}")
            continue
        for pname, proto in protocols.items():
            try:
                plan.folds[cname, pname] = _splits(corpus, proto, n_splits=n_splits, seed=seed)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:
                reason = f"corpus {cname!r}, protocol {pname!r}: {_one_line(exc)}"
                say(f"[{cname}/{pname}] {reason}")
                plan.failures += [
                    _failed((cname, pname, f, c), reason)
                    for f in plan.embedders
                    for c in plan.estimators
                ]
    for cname, corpus in plan.corpora.items():
        if corpus.error is not None:
            plan.failures += [
                _failed((cname, p, f, c), corpus.error)
                for p in plan.protocols
                for f in plan.embedders
                for c in plan.estimators
            ]


def _read_back(plan: Plan) -> None:
    """Finished cells from the store into ``done``; the others into ``todo``."""
    for cname, pname in plan.folds:
        for fname in plan.embedders:
            for clf_name in plan.estimators:
                key = (cname, pname, fname, clf_name)
                rec = None if plan.store is None else plan.store.load(key, plan.digest(*key))
                if rec is not None:
                    plan.done[key] = rec
                else:
                    plan.todo.setdefault((cname, fname), []).append((pname, clf_name))
