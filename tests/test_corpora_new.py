"""The corpora added with issue #22 (TESS, CaFE, SUBESCO, ShEMO, ESD), the spec-derived
registry, label harmonisation and duplicate clips (issue #20 item 11)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from _fake_corpora import (
    CAFE_CODES,
    ESD_CODES,
    SHEMO_CODES,
    SUBESCO_CODES,
    TESS_CODES,
    every_code_cafe,
    every_code_emovo,
    every_code_esd,
    every_code_shemo,
    every_code_subesco,
    every_code_tess,
    write_tree,
)

import sertools.datasets
from sertools import ParameterError
from sertools.datasets import (
    CORPORA,
    CORPUS_SPECS,
    CORPUS_TITLES,
    LABEL_MAPS,
    LABELS,
    PAPER_N_CLASSES,
    RECOMMENDED_PROTOCOL,
    CorpusWarning,
    common_labels,
    corpus_table,
    get_cv,
    harmonise_labels,
    load_cafe,
    load_corpus,
    load_emovo,
    load_esd,
    load_shemo,
    load_subesco,
    load_tess,
)

# Written independently of the loaders, from each corpus's documentation, so that a
# swapped code in a loader fails here.
EXPECTED = {
    "tess": {
        "angry": "angry",
        "disgust": "disgust",
        "fear": "fear",
        "happy": "happy",
        "neutral": "neutral",
        "ps": "surprise",  # pleasant surprise
        "sad": "sad",
    },
    "cafe": {
        "C": "angry",  # colère
        "D": "disgust",  # dégoût
        "J": "happy",  # joie
        "N": "neutral",  # neutre
        "P": "fear",  # peur
        "S": "surprise",
        "T": "sad",  # tristesse
    },
    "subesco": {c: c.lower() for c in SUBESCO_CODES},
    "shemo": {
        "A": "angry",
        "F": "fear",
        "H": "happy",
        "N": "neutral",
        "S": "sad",
        "W": "surprise",
    },
    "esd": {c: c.lower() for c in ESD_CODES},
}


def code_in_name(corpus: str, path: str) -> str:
    """The emotion code of a file, read by the corpus's own convention."""
    p = Path(path)
    if corpus == "tess":
        return p.stem.split("_")[-1]  # OAF_back_ps.wav
    if corpus == "cafe":
        return p.stem.split("-")[1]  # 01-C-1-1.wav
    if corpus == "subesco":
        return p.stem.split("_")[5]  # F_01_OISHI_S_1_ANGRY_1.wav
    if corpus == "shemo":
        return p.stem[3]  # F01A01.wav
    return p.parent.name if p.parent.name not in ("test", "train") else p.parent.parent.name


CASES = [
    ("tess", every_code_tess(flat=False), load_tess, TESS_CODES),
    ("tess", every_code_tess(flat=True), load_tess, TESS_CODES),
    ("cafe", every_code_cafe(), load_cafe, CAFE_CODES),
    ("subesco", every_code_subesco(), load_subesco, SUBESCO_CODES),
    ("shemo", every_code_shemo(), load_shemo, SHEMO_CODES),
    ("esd", every_code_esd(split=False), load_esd, ESD_CODES),
    ("esd", every_code_esd(split=True), load_esd, ESD_CODES),
]


@pytest.mark.parametrize(
    ("corpus", "relpaths", "loader", "codes"),
    CASES,
    ids=["tess-folders", "tess-flat", "cafe", "subesco", "shemo", "esd", "esd-split"],
)
def test_every_emotion_code_is_mapped_by_name(tmp_path: Path, corpus, relpaths, loader, codes):
    write_tree(tmp_path, relpaths, 16000)
    with pytest.warns(CorpusWarning, match="differs from the full corpus"):
        bunch = loader(tmp_path, strict=True)
    assert bunch.corpus == corpus
    assert len(bunch.filenames) == len(relpaths)  # nothing dropped
    found = [code_in_name(corpus, f) for f in bunch.filenames]
    assert set(found) == set(codes) == set(EXPECTED[corpus])  # the tree holds every code
    assert list(bunch.frame["label_code"]) == found
    assert list(bunch.target) == [EXPECTED[corpus][c] for c in found]
    assert set(bunch.target) <= set(LABELS)
    names = [Path(f).stem for f in bunch.filenames]
    if corpus == "tess":
        assert list(bunch.speaker) == [n[:3] for n in names]
        assert set(bunch.speaker) == {"OAF", "YAF"} and set(bunch.gender) == {"female"}
        assert list(bunch.frame["word"]) == [n.split("_")[1] for n in names]
    elif corpus == "cafe":
        assert list(bunch.speaker) == [n[:2] for n in names]
        assert list(bunch.gender) == [{"01": "male", "02": "female"}[n[:2]] for n in names]
        assert list(bunch.frame["intensity"]) == [
            {"1": "low", "2": "high"}[n.split("-")[2]] for n in names
        ]
    elif corpus == "subesco":
        assert list(bunch.speaker) == ["_".join(n.split("_")[:2]) for n in names]
        assert list(bunch.gender) == [{"F": "female", "M": "male"}[n[0]] for n in names]
        assert list(bunch.frame["sentence"]) == [int(n.split("_")[4]) for n in names]
    elif corpus == "shemo":
        assert list(bunch.speaker) == [n[:3] for n in names]
        assert list(bunch.gender) == [{"F": "female", "M": "male"}[n[0]] for n in names]
    else:  # esd: the same sentence at the same place of every emotion block
        assert list(bunch.speaker) == [n[:4] for n in names]
        assert set(bunch.frame["sentence"]) == {"zh001", "zh350", "en001", "en350"}


def test_esd_number_outside_its_emotion_block_does_not_parse(tmp_path: Path) -> None:
    write_tree(tmp_path, ["0011/Angry/0011_000351.wav", "0011/Angry/0011_000001.wav"], 16000)
    with pytest.raises(ParameterError, match=re.escape("0011/Angry/0011_000001.wav")):
        load_esd(tmp_path, strict=True)


def test_tess_and_cafe_bad_codes_are_unparsed(tmp_path: Path) -> None:
    write_tree(tmp_path, ["OAF_back_angry.wav", "OAF_back_bored.wav"], 24414)
    with pytest.raises(ParameterError, match=re.escape("OAF_back_bored.wav")):
        load_tess(tmp_path, strict=True)
    write_tree(tmp_path / "c", ["01-C-1-1.wav", "01-X-1-1.wav"], 48000)
    with pytest.raises(ParameterError, match=re.escape("01-X-1-1.wav")):
        load_cafe(tmp_path / "c", strict=True)


# ------------------------------------------------- facts declared once, in the specs


def _corpus_modules() -> dict[str, object]:
    """Every module of sertools.datasets that declares a corpus SPEC, by the spec's name."""
    import importlib
    import pkgutil

    import sertools.datasets as package

    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"sertools.datasets.{info.name}")
        if isinstance(getattr(module, "SPEC", None), type(CORPUS_SPECS["emodb"])):
            found[module.SPEC.name] = module
    return found


def test_registry_is_derived_from_the_specs() -> None:
    modules = _corpus_modules()
    assert set(CORPUS_SPECS) == set(modules)  # no corpus module left out of the registry
    assert {"emodb", "emovo", "ravdess", "savee", "cremad", "iemocap"} <= set(CORPUS_SPECS)
    for name, module in modules.items():  # and every loader is exported
        (loader,) = [getattr(module, n) for n in module.__all__ if n.startswith("load_")]
        assert getattr(sertools.datasets, loader.__name__) is loader, name
    for name, spec in CORPUS_SPECS.items():
        assert RECOMMENDED_PROTOCOL[name] == spec.recommended_protocol
        assert CORPUS_TITLES[name] == spec.title
        assert dict(LABEL_MAPS[name]) == dict(spec.codes)
        assert set(spec.codes.values()) <= set(LABELS)
        assert set(spec.codes.values()) >= set(spec.expected)  # every class has a code
        assert spec.language and (spec.speakers > 0 or not spec.expected)  # MSP: per release
        for alias in spec.aliases:
            assert CORPORA[alias] is CORPORA[name]
    # the paper's six corpora, and only them, carry its class counts (Table I)
    assert PAPER_N_CLASSES == {
        "cremad": 6, "emovo": 7, "emodb": 7, "iemocap": 4, "ravdess": 7, "savee": 7,
    }  # fmt: skip
    assert RECOMMENDED_PROTOCOL["iemocap"] == "session"
    assert RECOMMENDED_PROTOCOL["cremad"] == "speaker-kfold"


def test_old_names_stay_importable() -> None:
    from sertools.datasets._corpora import ALIASES, canonical_corpus_name
    from sertools.datasets.protocols import RECOMMENDED_PROTOCOL as from_protocols

    assert from_protocols is RECOMMENDED_PROTOCOL
    assert ALIASES["crema-d"] == "cremad" and canonical_corpus_name("EMO-DB") == "emodb"


def test_docs_corpus_table_matches_the_specs() -> None:
    docs = Path(__file__).parents[1] / "docs" / "datasets.md"
    text = docs.read_text(encoding="utf-8")
    table = corpus_table()
    assert table in text, "docs/datasets.md's corpus table is stale: paste corpus_table()"
    assert len(table.splitlines()) == 2 + len(CORPUS_SPECS)


def test_every_new_loader_is_reachable_by_name(tmp_path: Path) -> None:
    write_tree(tmp_path, every_code_tess(flat=True), 24414)
    with pytest.warns(CorpusWarning):
        bunch = load_corpus("TESS", tmp_path)
    assert bunch.corpus == "tess" and len(bunch.filenames) == 28
    cv, groups = get_cv(bunch, "recommended")
    assert len(list(cv.split(bunch.filenames, bunch.target, groups))) == 2  # loso, 2 speakers


# --------------------------------------------------------------- label harmonisation


def test_harmonise_codes_by_corpus_and_overrides() -> None:
    assert harmonise_labels(["ps", "angry"], "tess").tolist() == ["surprise", "angry"]
    assert harmonise_labels(["02", "01"], "ravdess", mapping={"02": "neutral"}).tolist() == [
        "neutral",
        "neutral",
    ]
    assert harmonise_labels(["boredom", "sad"], mapping={"boredom": None}).tolist() == [None, "sad"]
    with pytest.raises(ParameterError, match="'Q'"):
        harmonise_labels(["Q"], "emodb")
    assert common_labels(["angry", "calm", "sad"], ["sad", "angry", "boredom"]) == ["angry", "sad"]


# --------------------------------------------------- duplicate clips (#20 item 11)


def test_duplicate_clip_warning_names_the_files(tmp_path: Path) -> None:
    relpaths = every_code_emovo()
    write_tree(tmp_path, [*relpaths, "f2/dis-f1-b1.wav"], 22050)  # f1's clip copied under f2
    with pytest.warns(CorpusWarning) as record:
        bunch = load_emovo(tmp_path)
    messages = [str(w.message) for w in record]
    [dup] = [m for m in messages if "repeat a clip" in m]
    assert "f2/dis-f1-b1.wav (same as f1/dis-f1-b1.wav)" in dup
    assert len(bunch.filenames) == len(relpaths)  # loaded once
    assert sum(Path(f).name == "dis-f1-b1.wav" for f in bunch.filenames) == 1
    with pytest.raises(ParameterError, match=re.escape("f2/dis-f1-b1.wav")):
        load_emovo(tmp_path, strict=True)


def test_tess_release_nested_twice_loads_each_clip_once(tmp_path: Path) -> None:
    relpaths = every_code_tess(flat=False)
    write_tree(tmp_path, [*relpaths, *(f"copy/{r}" for r in relpaths)], 24414)
    with pytest.warns(CorpusWarning, match=r"28 TESS file\(s\) .* repeat a clip"):
        bunch = load_tess(tmp_path)
    assert len(bunch.filenames) == 28 and not any("/copy/" in f for f in bunch.filenames)
    assert np.unique(bunch.filenames).size == 28
