"""One registry of feature sets: short name -> embedder class.

Every feature set sertools knows is declared once: a pretrained model by its
:class:`~sertools.features.ModelBundle` (``_bundles.py``), the others in
:data:`BUILTIN_FEATURE_SETS`;
the study (``FEATURE_SETS``, :func:`sertools.study.make_embedder`), the command
line (``sertools study --features``), the lazy exports of :mod:`sertools` and
the documentation tables derive from it. Classes are imported only when a
feature set is used, so the registry is cheap to import.

Third-party packages add feature sets in two ways:

- at run time, :func:`register_feature_set` (``"myset"`` -> a class or
  ``"package.module:Class"``);
- declaratively, an entry point in the ``sertools.feature_sets`` group, whose
  name is the short name and whose value is ``"package.module:Class"``::

      # pyproject.toml of the third-party package
      [project.entry-points."sertools.feature_sets"]
      myset = "mypackage.features:MyEmbedder"

  Installed, ``myset`` appears in :func:`available_feature_sets` and in
  ``sertools study --features``.
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import ParameterError
from ._bundles import BUNDLES, ModelBundle

__all__ = [
    "BUILTIN_FEATURE_SETS",
    "ENTRY_POINT_GROUP",
    "FeatureSet",
    "FeatureSetNames",
    "available_feature_sets",
    "get_feature_set",
    "register_feature_set",
]

#: entry-point group through which installed packages declare feature sets
ENTRY_POINT_GROUP = "sertools.feature_sets"

_NAME = re.compile(r"[a-z0-9][a-z0-9_.+-]*")


@dataclass(frozen=True)
class FeatureSet:
    """A named feature set: which embedder class builds it.

    Parameters
    ----------
    name : str
        Short name, as given to ``sertools study --features`` (lowercase, no commas).
    class_path : str
        ``"package.module:ClassName"`` of the embedder (imported by :meth:`load`).
    family : str
        Backend family (``"signal"``, ``"nemo"``, ``"s3prl"``, ...; for an entry
        point, the distribution that declares it).
    description : str
        One line for tables and ``--help``.
    embedder : type or None
        The class itself, when it was registered as a class (``class_path`` is
        then informative only: a class defined in a function cannot be imported).

    Examples
    --------
    The registry's entries are feature sets; nothing is imported until
    :meth:`load`:

    >>> fs = get_feature_set("egemaps")
    >>> fs
    FeatureSet(name='egemaps', class_path='sertools.features.opensmile:EGeMAPSEmbedder',
               family='opensmile', description='eGeMAPS v02 functionals')
    >>> fs.load()
    <class 'sertools.features.opensmile.EGeMAPSEmbedder'>

    A feature set of a third-party package (see :func:`register_feature_set`
    to make it available by name):

    >>> FeatureSet("myset", "mypackage.features:MyEmbedder", "third-party")
    FeatureSet(name='myset', class_path='mypackage.features:MyEmbedder',
               family='third-party', description='')
    """

    name: str
    class_path: str
    family: str
    description: str = ""
    embedder: type | None = field(default=None, repr=False, compare=False)

    @property
    def module(self) -> str:
        """The module that defines the embedder class.

        Examples
        --------
        >>> FeatureSet("myset", "mypackage.features:MyEmbedder", "third-party").module
        'mypackage.features'
        """
        return self.class_path.partition(":")[0]

    @property
    def class_name(self) -> str:
        """The embedder class's name (read from ``class_path``, or the class itself).

        Examples
        --------
        >>> get_feature_set("titanet").class_name  # nothing is imported
        'TitaNetEmbedder'
        """
        if self.embedder is not None:
            return self.embedder.__name__
        return self.class_path.partition(":")[2]

    def load(self) -> type:
        """Import and return the embedder class.

        Returns
        -------
        type
            The embedder class (``embedder`` itself when set, else imported
            from ``class_path``).

        Raises
        ------
        ParameterError
            If the module or class cannot be found, or is not a class with
            ``fit`` and ``transform``.

        Examples
        --------
        >>> get_feature_set("mfcc").load()
        <class 'sertools.features.signal.MFCCEmbedder'>
        >>> FeatureSet("myset", "mypackage.features:MyEmbedder", "third-party").load()
        Traceback (most recent call last):
            ...
        sertools._exceptions.ParameterError: feature set 'myset': cannot import
        mypackage.features:MyEmbedder (ModuleNotFoundError: No module named 'mypackage')
        """
        if self.embedder is not None:
            return _checked(self, self.embedder)
        try:
            cls = getattr(importlib.import_module(self.module), self.class_name)
        except (ImportError, AttributeError) as exc:
            raise ParameterError(
                f"feature set {self.name!r}: cannot import {self.class_path} "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        return _checked(self, cls)


def _checked(fs: FeatureSet, cls: Any) -> type:
    if not (isinstance(cls, type) and hasattr(cls, "fit") and hasattr(cls, "transform")):
        raise ParameterError(
            f"feature set {fs.name!r}: {fs.class_path} is not an estimator class "
            "with fit and transform"
        )
    return cls


def _builtin(name: str, module: str, cls: str, family: str, description: str) -> FeatureSet:
    return FeatureSet(name, f"sertools.features.{module}:{cls}", family, description)


def _from_bundle(bundle: ModelBundle) -> FeatureSet:
    """The feature set of a pretrained model: its family module's named estimator."""
    cls = f"sertools.features.{bundle.family}:{bundle.class_name}"
    return FeatureSet(str(bundle.feature_set), cls, bundle.family, bundle.title)


#: sertools' own feature sets: the paper's nine first (signal, then one per
#: pretrained model bundle that has a ``feature_set``, see ``_bundles.py``), then
#: the other built-in families
BUILTIN_FEATURE_SETS: tuple[FeatureSet, ...] = (
    _builtin("mel", "signal", "MelSpectrogramEmbedder", "signal", "log-Mel spectrogram, mean"),
    _builtin("mfcc", "signal", "MFCCEmbedder", "signal", "MFCCs, mean"),
    *(_from_bundle(b) for b in BUNDLES.values() if b.feature_set and b.class_name),
    _builtin("egemaps", "opensmile", "EGeMAPSEmbedder", "opensmile", "eGeMAPS v02 functionals"),
    _builtin("compare", "opensmile", "ComParEEmbedder", "opensmile", "ComParE 2016 functionals"),
    _builtin("ge2e", "ge2e", "GE2EEmbedder", "ge2e", "GE2E speaker embedding (Resemblyzer)"),
)

_registered: dict[str, FeatureSet] = {}
_entry_points: dict[str, FeatureSet] | None = None


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ParameterError(
            f"feature set name {name!r}: expected a lowercase name of letters, digits and "
            "'_.+-' (no commas or spaces), starting with a letter or digit"
        )
    return name


def _load_entry_points() -> dict[str, FeatureSet]:
    """Feature sets declared by installed packages (read once per process)."""
    global _entry_points
    if _entry_points is not None:
        return _entry_points
    from importlib.metadata import entry_points

    found: dict[str, FeatureSet] = {}
    builtin = {fs.name for fs in BUILTIN_FEATURE_SETS}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(getattr(ep, "dist", None), "name", None) or "third-party"
        if ep.name in builtin or ep.name in found or not _NAME.fullmatch(ep.name):
            warnings.warn(
                f"ignoring the {ENTRY_POINT_GROUP} entry point {ep.name!r} of {dist}: "
                "the name is taken or not a valid feature set name",
                stacklevel=2,
            )
            continue
        if ":" not in ep.value:
            warnings.warn(
                f"ignoring the {ENTRY_POINT_GROUP} entry point {ep.name!r} of {dist}: "
                f"expected 'package.module:Class', got {ep.value!r}",
                stacklevel=2,
            )
            continue
        found[ep.name] = FeatureSet(ep.name, ep.value, dist, f"from {dist}")
    _entry_points = found
    return found


def available_feature_sets() -> dict[str, FeatureSet]:
    """Every feature set: sertools' own, registered ones, then installed entry points.

    Returns
    -------
    dict of str -> FeatureSet
        In that order; nothing is imported.

    Examples
    --------
    >>> sets = available_feature_sets()
    >>> list(sets)
    ['mel', 'mfcc', ..., 'egemaps', 'compare', 'ge2e'...]
    >>> sets["ge2e"].description
    'GE2E speaker embedding (Resemblyzer)'
    """
    sets = {fs.name: fs for fs in BUILTIN_FEATURE_SETS}
    sets.update(_registered)
    for name, fs in _load_entry_points().items():
        sets.setdefault(name, fs)
    return sets


def get_feature_set(name: str) -> FeatureSet:
    """The feature set called ``name``.

    Parameters
    ----------
    name : str
        A name of :func:`available_feature_sets` (as given to
        ``sertools study --features``).

    Returns
    -------
    FeatureSet
        Its entry; the class is not imported (call :meth:`FeatureSet.load`).

    Raises
    ------
    ParameterError
        If there is none; the message lists the valid names.

    Examples
    --------
    >>> get_feature_set("mfcc")
    FeatureSet(name='mfcc', class_path='sertools.features.signal:MFCCEmbedder',
               family='signal', description='MFCCs, mean')
    >>> get_feature_set("mfcc").load()(n_mfcc=13)
    MFCCEmbedder(n_mfcc=13)
    >>> get_feature_set("MFCC")
    Traceback (most recent call last):
        ...
    sertools._exceptions.ParameterError: unknown feature set 'MFCC'; expected one of
    ['mel', 'mfcc', ...]
    """
    sets = available_feature_sets()
    if not isinstance(name, str) or name not in sets:
        raise ParameterError(f"unknown feature set {name!r}; expected one of {list(sets)}")
    return sets[name]


def register_feature_set(
    name: str,
    embedder: type | str,
    *,
    family: str = "third-party",
    description: str = "",
    replace: bool = False,
) -> FeatureSet:
    """Make a feature set available by name (to the study, the CLI and the tables).

    Parameters
    ----------
    name : str
        Short name (lowercase letters, digits, ``_.+-``).
    embedder : type or str
        The embedder class (a scikit-learn transformer from waveforms to
        ``(n_clips, n_features)``, e.g. a :class:`~sertools.features.BaseEmbedder`
        subclass), or ``"package.module:Class"`` to import it lazily.
    family : str, default="third-party"
        Backend family, shown in tables.
    description : str, default=""
        One line (defaults to the first line of the class docstring).
    replace : bool, default=False
        Allow replacing a feature set registered earlier (never a built-in one).

    Returns
    -------
    FeatureSet
        The new entry, as :func:`get_feature_set` returns it from now on (for
        the rest of the process).

    Raises
    ------
    ParameterError
        If the name is invalid or taken, or ``embedder`` is neither a class nor
        a ``"module:Class"`` string.

    Examples
    --------
    An embedder class (here MFCC 0-12), registered under a new name:

    >>> from sertools.features import MFCCEmbedder, inherit_parameters
    >>> @inherit_parameters
    ... class MFCC13Embedder(MFCCEmbedder):
    ...     'Thirteen time-averaged MFCCs.'
    ...     def __init__(self, *, n_mfcc=13, **params):
    ...         super().__init__(n_mfcc=n_mfcc, **params)
    >>> register_feature_set("mfcc13", MFCC13Embedder)
    FeatureSet(name='mfcc13', class_path='...:MFCC13Embedder', family='third-party',
               description='Thirteen time-averaged MFCCs.')
    >>> get_feature_set("mfcc13").load() is MFCC13Embedder
    True
    >>> register_feature_set("mfcc", MFCC13Embedder)
    Traceback (most recent call last):
        ...
    sertools._exceptions.ParameterError: feature set 'mfcc' is one of sertools' own;
    pick another name

    A class can also be named by its import path, imported at first use:

    >>> register_feature_set("myset", "mypackage.features:MyEmbedder", family="mypackage")
    FeatureSet(name='myset', class_path='mypackage.features:MyEmbedder', family='mypackage',
               description='')

    Registrations last as long as the process; this example removes its two
    (with a private helper, for tests):

    >>> for name in ("mfcc13", "myset"): _unregister_feature_set(name)
    >>> "mfcc13" in available_feature_sets()
    False
    """
    _check_name(name)
    cls = None
    if isinstance(embedder, type):
        cls = embedder
        class_path = f"{embedder.__module__}:{embedder.__qualname__}"
        if not description:
            description = (embedder.__doc__ or "").strip().partition("\n")[0]
    elif isinstance(embedder, str) and re.fullmatch(r"[\w.]+:\w+", embedder):
        class_path = embedder
    else:
        raise ParameterError(
            f"register_feature_set({name!r}, ...): expected an embedder class or "
            f"'package.module:Class', got {embedder!r}"
        )
    if any(fs.name == name for fs in BUILTIN_FEATURE_SETS):
        raise ParameterError(f"feature set {name!r} is one of sertools' own; pick another name")
    if name in _registered and not replace:
        raise ParameterError(
            f"feature set {name!r} is already registered ({_registered[name].class_path}); "
            "pass replace=True to replace it"
        )
    fs = FeatureSet(name, class_path, family, description, cls)
    if cls is not None:
        fs.load()  # checks it is an estimator class now, not at first use
    _registered[name] = fs
    return fs


def _unregister_feature_set(name: str) -> None:
    """Forget a feature set registered with :func:`register_feature_set` (for tests)."""
    _registered.pop(name, None)


class FeatureSetNames(Mapping[str, str]):
    """A live read-only view: feature-set name -> embedder class name.

    Backs ``sertools.study.FEATURE_SETS``: it always reflects the registry,
    including sets registered or installed after import.
    """

    def __getitem__(self, name: str) -> str:
        sets = available_feature_sets()
        if name not in sets:
            raise KeyError(name)
        return sets[name].class_name

    def __iter__(self) -> Iterator[str]:
        return iter(available_feature_sets())

    def __len__(self) -> int:
        return len(available_feature_sets())

    def __repr__(self) -> str:
        return f"FeatureSetNames({dict(self)!r})"
