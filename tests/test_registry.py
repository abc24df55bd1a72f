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
