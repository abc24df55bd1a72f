"""The per-clip embedding cache, the streaming reader and the scale-out of ``transform``."""

from __future__ import annotations

import multiprocessing
import pickle
import shutil
import sqlite3
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

import sertools
from sertools import ParameterError, audio
from sertools.features import (
    CacheWarning,
    EmbeddingCache,
    MelSpectrogramEmbedder,
    MFCCEmbedder,
    _cache,
    _extract,
    inherit_parameters,
)
from sertools.features.signal import _LibrosaEmbedder

RATE = 16000


def _clip(seed: int, seconds: float) -> np.ndarray:
    """A noisy tone whose pitch depends on the class (seed % 3)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = (150, 300, 600)[seed % 3] * rng.uniform(0.9, 1.1)
    tone = np.sin(2 * np.pi * f0 * t) * 0.3
    return (tone + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[np.ndarray, np.ndarray]:
    """30 WAV files (3 classes of 10), 0.3-0.8 s, as an array of paths, and labels."""
    folder = tmp_path_factory.mktemp("cache_corpus")
    paths, labels = [], []
    for i in range(30):
        path = folder / f"clip{i:02d}.wav"
        sf.write(path, _clip(i, 0.3 + 0.5 * (i % 7) / 6), RATE, subtype="PCM_16")
        paths.append(str(path))
        labels.append(f"class{i % 3}")
    return np.asarray(paths), np.asarray(labels)


@pytest.fixture
def count_frames(monkeypatch) -> list[int]:
    """Count the real librosa computations (one per clip embedded)."""
    calls = [0]
    original = _LibrosaEmbedder._one

    def counted(self, index, wave):
        calls[0] += 1
        return original(self, index, wave)

    monkeypatch.setattr(_LibrosaEmbedder, "_one", counted)
    return calls


def _rows(folder: Path) -> dict[str, bytes]:
    """The raw rows of a store (read with sqlite3 directly, as a stranger would)."""
    with sqlite3.connect(Path(folder) / _cache.DB_NAME) as db:
        rows = dict(db.execute("SELECT key, value FROM entries").fetchall())
    db.close()
    return rows


def _set_row(folder: Path, key: str, value: bytes) -> None:
    with sqlite3.connect(Path(folder) / _cache.DB_NAME) as db:
        db.execute("UPDATE entries SET value = ? WHERE key = ?", (value, key))
    db.close()


# --- one embedding per clip -----------------------------------------------------------


def test_every_feature_set_takes_cache():
    from sertools.features import available_feature_sets

    for name, feature_set in available_feature_sets().items():
        params = feature_set.load()().get_params()
        assert "cache" in params and params["cache"] is None, name


def test_cross_validate_with_two_classifiers_embeds_each_clip_once(corpus, tmp_path, count_frames):
    from sertools.models import DNNClassifier

    X, y = corpus
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    folder = tmp_path / "cache"

    def run() -> list[float]:
        scores = []
        for clf in (SVC(C=10, gamma=1e-3), DNNClassifier(max_epochs=5, random_state=0)):
            pipe = make_pipeline(MFCCEmbedder(cache=folder), clf)
            res = cross_validate(pipe, X, y, cv=cv, scoring=sertools.uar_scorer)
            scores.append(res["test_score"].mean())
        return scores

    cold = run()
    # without a cache: 2 classifiers x 5 folds x every clip (train + test) = 10 N
    assert count_frames[0] == len(X)
    count_frames[0] = 0
    warm = run()
    assert count_frames[0] == 0
    assert warm == cold  # same vectors, same folds, seeded DNN


def test_transform_reports_embedded_and_cached_counts(corpus, tmp_path, capsys):
    X, _ = corpus
    emb = MFCCEmbedder(cache=tmp_path, verbose=True).fit()
    F = emb.transform(X[:10])
    assert (emb.n_embedded_, emb.n_from_cache_) == (10, 0)
    G = emb.transform(X[5:15])
    assert (emb.n_embedded_, emb.n_from_cache_) == (5, 5)
    np.testing.assert_array_equal(G[:5], F[5:])
    assert "5 embedded, 5 from the cache" in capsys.readouterr().err
    # the cached vectors are exactly those computed without a cache
    np.testing.assert_array_equal(MFCCEmbedder().fit().transform(X[5:15]), G)


def test_arrays_are_cached_by_content(tmp_path):
    clips = [_clip(i, 0.4) for i in range(4)]
    emb = MFCCEmbedder(sampling_rate=RATE, cache=tmp_path).fit()
    F = emb.transform(clips)
    # a new list of equal arrays (other objects) is found without embedding
    again = emb.transform([c.copy() for c in clips])
    assert (emb.n_embedded_, emb.n_from_cache_) == (0, 4)
    np.testing.assert_array_equal(again, F)
    # the same audio as int16 at another rate is another clip: it is embedded
    pcm = [(c * 32767).astype(np.int16) for c in clips]
    emb.set_params(sampling_rate=8000).fit().transform(pcm)
    assert emb.n_embedded_ == 4


def test_same_audio_under_another_path_is_found_by_content(corpus, tmp_path):
    X, _ = corpus
    emb = MFCCEmbedder(cache=tmp_path / "cache").fit()
    F = emb.transform(X[:3])
    copies = []
    for p in X[:3]:
        copies.append(str(tmp_path / ("copy_" + Path(p).name)))
        shutil.copy(p, copies[-1])
    G = emb.transform(copies)
    assert (emb.n_embedded_, emb.n_from_cache_) == (0, 3)
    np.testing.assert_array_equal(G, F)


def test_an_edited_file_is_embedded_again(corpus, tmp_path):
    X, _ = corpus
    path = tmp_path / "edited.wav"
    shutil.copy(X[0], path)
    emb = MFCCEmbedder(cache=tmp_path / "cache").fit()
    before = emb.transform([path])
    sf.write(path, _clip(99, 0.5), RATE, subtype="PCM_16")
    after = emb.transform([path])
    assert emb.n_embedded_ == 1
    np.testing.assert_array_equal(after, MFCCEmbedder().fit().transform([path]))
    assert not np.allclose(after, before)


# --- the fingerprint -------------------------------------------------------------------


def test_output_parameters_change_the_key_execution_parameters_do_not(corpus, tmp_path):
    X, _ = corpus
    folder = tmp_path / "cache"
    MFCCEmbedder(cache=folder).fit().transform(X[:4])
    same = MFCCEmbedder(cache=folder, verbose=False, n_jobs=1, sampling_rate=8000).fit()
    same.transform(X[:4])
    assert same.n_from_cache_ == 4
    for params in ({"n_mfcc": 20}, {"hop_length": 256}, {"pooling": "mean+std"}):
        other = MFCCEmbedder(cache=folder, **params).fit()
        F = other.transform(X[:4])
        assert other.n_embedded_ == 4, params
        np.testing.assert_array_equal(F, MFCCEmbedder(**params).fit().transform(X[:4]))
    # another embedder class with the same parameter values is another family
    mel = MelSpectrogramEmbedder(cache=folder).fit()
    mel.transform(X[:4])
    assert mel.n_embedded_ == 4


def test_fingerprint_covers_model_identity_and_versions(monkeypatch):
    emb = MFCCEmbedder().fit()
    base = _cache.embedder_fingerprint(emb)
    assert _cache.embedder_fingerprint(clone(emb).fit()) == base
    # the checkpoint content hash of a neural embedder (fitted attribute)
    emb.model_fingerprint_ = "sha256:aaaa"
    with_model = _cache.embedder_fingerprint(emb)
    emb.model_fingerprint_ = "sha256:bbbb"
    assert len({base, with_model, _cache.embedder_fingerprint(emb)}) == 3
    del emb.model_fingerprint_
    monkeypatch.setattr(sertools, "__version__", "99.0")
    assert _cache.embedder_fingerprint(emb) != base
    monkeypatch.undo()
    real = _cache.metadata.version
    monkeypatch.setattr(
        _cache.metadata, "version", lambda name: "0.0" if name == "librosa" else real(name)
    )
    assert _cache.embedder_fingerprint(emb) != base


def test_another_sertools_version_recomputes_cleanly(corpus, tmp_path, monkeypatch):
    X, _ = corpus
    MFCCEmbedder(cache=tmp_path).fit().transform(X[:3])
    monkeypatch.setattr(sertools, "__version__", "99.0")
    emb = MFCCEmbedder(cache=tmp_path).fit()
    F = emb.transform(X[:3])
    assert emb.n_embedded_ == 3
    np.testing.assert_array_equal(F, MFCCEmbedder().fit().transform(X[:3]))


# --- bad stores ------------------------------------------------------------------------


def test_damaged_entry_is_reported_once_and_recomputed(corpus, tmp_path):
    X, _ = corpus
    emb = MFCCEmbedder(cache=tmp_path).fit()
    F = emb.transform(X[:3])
    keys = [k for k in _rows(tmp_path) if k.startswith("v:")]
    victim = keys[0]
    blob = bytearray(_rows(tmp_path)[victim])
    blob[12] ^= 0xFF  # one flipped byte inside the vector, same size
    _set_row(tmp_path, victim, bytes(blob))
    with pytest.warns(CacheWarning, match=victim) as record:
        G = emb.transform(X[:3])
    assert len([w for w in record if issubclass(w.category, CacheWarning)]) == 1
    assert (emb.n_embedded_, emb.n_from_cache_) == (1, 2)
    np.testing.assert_array_equal(G, F)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        emb.transform(X[:3])  # rewritten: found intact
    assert emb.n_from_cache_ == 3


def test_damaged_fast_key_is_recomputed(corpus, tmp_path):
    X, _ = corpus
    emb = MFCCEmbedder(cache=tmp_path).fit()
    F = emb.transform(X[:2])
    key = next(k for k in _rows(tmp_path) if k.startswith("f:"))
    _set_row(tmp_path, key, b"garbage")
    with pytest.warns(CacheWarning, match=key):
        G = emb.transform(X[:2])
    np.testing.assert_array_equal(G, F)


def test_unusable_folders_are_clear_errors(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    for folder in (blocker, blocker / "cache"):
        with pytest.raises(ParameterError, match=str(blocker)):
            MFCCEmbedder(cache=folder).fit()
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / _cache.DB_NAME).write_bytes(b"\x00garbage" * 512)
    with pytest.raises(ParameterError, match="cannot be used"):
        MFCCEmbedder(cache=tmp_path / "db").fit()
    with pytest.raises(ValueError, match="'cache' parameter"):
        MFCCEmbedder(cache=3).fit()
    with pytest.raises(ParameterError, match="not a cache"):
        _cache.resolve_cache(3)


def test_store_of_another_format_is_refused(tmp_path):
    EmbeddingCache(tmp_path).close()
    with sqlite3.connect(tmp_path / _cache.DB_NAME) as db:
        db.execute("UPDATE meta SET value = '999' WHERE name = 'format'")
        db.execute("UPDATE meta SET value = '\"9.9\"' WHERE name = 'sertools'")
    db.close()
    with pytest.raises(ParameterError, match=r"format 999 \(written by sertools 9.9\)"):
        EmbeddingCache(tmp_path)


def test_full_disk_returns_vectors_uncached(corpus, tmp_path, monkeypatch):
    X, _ = corpus
    store = EmbeddingCache(tmp_path)

    def full(self, *args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(EmbeddingCache, "_write", full)
    emb = MFCCEmbedder(cache=store).fit()
    with pytest.warns(CacheWarning, match="cannot be written") as record:
        F = emb.transform(X[:6])
    assert len([w for w in record if issubclass(w.category, CacheWarning)]) == 1
    np.testing.assert_array_equal(F, MFCCEmbedder().fit().transform(X[:6]))
    assert len(store) == 0


def test_cache_parameter_forms_and_environment(corpus, tmp_path, monkeypatch):
    X, _ = corpus
    monkeypatch.setenv(_cache.CACHE_ENV, str(tmp_path / "env"))
    emb = MFCCEmbedder().fit()  # cache=None: the environment's folder
    emb.transform(X[:2])
    assert len(EmbeddingCache(tmp_path / "env")) == 2
    off = MFCCEmbedder(cache=False).fit()
    off.transform(X[:2])
    assert (off.n_embedded_, off.n_from_cache_) == (2, 0)
    on = MFCCEmbedder(cache=True).fit()
    on.transform(X[:2])
    assert on.n_from_cache_ == 2
    monkeypatch.delenv(_cache.CACHE_ENV)
    with pytest.raises(ParameterError, match=_cache.CACHE_ENV):
        MFCCEmbedder(cache=True).fit()
    plain = MFCCEmbedder().fit()
    plain.transform(X[:2])
    assert plain.n_embedded_ == 2


def test_store_objects_clone_and_pickle(corpus, tmp_path):
    X, _ = corpus
    store = EmbeddingCache(tmp_path)
    emb = MFCCEmbedder(cache=store).fit()
    F = emb.transform(X[:3])
    twin = clone(emb)
    assert twin.get_params()["cache"] is store
    restored = pickle.loads(pickle.dumps(emb))
    assert restored.cache.directory == store.directory
    np.testing.assert_array_equal(restored.transform(X[:3]), F)
    assert restored.n_from_cache_ == 3


# --- concurrency and interrupts -------------------------------------------------------


def _embed_in_child(folder: str, paths: list[str], barrier) -> np.ndarray:
    emb = MFCCEmbedder(cache=folder).fit()
    barrier.wait()  # both processes write the same keys at the same time
    return emb.transform(paths)


def test_two_processes_writing_the_same_keys(corpus, tmp_path):
    X, _ = corpus
    paths = list(X[:12])
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(2)
        with ctx.Pool(2) as pool:
            jobs = [
                pool.apply_async(_embed_in_child, (str(tmp_path), paths, barrier)) for _ in range(2)
            ]
            a, b = (job.get(timeout=120) for job in jobs)
    np.testing.assert_array_equal(a, b)
    assert len(EmbeddingCache(tmp_path)) == len(paths)  # one entry per clip
    emb = MFCCEmbedder(cache=tmp_path).fit()
    np.testing.assert_array_equal(emb.transform(paths), a)
    assert emb.n_from_cache_ == len(paths)


def test_interrupted_run_keeps_finished_chunks(corpus, tmp_path, monkeypatch, count_frames):
    X, _ = corpus
    monkeypatch.setattr(_extract, "CHUNK_CLIPS", 4)
    original = _LibrosaEmbedder._one

    def interrupted(self, index, wave):
        if count_frames[0] >= 10:
            raise KeyboardInterrupt
        return original(self, index, wave)

    monkeypatch.setattr(_LibrosaEmbedder, "_one", interrupted)
    emb = MFCCEmbedder(cache=tmp_path).fit()
    with pytest.raises(KeyboardInterrupt):
        emb.transform(X[:12])
    assert len(EmbeddingCache(tmp_path)) == 8  # two whole chunks of 4
    monkeypatch.setattr(_LibrosaEmbedder, "_one", original)
    emb.transform(X[:12])
    assert (emb.n_embedded_, emb.n_from_cache_) == (4, 8)


# --- streaming ----------------------------------------------------------------------------


def test_reader_keeps_order_and_reads_a_bounded_window_ahead(monkeypatch):
    started = []
    original = audio.load_clip

    def counted(item, index, **kwargs):
        started.append(index)
        return original(item, index, **kwargs)

    monkeypatch.setattr(audio, "load_clip", counted)
    clips = [np.full(100 + i, i / 100, dtype=np.float32) for i in range(40)]
    reader = audio.read_ahead(
        enumerate(clips), sampling_rate=RATE, target_rate=RATE, n_threads=2, prefetch=5
    )
    for k, (i, wave) in enumerate(reader):
        assert i == k and wave.shape == (100 + k,) and wave[0] == np.float32(k / 100)
        # submitted reads never run more than the window ahead of the consumer
        assert len(started) <= k + 1 + 5
    assert sorted(started) == list(range(40))


def test_reader_reports_a_bad_clip_at_its_position():
    clips = [np.zeros(100, np.float32), np.zeros(100, np.float32), np.array([], np.float32)]
    got = []
    with pytest.raises(ParameterError, match=r"X\[2\]"):
        for i, _ in audio.read_ahead(enumerate(clips), sampling_rate=RATE, target_rate=RATE):
            got.append(i)
    assert got == [0, 1]
    waves = list(audio.iter_clips(clips[:2], sampling_rate=8000, target_rate=RATE))
    assert [w.shape for w in waves] == [(200,), (200,)]


def test_transform_embeds_in_bounded_chunks(corpus, monkeypatch):
    X, _ = corpus
    monkeypatch.setattr(_extract, "CHUNK_CLIPS", 4)
    sizes = []
    original = _LibrosaEmbedder._embed

    def recorded(self, waves):
        sizes.append(len(waves))
        return original(self, waves)

    monkeypatch.setattr(_LibrosaEmbedder, "_embed", recorded)
    F = MFCCEmbedder().fit().transform(X[:10])
    assert sizes == [4, 4, 2]
    monkeypatch.setattr(_extract, "CHUNK_CLIPS", 64)
    np.testing.assert_array_equal(F, MFCCEmbedder().fit().transform(X[:10]))


# --- scale-out --------------------------------------------------------------------------


def test_n_jobs_spreads_chunks_over_processes(corpus, tmp_path, monkeypatch):
    X, _ = corpus
    monkeypatch.setattr(_extract, "CHUNK_CLIPS", 8)
    one = MFCCEmbedder().fit().transform(X)
    emb = MFCCEmbedder(n_jobs=2, cache=tmp_path).fit()
    two = emb.transform(X)
    # one BLAS thread per clip in every process: the same sums, the same bits (with
    # the default BLAS threads the main process differed by up to 3.1e-5)
    np.testing.assert_array_equal(two, one)
    assert (emb.n_embedded_, emb.n_from_cache_) == (len(X), 0)
    assert len(EmbeddingCache(tmp_path)) == len(X)  # written by this process
    emb.transform(X)
    assert emb.n_from_cache_ == len(X)


# module level, so that joblib's dask backend pickles it by reference
_RAN_IN: list[str] = []
_ORIGINAL_WORKER = _extract._worker


def _recorded_worker(*args):
    _RAN_IN.append(threading.current_thread().name)
    return _ORIGINAL_WORKER(*args)


def test_dask_cluster_gives_the_single_process_vectors(corpus, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_backend

    X, _ = corpus
    monkeypatch.setattr(_extract, "CHUNK_CLIPS", 8)
    single = MFCCEmbedder().fit().transform(X)
    _RAN_IN.clear()
    monkeypatch.setattr(_extract, "_worker", _recorded_worker)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp://",  # real sockets on the loopback, as between machines
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
        parallel_backend("dask"),
    ):
        emb = MFCCEmbedder(cache=tmp_path).fit()
        F = emb.transform(X)
        assert len(client.scheduler_info()["workers"]) == 2
    # 8 groups (4 per worker) of 4 clips, each run by a dask worker thread
    assert len(_RAN_IN) == 8 and "MainThread" not in _RAN_IN
    np.testing.assert_array_equal(F, single)  # per-clip features, same BLAS, same process
    assert emb.n_embedded_ == len(X)
    assert len(EmbeddingCache(tmp_path)) == len(X)


@pytest.mark.slow
def test_dask_worker_processes_give_the_single_process_vectors(corpus):
    """docs/cache.md: per-clip features are equal bit for bit on a 2-process cluster."""
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_backend

    X, _ = corpus
    single = MFCCEmbedder(cache=False).fit().transform(X)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        parallel_backend("dask"),
    ):
        F = MFCCEmbedder(cache=False).fit().transform(X)
    np.testing.assert_array_equal(F, single)


def test_warm_run_reads_no_audio(corpus, tmp_path, monkeypatch):
    X, _ = corpus
    emb = MFCCEmbedder(cache=tmp_path).fit()
    F = emb.transform(X)

    def no_reading(*args, **kwargs):
        raise AssertionError("a warm run must not read audio")

    monkeypatch.setattr(audio, "load_clip", no_reading)
    np.testing.assert_array_equal(emb.transform(X), F)


# --- a neural embedder (tiny random-weight NeMo model) -------------------------------------


@pytest.fixture
def count_nemo(monkeypatch) -> list[int]:
    """Count the clips that go through the real NeMo model."""
    pytest.importorskip("nemo.collections.asr")
    from sertools.features import nemo

    embedded = [0]
    original = nemo._NeMoBackend.__call__

    def counted(self, batch, lengths):
        embedded[0] += int(batch.shape[0])
        return original(self, batch, lengths)

    monkeypatch.setattr(nemo._NeMoBackend, "__call__", counted)
    return embedded


@pytest.mark.nemo
def test_nemo_cross_validate_embeds_each_clip_once(corpus, tmp_path, count_nemo):
    import _tiny_nemo

    X, y = corpus
    model = str(_tiny_nemo.save_model("titanet", tmp_path / "titanet.nemo"))
    cv = StratifiedKFold(5, shuffle=True, random_state=0)

    def run() -> list[float]:
        scores = []
        for clf in (SVC(C=10, gamma=1e-3), SVC(C=1, kernel="linear")):
            emb = sertools.TitaNetEmbedder(model=model, device="cpu", cache=tmp_path / "cache")
            res = cross_validate(make_pipeline(emb, clf), X, y, cv=cv)
            scores.append(res["test_score"].mean())
        return scores

    cold = run()
    assert count_nemo[0] == len(X)
    count_nemo[0] = 0
    assert run() == cold
    assert count_nemo[0] == 0


@pytest.mark.nemo
def test_nemo_replaced_checkpoint_is_not_served_from_the_cache(corpus, tmp_path, count_nemo):
    import _tiny_nemo

    X, _ = corpus
    path = tmp_path / "model.nemo"
    _tiny_nemo.save_model("titanet", path, seed=0)
    emb = sertools.TitaNetEmbedder(model=str(path), device="cpu", cache=tmp_path / "cache")
    before = clone(emb).fit().transform(X[:4])
    _tiny_nemo.save_model("titanet", path, seed=1)  # same path, other weights
    refit = clone(emb).fit()
    after = refit.transform(X[:4])
    assert (refit.n_embedded_, refit.n_from_cache_) == (4, 0)
    fresh = sertools.TitaNetEmbedder(model=str(path), device="cpu").fit().transform(X[:4])
    np.testing.assert_array_equal(after, fresh)
    assert not np.allclose(after, before, atol=1e-3)


def test_merge_from_copies_intact_entries(corpus, tmp_path):
    X, _ = corpus
    MFCCEmbedder(cache=tmp_path / "a").fit().transform(X[:3])
    MFCCEmbedder(cache=tmp_path / "b").fit().transform(X[2:5])
    target = EmbeddingCache(tmp_path / "a")
    # 2 new clips: a vector and a fast key each
    assert target.merge_from(tmp_path / "b") == 4
    assert len(target) == 5
    emb = MFCCEmbedder(cache=target).fit()
    emb.transform(X[:5])
    assert emb.n_from_cache_ == 5


def test_a_clip_given_twice_is_embedded_once(corpus, tmp_path, count_frames):
    X, _ = corpus
    emb = MFCCEmbedder(cache=tmp_path).fit()
    F = emb.transform(np.concatenate([X[:3], X[:3], X[:1]]))
    assert count_frames[0] == 3
    assert (emb.n_embedded_, emb.n_from_cache_) == (3, 4)
    np.testing.assert_array_equal(F[3:6], F[:3])
    np.testing.assert_array_equal(F[6], F[0])


def test_two_files_with_the_same_content_are_cached(tmp_path):
    # before: their rows shared a key, the write failed on it ("UNIQUE constraint failed")
    # and no vector of the batch was cached: a second run embedded every clip again
    x = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    for name, wave in (("a.wav", x), ("b.wav", x), ("c.wav", x[::-1].copy())):
        sf.write(tmp_path / name, wave, 16000)
    files = [str(tmp_path / n) for n in ("a.wav", "b.wav", "c.wav")]
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        first = MFCCEmbedder(cache=tmp_path / "cache").fit()
        F = first.transform(files)
    second = MFCCEmbedder(cache=tmp_path / "cache").fit()
    np.testing.assert_array_equal(second.transform(files), F)
    assert (second.n_embedded_, second.n_from_cache_) == (0, 3)


@pytest.mark.nemo
def test_nemo_moved_checkpoint_keeps_its_vectors(corpus, tmp_path, count_nemo):
    import _tiny_nemo

    X, _ = corpus
    first = _tiny_nemo.save_model("titanet", tmp_path / "a" / "model.nemo")
    moved = tmp_path / "b" / "renamed.nemo"
    moved.parent.mkdir()
    shutil.copy(first, moved)
    folder = tmp_path / "cache"
    before = sertools.TitaNetEmbedder(model=str(first), device="cpu", cache=folder).fit()
    F = before.transform(X[:4])
    # the checkpoint is identified by its content hash, not by where it lies
    after = sertools.TitaNetEmbedder(model=str(moved), device="cpu", cache=folder).fit()
    assert after.model_fingerprint_ == before.model_fingerprint_
    count_nemo[0] = 0
    np.testing.assert_array_equal(after.transform(X[:4]), F)
    assert (count_nemo[0], after.n_from_cache_) == (0, 4)


# --- a store written by someone else: data, never code (issue 20, items 1-2) ----------------


class _RunsCode:
    """Unpickling this creates ``marker``: a stand-in for any code a pickle may run."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _databases(folder: Path) -> list[Path]:
    """Every SQLite file in a cache folder, whatever the store's layout."""
    return [
        p
        for p in Path(folder).iterdir()
        if p.is_file() and p.read_bytes()[:16] == b"SQLite format 3\x00"
    ]


def _craft(folder: Path, rows: str, **columns: object) -> int:
    """Overwrite rows of every table of the folder's databases, as an attacker would.

    ``rows``: "entries" (the vectors and fast keys, keys ``v:``/``f:``) or "format"
    (the store's format record). ``columns``: values to set where a table has such a
    column (``value``; diskcache's ``mode`` and ``filename``).
    """
    n = 0
    for path in _databases(folder):
        db = sqlite3.connect(path)
        with db:
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                names = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                if "value" not in names:
                    continue
                sets = {c: v for c, v in columns.items() if c in names}
                if sets.get("value") is None:  # a table without diskcache's file columns
                    sets["value"] = str(columns.get("filename") or "")
                if rows == "entries" and "key" in names:
                    where = "key LIKE 'v:%' OR key LIKE 'f:%'"
                elif rows == "format" and "key" in names:
                    where = f"key = '{'sertools-cache-format'}'"
                elif rows == "format" and "name" in names:
                    where = "name = 'format'"
                else:
                    continue
                assignments = ", ".join(f"{c} = ?" for c in sets)
                cur = db.execute(
                    f"UPDATE {table} SET {assignments} WHERE {where}", list(sets.values())
                )
                n += cur.rowcount
        db.close()
    return n


def _filled(folder: Path, X: np.ndarray) -> np.ndarray:
    F = MFCCEmbedder(cache=folder).fit().transform(X[:3])
    _cache.resolve_cache(folder).close()
    return F


def test_crafted_rows_never_run_code_on_transform(corpus, tmp_path):
    """#20.1: diskcache unpickled any row with mode=4; a store must only hold data."""
    X, _ = corpus
    folder, marker = tmp_path / "cache", tmp_path / "marker"
    F = _filled(folder, X)
    payload = pickle.dumps(_RunsCode(marker))
    assert _craft(folder, "entries", value=payload, mode=4) >= 6
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        emb = MFCCEmbedder(cache=folder).fit()
        G = emb.transform(X[:3])
    assert not marker.exists()
    # not sertools' format: reported and recomputed
    assert any(issubclass(w.category, CacheWarning) for w in record)
    np.testing.assert_array_equal(G, F)
    assert emb.n_embedded_ == 3


def test_crafted_format_record_never_runs_code(corpus, tmp_path):
    X, _ = corpus
    folder, marker = tmp_path / "cache", tmp_path / "marker"
    _filled(folder, X)
    _cache._OPEN.clear()  # a new process opening the folder
    assert _craft(folder, "format", value=pickle.dumps(_RunsCode(marker)), mode=4) >= 1
    with pytest.raises(ParameterError, match="not a sertools embedding cache"):
        MFCCEmbedder(cache=folder).fit()
    assert not marker.exists()


def test_merge_from_a_crafted_store_never_runs_code(corpus, tmp_path):
    X, _ = corpus
    marker = tmp_path / "marker"
    _filled(tmp_path / "theirs", X)
    assert _craft(tmp_path / "theirs", "entries", value=pickle.dumps(_RunsCode(marker)), mode=4)
    target = EmbeddingCache(tmp_path / "ours")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CacheWarning)
        assert target.merge_from(tmp_path / "theirs") == 0
    assert not marker.exists() and len(target) == 0


@pytest.mark.parametrize(
    "craft",
    [
        {"mode": 2, "filename": "VICTIM", "value": None},  # diskcache: value in a file
        {"mode": 3, "filename": None, "value": None},  # text file, no name: TypeError
        {"value": "VICTIM"},  # a value that names a file
    ],
    ids=["binary-file", "null-filename", "path-value"],
)
def test_crafted_rows_never_touch_files_outside_the_folder(corpus, tmp_path, craft):
    """#20.2: a row naming '/abs/victim' made diskcache read it, then delete it."""
    X, _ = corpus
    folder = tmp_path / "cache"
    victim = tmp_path / "outside" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("precious")
    F = _filled(folder, X)
    columns = {c: (str(victim) if v == "VICTIM" else v) for c, v in craft.items()}
    if "mode" not in craft:  # sertools' own table has no mode column: a path as the value
        columns.setdefault("value", str(victim))
    _craft(folder, "entries", **columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CacheWarning)
        emb = MFCCEmbedder(cache=folder).fit()
        G = emb.transform(X[:3])  # no raw TypeError
        EmbeddingCache(tmp_path / "other").merge_from(folder)
    assert victim.read_text() == "precious"
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.txt"]
    np.testing.assert_array_equal(G, F)


def test_legacy_diskcache_store_is_not_read(corpus, tmp_path):
    """A folder of an older sertools (diskcache's cache.db) is left alone, never opened."""
    X, _ = corpus
    folder, marker = tmp_path / "cache", tmp_path / "marker"
    folder.mkdir()
    with sqlite3.connect(folder / "cache.db") as db:
        db.execute("CREATE TABLE Cache (key TEXT, raw INTEGER, mode INTEGER, value BLOB)")
        db.execute(
            "INSERT INTO Cache VALUES ('sertools-cache-format', 1, 4, ?)",
            (pickle.dumps(_RunsCode(marker)),),
        )
    db.close()
    with pytest.warns(CacheWarning, match="older sertools"):
        emb = MFCCEmbedder(cache=folder).fit()
    F = emb.transform(X[:2])
    assert not marker.exists() and emb.n_embedded_ == 2
    np.testing.assert_array_equal(F, MFCCEmbedder().fit().transform(X[:2]))


def test_small_size_limit_never_evicts_the_format_record(corpus, tmp_path, monkeypatch):
    """#20: a small size_limit evicted diskcache's format key ("store of format None")."""
    X, _ = corpus
    monkeypatch.setattr(_extract, "CHUNK_CLIPS", 4)  # one write per 4 clips
    store = EmbeddingCache(tmp_path, size_limit=3000)  # about 7 clips' entries
    emb = MFCCEmbedder(cache=store).fit()
    F = emb.transform(X)
    assert 0 < len(store) < len(X)  # the oldest entries were evicted
    store.close()
    _cache._OPEN.clear()
    again = MFCCEmbedder(cache=EmbeddingCache(tmp_path, size_limit=3000)).fit()
    np.testing.assert_array_equal(again.transform(X), F)
    assert again.n_from_cache_ > 0


# --- a file's identity (issue 20, item 4) -----------------------------------------------------


def _same_size_other_audio(path: Path) -> bytes:
    """A WAV of the same length as ``path`` (so the same byte size), other samples."""
    other = path.parent / "other.wav"
    sf.write(other, _clip(7, 0.5), RATE, subtype="PCM_16")
    data = other.read_bytes()
    other.unlink()
    return data


@pytest.mark.parametrize("how", ["in-place-utime", "rename-keeping-mtime"])
def test_a_file_replaced_with_size_and_mtime_kept_is_read_again(tmp_path, how):
    """#20.4: path + size + mtime served the old vector (os.utime, cp -p, rsync -a)."""
    import os

    path = tmp_path / "clip.wav"
    sf.write(path, _clip(1, 0.5), RATE, subtype="PCM_16")
    emb = MFCCEmbedder(cache=tmp_path / "cache").fit()
    before = emb.transform([str(path)])
    st = path.stat()
    new = _same_size_other_audio(path)
    assert len(new) == st.st_size
    if how == "in-place-utime":
        with open(path, "r+b") as fh:
            fh.write(new)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    else:  # cp -p new-file tmp && mv tmp clip.wav
        tmp = tmp_path / "incoming.wav"
        tmp.write_bytes(new)
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(tmp, path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    after = emb.transform([str(path)])
    assert emb.n_embedded_ == 1
    np.testing.assert_array_equal(after, MFCCEmbedder().fit().transform([str(path)]))
    assert not np.allclose(after, before)


# --- declared parameter roles (issue 20 item 6, issue 21) -------------------------------------


@inherit_parameters
class _ModelEmbedder(MFCCEmbedder):
    """An embedder whose model is identified by content and has a string mode."""

    def __init__(self, *, mode: str = "fp32", where: str | None = None, **params):
        super().__init__(**params)
        self.mode = mode
        self.where = where

    _param_roles = {"where": "model"}

    def _model_fingerprint(self) -> str:
        return "sha256:" + "ab" * 32


def test_a_string_naming_an_existing_folder_stays_in_the_key(tmp_path, monkeypatch):
    """#20.6: with ./fp32 and ./bf16 in the cwd, precision="bf16" was served fp32 vectors."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fp32").mkdir()
    (tmp_path / "bf16").mkdir()
    a = _cache.embedder_fingerprint(_ModelEmbedder(mode="fp32").fit())
    b = _cache.embedder_fingerprint(_ModelEmbedder(mode="bf16").fit())
    assert a != b
    # a parameter declared to name the model is left out: the content hash says it all
    moved = _cache.embedder_fingerprint(_ModelEmbedder(mode="fp32", where="elsewhere").fit())
    assert moved == a


def test_roles_drive_the_key_and_the_refit_check(corpus):
    X, _ = corpus
    roles = MFCCEmbedder.parameter_roles()
    assert set(roles) == set(MFCCEmbedder().get_params())
    key = _cache.embedder_fingerprint(MFCCEmbedder().fit())
    other = {
        "sampling_rate": 8000,
        "verbose": True,
        "cache": False,
        "n_jobs": 2,
        "target_sampling_rate": 16000,
        "n_fft": 1024,
        "hop_length": 256,
        "window": "hamming",
        "pooling": "mean+std",
        "n_mfcc": 20,
        "n_mels": 64,
    }
    assert set(other) == set(roles)
    for name, role in roles.items():
        changed = MFCCEmbedder(**{name: other[name]}).fit()
        moves = _cache.embedder_fingerprint(changed) != key
        assert moves == (role not in ("execution", "placement")), (name, role)
        # the refit check agrees: only execution and live parameters may change after fit
        fitted = MFCCEmbedder().fit().set_params(**{name: other[name]})
        if role in ("execution", "live"):
            fitted.transform(X[:1])
        else:
            with pytest.raises(ParameterError, match="changed since fit"):
                fitted.transform(X[:1])
    from sertools.features import NeMoEmbedder

    neural = NeMoEmbedder.parameter_roles()
    assert neural["device"] == "placement" and neural["n_threads"] == "execution"
    assert neural["batch_seconds"] == "live" and neural["model"] == "model"
    assert neural["precision"] == "output"


def test_every_family_declares_its_packages():
    from sertools.features import GE2EEmbedder, HFEmbedder, NeMoEmbedder
    from sertools.features.opensmile import EGeMAPSEmbedder
    from sertools.features.s3prl import S3PRLEmbedder

    assert not hasattr(_cache, "_MODULE_PACKAGES")
    expected = {
        NeMoEmbedder: "nemo_toolkit",
        S3PRLEmbedder: "s3prl",
        HFEmbedder: "transformers",
        EGeMAPSEmbedder: "opensmile",
        GE2EEmbedder: "resemblyzer",
        MFCCEmbedder: "scipy",
    }
    for cls, package in expected.items():
        assert package in _cache.backend_packages(cls), cls


def test_an_undeclared_embedder_is_keyed_on_its_own_package(monkeypatch):
    """A third-party embedder declaring no packages: its distribution's version keys it."""

    class Outside(MFCCEmbedder):
        _backend_packages = None

    Outside.__module__ = "sklearn.my_features"  # as if shipped by another package
    emb = Outside().fit()
    assert emb.output_identity()["packages"] == ("scikit-learn",)
    before = _cache.embedder_fingerprint(emb)
    real = _cache.metadata.version
    monkeypatch.setattr(
        _cache.metadata, "version", lambda n: "0.0" if n == "scikit-learn" else real(n)
    )
    assert _cache.embedder_fingerprint(emb) != before


def test_extraction_and_fingerprint_use_public_interfaces():
    """#21: no private cache calls from _extract; the fingerprint reads public methods only."""
    import inspect
    import re

    source = inspect.getsource(_extract)
    assert not re.search(r"store\._\w", source)

    class Duck:  # only the public protocol
        n_features_out_ = 3

        def output_identity(self):
            return {"params": {"a": 1}, "model": "", "packages": ()}

    assert len(_cache.embedder_fingerprint(Duck())) == 64


@pytest.mark.nemo
def test_nemo_replaced_with_size_and_mtime_kept_is_reloaded(corpus, tmp_path, count_nemo):
    """#20.4: a .nemo replaced by rename with its mtime kept (cp -p, rsync -a) gave the old
    model's vectors in the same process (the in-memory backend was keyed on size + mtime)."""
    import os

    import _tiny_nemo

    X, _ = corpus
    path = Path(_tiny_nemo.save_model("titanet", tmp_path / "model.nemo", seed=0))
    before = sertools.TitaNetEmbedder(model=str(path), device="cpu", cache=False).fit()
    F = before.transform(X[:3])
    incoming = Path(_tiny_nemo.save_model("titanet", tmp_path / "new" / "model.nemo", seed=1))
    st = path.stat()
    assert incoming.stat().st_size == st.st_size
    os.utime(incoming, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(incoming, path)
    after = sertools.TitaNetEmbedder(model=str(path), device="cpu", cache=False).fit()
    assert after.model_fingerprint_ != before.model_fingerprint_
    G = after.transform(X[:3])
    assert not np.allclose(G, F, atol=1e-3)
