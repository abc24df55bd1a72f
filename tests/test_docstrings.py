"""numpydoc validation of every public class, function and method, and the doctests.

The public names are those in the ``__all__`` of ``sertools`` and of its public
(no leading underscore) submodules, the same list the API reference is generated
from (``docs/conf.py``). For each class, the public methods and properties it
defines itself (not those inherited from scikit-learn, skorch or torch) are
validated too. Module-level data (``SCORING``, ``LABELS``, ...) is documented by
``#:`` comments, which numpydoc cannot validate; the Sphinx build checks them.

``IGNORED`` is the project-wide set of numpydoc checks we do not enforce, with the
reason for each. ``ALLOWED`` lists, per name, the checks a docstring still fails
while its module is being reworked by another open issue; shrink it as those
docstrings are fixed: ``test_allowed_list_is_not_stale`` fails, naming the entry,
once an allowed check passes (like a strict xfail), so the list cannot hide a
regression.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import inspect
import pkgutil
import warnings

import pytest

import sertools

numpydoc_validate = pytest.importorskip(
    "numpydoc.validate", reason="numpydoc is in the `test` extra: pip install -e '.[test]'"
)

#: numpydoc checks not enforced anywhere, and why.
IGNORED: dict[str, str] = {
    "ES01": "an extended summary is welcome but not required",
    "SA01": "a See Also section is welcome but not required",
    "RT02": "scikit-learn style names single returns (``self : object``)",
    "GL08": "objects without their own docstring (none among the public names) are caught by "
    "the Sphinx build instead",
}

#: name -> checks it may still fail. Empty: every public docstring passes (#16). Add an
#: entry only for a module another open issue is reworking, and remove it with that work.
ALLOWED: dict[str, set[str]] = {}


def public_modules() -> list[str]:
    """``sertools`` and its public submodules that define ``__all__``."""
    names = ["sertools"]
    for info in pkgutil.walk_packages(sertools.__path__, "sertools."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        if hasattr(importlib.import_module(info.name), "__all__"):
            names.append(info.name)
    return names


def public_names() -> list[str]:
    """One public dotted name per class or function (the shallowest subpackage exporting
    it, as in the API reference), then the methods and properties of each class."""
    home: dict[int, str] = {}
    modules = sorted(public_modules(), key=lambda m: (m == "sertools", m.count(".")))
    for mod in modules:
        module = importlib.import_module(mod)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isroutine(obj):
                home.setdefault(id(obj), f"{mod}.{name}")
    names = []
    for dotted in sorted(home.values()):
        names.append(dotted)
        mod, _, attr = dotted.rpartition(".")
        obj = getattr(importlib.import_module(mod), attr)
        if not inspect.isclass(obj):
            continue
        for klass in obj.__mro__:
            # its own members, and those of private sertools bases (public bases have theirs)
            private_base = klass.__module__.startswith("sertools") and id(klass) not in home
            if klass is not obj and not private_base:
                continue
            for member, value in vars(klass).items():
                if member.startswith("_") or f"{dotted}.{member}" in names:
                    continue
                if inspect.isfunction(value) or isinstance(value, property):
                    names.append(f"{dotted}.{member}")
    return names


NAMES = public_names()


def _failed_checks(name: str) -> dict[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = numpydoc_validate.validate(name)
    return {code: msg for code, msg in result["errors"] if code not in IGNORED}


def test_there_are_public_names() -> None:
    assert "sertools.features.MFCCEmbedder" in NAMES
    assert "sertools.features.MFCCEmbedder.transform" not in NAMES  # BaseEmbedder's
    assert "sertools.metrics.unweighted_average_recall" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_docstring(name: str) -> None:
    failed = _failed_checks(name)
    unexpected = {c: m for c, m in failed.items() if c not in ALLOWED.get(name, set())}
    assert not unexpected, f"{name}: numpydoc validation failed:\n" + "\n".join(
        f"  {code}: {msg}" for code, msg in sorted(unexpected.items())
    )


def test_allowed_list_is_not_stale() -> None:
    unknown = sorted(set(ALLOWED) - set(NAMES))
    fixed = sorted(
        f"{name}: {sorted(codes - set(_failed_checks(name)))}"
        for name, codes in ALLOWED.items()
        if name in NAMES and codes - set(_failed_checks(name))
    )
    assert not (unknown or fixed), "remove from ALLOWED in tests/test_docstrings.py: " + "; ".join(
        [*(f"{n} (no longer public)" for n in unknown), *fixed]
    )


# ---- doctests ----------------------------------------------------------------------------
def _all_modules() -> list[str]:
    """Every module of the package, private ones included (``__main__`` runs the CLI)."""
    names = ["sertools"]
    for info in pkgutil.walk_packages(sertools.__path__, "sertools."):
        if info.name.rpartition(".")[2] != "__main__":
            names.append(info.name)
    return names


#: modules whose examples run an optional backend: their doctests need that package
#: (installed by the nemo test session; a bare ``[test]`` install skips them, saying why)
DOCTEST_NEEDS = {
    "sertools.features.opensmile": "opensmile",
    "sertools.features.ge2e": "resemblyzer",
}


@pytest.mark.parametrize("module_name", _all_modules())
def test_doctests(module_name: str) -> None:
    needed = DOCTEST_NEEDS.get(module_name)
    if needed is not None and importlib.util.find_spec(needed) is None:
        pytest.skip(f"{module_name}'s examples need {needed}: pip install -e '.[{needed}]'")
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    report: list[str] = []
    for test in finder.find(module, module_name):
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)
