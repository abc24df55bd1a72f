"""Sphinx configuration for the sertools documentation (``nox -s docs``).

Three things are generated at build time, so that nothing goes stale:

* ``api/`` — one autosummary page per public module, listing the names in that
  module's ``__all__`` (a name added to ``__all__`` appears on the next build);
* ``examples/`` — copies of the notebooks in ``../examples`` (stored outputs,
  rendered by myst-nb with execution off: ``nox -s notebooks`` executes them);
* intersphinx — used only for the sites that answer (see ``_intersphinx``).

Both generated folders are git-ignored.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import shutil
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")
# Pages executed during the build (getting-started, extending) run in a Jupyter kernel that
# inherits this environment: keep out of their outputs what a reader should not see —
# tqdm's "IProgress not found" (no ipywidgets; it names a path of the build machine),
# joblib's note on a restarted worker, model-loading progress bars. The same settings as
# the notebooks' (noxfile.QUIET_ENV).
for _name, _value in {
    "PYTHONWARNINGS": "ignore:IProgress not found,ignore:A worker stopped while some jobs",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}.items():
    os.environ.setdefault(_name, _value)

import sertools  # noqa: E402

project = "sertools"
author = "sertools developers"
copyright = "sertools developers"
version = release = sertools.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "README.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# -- MyST / myst-nb ---------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# The notebooks are executed by ``nox -s notebooks`` and stored with their outputs.
nb_execution_mode = "off"
nb_merge_streams = True
# ...except pages that ask for it in their front matter (getting-started.md: the docs
# build runs its code, so its outputs are real and a broken example fails the build).
nb_execution_timeout = 600
# text/markdown outputs (e.g. the registry table of extending.md) as MyST: tables render
nb_render_markdown_format = "myst"
nb_execution_raise_on_error = True
nb_execution_show_tb = True

# -- autodoc / autosummary / numpydoc ---------------------------------------------------------
# autosummary_generate: set below, once the API pages are written
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# NeMo, S3PRL, transformers, opensmile are never imported here: sertools imports them lazily.

# -- intersphinx ------------------------------------------------------------------------------
INTERSPHINX = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "sklearn": "https://scikit-learn.org/stable/",
    "torch": "https://docs.pytorch.org/docs/stable/",
    "librosa": "https://librosa.org/doc/latest/",
    "pandas": "https://pandas.pydata.org/docs/",
}


def _intersphinx(sites: dict[str, str]) -> dict[str, tuple[str, tuple[str | None, ...]]]:
    """Map each site to its inventories, keeping only those that can be read.

    An inventory saved as ``docs/_intersphinx/<name>.inv`` is used first (offline
    builds); otherwise the site's own ``objects.inv`` when its host answers within
    3 seconds. Sites with neither are left out, so an offline build (this
    project's CI has no internet) stays free of warnings: references to them then
    render as plain code instead of links. ``SERTOOLS_DOCS_INTERSPHINX=0`` turns
    intersphinx off; ``=1`` keeps every site (and fails loudly if one is down).
    """
    mode = os.environ.get("SERTOOLS_DOCS_INTERSPHINX", "auto")
    mapping = {}
    for name, url in sites.items():
        local = HERE / "_intersphinx" / f"{name}.inv"
        if mode == "0":
            continue
        if local.is_file():
            mapping[name] = (url, (str(local), None))
        elif mode == "1" or _reachable(url):
            mapping[name] = (url, (None,))
    dropped = sorted(set(sites) - set(mapping))
    if dropped:
        print(f"intersphinx: offline, no links to {', '.join(dropped)}")
    return mapping


def _reachable(url: str) -> bool:
    host = urlparse(url).hostname
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError:
        return False
    return True


intersphinx_mapping = _intersphinx(INTERSPHINX)
intersphinx_timeout = 10

# -- HTML -------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sertools {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
html_show_sourcelink = False


# A shape written the scikit-learn way, ``(n_clips, n_features_out_)``, ends a word with an
# underscore, which reStructuredText reads as a link to a target of that name. Escape such
# words inside parentheses before numpydoc renders the docstring.
_SHAPE_WORD = re.compile(r"(?<=[(,\s])([A-Za-z]\w*)_(?=\s*[,)])")


def _escape_shape_words(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if "(" in line and "`" not in line:
            lines[i] = _SHAPE_WORD.sub(r"\1\\_", line)


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's metadata-routing setters (set_fit_request, ...) are generated per class
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _escape_shape_words, priority=100)
    app.connect("autodoc-skip-member", _skip_member)


# -- generated pages --------------------------------------------------------------------------
def public_modules() -> list[str]:
    """``sertools`` and every public (no leading underscore) submodule with an ``__all__``."""
    names = ["sertools"]
    for info in pkgutil.walk_packages(sertools.__path__, "sertools."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        if hasattr(module, "__all__"):
            names.append(info.name)
    return names


def _home(modules: list[str]) -> dict[int, str]:
    """Where each public object is documented: the shallowest subpackage exporting it.

    ``sertools.TitaNetEmbedder`` is ``sertools.features.TitaNetEmbedder`` (defined in
    ``sertools.features.nemo``); it is documented once, as
    ``sertools.features.TitaNetEmbedder``, and listed under ``sertools`` and
    ``sertools.features.nemo`` with a link there.
    """
    home: dict[int, str] = {}
    order = sorted(modules, key=lambda m: (m == "sertools", m.count(".")))
    for mod in order:
        module = importlib.import_module(mod)
        for name in module.__all__:
            obj = getattr(module, name)
            if not inspect.ismodule(obj):
                home.setdefault(id(obj), f"{mod}.{name}")
    return home


def write_api(out: Path) -> None:
    """Write ``api/index.rst`` and one page per public module from their ``__all__``."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    modules = public_modules()
    home = _home(modules)
    owners = {target.rpartition(".")[0] for target in home.values()}
    modules = [m for m in modules if m == "sertools" or m in owners]
    index = [
        "API reference",
        "=============",
        "",
        "Every public name of sertools, module by module (generated from each module's",
        "``__all__``). The most used names are also importable from ``sertools`` itself.",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
        *(f"   {mod}" for mod in modules),
        "",
    ]
    (out / "index.rst").write_text("\n".join(index))
    for mod in modules:
        module = importlib.import_module(mod)
        own, elsewhere, data, submodules = [], [], [], []
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                submodules.append(obj.__name__)
            elif home[id(obj)] != f"{mod}.{name}":
                elsewhere.append((name, home[id(obj)]))
            elif inspect.isclass(obj) or inspect.isroutine(obj):
                own.append((name, name))
            else:
                data.append(name)
        title = f"``{mod}``"
        lines = [title, "=" * len(title), "", f".. automodule:: {mod}", "   :no-members:", ""]
        lines += [f".. currentmodule:: {mod}", ""]
        if own:
            lines += [
                ".. autosummary::",
                "   :toctree: generated/",
                "   :nosignatures:",
                "",
                *(f"   {name}" for name, _ in own),
                "",
            ]
        if elsewhere:
            lines += [
                f"Also importable from ``{mod}`` (documented where linked):",
                "",
                ".. currentmodule:: None",
                "",
                ".. autosummary::",
                "   :nosignatures:",
                "",
                *(f"   ~{target}" for _, target in elsewhere),
                "",
            ]
        for name in data:
            lines += [f".. autodata:: {mod}::{name}", "   :no-value:", ""]
        if submodules:
            lines += ["Submodules: " + ", ".join(f":mod:`{s}`" for s in submodules), ""]
        (out / f"{mod}.rst").write_text("\n".join(lines))


def copy_notebooks(src: Path, out: Path) -> None:
    """Copy ``examples/*.ipynb`` (with their stored outputs) and write the gallery page."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    notebooks = sorted(src.glob("*.ipynb"))
    for nb in notebooks:
        shutil.copy2(nb, out / nb.name)
    lines = [
        "# Example notebooks",
        "",
        "Executed end to end by `nox -s notebooks` (small settings, minutes each) and",
        "stored with their outputs; the files are in the repository's `examples/` folder.",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        *(nb.stem for nb in notebooks),
        "```",
        "",
    ]
    (out / "index.md").write_text("\n".join(lines))


write_api(HERE / "api")
# The pages to generate stubs from, listed explicitly: on an incremental build Sphinx's
# list of documents is the previous build's, which lacks a module page new since then.
autosummary_generate = sorted(str(p.relative_to(HERE)) for p in (HERE / "api").glob("*.rst"))
copy_notebooks(ROOT / "examples", HERE / "examples")
