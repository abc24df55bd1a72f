"""Saving and loading fitted pipelines with skops: data, never code.

A saved model is a skops archive (a zip: ``schema.json``, one ``.npy`` file per
array, read with ``allow_pickle=False``) plus our own ``sertools-card.json``.
Before skops builds anything, :func:`load_model` lists every type the schema
names and refuses any that is not in :func:`trusted_types` (or passed as
``trusted=``), naming them. Three things a plain skops dump would get wrong are
handled here:

- the DNN's skorch net pickles its torch module (``torch.save``) inside its
  state: :func:`save_model` stores the network's weights as numpy arrays with
  the few integers that rebuild it, and :func:`load_model` rebuilds the net;
- neural embedders hold a ``torch.device`` and the paths of the training
  machine: the device is stored as text, paths are replaced by the model's
  default location (only file *names* are kept, in ``model_files_`` and the
  card), so a loaded model never reads a path taken from the file;
- the checkpoint identity: a neural embedder keeps ``model_fingerprint_`` (the
  SHA-256 of the checkpoint it was fitted with); :func:`load_model` loads the
  model the embedder now resolves to (``models=`` / ``model_dir=`` /
  ``$SERTOOLS_MODEL_DIR`` / the hub) and refuses it when the hash differs.
"""

from __future__ import annotations

import copy
import io
import json
import os
import sys
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._exceptions import ParameterError
from ..utils._files import atomic_write_bytes, atomic_write_text

__all__ = ["CARD_ENTRY", "FORMAT", "load_model", "read_card", "save_model", "trusted_types"]

#: the format of sertools' model files (written into the card)
FORMAT = "sertools-model/1"
#: the archive entry holding the model card (JSON)
CARD_ENTRY = "sertools-card.json"
#: attribute that replaces a DNN's torch ``module_`` inside a saved file
_DNN_STATE = "net_state_"
#: parameters of neural embedders that may name a file or folder of the training machine
_PATH_PARAMS = ("model", "checkpoint", "upstream", "model_dir")

# Types any fitted pipeline of sertools is made of: containers and scalars, numpy
# arrays and scalars, the scikit-learn estimators sertools builds (see
# sertools.study.make_classifier) and sertools' own estimators (below).
_BASE_TYPES = (
    "builtins.NoneType",
    "builtins.bool",
    "builtins.bytes",
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.str",
    "builtins.tuple",
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.bool_",
    "numpy.float16",
    "numpy.float32",
    "numpy.float64",
    "numpy.int8",
    "numpy.int16",
    "numpy.int32",
    "numpy.int64",
    "numpy.uint8",
    "numpy.str_",
    "numpy.random._generator.Generator",
    "numpy.random.mtrand.RandomState",
    "numpy.random._pcg64.PCG64",
    "numpy.random._mt19937.MT19937",
    "sklearn.pipeline.Pipeline",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.preprocessing._label.LabelEncoder",
)


def trusted_types() -> list[str]:
    """The types a sertools model file may contain, by full name.

    Returns
    -------
    list of str
        ``"module.Class"``: Python containers and scalars, numpy arrays and
        scalars, ``Pipeline`` and Platt calibration, the types of every
        named classifier and regressor of the study's catalogue
        (:class:`~sertools.study.catalogue.EstimatorSpec` ``types``: ``SVC``,
        ``StandardScaler``, :class:`~sertools.DNNClassifier` ...), and
        the embedder class of every built-in feature set and pretrained
        model bundle. Nothing else is built on load unless the caller lists it
        (``load_model(..., trusted=[...])``, e.g. a third-party embedder).

    Examples
    --------
    >>> from sertools.persist import trusted_types
    >>> names = trusted_types()
    >>> "sertools.features.signal.MFCCEmbedder" in names
    True
    >>> "sklearn.svm._classes.SVC" in names, "builtins.eval" in names
    (True, False)
    """
    from ..features import _bundles
    from ..features._registry import BUILTIN_FEATURE_SETS
    from ..study.catalogue import ESTIMATORS

    ours = {fs.class_path.replace(":", ".") for fs in BUILTIN_FEATURE_SETS}
    ours |= {
        f"sertools.features.{b.family}.{b.class_name}"
        for b in _bundles.BUNDLES.values()
        if b.class_name
    }
    ours |= {name for spec in ESTIMATORS.values() for name in spec.types}
    family = {
        "sertools.features.nemo.NeMoEmbedder",
        "sertools.features.s3prl.S3PRLEmbedder",
        "sertools.features.hf.HFEmbedder",
    }
    return sorted(set(_BASE_TYPES) | ours | family)


# --------------------------------------------------------------------- schema audit
def _schema_types(node: Any, found: set[str]) -> None:
    """Collect every type (``module.Class``) and function a skops schema names."""
    if isinstance(node, dict):
        module, cls = node.get("__module__"), node.get("__class__")
        if isinstance(module, str) and isinstance(cls, str):
            found.add(f"{module}.{cls}")
        if node.get("__loader__") in {"FunctionNode", "TypeNode"}:
            content = node.get("content")
            if isinstance(content, dict):
                mod = content.get("module_path") or content.get("__module__")
                name = content.get("function") or content.get("__class__")
                if isinstance(mod, str) and isinstance(name, str):
                    found.add(f"{mod}.{name}")
        for value in node.values():
            _schema_types(value, found)
    elif isinstance(node, list):
        for value in node:
            _schema_types(value, found)


def _read_archive(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The skops schema and the sertools card of a model file (nothing is built)."""
    if not path.is_file():
        raise ParameterError(f"model file {path} does not exist; expected a file of save_model")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "schema.json" not in names or CARD_ENTRY not in names:
                raise ParameterError(
                    f"{path} is not a sertools model file (a skops archive with "
                    f"{CARD_ENTRY}); expected a file written by save_model or 'sertools train'"
                )
            schema = json.loads(zf.read("schema.json"))
            card = json.loads(zf.read(CARD_ENTRY))
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParameterError(
            f"cannot read model file {path} ({type(exc).__name__}: {exc}); expected a file "
            "written by save_model or 'sertools train'"
        ) from exc
    if not isinstance(schema, dict) or not isinstance(card, dict):
        raise ParameterError(f"{path}: malformed model file (schema or card is not an object)")
    return schema, card


def read_card(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The model card stored in a model file, without loading the model.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model` (or ``sertools train``).

    Returns
    -------
    dict
        The card (see :func:`~sertools.persist.make_card`): format, sertools
        version, feature set, classifier, labels, model fingerprints, training
        corpus and size, cross-validated scores when trained from a study.

    Raises
    ------
    ParameterError
        If the file is missing or not a sertools model file.

    Examples
    --------
    >>> from sertools.persist import read_card
    >>> read_card("model.skops")["labels"]  # doctest: +SKIP
    ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise']
    """
    return _read_archive(Path(path))[1]


# ------------------------------------------------------------------ portable copies
def _is_path_like(value: Any) -> bool:
    """Whether a model parameter names a file or folder (rather than a hub name)."""
    if isinstance(value, os.PathLike):
        return True
    if not isinstance(value, str):
        return False
    return (
        os.path.isabs(value)
        or value.startswith((".", "~"))
        or os.sep in value
        or "/" in value
        or Path(value).exists()
    )


def _default_params(est: Any) -> dict[str, Any]:
    import inspect

    sig = inspect.signature(type(est).__init__)
    return {k: p.default for k, p in sig.parameters.items() if k != "self"}


def _portable_embedder(emb: Any) -> Any:
    """A copy of a fitted embedder without paths, devices or caches of this machine."""
    from ..features._bundles import ModelBundle

    out = copy.copy(emb)  # BaseEstimator: a new object over a copied state dict
    state = dict(vars(out))
    state.pop("_backend", None)
    params = out.get_params(deep=False)
    fitted = dict(state.get("_fitted_params") or params)
    defaults = _default_params(out)
    changes: dict[str, Any] = {}
    if "cache" in params:  # a cache folder of this machine (live parameter)
        changes["cache"] = None
    if params.get("verbose"):  # progress of the training run (live parameter)
        changes["verbose"] = False
    for name in _PATH_PARAMS:
        if name not in params:
            continue
        value = params[name]
        if isinstance(value, ModelBundle):
            changes[name] = value.name
        elif _is_path_like(value):
            default = defaults.get(name)
            changes[name] = default.name if isinstance(default, ModelBundle) else default
    for name, value in changes.items():
        state[name] = value
        fitted[name] = value
    if "_fitted_params" in state:
        state["_fitted_params"] = fitted
    if "device_" in state:
        state["device_"] = str(state["device_"])
    if "model_files_" in state:
        state["model_files_"] = tuple(Path(f).name for f in state["model_files_"])
    for key, value in list(state.items()):
        if key.endswith("_") and isinstance(value, os.PathLike):
            state[key] = Path(value).name  # e.g. GE2E's checkpoint_path_: the name only
    vars(out).clear()
    vars(out).update(state)
    return out


def _portable_dnn(dnn: Any) -> Any:
    """A copy of a fitted sertools DNN whose torch module is replaced by its weights."""
    from torch import nn

    out = copy.copy(dnn)
    state = dict(vars(out))
    module = state.pop("module_")
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    state[_DNN_STATE] = {
        "module__n_features": int(linears[0].in_features),
        "module__n_classes": int(linears[-1].out_features),
        "module__dropout": float(dnn.dropout),
        "weights": {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()},
    }
    vars(out).clear()
    vars(out).update(state)
    return out


def _walk(est: Any, fn: Any) -> Any:
    """Apply ``fn`` to every estimator of a (nested) pipeline; returns the new object."""
    from sklearn.pipeline import Pipeline

    if isinstance(est, Pipeline):
        new = copy.copy(est)
        new.steps = [(name, _walk(step, fn)) for name, step in est.steps]
        return new
    return fn(est)


def _dnn_class() -> type | None:
    """The base of sertools' DNNs if its module is imported (else no model holds one: torch
    stays unloaded)."""
    module = sys.modules.get("sertools.models.dnn")
    return getattr(module, "_PaperDNN", None)


def _to_portable(est: Any) -> Any:
    from ..features._base import BaseEmbedder

    dnn = _dnn_class()
    if isinstance(est, BaseEmbedder):
        return _portable_embedder(est)
    if dnn is not None and isinstance(est, dnn) and "module_" in vars(est):
        return _portable_dnn(est)
    return est


def _estimators(est: Any) -> Iterable[tuple[str, Any]]:
    """``(step name, estimator)`` of a (nested) pipeline, leaves only."""
    from sklearn.pipeline import Pipeline

    if isinstance(est, Pipeline):
        for name, step in est.steps:
            for sub, leaf in _estimators(step):
                yield (name if sub == "" else f"{name}__{sub}"), leaf
    else:
        yield "", est


# ----------------------------------------------------------------------------- save
def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    card: Mapping[str, Any] | None = None,
    markdown: bool = True,
    trusted: Iterable[str] = (),
) -> Path:
    """Save a fitted pipeline as a skops file with a model card.

    Parameters
    ----------
    model : estimator
        A fitted scikit-learn estimator, typically the ``Pipeline`` of
        :func:`~sertools.persist.train_model` (embedder, then classifier).
    path : str or path-like
        The file to write (conventionally ``*.skops``); replaced atomically.
    card : mapping, optional
        The model card (:func:`~sertools.persist.make_card`); by default one
        is made from ``model`` alone (no corpus, no scores).
    markdown : bool, default=True
        Also write the card as Markdown beside the file (``path`` with the
        suffix ``.md``).
    trusted : iterable of str, default=()
        Further types the model may contain (e.g. a third-party embedder's
        ``"package.module.Class"``); whoever loads it must trust them too.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ParameterError
        If ``model`` is not fitted, or holds a type that is not trusted (the
        message names it): such a model could not be loaded safely.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sertools.datasets import make_synthetic_corpus
    >>> from sertools.persist import load_model, save_model, train_model
    >>> corpus = make_synthetic_corpus(n_per_class=6, random_state=0)
    >>> pipe = train_model(corpus, feature="mfcc", classifier="svm")
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = save_model(pipe, Path(tmp.name) / "model.skops")
    >>> sorted(p.name for p in Path(tmp.name).iterdir())
    ['model.md', 'model.skops']
    >>> loaded = load_model(path)
    >>> X = corpus.data[:3]
    >>> (loaded.predict(X) == pipe.predict(X)).all()
    np.True_
    >>> tmp.cleanup()
    """
    import skops.io as sio
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from ._card import card_markdown, make_card

    try:
        check_is_fitted(model)
    except (NotFittedError, TypeError) as exc:
        raise ParameterError(f"save_model: the model is not fitted ({exc})") from exc
    path = Path(path)
    if card is None:
        card = make_card(model)
    card = {**dict(card), "format": FORMAT}
    portable = _walk(model, _to_portable)
    data = sio.dumps(portable)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        schema = json.loads(zf.read("schema.json"))
    found: set[str] = set()
    _schema_types(schema, found)
    unknown = sorted(found - set(trusted_types()) - set(trusted))
    if unknown:
        raise ParameterError(
            f"save_model: the model holds type(s) sertools does not trust: {', '.join(unknown)}; "
            "pass trusted=[...] to save it anyway (whoever loads it must trust them too)"
        )
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as zf:
        zf.writestr(CARD_ENTRY, json.dumps(card, indent=2, sort_keys=True, default=str))
    atomic_write_bytes(path, buffer.getvalue())  # the user's normal permissions, no half file
    if markdown:
        atomic_write_text(path.with_suffix(".md"), card_markdown(card, model_file=path.name))
    return path


# ----------------------------------------------------------------------------- load
def load_model(
    path: str | os.PathLike[str],
    *,
    trusted: Iterable[str] = (),
    models: Mapping[str, str | os.PathLike[str]] | None = None,
    model_dir: str | os.PathLike[str] | None = None,
    device: str | None = None,
    cache: str | os.PathLike[str] | bool | None = None,
    check_models: bool = True,
) -> Any:
    """Load a model saved by :func:`save_model`, building only trusted types.

    Parameters
    ----------
    path : str or path-like
        The model file.
    trusted : iterable of str, default=()
        Types to trust beyond :func:`trusted_types` (``"module.Class"``).
    models : mapping of str to path, optional
        Checkpoint of a neural feature set on this machine, by feature-set
        name (as in the card) or pipeline step name, e.g.
        ``{"titanet": "titanet_large.nemo"}``. Without it, the embedder
        finds its model as when it was created: ``model_dir``,
        ``$SERTOOLS_MODEL_DIR``, the package, or a download.
    model_dir : str or path-like, optional
        Folder of local checkpoints for every neural embedder that takes one.
    device : str, optional
        Run the neural embedders and the DNN there (``"cpu"``, ``"cuda"``, ...)
        instead of where they were fitted; by default each uses its own
        ``device`` parameter (embedders: ``"auto"``), the DNN the CPU.
    cache : str, path-like or bool, optional
        Embedding cache folder of the embedders (default: none, or
        ``$SERTOOLS_CACHE``).
    check_models : bool, default=True
        Load each neural embedder's model now and check it is the one the
        embedder was fitted with (otherwise this happens at the first
        prediction).

    Returns
    -------
    estimator
        The fitted pipeline.

    Raises
    ------
    ParameterError
        If the file is not a sertools model file; if it names a type that is
        not trusted (the message lists them); if a neural embedder's model now
        has another checkpoint fingerprint than the fitted one (the message
        names both files and hashes).

    Examples
    --------
    See :func:`save_model`. A file naming a type outside the trusted list is
    refused before anything is built:

    >>> from sertools.persist import load_model
    >>> load_model("tampered.skops")  # doctest: +SKIP
    Traceback (most recent call last):
        ...
    sertools._exceptions.ParameterError: refusing to load tampered.skops: it names type(s)
    that sertools does not trust: subprocess.Popen; ...
    """
    import skops.io as sio

    path = Path(path)
    schema, card = _read_archive(path)
    if card.get("format") != FORMAT:
        raise ParameterError(
            f"{path}: model format {card.get('format')!r}; this sertools reads {FORMAT!r}"
        )
    found: set[str] = set()
    _schema_types(schema, found)
    allowed = set(trusted_types()) | set(trusted)
    unknown = sorted(found - allowed)
    if unknown:
        raise ParameterError(
            f"refusing to load {path}: it names type(s) that sertools does not trust: "
            f"{', '.join(unknown)}; a model file is data, and these would be built as code. "
            "If you know where the file comes from and trust these types, pass "
            "trusted=[...] (sertools predict --trust TYPE)"
        )
    try:
        untrusted = sio.get_untrusted_types(file=path)
        extra = sorted(set(untrusted) - allowed)
        if extra:  # skops sees a type our schema walk did not: refuse it too
            raise ParameterError(
                f"refusing to load {path}: untrusted type(s) {', '.join(extra)}; pass "
                "trusted=[...] to accept them"
            )
        model = sio.load(path, trusted=sorted(untrusted))
    except ParameterError:
        raise
    except Exception as exc:  # skops raises several types on malformed archives
        raise ParameterError(
            f"cannot load model file {path} ({type(exc).__name__}: {' '.join(str(exc).split())})"
        ) from exc
    return _restore(
        model,
        card=card,
        models=dict(models or {}),
        model_dir=model_dir,
        device=device,
        cache=cache,
        check_models=check_models,
    )


def _restore(
    model: Any,
    *,
    card: Mapping[str, Any],
    models: dict[str, Any],
    model_dir: Any,
    device: str | None,
    cache: Any,
    check_models: bool,
) -> Any:
    from ..features._base import BaseEmbedder

    dnn = _dnn_class()
    feature = card.get("feature_set")
    takes_model = {
        name
        for name, est in _estimators(model)
        if isinstance(est, BaseEmbedder) and {"checkpoint", "model"} & set(est.get_params())
    }
    unused = sorted(set(models) - takes_model - ({feature} if takes_model else set()))
    if unused:
        raise ParameterError(
            f"models={{{', '.join(map(repr, unused))}: ...}} matches no neural feature set of "
            f"this model (its feature set: {feature!r})"
        )
    used: set[str] = set()
    from_file = {m.get("step"): m for m in card.get("models") or () if m.get("from_file")}
    for name, est in _estimators(model):
        entry = from_file.get(name)
        if entry is not None and not ({name, feature} & set(models)) and model_dir is None:
            from ..features._checkpoints import MODEL_DIR_ENV

            if not os.environ.get(MODEL_DIR_ENV):
                files = ", ".join(entry.get("files") or ()) or "a checkpoint file"
                raise ParameterError(
                    f"{type(est).__name__} ({feature}) was fitted with {files} "
                    f"({entry.get('fingerprint')}), given by path on the training machine; a "
                    "model file never carries paths: say where that checkpoint is here, "
                    f"models={{{feature!r}: PATH}} (sertools predict --checkpoint {feature}=PATH) "
                    f"or model_dir= / ${MODEL_DIR_ENV}"
                )
        if isinstance(est, BaseEmbedder):
            _restore_embedder(est, name, feature, models, used, model_dir, device, cache)
            if check_models and "device_" in vars(est):
                _check_embedder_model(est)
        elif dnn is not None and isinstance(est, dnn) and _DNN_STATE in vars(est):
            _restore_dnn(est, device)
    return model


def _restore_embedder(
    emb: Any,
    step: str,
    feature: Any,
    models: dict[str, Any],
    used: set[str],
    model_dir: Any,
    device: str | None,
    cache: Any,
) -> None:
    from ..utils import resolve_device

    state = vars(emb)
    fitted = state.get("_fitted_params")
    params = emb.get_params(deep=False)
    changes: dict[str, Any] = {}
    key = next((k for k in (step, feature) if k in models), None)
    if key is not None:
        target = "checkpoint" if "checkpoint" in params else "model" if "model" in params else None
        if target is None:
            raise ParameterError(
                f"models={{{key!r}: ...}}: {type(emb).__name__} takes no checkpoint or model"
            )
        changes[target] = os.fspath(models[key])
        used.add(key)
    if model_dir is not None and "model_dir" in params:
        changes["model_dir"] = os.fspath(model_dir)
    if device is not None and "device" in params:
        changes["device"] = device
    if cache is not None and "cache" in params:
        changes["cache"] = cache
    for name, value in changes.items():
        setattr(emb, name, value)
        if isinstance(fitted, dict):
            fitted[name] = value
    if "device_" in state:
        emb.device_ = resolve_device(emb.device)


def _check_embedder_model(emb: Any) -> None:
    """Load the embedder's model (the fingerprint check runs there) and its fitted attributes."""
    backend = emb._get_backend()
    attrs = getattr(backend, "fitted_attributes", None)
    for name, value in (attrs() if attrs is not None else {}).items():
        setattr(emb, name, value)
    files = tuple(getattr(backend, "checkpoint_files", None) or ())
    if files:
        emb.model_files_ = files


def _restore_dnn(dnn: Any, device: str | None) -> None:
    import torch

    from ..models.dnn import PaperMLP, _resolve_device

    state = vars(dnn).pop(_DNN_STATE)
    try:
        weights = {str(k): torch.from_numpy(np.array(v)) for k, v in state["weights"].items()}
        module = PaperMLP(
            int(state["module__n_features"]),
            int(state["module__n_classes"]),
            dropout=float(state["module__dropout"]),
        )
        dtype = next(w.dtype for w in weights.values() if w.is_floating_point())
        module = module.to(dtype=dtype, device=_resolve_device(device) if device else "cpu")
        module.load_state_dict(weights, strict=True)
    except ParameterError:
        raise
    except Exception as exc:
        raise ParameterError(
            f"cannot rebuild the DNN from the model file ({type(exc).__name__}: {exc})"
        ) from exc
    dnn.module_ = module.eval()
