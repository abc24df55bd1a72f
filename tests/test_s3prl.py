"""S3PRL embedders, on real S3PRL code with random-weight checkpoints.

The session fixture writes tiny HuBERT and wav2vec 2.0 checkpoints and a
DeCoAR state dict in the formats S3PRL's ``hubert_local`` / ``wav2vec2_local`` /
``decoar_local`` loaders read (see ``_tiny_s3prl.py``); the tests load them only
through the public API. The file needs the ``s3prl`` extra (torch 2.8 +
torchaudio 2.8) and skips without it.
"""

from __future__ import annotations

import pickle
import random
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip(
    "s3prl", reason="needs s3prl: pip install 'sertools-emotion[s3prl]' (torch 2.8)"
)

import _tiny_s3prl
import torch
from _network import reachable
from _signals import noisy_tones, row_cosine
from _tolerance import assert_reordered_close
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

import sertools
from sertools import (
    BackendNotAvailableError,
    DecoarEmbedder,
    HubertEmbedder,
    ParameterError,
    S3PRLEmbedder,
    Wav2Vec2Embedder,
)
from sertools.features._engine import split_chunks
from sertools.features._neural import clear_backend_cache
from sertools.study.layers import layer_slices, layerwise_scores
from sertools.utils.estimator_checks import check_embedder

pytestmark = pytest.mark.s3prl

SR = 16000
#: family -> (class, mean feature prefix, number of hidden states, width)
FAMILIES = {
    "hubert": (HubertEmbedder, "hubert", 3, 32),
    "wav2vec2": (Wav2Vec2Embedder, "wav2vec2_", 3, 32),
    "decoar": (DecoarEmbedder, "decoar", 1, 2048),
}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Run torch on one thread here: on a busy (or pytest-xdist-shared) 2-core machine,
    two OpenMP threads wait for each other at every tiny op and the file runs 4x slower."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """Random-weight checkpoints: one per family, plus variants for the error tests."""
    folder = tmp_path_factory.mktemp("s3prl_ckpt")
    with warnings.catch_warnings():  # S3PRL's models use the deprecated weight_norm
        warnings.simplefilter("ignore", FutureWarning)
        paths = _save_checkpoints(folder)
    return paths


def _save_checkpoints(folder: Path) -> dict[str, Path]:
    T = _tiny_s3prl
    paths = {
        "hubert": T.save(T.hubert_state(), folder / "hubert.pt"),
        "wav2vec2": T.save(T.wav2vec2_state(), folder / "wav2vec2.pt"),
        "wav2vec2_ln": T.save(
            T.wav2vec2_state(extractor_mode="layer_norm"), folder / "wav2vec2_ln.pt"
        ),
        "decoar": T.save(T.decoar_state(), folder / "decoar.pt"),
    }
    hubert = T.hubert_state()
    hubert["model_weight"].pop("encoder.layers.1.fc2.weight")
    paths["hubert_truncated"] = T.save(hubert, folder / "hubert_truncated.pt")
    decoar = T.decoar_state()
    decoar["model"].pop("backward_lstm.weight_hh_l3")
    paths["decoar_truncated"] = T.save(decoar, folder / "decoar_truncated.pt")
    decoar = T.decoar_state()
    decoar["model"]["post_extract_proj.weight"] = torch.zeros(1024, 40)
    paths["decoar_misshapen"] = T.save(decoar, folder / "decoar_misshapen.pt")
    return paths


@pytest.fixture(scope="module", params=list(FAMILIES))
def family(request) -> str:
    """Module-scoped, so that pytest runs each family's tests together (one model load)."""
    return request.param


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    """Ragged noisy tones, 0.05-0.2 s at 16 kHz (DeCoAR's LSTMs are slow on a CPU)."""
    return noisy_tones([1600, 2800, 800, 3200, 1200, 2000, 960, 2400], sampling_rate=SR)


LABELS = ["low", "high"] * 4


def _as_object_array(clips: list[np.ndarray]) -> np.ndarray:
    X = np.empty(len(clips), dtype=object)
    X[:] = clips
    return X


def _embedder(family: str, path: Path, **params):
    cls = FAMILIES[family][0]
    return cls(checkpoint=str(path), sampling_rate=SR, **params)


# --- import and construction -----------------------------------------------------------------
def test_import_does_not_load_s3prl():
    code = (
        "import sys, sertools, sertools.features\n"
        "for e in (sertools.HubertEmbedder(), sertools.Wav2Vec2Embedder(),\n"
        "          sertools.DecoarEmbedder(), sertools.S3PRLEmbedder()):\n"
        "    e.get_params()\n"
        "assert not [m for m in sys.modules if m == 's3prl' or m.startswith('s3prl.')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_defaults_and_params():
    assert S3PRLEmbedder().get_params() == {
        "upstream": "hubert",
        "checkpoint": None,
        "model_dir": None,
        "layer": -1,
        "pooling": "mean",
        "device": "auto",
        "batch_seconds": "auto",
        "max_chunk_seconds": 30.0,
        "n_threads": None,
        "precision": "fp32",
        "sampling_rate": None,
        "verbose": False,
        "cache": None,
    }
    for cls, upstream in [
        (HubertEmbedder, "hubert"),
        (Wav2Vec2Embedder, "wav2vec2"),
        (DecoarEmbedder, "decoar"),
    ]:
        emb = cls()
        assert emb.upstream == upstream and isinstance(emb, S3PRLEmbedder)
        assert "upstream" not in emb.get_params()  # fixed by the class
        with pytest.raises(ValueError, match="upstream"):
            emb.set_params(upstream="hubert")
    with pytest.raises(TypeError):
        HubertEmbedder("path.pt")  # keyword-only


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"layer": "last"}, "layer"),
        ({"layer": 1.5}, "layer"),
        ({"pooling": "max"}, "pooling"),
        ({"batch_seconds": 0}, "batch_seconds"),
    ],
)
def test_invalid_params_fail_at_fit(params, match):
    emb = HubertEmbedder(**params)  # constructing validates nothing
    with pytest.raises(ValueError, match=match):
        emb.fit()


# --- the scikit-learn contract, per family ---------------------------------------------------
def test_contract(family, checkpoints, clips):
    width = FAMILIES[family][3]
    F = check_embedder(
        _embedder(family, checkpoints[family]), clips, LABELS, grid={"layer": [0, -1]}
    )
    assert F.shape == (len(clips), width)


def test_feature_names(family, checkpoints, clips):
    _, prefix, n_layers, width = FAMILIES[family]
    last = _embedder(family, checkpoints[family]).fit()
    assert last.n_layers_ == n_layers and last.hidden_size_ == width
    assert last.get_feature_names_out().tolist() == [f"{prefix}{j}" for j in range(width)]

    every = _embedder(family, checkpoints[family], layer="all").fit()
    assert every.n_features_out_ == n_layers * width
    names = every.get_feature_names_out().tolist()
    assert names[:2] == ["layer0_0", "layer0_1"] and names[-1] == f"layer{n_layers - 1}_{width - 1}"

    stats = _embedder(family, checkpoints[family], pooling="mean+std").fit()
    base = prefix.rstrip("_")
    assert stats.get_feature_names_out().tolist() == [f"{prefix}{j}" for j in range(width)] + [
        f"{base}_std{j}" for j in range(width)
    ]
    every_stats = _embedder(family, checkpoints[family], layer="all", pooling="mean+std").fit()
    assert every_stats.get_feature_names_out()[width] == "layer0_std0"

    if family != "decoar":  # (a second DeCoAR load would take 10 s)
        generic = S3PRLEmbedder(upstream=family, checkpoint=str(checkpoints[family]))
        generic.set_params(sampling_rate=SR).fit()
        assert generic.get_feature_names_out().tolist() == last.get_feature_names_out().tolist()
        np.testing.assert_array_equal(generic.transform(clips[:3]), last.transform(clips[:3]))

    df = clone(every).set_output(transform="pandas").fit_transform(clips[:3])
    assert isinstance(df, pd.DataFrame) and list(df.columns) == names


def test_layer_selection_is_consistent(family, checkpoints, clips):
    n_layers = FAMILIES[family][2]
    every = _embedder(family, checkpoints[family], layer="all").fit().transform(clips)
    slices = layer_slices(every.shape[1], n_layers)
    for i in range(n_layers):
        F = _embedder(family, checkpoints[family], layer=i).fit().transform(clips)
        # one layer pooled alone vs all layers pooled together: float32 reordered
        assert_reordered_close(F, every[:, slices[i]])  # tests/_tolerance.py
    last = _embedder(family, checkpoints[family]).fit().transform(clips)  # layer=-1
    # float32 reordered: tests/_tolerance.py
    assert_reordered_close(last, every[:, slices[-1]])
    mean = _embedder(family, checkpoints[family], layer="mean").fit().transform(clips)
    expected = np.mean([every[:, s] for s in slices], axis=0)
    # float32 reordered: tests/_tolerance.py
    assert_reordered_close(mean, expected)
    if n_layers > 1:  # the layers differ, so "mean" is not any one of them
        assert not np.allclose(mean, last)


def test_mean_std_pooling(family, checkpoints, clips):
    _, _, _, width = FAMILIES[family]
    mean = _embedder(family, checkpoints[family]).fit().transform(clips)
    stats = _embedder(family, checkpoints[family], pooling="mean+std").fit().transform(clips)
    # float32 reordered: tests/_tolerance.py
    assert_reordered_close(stats[:, :width], mean)
    assert (stats[:, width:] >= 0).all() and (stats[:, width:] > 0).any()


def test_layer_out_of_range(family, checkpoints):
    n_layers = FAMILIES[family][2]
    for layer in (n_layers, -n_layers - 1):
        with pytest.raises(
            ParameterError, match=rf"integer in \[{-n_layers}, {n_layers - 1}\], 'mean' or 'all'"
        ):
            _embedder(family, checkpoints[family], layer=layer).fit()
    _embedder(family, checkpoints[family], layer=-n_layers).fit()  # the first layer
    with pytest.raises(ParameterError, match="layer=True: pass an integer layer index"):
        _embedder(family, checkpoints[family], layer=True).fit()  # not layer 1


# --- pooling over valid frames only ----------------------------------------------------------
def test_pooling_matches_the_upstreams_own_frames(checkpoints, clips):
    """Mean and std over exactly the frames the model computes from the clip's samples."""
    from s3prl.nn import S3PRLUpstream

    with warnings.catch_warnings():  # S3PRL's models use the deprecated weight_norm
        warnings.simplefilter("ignore", FutureWarning)
        upstream = S3PRLUpstream("hubert_local", path_or_url=str(checkpoints["hubert"]))
    upstream.eval()
    emb = _embedder("hubert", checkpoints["hubert"], layer="all", pooling="mean+std").fit()
    for clip in (clips[1], clips[3]):
        wav = torch.from_numpy(clip)[None]
        with torch.inference_mode():
            hidden, hs_len = upstream(wav, torch.tensor([len(clip)]))
        n_frames = (len(clip) - 400) // 320 + 1  # the front end's 7 convolutions
        assert int(hs_len[0][0]) == -(-len(clip) // 320) == n_frames + 1  # S3PRL counts one more
        expected = np.concatenate(
            [
                torch.cat([h[0, :n_frames].mean(0), h[0, :n_frames].std(0, unbiased=False)])
                for h in hidden
            ]
        )
        # float32 reordered: tests/_tolerance.py
        assert_reordered_close(emb.transform([clip])[0], expected)


def test_padding_does_not_leak_into_the_pooled_vectors(family, checkpoints, clips):
    """A padded batch equals one clip at a time where the model itself ignores padding.

    DeCoAR computes fbank features per clip and packs its LSTM inputs; a wav2vec
    2.0 with a per-frame layer-norm front end (``extractor_mode="layer_norm"``)
    masks the padded frames exactly. Pooling over S3PRL's own ``hs_len`` would
    add one (wav2vec 2.0) to three (DeCoAR) frames of padding. The base models'
    group norm does see the padding; sertools' hooks (_exact.py, tests/test_exact.py)
    correct it, so ``batch_seconds="auto"`` batches them too; without padding,
    batching changes nothing.
    """
    ragged = [clips[3], clips[2], clips[0], clips[4]]  # 0.2, 0.05, 0.1, 0.075 s
    cls = FAMILIES[family][0]
    exact = {"decoar": checkpoints["decoar"], "wav2vec2": checkpoints["wav2vec2_ln"]}
    if family in exact:
        batched = cls(checkpoint=str(exact[family]), sampling_rate=SR, batch_seconds=100.0)
        single = cls(checkpoint=str(exact[family]), sampling_rate=SR, batch_seconds=1e-3)
        B = batched.set_params(layer="all").fit().transform(ragged)
        S = single.set_params(layer="all").fit().transform(ragged)
        assert row_cosine(B, S).min() >= 0.99999
        np.testing.assert_allclose(B, S, rtol=1e-4, atol=1e-5)
    if family == "decoar":  # padding-exact: "auto" batches it (30 s on a CPU)
        auto = _embedder(family, checkpoints[family], device="cpu").fit()
        assert auto._batch_seconds() == 30.0
        np.testing.assert_allclose(auto.transform(ragged), S, rtol=1e-4, atol=1e-5)
        return
    auto = _embedder(family, checkpoints[family], device="cpu").fit()
    assert auto._batch_seconds() == 4.0  # padding-exact through _exact.py
    single = _embedder(family, checkpoints[family], device="cpu", batch_seconds=1e-3).fit()
    # float32 sums in another order (batched matrix products): ~1e-6 apart
    np.testing.assert_allclose(
        auto.transform(ragged), single.transform(ragged), rtol=1e-4, atol=1e-5
    )
    equal = [clips[1], clips[1][::-1].copy()]  # no padding
    batched = _embedder(family, checkpoints[family], batch_seconds=100.0).fit()
    # float32 reordered: tests/_tolerance.py
    assert_reordered_close(batched.transform(equal), single.transform(equal))


# --- determinism, order, long and short clips ------------------------------------------------
def test_eval_mode_and_determinism(family, checkpoints, clips):
    """The tiny configs keep dropout 0.1: equal transforms mean dropout is off."""
    emb = _embedder(family, checkpoints[family], layer="all").fit()
    np.testing.assert_array_equal(emb.transform(clips), emb.transform(clips))


def test_reload_gives_the_same_numbers_and_keeps_the_rng(checkpoints, clips):
    F1 = _embedder("hubert", checkpoints["hubert"]).fit().transform(clips)
    clear_backend_cache()
    random.seed(123)
    torch.manual_seed(123)
    expected = (random.random(), torch.rand(1).item())
    random.seed(123)
    torch.manual_seed(123)
    emb = _embedder("hubert", checkpoints["hubert"]).fit()  # S3PRL seeds 0 while loading
    assert (random.random(), torch.rand(1).item()) == expected
    np.testing.assert_array_equal(emb.transform(clips), F1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (checks the CUDA RNG)")
def test_model_load_keeps_the_cuda_rng(checkpoints):
    clear_backend_cache()
    torch.cuda.manual_seed_all(123)
    expected = torch.rand(4, device="cuda").tolist()
    torch.cuda.manual_seed_all(123)
    _embedder("hubert", checkpoints["hubert"], device="cpu").fit()  # S3PRL seeds 0 while loading
    assert torch.rand(4, device="cuda").tolist() == expected


def test_order_restored(checkpoints, clips):
    emb = _embedder("wav2vec2", checkpoints["wav2vec2"], batch_seconds=0.3).fit()
    F = emb.transform(clips)
    perm = np.random.default_rng(1).permutation(len(clips))
    # other batch compositions: float32 summation order (tests/_tolerance.py)
    assert_reordered_close(emb.transform([clips[i] for i in perm]), F[perm])


def test_chunking_of_long_clips(checkpoints, clips):
    long_clip = np.concatenate(clips)  # 0.93 s
    emb = _embedder("hubert", checkpoints["hubert"], max_chunk_seconds=0.5).fit()
    whole = _embedder("hubert", checkpoints["hubert"], max_chunk_seconds=None).fit()
    bounds = split_chunks(len(long_clip), int(0.5 * SR))
    parts = whole.transform([long_clip[a:b] for a, b in bounds])
    weights = np.array([b - a for a, b in bounds], dtype=np.float64)
    expected = (parts * weights[:, None]).sum(0) / weights.sum()
    np.testing.assert_allclose(emb.transform([long_clip])[0], expected, rtol=1e-4, atol=1e-5)


def test_short_clips_are_zero_padded_to_50_ms(checkpoints):
    emb = _embedder("hubert", checkpoints["hubert"], layer="all").fit()
    rng = np.random.default_rng(2)
    short = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (1, 100, 799)]
    F = emb.transform(short)
    assert np.isfinite(F).all()
    padded = [np.pad(x, (0, 800 - len(x))) for x in short]
    # float32 reordered: tests/_tolerance.py
    assert_reordered_close(emb.transform(padded), F)


def test_refit_after_set_params(checkpoints, clips):
    emb = _embedder("hubert", checkpoints["hubert"], layer=0).fit()
    F0 = emb.transform(clips)
    emb.set_params(layer="all").fit()
    assert emb.n_features_out_ == 3 * 32
    # float32 reordered: tests/_tolerance.py
    assert_reordered_close(emb.transform(clips)[:, :32], F0)


# --- checkpoints -----------------------------------------------------------------------------
def test_missing_checkpoint(tmp_path):
    missing = tmp_path / "nope.pt"
    with pytest.raises(ParameterError, match=f"S3PRL checkpoint not found: {missing}"):
        HubertEmbedder(checkpoint=str(missing)).fit()
    with pytest.raises(ParameterError, match="is a folder"):
        Wav2Vec2Embedder(checkpoint=tmp_path).fit()


@pytest.mark.parametrize(
    ("cls", "ckpt", "match"),
    [
        (DecoarEmbedder, "hubert", r"not a DeCoAR checkpoint: expected a dict with a 'model'"),
        (
            DecoarEmbedder,
            "decoar_truncated",
            r"does not fit S3PRL's DeCoAR network \(34 tensors\): 1 missing "
            r"\(e\.g\. \['backward_lstm\.weight_hh_l3'\]\).*strict=False",
        ),
        (DecoarEmbedder, "decoar_misshapen", r"1 with the wrong shape.*post_extract_proj\.weight"),
        (HubertEmbedder, "hubert_truncated", r"hubert_local.*encoder\.layers\.1\.fc2\.weight"),
        (HubertEmbedder, "wav2vec2", r"hubert_local.*dictionaries_symbols"),
        (HubertEmbedder, "decoar", r"hubert_local"),
        (Wav2Vec2Embedder, "hubert", r"wav2vec2_local.*label_embs_concat"),
    ],
)
def test_checkpoint_of_the_wrong_kind(cls, ckpt, match, checkpoints):
    with pytest.raises(ParameterError, match=match) as info:
        cls(checkpoint=str(checkpoints[ckpt])).fit()
    assert str(checkpoints[ckpt]) in str(info.value)


def test_unreadable_checkpoint(tmp_path):
    bogus = tmp_path / "bogus.pt"
    bogus.write_text("not a checkpoint")
    for cls in (DecoarEmbedder, HubertEmbedder):
        with pytest.raises(ParameterError, match=f"{bogus}"):
            cls(checkpoint=str(bogus)).fit()


def test_unknown_upstream(checkpoints):
    with pytest.raises(ParameterError, match=r"'hubrt' is not an S3PRL upstream; close names"):
        S3PRLEmbedder(upstream="hubrt").fit()
    with pytest.raises(ParameterError, match=r"no local-checkpoint loader \(hubert_base_local\)"):
        S3PRLEmbedder(upstream="hubert_base", checkpoint=str(checkpoints["hubert"])).fit()


def test_offline_error_says_where_to_get_the_checkpoint(tmp_path, monkeypatch):
    if reachable("huggingface.co"):
        pytest.skip("huggingface.co is reachable: fitting would download HuBERT Base")
    import s3prl.util.download

    monkeypatch.setattr(s3prl.util.download, "_download_dir", tmp_path)  # no cached copy
    start = time.monotonic()
    with pytest.raises(ParameterError) as info:
        HubertEmbedder().fit()
    assert time.monotonic() - start < 120  # fails fast, does not hang
    message = str(info.value)
    assert "hubert_base_ls960.pt" in message and "checkpoint='/path/to/file'" in message


def test_s3prl_broken_raises_backend_error(checkpoints, tmp_path, monkeypatch):
    copy = shutil.copy(checkpoints["hubert"], tmp_path / "fresh.pt")
    monkeypatch.setitem(sys.modules, "s3prl.nn", None)  # `import s3prl.nn` fails
    with pytest.raises(BackendNotAvailableError, match="installed but cannot be imported"):
        HubertEmbedder(checkpoint=str(copy)).fit()


# --- clone, pickle ---------------------------------------------------------------------------
def test_clone_and_pickle_reload(checkpoints, clips):
    emb = _embedder("wav2vec2", checkpoints["wav2vec2"], layer="all")
    cloned = clone(emb)
    assert cloned.get_params() == emb.get_params() and not hasattr(cloned, "n_features_out_")
    emb.fit()
    F = emb.transform(clips)
    blob = pickle.dumps(emb)
    assert len(blob) < 10_000  # the model is not pickled
    clear_backend_cache()
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.transform(clips), F)
    assert restored.get_feature_names_out().tolist() == emb.get_feature_names_out().tolist()
    assert restored._backend is not emb._backend  # reloaded from the checkpoint


# --- the "done when": in a Pipeline under cross-validation -----------------------------------
def test_pipeline_cross_validate(family, checkpoints, clips):
    X, y = _as_object_array(clips), np.asarray(LABELS)
    cls = FAMILIES[family][0]
    pipe = make_pipeline(
        cls(checkpoint=str(checkpoints[family]), layer="all", sampling_rate=SR),
        SVC(C=10, gamma=1e-3),
    )
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    scores = cross_validate(pipe, X, y, cv=cv, scoring=sertools.uar_scorer)
    # the embedder learns nothing from the data, so the pipeline scores exactly as the
    # SVM cross-validated on vectors extracted once (batches differ only by float32
    # rounding, far below the SVM's decision margins here)
    features = clone(pipe[0]).fit_transform(X)
    svm = SVC(C=10, gamma=1e-3)
    ref = cross_validate(svm, features, y, cv=cv, scoring=sertools.uar_scorer)
    np.testing.assert_array_equal(scores["test_score"], ref["test_score"])


def test_grid_search_over_layer(checkpoints, clips):
    X, y = _as_object_array(clips), np.asarray(LABELS)
    pipe = make_pipeline(
        HubertEmbedder(checkpoint=str(checkpoints["hubert"]), sampling_rate=SR),
        SVC(C=10, gamma=1e-3),
    )
    layers = [0, 1, -1, "mean"]
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)

    def margin(estimator, X_test, y_test):  # a continuous score that tells layers apart
        return float(np.mean(estimator.decision_function(X_test)))

    scoring = {"uar": sertools.uar_scorer, "margin": margin}
    grid = {"hubertembedder__layer": layers}
    search = GridSearchCV(pipe, grid, cv=cv, scoring=scoring, refit="uar")
    search.fit(X, y)
    # each candidate scores as the SVM cross-validated on its own layer's vectors
    margins = []
    for i, layer in enumerate(layers):
        emb = HubertEmbedder(checkpoint=str(checkpoints["hubert"]), sampling_rate=SR, layer=layer)
        features = emb.fit_transform(X)
        ref = cross_validate(SVC(C=10, gamma=1e-3), features, y, cv=cv, scoring=scoring)
        for k in range(3):
            assert search.cv_results_[f"split{k}_test_uar"][i] == ref["test_uar"][k]
        # vectors agree to float32 rounding (batches differ): margins to ~1e-5 relative
        split = [search.cv_results_[f"split{k}_test_margin"][i] for k in range(3)]
        np.testing.assert_allclose(split, ref["test_margin"], rtol=1e-4, atol=1e-7)
        margins.append(ref["test_margin"])
    assert len({tuple(np.round(m, 6)) for m in margins}) == 4  # the layer did change the vectors
    best = layers[int(np.argmax(search.cv_results_["mean_test_uar"]))]
    assert search.best_params_ == {"hubertembedder__layer": best}


# --- layer-wise probing ----------------------------------------------------------------------
def test_layerwise_scores_equal_per_layer_pipelines(checkpoints, clips, tmp_path):
    X, y = _as_object_array(clips), np.asarray(LABELS)
    emb = HubertEmbedder(checkpoint=str(checkpoints["hubert"]), layer="all", sampling_rate=SR)
    F = emb.fit_transform(X)
    cv = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    png = tmp_path / "layers.png"
    table = layerwise_scores(F, y, n_layers=emb.n_layers_, cv=cv, plot=png)
    assert list(table.columns) == ["uar_mean", "uar_std", "war_mean", "war_std"]
    assert table.index.name == "layer" and list(table.index) == [0, 1, 2]
    assert table.to_numpy().min() >= 0 and table.to_numpy().max() <= 1
    assert png.stat().st_size > 0

    pipe = make_pipeline(
        HubertEmbedder(checkpoint=str(checkpoints["hubert"]), layer=1, sampling_rate=SR),
        SVC(C=10, gamma=1e-3),
    )
    direct = cross_validate(pipe, X, y, cv=cv, scoring=sertools.SCORING)
    assert table.loc[1, "uar_mean"] == pytest.approx(direct["test_uar"].mean())
    assert table.loc[1, "war_mean"] == pytest.approx(direct["test_war"].mean())

    frame = pd.DataFrame(F, columns=emb.get_feature_names_out())
    single = layerwise_scores(frame, y, n_layers=3, cv=cv, scoring=sertools.uar_scorer)
    assert list(single.columns) == ["score_mean", "score_std"]
    np.testing.assert_allclose(single["score_mean"], table["uar_mean"])


def test_layerwise_scores_errors():
    F = np.zeros((6, 10))
    y = np.array([0, 1] * 3)
    with pytest.raises(ParameterError, match="cannot hold 3 layers"):
        layerwise_scores(F, y, n_layers=3)
    with pytest.raises(ParameterError, match="positive integer"):
        layerwise_scores(F, y, n_layers=0)
    with pytest.raises(ParameterError, match="2-D"):
        layerwise_scores(F[0], y, n_layers=2)
    with pytest.raises(ParameterError, match="5 labels"):
        layerwise_scores(F, y[:5], n_layers=2)


def test_fit_records_the_checkpoint_content_hash(checkpoints):
    import hashlib

    fitted = _embedder("hubert", checkpoints["hubert"]).fit()
    expected = hashlib.sha256(checkpoints["hubert"].read_bytes()).hexdigest()
    assert fitted.model_fingerprint_ == f"sha256:{expected}"
    other = _embedder("wav2vec2", checkpoints["wav2vec2"]).fit().model_fingerprint_
    assert other.startswith("sha256:") and other != fitted.model_fingerprint_


def test_model_dir_and_bundles(checkpoints, clips, tmp_path, monkeypatch):
    """The shared checkpoint policy: checkpoint= > model_dir / $SERTOOLS_MODEL_DIR
    (the bundle's file name) > S3PRL's hub; a bundle works as the upstream."""
    from sertools.features import HUBERT_BASE

    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(checkpoints["hubert"], folder / HUBERT_BASE.local_file)
    expected = _embedder("hubert", checkpoints["hubert"]).fit().transform(clips)
    monkeypatch.delenv("SERTOOLS_MODEL_DIR", raising=False)
    by_dir = HubertEmbedder(model_dir=folder, sampling_rate=SR).fit()
    np.testing.assert_array_equal(by_dir.transform(clips), expected)
    assert by_dir.model_files_ == (str((folder / HUBERT_BASE.local_file).resolve()),)
    monkeypatch.setenv("SERTOOLS_MODEL_DIR", str(folder))
    by_bundle = S3PRLEmbedder(upstream=HUBERT_BASE, sampling_rate=SR).fit()
    np.testing.assert_array_equal(by_bundle.transform(clips), expected)
    assert list(by_bundle.get_feature_names_out()) == list(by_dir.get_feature_names_out())
