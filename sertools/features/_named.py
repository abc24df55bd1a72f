"""Named embedders: a pretrained model's own estimator class, written as a class statement.

A family module (``nemo.py``, ``s3prl.py``, ``hf.py``) offers each of its
pretrained models (a :class:`~sertools.features.ModelBundle`) as a class of its
own, so that ``TitaNetEmbedder()`` needs no ``model=`` and grep, IDEs and the
API reference find it::

    @named_embedder
    class TitaNetEmbedder(NeMoEmbedder):
        \"\"\"TitaNet-L speaker embeddings (``titanet_large``, 192-d).\"\"\"

        bundle = TITANET_LARGE

The parameters stay declared once, by the family: :func:`named_embedder` is the
one explicit step that gives the class its ``__init__`` (the family's keyword-only
parameters, the model parameter defaulting to the bundle, or fixed to it), its
feature prefix and the rest of its docstring (the bundle's description, source
and licence, and the family's Parameters section), all from the bundle.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, TypeVar

from ._base import format_default, parameter_entries
from ._bundles import ModelBundle

__all__ = ["named_embedder"]

_T = TypeVar("_T", bound=type)


def named_embedder(cls: _T) -> _T:
    """Class decorator: make ``cls`` the estimator of its ``bundle`` class attribute.

    ``cls`` subclasses a family estimator (e.g.
    :class:`~sertools.features.NeMoEmbedder`) and sets ``bundle`` to one of its
    family's :class:`~sertools.features.ModelBundle` constants, whose
    ``class_name`` is the class's name; its docstring is its summary line.
    The decorator adds:

    - ``__init__``: the family's keyword-only parameters, with the model
      parameter (``model``, or ``upstream`` for S3PRL) defaulting to the
      bundle's name, or, where the family's ``_model_param_fixed`` says so,
      left out and fixed to the bundle's hub name as a class attribute;
    - ``_feature_prefix``: the bundle's;
    - the docstring after the class's own summary: the bundle's description,
      citation, licence and weights, the family's Parameters section (with
      this class's defaults), See Also and Examples.

    Parameters
    ----------
    cls : type
        The named class, without an ``__init__`` of its own.

    Returns
    -------
    type
        ``cls`` itself, completed.

    Raises
    ------
    TypeError
        If ``cls`` has no ``bundle`` of its family named after it, or defines
        ``__init__``.

    Examples
    --------
    >>> import inspect
    >>> from sertools.features import TitaNetEmbedder
    >>> inspect.signature(TitaNetEmbedder).parameters["model"]
    <Parameter "model: 'str | os.PathLike[str] | ModelBundle' = 'titanet_large'">
    >>> TitaNetEmbedder.__doc__.splitlines()[0]
    'TitaNet-L speaker embeddings (``titanet_large``, 192-d).'
    """
    bundle = cls.__dict__.get("bundle")
    family = _family_class(cls)
    if not isinstance(bundle, ModelBundle):
        raise TypeError(f"@named_embedder: {cls.__name__} sets no bundle (a ModelBundle)")
    if bundle.family != getattr(family, "_family", None) or bundle.class_name != cls.__name__:
        raise TypeError(
            f"@named_embedder: {cls.__name__}'s bundle {bundle.name!r} is of family "
            f"{bundle.family!r} and names the class {bundle.class_name!r}; expected "
            f"{getattr(family, '_family', None)!r} and {cls.__name__!r}"
        )
    if "__init__" in cls.__dict__:
        raise TypeError(
            f"@named_embedder: {cls.__name__} defines __init__; a named embedder takes its "
            f"family's ({family.__name__}'s) parameters"
        )
    cls.__init__ = _specialised_init(cls, family, bundle)  # type: ignore[misc]
    cls._feature_prefix = bundle.feature_prefix  # type: ignore[attr-defined]
    cls.__doc__ = _bundle_docstring(cls, family, bundle)
    return cls


def _family_class(cls: type) -> type:
    """The family estimator a named embedder specialises (the nearest base without a bundle)."""
    return next(
        c
        for c in cls.__mro__[1:]
        if c.__dict__.get("bundle") is None and not c.__name__.startswith("_")
    )


def _specialised_init(cls: Any, family: type, bundle: ModelBundle) -> Callable[..., None]:
    """``__init__`` of a named embedder: its family's keyword-only parameters, with
    the model parameter defaulting to the bundle (or fixed to it and dropped)."""
    base = inspect.signature(family.__init__)  # type: ignore[misc]
    params = [p for p in base.parameters.values() if p.name != "self"]
    if cls._model_param_fixed:
        params = [p for p in params if p.name != cls._model_param]
        setattr(cls, cls._model_param, bundle.hub_name)
    else:
        params = [
            p.replace(default=bundle.name) if p.name == cls._model_param else p for p in params
        ]
    names = tuple(p.name for p in params)
    defaults = {p.name: p.default for p in params}

    def __init__(self: Any, **params_: Any) -> None:
        unknown = sorted(set(params_) - set(names))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.__init__() got an unexpected keyword argument "
                f"{unknown[0]!r}"
            )
        for name in names:  # store the parameters, nothing else (scikit-learn's rule)
            setattr(self, name, params_.get(name, defaults[name]))

    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    __init__.__signature__ = inspect.Signature([self_param, *params])  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    __init__.__doc__ = f"Store the parameters (see :class:`{cls.__name__}`)."
    return __init__


def _bundle_docstring(cls: Any, family: type, bundle: ModelBundle) -> str:
    """The class's own summary, then what the bundle and the family say (numpydoc)."""
    own = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    if not own.startswith(bundle.title):
        raise TypeError(
            f"@named_embedder: {cls.__name__}'s docstring should start with its bundle's "
            f"title {bundle.title!r}"
        )
    name = family.__name__
    if cls._model_param_fixed:
        params = f"Parameters as :class:`{name}`, without ``{cls._model_param}``"
    else:
        params = (
            f"Parameters as :class:`{name}`, with ``{cls._model_param}`` defaulting "
            f'to ``"{bundle.name}"``'
        )
    extra = cls._bundle_doc.format(**vars(bundle)) if cls._bundle_doc else ""
    default = bundle.hub_name if cls._model_param_fixed else bundle.name
    return (
        f"{own}\n\n{bundle.description}\n\n"
        f"{params}; features ``{bundle.feature_prefix}0 ...``. {extra}".rstrip()
        + f"\n\nModel: {bundle.citation}. Licence: {bundle.licence}. Weights: {bundle.url}\n"
        + _family_parameters(cls, family, bundle)
        + f"\nSee Also\n--------\n{name} : The family estimator (any model of the family).\n"
        + f"\nExamples\n--------\n>>> from {cls.__module__} import {cls.__name__}\n"
        + f">>> {cls.__name__}().{cls._model_param}\n{default!r}\n"
    )


def _family_parameters(cls: Any, family: type, bundle: ModelBundle) -> str:
    """The family's Parameters section, the model parameter defaulted to the bundle or dropped."""
    entries = parameter_entries(family.__doc__ or "")
    if cls._model_param_fixed:
        entries.pop(cls._model_param, None)
    elif cls._model_param in entries:
        entry = entries[cls._model_param]
        entries[cls._model_param] = re.sub(
            r"default=[^\n]*", f"default={format_default(bundle.name)}", entry, count=1
        )
    if not entries:
        return ""
    return "\nParameters\n----------\n" + "\n".join(entries.values()) + "\n"
