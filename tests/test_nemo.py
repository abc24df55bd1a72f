"""NeMo embedders, on real NeMo code with tiny random-weight models.

The session fixture builds one tiny ``EncDecSpeakerLabelModel`` per published
topology (SpeakerNet, TitaNet, ECAPA-TDNN, AmberNet; see ``_tiny_nemo.py``), saves
each as a ``.nemo`` archive, and the tests load them only through the public API.
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from _network import reachable
from _signals import noisy_tones, row_cosine
from _tolerance import assert_reordered_close
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

import sertools
from sertools import (
    AmberNetEmbedder,
    EcapaTdnnEmbedder,
    NeMoEmbedder,
    ParameterError,
    SpeakerNetEmbedder,
    TitaNetEmbedder,
)
from sertools.features._engine import split_chunks
from sertools.features._neural import clear_backend_cache
from sertools.features.nemo import MODEL_DIR_ENV
from sertools.utils.estimator_checks import check_embedder

pytest.importorskip("nemo.collections.asr")
import _tiny_nemo

pytestmark = pytest.mark.nemo

SR = 16000
#: family -> (embedder class, feature prefix)
EMBEDDERS = {
    "speakernet": (SpeakerNetEmbedder, "speakernet"),
    "titanet": (TitaNetEmbedder, "titanet"),
    "ecapa": (EcapaTdnnEmbedder, "ecapa"),
    "ambernet": (AmberNetEmbedder, "ambernet"),
}
FAMILIES = list(EMBEDDERS)


@pytest.fixture(scope="session")
def nemo_models(tmp_path_factory) -> dict[str, Path]:
    """Tiny random-weight ``.nemo`` checkpoints: one per family, plus an ASR (CTC) model."""
    folder = tmp_path_factory.mktemp("nemo_models")
    paths = {fam: _tiny_nemo.save_model(fam, folder / f"{fam}.nemo") for fam in FAMILIES}
    paths["ctc"] = _tiny_nemo.save_ctc_model(folder / "ctc.nemo")
    return paths


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    """Ragged noisy tones, 0.25-2.5 s at 16 kHz."""
    return noisy_tones([8000, 24000, 4000, 40000, 12000, 16000, 6000, 20000], sampling_rate=SR)


LABELS = ["low", "high"] * 4


def _embedder(family: str, path: Path, **params):
    cls, _ = EMBEDDERS[family]
    return cls(model=str(path), sampling_rate=SR, **params)


# --- import and construction ---------------------------------------------------------------
def test_import_does_not_load_nemo():
    code = (
        "import sys, sertools, sertools.features\n"
        "e = sertools.TitaNetEmbedder(); e.get_params()\n"
        "assert not [m for m in sys.modules if m == 'nemo' or m.startswith('nemo.')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_defaults_and_params():
    assert SpeakerNetEmbedder().model == "speakerverification_speakernet"
    assert TitaNetEmbedder().model == "titanet_large"
    assert NeMoEmbedder().model == "titanet_large"
    assert EcapaTdnnEmbedder().model == "ecapa_tdnn"
    assert AmberNetEmbedder().model == "langid_ambernet"
    params = TitaNetEmbedder().get_params()
    assert params == {
        "model": "titanet_large",
        "model_dir": None,
        "device": "auto",
        "batch_seconds": "auto",
        "max_chunk_seconds": 30.0,
        "n_threads": None,
        "precision": "fp32",
        "sampling_rate": None,
        "verbose": False,
        "cache": None,
    }
    with pytest.raises(TypeError):
        TitaNetEmbedder("titanet_large")  # keyword-only


# --- the scikit-learn contract, per family -------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_contract(family, nemo_models, clips):
    F = check_embedder(
        _embedder(family, nemo_models[family]),
        clips,
        LABELS,
        grid={"max_chunk_seconds": [None, 0.5]},
    )
    assert F.shape == (len(clips), 16)


@pytest.mark.parametrize("family", FAMILIES)
def test_feature_names(family, nemo_models, clips):
    emb = _embedder(family, nemo_models[family]).fit()
    prefix = EMBEDDERS[family][1]
    assert emb.get_feature_names_out().tolist() == [f"{prefix}{i}" for i in range(16)]
    generic = NeMoEmbedder(model=str(nemo_models[family]), sampling_rate=SR).fit()
    assert generic.get_feature_names_out()[0] == "nemo0"
    np.testing.assert_array_equal(generic.transform(clips[:2]), emb.transform(clips[:2]))
    df = clone(emb).set_output(transform="pandas").fit_transform(clips)
    assert list(df.columns) == [f"{prefix}{i}" for i in range(16)]
    assert df.shape == (len(clips), 16)


# --- fidelity: batched == one clip at a time ------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_batched_matches_one_at_a_time(family, nemo_models, clips):
    ragged = [*clips, clips[3][:200], clips[1][:333], clips[2][:1601]]  # 12.5 ms, 21 ms, 0.1 s
    batched = _embedder(family, nemo_models[family], batch_seconds=1000.0).fit()
    single = _embedder(family, nemo_models[family], batch_seconds=1e-3).fit()
    B, S = batched.transform(ragged), single.transform(ragged)
    assert row_cosine(B, S).min() >= 0.9999
    np.testing.assert_allclose(B, S, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_matches_nemo_own_single_clip_forward(family, nemo_models, clips):
    """Batched embeddings equal NeMo's own one-clip forward (what ``infer_segment`` runs)."""
    import torch
    from nemo.collections.asr.models import EncDecSpeakerLabelModel

    clips = [*clips, clips[1][:333]]  # and a 21 ms one (3 samples over the minimum)
    model = EncDecSpeakerLabelModel.restore_from(str(nemo_models[family]), map_location="cpu")
    model.eval()
    with torch.inference_mode():
        native = np.concatenate(
            [
                model.forward(
                    input_signal=torch.from_numpy(c)[None],
                    input_signal_length=torch.tensor([len(c)]),
                )[1].numpy()
                for c in clips
            ]
        )
    ours = _embedder(family, nemo_models[family], batch_seconds=1000.0).fit().transform(clips)
    assert row_cosine(ours, native).min() >= 0.9999
    np.testing.assert_allclose(ours, native, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("family", ["titanet", "ecapa"])
def test_order_restored(family, nemo_models, clips):
    emb = _embedder(family, nemo_models[family], batch_seconds=2.0).fit()
    F = emb.transform(clips)
    perm = np.random.default_rng(1).permutation(len(clips))
    # other batch compositions: float32 summation order (tests/_tolerance.py)
    assert_reordered_close(emb.transform([clips[i] for i in perm]), F[perm])


def test_deterministic(nemo_models, clips):
    F1 = _embedder("titanet", nemo_models["titanet"]).fit().transform(clips)
    F2 = _embedder("titanet", nemo_models["titanet"]).fit().transform(clips)
    np.testing.assert_array_equal(F1, F2)
    clear_backend_cache()  # a fresh load gives the same numbers
    F3 = _embedder("titanet", nemo_models["titanet"]).fit().transform(clips)
    np.testing.assert_array_equal(F1, F3)


# --- long and short clips ---------------------------------------------------------------------
def test_chunking_of_long_clips(nemo_models, clips):
    long_clip = np.concatenate(clips[:4])  # 4.75 s
    emb = _embedder("titanet", nemo_models["titanet"], max_chunk_seconds=1.5).fit()
    seen: list[int] = []
    hook = emb._backend.model.preprocessor.register_forward_pre_hook(
        lambda _m, _a, kw: seen.append(kw["input_signal"].shape[-1]), with_kwargs=True
    )
    try:
        F = emb.transform([long_clip])
    finally:
        hook.remove()
    chunk = int(1.5 * SR)
    assert max(seen) <= chunk  # memory is bounded by the chunk, not the clip

    whole = _embedder("titanet", nemo_models["titanet"], max_chunk_seconds=None).fit()
    bounds = split_chunks(len(long_clip), chunk)
    assert len(bounds) == 4
    parts = whole.transform([long_clip[a:b] for a, b in bounds])
    weights = np.array([b - a for a, b in bounds], dtype=np.float64)
    expected = (parts * weights[:, None]).sum(0) / weights.sum()
    np.testing.assert_allclose(F[0], expected, rtol=1e-4, atol=1e-5)
    assert row_cosine(F[0], whole.transform([long_clip])[0]) < 0.99999  # it did chunk


def test_short_clips_are_zero_padded_to_two_hops(nemo_models):
    emb = _embedder("speakernet", nemo_models["speakernet"]).fit()
    min_samples = emb._backend.min_samples
    assert min_samples == 320  # 2 hops at 16 kHz: 20 ms, 2 spectrogram frames
    rng = np.random.default_rng(2)
    short = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (1, 100, 319)]
    F = emb.transform(short)
    assert np.isfinite(F).all()
    padded = [np.pad(x, (0, min_samples - len(x))) for x in short]
    # float32 reordered: tests/_tolerance.py
    assert_reordered_close(emb.transform(padded), F)


def test_file_input_is_resampled(nemo_models, clips, tmp_path):
    """Checked exactly: a file at 8 kHz embeds as its resampled samples given at 16 kHz."""
    emb = _embedder("titanet", nemo_models["titanet"]).fit()
    at_8k = sertools.audio.resample(clips[1], orig_sr=SR, target_sr=8000)
    path = tmp_path / "clip8k.wav"
    sf.write(path, at_8k, 8000, subtype="FLOAT")  # float32 samples, stored exactly
    at_16k = sertools.audio.resample(at_8k, orig_sr=8000, target_sr=SR)
    assert len(at_16k) == 2 * len(at_8k) == len(clips[1])
    from_file = emb.transform([str(path)])
    # the same float32 samples through the same model: equal up to float32 rounding
    # of the model's arithmetic (batch composition is the same single clip)
    np.testing.assert_allclose(from_file, emb.transform([at_16k]), rtol=1e-5, atol=1e-6)
    # not resampling (the 8 kHz samples taken as 16 kHz) gives other vectors
    unresampled = emb.transform([at_8k])
    assert np.abs(unresampled - from_file).max() > 1e3 * (1e-6 + 1e-5 * np.abs(from_file).max())


# --- model resolution ---------------------------------------------------------------------
def test_model_dir_and_env_var(nemo_models, clips, tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(nemo_models["titanet"], folder / "titanet_large.nemo")
    expected = _embedder("titanet", nemo_models["titanet"]).fit().transform(clips)

    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    by_arg = TitaNetEmbedder(model_dir=str(folder), sampling_rate=SR).fit()
    np.testing.assert_array_equal(by_arg.transform(clips), expected)
    by_path = TitaNetEmbedder(model=folder / "titanet_large.nemo", sampling_rate=SR).fit()
    np.testing.assert_array_equal(by_path.transform(clips), expected)

    monkeypatch.setenv(MODEL_DIR_ENV, str(folder))
    by_env = TitaNetEmbedder(sampling_rate=SR).fit()
    np.testing.assert_array_equal(by_env.transform(clips), expected)
    assert by_env.get_params()["model_dir"] is None  # the env var is read at fit, not stored


def test_offline_error_says_where_to_place_the_file(tmp_path, monkeypatch):
    if reachable("api.ngc.nvidia.com"):
        pytest.skip("NGC is reachable: fitting would download titanet_large")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(MODEL_DIR_ENV, str(empty))
    monkeypatch.setenv("NEMO_CACHE_DIR", str(tmp_path / "nemo_cache"))  # no cached copy
    start = time.monotonic()
    with pytest.raises(ParameterError) as info:
        TitaNetEmbedder().fit()
    assert time.monotonic() - start < 120  # fails fast, does not hang
    assert f"place titanet_large.nemo in {empty} ({MODEL_DIR_ENV})" in str(info.value)

    with pytest.raises(ParameterError, match=r"in .*other \(model_dir\) or set SERTOOLS_MODEL_DIR"):
        TitaNetEmbedder(model_dir=str(tmp_path / "other")).fit()


def test_unknown_name_lists_the_known_ones(tmp_path, monkeypatch):
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    with pytest.raises(ParameterError, match=r"no_such_model\.nemo.*titanet_large"):
        NeMoEmbedder(model="no_such_model", model_dir=str(tmp_path)).fit()


def test_missing_path(tmp_path):
    missing = tmp_path / "nope.nemo"
    with pytest.raises(ParameterError, match=f"not found: {missing}"):
        TitaNetEmbedder(model=str(missing)).fit()
    with pytest.raises(ParameterError, match="is a folder"):
        TitaNetEmbedder(model=str(tmp_path)).fit()
    with pytest.raises(ParameterError, match="not found"):  # a Path object is always a path
        TitaNetEmbedder(model=tmp_path / "titanet_large").fit()


def test_wrong_kind_of_checkpoint(nemo_models, tmp_path):
    with pytest.raises(ParameterError, match=r"not a NeMo speaker/label model.*EncDecCTCModel"):
        TitaNetEmbedder(model=str(nemo_models["ctc"])).fit()
    bogus = tmp_path / "bogus.nemo"
    bogus.write_text("not an archive")
    with pytest.raises(ParameterError, match=r"not a NeMo checkpoint \(not a .nemo tar archive"):
        TitaNetEmbedder(model=str(bogus)).fit()
    wav = tmp_path / "clip.wav"
    sf.write(wav, np.zeros(1600, dtype=np.float32), SR)
    with pytest.raises(ParameterError, match="not a NeMo checkpoint"):
        TitaNetEmbedder(model=str(wav)).fit()


def _archive(path: Path, config: str) -> Path:
    """A .nemo-shaped tar holding only a model_config.yaml."""
    import io
    import tarfile

    data = config.encode()
    with tarfile.open(path, "w:") as tar:
        info = tarfile.TarInfo("./model_config.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_broken_checkpoints_name_the_file(tmp_path):
    bad_yaml = _archive(tmp_path / "bad_yaml.nemo", "target: [unclosed\n")
    with pytest.raises(ParameterError, match=f"{bad_yaml}.*not valid YAML"):
        TitaNetEmbedder(model=str(bad_yaml)).fit()
    target = "nemo.collections.asr.models.label_models.EncDecSpeakerLabelModel"
    no_weights = _archive(tmp_path / "no_weights.nemo", f"target: {target}\n")
    with pytest.raises(ParameterError, match=f"NeMo could not restore {no_weights}"):
        TitaNetEmbedder(model=str(no_weights)).fit()


# --- clone, pickle ------------------------------------------------------------------------------
def test_refit_after_set_params_loads_the_new_model(nemo_models, clips):
    emb = NeMoEmbedder(model=str(nemo_models["speakernet"]), sampling_rate=SR).fit()
    emb.set_params(model=str(nemo_models["titanet"])).fit()
    fresh = NeMoEmbedder(model=str(nemo_models["titanet"]), sampling_rate=SR).fit()
    assert emb.n_features_out_ == fresh.n_features_out_
    np.testing.assert_allclose(emb.transform(clips[:3]), fresh.transform(clips[:3]), rtol=1e-5)


def test_named_and_generic_embedders_share_the_loaded_model(nemo_models):
    clear_backend_cache()
    path = str(nemo_models["titanet"])
    generic = NeMoEmbedder(model=path, sampling_rate=SR).fit()
    named = TitaNetEmbedder(model=path, sampling_rate=SR).fit()
    assert generic._backend is named._backend
    other = TitaNetEmbedder(model=str(nemo_models["ecapa"]), sampling_rate=SR).fit()
    assert other._backend is not named._backend


def test_clone_and_pickle_reload(nemo_models, clips):
    emb = _embedder("ecapa", nemo_models["ecapa"], batch_seconds=3.0)
    cloned = clone(emb)
    assert cloned.get_params() == emb.get_params() and not hasattr(cloned, "n_features_out_")
    emb.fit()
    F = emb.transform(clips)
    blob = pickle.dumps(emb)
    assert len(blob) < 10_000  # the model is not pickled
    clear_backend_cache()
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.transform(clips), F)
    assert restored._backend is not emb._backend  # reloaded from the .nemo file


# --- the "done when": in a Pipeline under cross-validation ---------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_pipeline_cross_validate(family, nemo_models):
    corpus = sertools.datasets.make_synthetic_corpus(
        n_per_class=6, classes=("angry", "sad"), duration=(0.5, 1.0), random_state=0
    )
    cls, _ = EMBEDDERS[family]
    pipe = make_pipeline(
        cls(model=str(nemo_models[family]), sampling_rate=corpus.sampling_rate),
        SVC(C=10, gamma=1e-3),
    )
    X = np.empty(len(corpus.data), dtype=object)
    X[:] = corpus.data
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    scores = cross_validate(pipe, X, corpus.target, cv=cv, scoring=sertools.uar_scorer)
    # the embedder learns nothing from the data, so the pipeline scores exactly as the
    # SVM cross-validated on vectors extracted once (batches differ only by float32
    # rounding, ~1e-6, far below the SVM's decision margins here)
    features = clone(pipe[0]).fit_transform(X)
    svm = SVC(C=10, gamma=1e-3)
    ref = cross_validate(svm, features, corpus.target, cv=cv, scoring=sertools.uar_scorer)
    np.testing.assert_array_equal(scores["test_score"], ref["test_score"])

    step = pipe.steps[0][0]
    grid = {f"{step}__batch_seconds": [0.5, "auto"]}
    search = GridSearchCV(pipe, grid, cv=cv, scoring=sertools.uar_scorer)
    search.fit(X, corpus.target)
    # the batch size changes the speed, never the scores
    for k in range(cv.get_n_splits()):
        np.testing.assert_array_equal(
            search.cv_results_[f"split{k}_test_score"], ref["test_score"][k]
        )


def test_n_threads_is_restored(nemo_models, clips):
    import torch

    before = torch.get_num_threads()
    _embedder("titanet", nemo_models["titanet"], n_threads=1).fit().transform(clips[:2])
    assert torch.get_num_threads() == before


def test_fit_records_the_checkpoint_content_hash(nemo_models, tmp_path):
    import hashlib

    expected = hashlib.sha256(nemo_models["ecapa"].read_bytes()).hexdigest()
    emb = _embedder("ecapa", nemo_models["ecapa"]).fit()
    assert emb.model_fingerprint_ == f"sha256:{expected}"
    # the same bytes under another name: the same model
    copy = tmp_path / "other_name.nemo"
    shutil.copy(nemo_models["ecapa"], copy)
    assert _embedder("ecapa", copy).fit().model_fingerprint_ == emb.model_fingerprint_
    other = _embedder("titanet", nemo_models["titanet"]).fit().model_fingerprint_
    assert other.startswith("sha256:") and other != emb.model_fingerprint_


def test_pickled_pipeline_refuses_another_checkpoint_of_the_same_name(
    nemo_models, clips, tmp_path, monkeypatch
):
    """#10: a fitted pipeline, unpickled where SERTOOLS_MODEL_DIR holds another
    titanet_large.nemo, must not embed with that other model."""
    first, second, same = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder in (first, second, same):
        folder.mkdir()
    shutil.copy(nemo_models["titanet"], first / "titanet_large.nemo")
    shutil.copy(nemo_models["titanet"], same / "titanet_large.nemo")
    _tiny_nemo.save_model("titanet", second / "titanet_large.nemo", seed=1)  # other weights

    monkeypatch.setenv(MODEL_DIR_ENV, str(first))
    pipe = make_pipeline(TitaNetEmbedder(sampling_rate=SR), SVC()).fit(clips, LABELS)
    expected = pipe.predict(clips)
    blob = pickle.dumps(pipe)

    monkeypatch.setenv(MODEL_DIR_ENV, str(same))  # the same bytes elsewhere: fine
    np.testing.assert_array_equal(pickle.loads(blob).predict(clips), expected)

    monkeypatch.setenv(MODEL_DIR_ENV, str(second))
    with pytest.raises(ParameterError, match="was fitted with the model") as info:
        pickle.loads(blob).predict(clips)
    message = str(info.value)
    assert str(first / "titanet_large.nemo") in message
    assert str(second / "titanet_large.nemo") in message
    assert pipe[0].model_fingerprint_ in message
    # a refit adopts the new model
    refit = pickle.loads(blob).fit(clips, LABELS)
    assert refit[0].model_fingerprint_ not in ("", pipe[0].model_fingerprint_)


def test_set_params_without_refit_is_refused(nemo_models, clips):
    emb = _embedder("titanet", nemo_models["titanet"]).fit()
    emb.set_params(verbose=False, n_threads=1, batch_seconds=1.0)  # read at transform: fine
    emb.transform(clips[:2])
    emb.set_params(model=str(nemo_models["ecapa"]))
    with pytest.raises(ParameterError, match=r"changed since fit \(model: .*refit after"):
        emb.transform(clips[:2])
    emb.fit()
    assert emb.transform(clips[:2]).shape == (2, emb.n_features_out_)


def test_bundles_are_data(nemo_models, clips, tmp_path):
    """A bundle names a model for the family estimator; the named classes are the
    family estimator with the bundle as default (same parameters, same values)."""
    from sertools.features import BUNDLES, TITANET_LARGE, ModelBundle

    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(nemo_models["titanet"], folder / TITANET_LARGE.local_file)
    named = TitaNetEmbedder(model_dir=folder, sampling_rate=SR).fit()
    family = NeMoEmbedder(model=TITANET_LARGE, model_dir=folder, sampling_rate=SR).fit()
    np.testing.assert_array_equal(family.transform(clips), named.transform(clips))
    assert family.model_fingerprint_ == named.model_fingerprint_
    for cls in (SpeakerNetEmbedder, TitaNetEmbedder, EcapaTdnnEmbedder, AmberNetEmbedder):
        bundle = cls.bundle
        assert isinstance(bundle, ModelBundle) and BUNDLES[bundle.name] is bundle
        assert cls().model == bundle.name and cls._feature_prefix == bundle.feature_prefix
        assert set(cls().get_params()) == set(NeMoEmbedder().get_params())
        assert cls.__doc__.startswith(bundle.title) and bundle.citation in cls.__doc__


def test_family_estimator_names_features_after_the_bundle(nemo_models, tmp_path):
    """NeMoEmbedder(model=<a bundle's name>) names its features as the named class does."""
    from sertools.features import ECAPA_TDNN

    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(nemo_models["ecapa"], folder / "ecapa_tdnn.nemo")
    by_name = NeMoEmbedder(model="ecapa_tdnn", model_dir=folder, sampling_rate=SR).fit()
    by_bundle = NeMoEmbedder(model=ECAPA_TDNN, model_dir=folder, sampling_rate=SR).fit()
    named = EcapaTdnnEmbedder(model_dir=folder, sampling_rate=SR).fit()
    assert by_name.get_feature_names_out()[0] == "ecapa0"
    assert list(by_bundle.get_feature_names_out()) == list(named.get_feature_names_out())
    # a checkpoint no bundle names keeps the family's prefix
    path = NeMoEmbedder(model=str(nemo_models["ecapa"]), sampling_rate=SR).fit()
    assert path.get_feature_names_out()[0] == "nemo0"


def test_titanet_small_bundle(nemo_models, clips, tmp_path):
    """A second TitaNet is one bundle: its class, registry entry and offline file follow."""
    from sertools.features import TITANET_SMALL, TitaNetSmallEmbedder, get_feature_set

    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(nemo_models["titanet"], folder / "titanet_small.nemo")
    emb = TitaNetSmallEmbedder(model_dir=folder, sampling_rate=SR).fit()
    assert emb.model == "titanet_small" and emb.model_files_[0].endswith("titanet_small.nemo")
    assert emb.get_feature_names_out()[0] == "titanet_small0"
    expected = _embedder("titanet", nemo_models["titanet"]).fit().transform(clips)
    np.testing.assert_array_equal(emb.transform(clips), expected)  # the same file's weights
    assert get_feature_set("titanet-small").load() is TitaNetSmallEmbedder
    assert TitaNetSmallEmbedder.bundle is TITANET_SMALL
    assert TitaNetSmallEmbedder.__doc__.startswith("TitaNet-S speaker embeddings")
