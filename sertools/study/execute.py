"""Executing a study's plan: prepare every model once, embed each corpus once, fit the folds.

:class:`Executor` computes the cells a :class:`~sertools.study.plan.Plan` left to do:
it loads each feature set's model before any extraction (fail fast; the cells'
digests hold each model's content fingerprint), embeds
each (corpus, feature set) once through the per-clip cache, fits the
classifier on each training fold, and stores each finished cell atomically.
A failing extraction or fit fails its cells only.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, clone

from .._exceptions import ParameterError
from ..metrics import unweighted_average_recall, weighted_average_recall
from ..utils._progress import progress_bar
from ._store import STD_DDOF
from .plan import Plan, _Corpus, _failed, _one_line, _repeats, model_identity


def extract_features(
    name: str,
    embedder: BaseEstimator,
    X: Sequence,
    *,
    cache_dir: str | Path | None = None,
) -> np.ndarray:
    """Embed ``X`` with a fresh clone of ``embedder``, through its per-clip cache.

    Parameters
    ----------
    name : str
        Feature-set name (used in messages).
    embedder : BaseEmbedder
        Unfitted embedder.
    X : sequence of clips
        Waveforms or file paths.
    cache_dir : str or Path or None
        Folder of the embedders' per-clip cache (``embedder.set_params(cache=
        cache_dir)``, see :mod:`sertools.features._cache`): a clip already
        embedded by the same model with the same parameters is read back, and
        an interrupted extraction resumes where it stopped. None: the
        embedder's own ``cache`` setting. An embedder without a ``cache``
        parameter embeds every clip.

    Returns
    -------
    ndarray of shape (n_clips, n_features)
        One embedding per clip, in the order of ``X``.

    Examples
    --------
    >>> import tempfile
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.study import extract_features, make_embedder
    >>> corpus = make_synthetic_corpus(n_per_class=2, random_state=0)
    >>> embedder = make_embedder("mfcc", sampling_rate=corpus.sampling_rate)
    >>> extract_features("mfcc", embedder, corpus.data).shape  # (n_clips, n_features)
    (8, 39)

    With a cache folder, a second extraction reads the vectors back:

    >>> tmp = tempfile.TemporaryDirectory()
    >>> first = extract_features("mfcc", embedder, corpus.data, cache_dir=tmp.name)
    >>> again = extract_features("mfcc", embedder, corpus.data, cache_dir=tmp.name)
    >>> bool((first == again).all())
    True
    >>> tmp.cleanup()
    """
    emb = clone(embedder)
    if cache_dir is not None and "cache" in emb.get_params(deep=False):
        emb.set_params(cache=os.fspath(cache_dir))
    return np.asarray(emb.fit_transform(X))


def _fit_fold(clf: BaseEstimator, F: np.ndarray, y: np.ndarray, train, test):
    est = clone(clf)
    start = time.perf_counter()
    est.fit(F[train], y[train])
    fit_time = time.perf_counter() - start
    return np.asarray(est.predict(F[test])), fit_time


def _fits_together(clf: BaseEstimator) -> bool:
    """Whether ``clf`` trains its folds as one batched model (sertools' DNNs)."""
    return bool(getattr(clf, "_fits_folds_together", False))


def _fit_cell(clf: BaseEstimator, F: np.ndarray, y: np.ndarray, splits: list) -> list:
    """Every fold of one cell, as ``_fit_fold`` gives them; a DNN's folds in one stack.

    :func:`sertools.models.fit_folds` trains one network per fold together, each
    as ``clone(clf).fit(F[train], y[train])`` would (within float rounding,
    ``docs/dnn.md``); each fold's ``fit_time`` is its share of the stack's time.
    """
    if not _fits_together(clf):
        return [_fit_fold(clf, F, y, tr, te) for tr, te in splits]
    from ..models import fit_folds

    start = time.perf_counter()
    fitted = fit_folds(clf, F, y, splits)
    share = (time.perf_counter() - start) / len(splits)
    return [
        (np.asarray(est.predict(F[te])), share) for est, (_, te) in zip(fitted, splits, strict=True)
    ]


def _guarded(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, or the exception it raised (a failing cell fails alone)."""
    try:
        return fn(*args)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        return exc


def _parallel(n_jobs: int, tasks: list) -> list:
    """Run ``tasks`` in ``n_jobs`` processes, with BLAS/OpenMP threads per worker set so
    that ``n_jobs`` workers share the cores (sertools' DNN uses one torch thread)."""
    from joblib import parallel_config

    cores = os.cpu_count() or 1
    inner = max(1, cores // n_jobs)
    with parallel_config(backend="loky", inner_max_num_threads=inner):
        return Parallel(n_jobs=n_jobs)(tasks)


class Executor:
    """Computes the cells a :class:`~sertools.study.plan.Plan` left to do.

    Parameters
    ----------
    plan : Plan
        Its ``done`` and ``failures`` grow as cells finish or fail.
    cache_dir : str or Path or None
        Per-clip cache of the embedders (see :func:`extract_features`).
    n_jobs : int or None
        Folds fitted in parallel (joblib).
    say : callable
        Receives progress lines.
    bar : bool
        Show a progress bar over cells.
    """

    def __init__(
        self,
        plan: Plan,
        *,
        cache_dir: str | Path | None,
        n_jobs: int | None,
        say: Callable[[str], None],
        bar: bool,
    ) -> None:
        self.plan = plan
        self.cache_dir = cache_dir
        self.n_jobs = n_jobs
        self.say = say
        self.bar = bar
        self.errors: dict[str, str] = {}
        self.cross_rows: list[dict] = []
        self.cross_predictions: list = []
        self._features: dict[tuple[str, str], tuple[np.ndarray, float]] = {}

    def prepare(self, *, keep_going: bool) -> None:
        """Load every feature set's model once, before any extraction (fail fast).

        Fills :attr:`Plan.models` with what determines each feature set's
        vectors (:func:`~.plan.model_identity`, the content hash of its
        checkpoints), which the cells' digests need. A model that cannot be
        loaded stops the study (``ParameterError`` naming every such feature
        set, chained to the first cause) unless ``keep_going``, when its cells
        fail. A signal feature set that cannot be fitted fails its cells at
        extraction, as before.
        """
        plan = self.plan
        if not plan.folds and not plan.cross_pairs:
            return  # no corpus could be used: nothing to prepare
        causes: dict[str, BaseException] = {}
        for name, emb in plan.embedders.items():
            has_model = hasattr(emb, "_get_backend")
            if has_model:
                self.say(f"[{name}] loading the model")
            try:
                plan.models[name] = model_identity(emb)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:
                if has_model:
                    self.errors[name] = f"feature set {name!r}: {_one_line(exc)}"
                    causes[name] = exc
        if self.errors and not keep_going:
            raise ParameterError("; ".join(self.errors.values())) from next(iter(causes.values()))

    def features_of(self, cname: str, fname: str) -> tuple[np.ndarray, float]:
        """Features of a corpus (embedded once) and the seconds the extraction took."""
        if (cname, fname) not in self._features:
            if fname in self.errors:
                raise ParameterError(self.errors[fname])
            corpus = self.plan.corpora[cname]
            self.say(f"[{cname}/{fname}] embedding {len(corpus.y)} clips")
            start = time.perf_counter()
            F = extract_features(
                fname, self.plan.embedder_for(fname, corpus), corpus.X, cache_dir=self.cache_dir
            )
            seconds = time.perf_counter() - start
            self.say(f"[{cname}/{fname}] {F.shape[1]} features in {seconds:.1f} s")
            self._features[cname, fname] = (F, seconds)
        return self._features[cname, fname]

    def run_cells(self) -> None:
        """Compute every in-corpus cell left, storing each as it finishes."""
        plan, say = self.plan, self.say
        # the cells' bar (on a terminal); the embedders' own bars stay hidden inside it
        with contextlib.ExitStack() as bars:
            bar = bars.enter_context(
                progress_bar(total=plan.n_todo(), desc="cells", unit="cell", enabled=self.bar)
            )
            for (cname, fname), cells in plan.todo.items():
                try:
                    F, ext_time = self.features_of(cname, fname)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as exc:
                    reason = f"embedding corpus {cname!r} with {fname!r}: {_one_line(exc)}"
                    say(f"[{cname}/{fname}] failed: {reason}")
                    plan.failures += [_failed((cname, p, fname, c), reason) for p, c in cells]
                    bar.update(len(cells))
                    continue
                if self.n_jobs not in (None, 1):
                    self._run_cells_parallel(cname, fname, cells, F, ext_time, bar)
                    continue
                for pname, clf_name in cells:
                    key = (cname, pname, fname, clf_name)
                    bar.set_postfix_str("/".join(key))
                    self._run_cell(key, F, ext_time)
                    bar.update()

    def _run_cells_parallel(
        self, cname: str, fname: str, cells: list, F: np.ndarray, ext_time: float, bar: Any
    ) -> None:
        """The cells of one (corpus, feature set) at once: every fold of every cell is a
        task (a DNN cell's folds, trained together, are one), ``n_jobs`` at a time."""
        plan = self.plan
        y = plan.corpora[cname].y
        owner, tasks = [], []  # (cell index, whether the task is the whole cell)
        for i, (pname, clf_name) in enumerate(cells):
            clf, splits = plan.estimators[clf_name], plan.folds[cname, pname]
            if _fits_together(clf):
                owner.append((i, True))
                tasks.append(delayed(_guarded)(_fit_cell, clf, F, y, splits))
            else:
                for tr, te in splits:
                    owner.append((i, False))
                    tasks.append(delayed(_guarded)(_fit_fold, clf, F, y, tr, te))
        outputs = _parallel(effective_n_jobs(self.n_jobs), tasks)
        per_cell: list[Any] = [[] for _ in cells]
        for (i, whole), out in zip(owner, outputs, strict=True):
            if isinstance(per_cell[i], Exception):
                continue
            if isinstance(out, Exception) or whole:
                per_cell[i] = out
            else:
                per_cell[i].append(out)
        for (pname, clf_name), results in zip(cells, per_cell, strict=True):
            key = (cname, pname, fname, clf_name)
            self._record_cell(key, results, ext_time)
            bar.update()

    def _run_cell(self, key: tuple[str, str, str, str], F: np.ndarray, ext_time: float) -> None:
        plan = self.plan
        cname, pname, _, clf_name = key
        corpus = plan.corpora[cname]
        splits = plan.folds[cname, pname]
        results = _guarded(_fit_cell, plan.estimators[clf_name], F, corpus.y, splits)
        self._record_cell(key, results, ext_time)

    def _record_cell(self, key: tuple[str, str, str, str], results: Any, ext_time: float) -> None:
        """Store a finished cell, or its failure (``results`` is then the exception)."""
        plan = self.plan
        cname, pname = key[0], key[1]
        corpus = plan.corpora[cname]
        splits = plan.folds[cname, pname]
        if isinstance(results, Exception):
            reason = f"cell {'/'.join(key)}: {_one_line(results)}"
            self.say(f"failed: {reason}")
            plan.failures.append(_failed(key, reason))
            return
        rec = _cell_record(corpus, splits, results, ext_time)
        plan.done[key] = rec
        if plan.store is not None:
            plan.store.save(key, plan.digest(*key), rec)
        uar = np.array([r["uar"] for r in rec["rows"]])
        self.say(
            f"[{'/'.join(key)}] UAR {100 * uar.mean():.2f} ± "
            f"{100 * uar.std(ddof=STD_DDOF) if len(uar) > 1 else 0:.2f}"
        )

    def run_cross(self) -> None:
        """Compute (or read back) the cross-corpus cells of the plan."""
        plan = self.plan
        if not plan.cross_pairs:
            return
        from .cross import run_cross

        rows, preds, failures = run_cross(
            plan.corpora,
            plan.cross_pairs,
            embedders=list(plan.embedders),
            estimators=plan.estimators,
            features_of=self.features_of,
            errors=self.errors,
            store=plan.store,
            cell_digest=plan.cross_digest,
            say=self.say,
        )
        self.cross_rows, self.cross_predictions = rows, preds
        plan.failures += failures


def _cell_record(corpus: _Corpus, splits: list, results: list, ext_time: float) -> dict:
    """Scores and exactly the predictions of one finished cell (JSON-able)."""
    y = corpus.y
    groups = corpus.groups if corpus.groups is not None else np.arange(len(y))
    rows: list[dict[str, Any]] = []
    pred: dict[str, list] = {
        k: [] for k in ("repeat", "fold", "index", "group", "y_true", "y_pred")
    }
    for k, ((train, test), (yhat, fit_time), rep) in enumerate(
        zip(splits, results, _repeats(splits), strict=True)
    ):
        rows.append(
            {
                "repeat": rep,
                "fold": k,
                "uar": float(unweighted_average_recall(y[test], yhat)),
                "war": float(weighted_average_recall(y[test], yhat)),
                "fit_time": float(fit_time),
                "extraction_time": float(ext_time),
                "n_train": len(train),
                "n_test": len(test),
            }
        )
        pred["repeat"] += [rep] * len(test)
        pred["fold"] += [k] * len(test)
        pred["index"] += test.tolist()
        pred["group"] += [str(g) for g in groups[test]]
        pred["y_true"] += [_plain(v) for v in y[test]]
        pred["y_pred"] += [_plain(v) for v in yhat]
    return {"rows": rows, "predictions": pred}


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
