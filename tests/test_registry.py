"""The feature-set registry: one list, derived everywhere, open to third parties."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sertools
from sertools import ParameterError
from sertools.features import _registry
from sertools.features._registry import (
    BUILTIN_FEATURE_SETS,
    available_feature_sets,
    get_feature_set,
    register_feature_set,
)

PAPER_SETS = [
    "mel", "mfcc", "speakernet", "titanet", "ecapa", "ambernet", "wav2vec2", "decoar", "hubert",
]  # fmt: skip


def test_builtin_sets_and_derived_lists():
    from sertools.study import FEATURE_SETS

    assert [fs.name for fs in BUILTIN_FEATURE_SETS][: len(PAPER_SETS)] == PAPER_SETS
    assert list(FEATURE_SETS)[: len(PAPER_SETS)] == PAPER_SETS
    for fs in BUILTIN_FEATURE_SETS:
        cls = fs.load()
        assert FEATURE_SETS[fs.name] == cls.__name__
        assert getattr(sertools, cls.__name__) is cls  # lazy export of sertools
        assert getattr(sertools.features, cls.__name__) is cls
        assert cls.__name__ in sertools.__all__


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ParameterError, match=r"unknown feature set 'mfccs'.*'mel', 'mfcc'"):
        get_feature_set("mfccs")


@pytest.fixture
def registered():
    yield
    _registry._unregister_feature_set("mymfcc")
    _registry._unregister_feature_set("lazy")


def test_register_a_class_and_use_it_in_the_study(registered):
    from sertools.study import FEATURE_SETS, make_embedder

    class MyMFCC(sertools.MFCCEmbedder):
        """Twelve MFCCs."""

    fs = register_feature_set("mymfcc", MyMFCC, family="signal")
    assert fs.description == "Twelve MFCCs."
    assert available_feature_sets()["mymfcc"] is fs
    assert FEATURE_SETS["mymfcc"] == "MyMFCC"
    emb = make_embedder("mymfcc", n_mfcc=12, sampling_rate=16000)
    assert type(emb) is MyMFCC and emb.n_mfcc == 12
    with pytest.raises(ParameterError, match="already registered"):
        register_feature_set("mymfcc", MyMFCC)
    register_feature_set("mymfcc", sertools.MFCCEmbedder, replace=True)
    assert get_feature_set("mymfcc").load() is sertools.MFCCEmbedder


def test_register_lazily_by_path(registered):
    fs = register_feature_set("lazy", "sertools.features.signal:MelSpectrogramEmbedder")
    assert fs.load() is sertools.MelSpectrogramEmbedder


@pytest.mark.parametrize(
    ("name", "embedder", "match"),
    [
        ("mfcc", sertools.MFCCEmbedder, "one of sertools' own"),
        ("a,b", sertools.MFCCEmbedder, "no commas"),
        ("My Set", sertools.MFCCEmbedder, "lowercase"),
        ("ok", "not a path", "expected an embedder class"),
        ("ok", 42, "expected an embedder class"),
        ("ok", int, "not an estimator class with fit and transform"),
    ],
)
def test_register_rejects_bad_input(name, embedder, match):
    with pytest.raises(ParameterError, match=match):
        register_feature_set(name, embedder)


def test_broken_path_is_reported_on_use(registered):
    register_feature_set("lazy", "sertools.features.signal:NoSuchEmbedder")
    with pytest.raises(ParameterError, match="feature set 'lazy': cannot import"):
        get_feature_set("lazy").load()


def test_entry_point_appears_in_the_study_and_the_cli(tmp_path):
    """A package declaring a ``sertools.feature_sets`` entry point, installed on the
    path (a real dist-info folder read by importlib.metadata), shows up everywhere."""
    (tmp_path / "thirdparty_ser.py").write_text(
        textwrap.dedent(
            '''
            from sertools.features import MFCCEmbedder

            class TinyMFCC(MFCCEmbedder):
                """Eight MFCCs."""
            '''
        )
    )
    info = tmp_path / "thirdparty_ser-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-ser\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[sertools.feature_sets]\ntinymfcc = thirdparty_ser:TinyMFCC\n"
    )
    code = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        from sertools.features import available_feature_sets
        from sertools.study import FEATURE_SETS, make_embedder
        from sertools.cli import _parser
        fs = available_feature_sets()["tinymfcc"]
        print(fs.family, FEATURE_SETS["tinymfcc"], type(make_embedder("tinymfcc")).__name__)
        print("tinymfcc" in _parser()._subparsers._group_actions[0].choices["study"].format_help())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["thirdparty-ser", "TinyMFCC", "TinyMFCC", "True"]


def test_import_sertools_imports_no_feature_module():
    code = (
        "import sys, sertools, sertools.features;"
        "print(sorted(m for m in sys.modules if m.startswith(('sertools.features.', 'torch',"
        " 'librosa', 'sklearn'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['sertools.features._bundles', 'sertools.features._registry']"


def test_registry_classes_embed(registered):
    register_feature_set("lazy", "sertools.features.signal:MFCCEmbedder")
    emb = get_feature_set("lazy").load()(sampling_rate=8000, n_mfcc=5)
    F = emb.fit_transform([np.sin(np.arange(4000, dtype=np.float32) / 7)])
    assert F.shape == (1, 5)


def test_every_bundle_is_offered_and_named_once():
    """A bundle with a feature_set is a registry entry whose class is its named estimator."""
    import sertools.features as F
    from sertools.features import BUNDLES

    by_name = {fs.name: fs for fs in BUILTIN_FEATURE_SETS}
    offered = [b for b in BUNDLES.values() if b.feature_set]
    assert len({b.feature_set for b in offered}) == len(offered)
    for bundle in offered:
        cls = by_name[bundle.feature_set].load()
        assert cls.bundle is bundle and cls.__name__ == bundle.class_name
        assert getattr(F, bundle.class_name) is cls  # the lazy export
        assert cls.__module__ == f"sertools.features.{bundle.family}"


def test_docs_table_is_built_from_the_registry():
    from pathlib import Path

    page = (Path(__file__).parents[1] / "docs" / "extending.md").read_text()
    assert "from sertools.features import BUILTIN_FEATURE_SETS" in page
    assert not [line for line in page.splitlines() if line.startswith("| `mel`")]


# --- named estimators: class statements, completed by one visible decorator ---------------
def _named_classes():
    import sertools.features as F
    from sertools.features import BUNDLES

    return [(b, getattr(F, b.class_name)) for b in BUNDLES.values() if b.class_name]


def test_named_estimators_are_class_statements_with_real_signatures():
    """``grep "class TitaNetEmbedder"`` finds each; its signature lists real parameters."""
    import inspect
    from pathlib import Path

    for bundle, cls in _named_classes():
        source = inspect.getsource(cls)  # a class made with type() has no source
        assert source.startswith(f"@named_embedder\nclass {cls.__name__}("), cls.__name__
        module_text = Path(inspect.getfile(cls)).read_text()
        from sertools.features import _bundles

        const = next(k for k, v in vars(_bundles).items() if v is bundle and k.isupper())
        assert f"    bundle = {const}\n" in source
        assert module_text.count(f"\nclass {cls.__name__}(") == 1
        params = inspect.signature(cls).parameters
        assert all(p.kind is p.KEYWORD_ONLY for p in params.values()), cls.__name__
        family = cls.__mro__[1]
        expected = [n for n in inspect.signature(family).parameters if n != cls._model_param]
        if cls._model_param_fixed:  # S3PRL: the upstream is the bundle's, not a parameter
            assert list(params) == expected and getattr(cls, cls._model_param) == bundle.hub_name
        else:
            assert params[cls._model_param].default == bundle.name
        assert cls.__doc__.startswith(bundle.title) and bundle.citation in cls.__doc__
        with pytest.raises(TypeError, match="unexpected keyword argument 'modle'"):
            cls(modle=1)


def test_a_bundle_attribute_alone_rewrites_nothing():
    """Without @named_embedder a subclass keeps its family's __init__, signature and doc."""
    import inspect

    from sertools.features import TITANET_SMALL, NeMoEmbedder

    class MySmall(NeMoEmbedder):
        """Mine."""

        bundle = TITANET_SMALL

    assert MySmall.__init__ is NeMoEmbedder.__init__ and MySmall.__doc__ == "Mine."
    assert inspect.signature(MySmall) == inspect.signature(NeMoEmbedder)
    assert MySmall().model == "titanet_large"  # the family's default, as written


def test_undecorated_subclass_forwarding_params_is_refused_not_rewritten():
    """A third-party __init__(**params) is neither completed silently nor silently broken."""
    import inspect

    from sklearn.base import clone

    from sertools.features import MFCCEmbedder, inherit_parameters

    class Scaled(MFCCEmbedder):
        """MFCCs times a factor."""

        def __init__(self, *, factor=2.0, **params):
            super().__init__(**params)
            self.factor = factor

    assert "params" in inspect.signature(Scaled).parameters  # as written
    assert Scaled.__doc__ == "MFCCs times a factor."
    with pytest.raises(TypeError, match=r"Scaled.__init__ takes \*\*params: decorate .*inherit_"):
        Scaled(factor=3.0)

    Decorated = inherit_parameters(Scaled)  # the explicit step
    emb = Decorated(factor=3.0, n_mfcc=13)
    assert clone(emb).get_params() == emb.get_params()
    assert {"factor", "n_mfcc", "cache"} <= set(emb.get_params())
    assert "n_mfcc : int, default=39" in Decorated.__doc__

    class Undecorated(MFCCEmbedder):
        def __init__(self, **params):
            super().__init__(**params)

    class OnTop(Undecorated):
        def __init__(self, *, k=1, **params):
            super().__init__(**params)
            self.k = k

    with pytest.raises(TypeError, match="Undecorated forwards \\*\\*params without"):
        inherit_parameters(OnTop)


def test_named_embedder_checks_its_class():
    from sertools.features import TITANET_SMALL, WAVLM_BASE, HFEmbedder, NeMoEmbedder
    from sertools.features._named import named_embedder

    with pytest.raises(TypeError, match="sets no bundle"):
        named_embedder(type("NoBundle", (NeMoEmbedder,), {"__doc__": "x"}))
    with pytest.raises(TypeError, match="of family 'nemo' and names the class"):
        named_embedder(type("Wrong", (HFEmbedder,), {"bundle": TITANET_SMALL}))
    with pytest.raises(TypeError, match="should start with its bundle's title"):
        named_embedder(type("WavLMBaseEmbedder", (HFEmbedder,), {"bundle": WAVLM_BASE}))


# --- install hints: the distribution's name, from the index and from a clone -------------
_BLOCK = {  # extra -> (the embedder to fit, the module(s) that then cannot be imported)
    "nemo": ("NeMoEmbedder", ["nemo.collections.asr.models"]),
    "s3prl": ("HubertEmbedder", ["s3prl", "s3prl.nn"]),
    "hf": ("HFEmbedder", ["transformers"]),
    "opensmile": ("EGeMAPSEmbedder", ["opensmile"]),
    "ge2e": ("GE2EEmbedder", ["resemblyzer"]),
}


@pytest.mark.parametrize("extra", list(_BLOCK))
def test_missing_backend_names_its_extra(extra, monkeypatch):
    """Each family's "not installed" error names its extra, under the distribution's name."""
    from sertools import BackendNotAvailableError
    from sertools._exceptions import install_hint
    from sertools.features._neural import clear_backend_cache

    name, modules = _BLOCK[extra]
    for module in modules:  # import fails / importlib.util.find_spec(module) is None
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.delenv("SERTOOLS_MODEL_DIR", raising=False)
    clear_backend_cache()
    with pytest.raises(BackendNotAvailableError) as info:
        getattr(sertools.features, name)(cache=False).fit()
    message = str(info.value)
    assert isinstance(info.value, ImportError) and install_hint(extra) in message
    assert f'pip install "sertools-emotion[{extra}]"' in message
    assert f'pip install -e ".[{extra}]"' in message
    assert "sertools[" not in message
    if extra == "s3prl":
        assert "not installed" in message and "torch==2.8.0" in message


def test_no_install_hint_names_another_projects_package():
    """``sertools`` on the package index is an unrelated project: no hint may install it."""
    import re
    from pathlib import Path

    from sertools._exceptions import DISTRIBUTION

    root = Path(__file__).parents[1]
    project = (root / "pyproject.toml").read_text().split("[project]", 1)[1]
    assert re.search(r'^name = "([^"]+)"', project, re.M).group(1) == DISTRIBUTION
    wrong = re.compile(r"""pip install ['"]?sertools[\[ '"]|["']sertools\[""")
    found = [
        f"{path.relative_to(root)}:{i}"
        for path in sorted((root / "sertools").rglob("*.py"))
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if wrong.search(line)
    ]
    assert found == []
