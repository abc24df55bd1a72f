"""sertools.persist: train one pipeline, save it with skops, load it safely, predict."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sertools import ParameterError
from sertools.cli import main
from sertools.datasets import make_synthetic_corpus
from sertools.persist import (
    load_model,
    predict_files,
    predict_timeline,
    read_card,
    save_model,
    train_model,
    trusted_types,
)
from sertools.persist._io import CARD_ENTRY
from sertools.persist._predict import window_starts
from sertools.study import CLASSIFIERS

ROOT = Path(__file__).resolve().parents[1]

#: a fresh interpreter in which loading the model cannot unpickle: pickle's and torch's
#: loaders raise while ``load_model`` runs (not afterwards: librosa's numba cache, read
#: when MFCCs are first computed, is pickled by numba itself)
NO_PICKLE = """
import pickle, sys
import torch
import sertools.models  # skorch subclasses pickle.Unpickler at import
from sertools.persist import load_model, predict_files
def refuse(*args, **kwargs):
    raise AssertionError("unpickling attempted while loading a model")
class Refused(pickle.Unpickler):
    def __init__(self, *args, **kwargs):
        refuse()
models, files = sys.argv[1].split(","), sys.argv[2:]
for path in models:
    saved = pickle.load, pickle.loads, pickle.Unpickler, torch.load
    pickle.load = pickle.loads = torch.load = refuse
    pickle.Unpickler = Refused
    model = load_model(path, check_models=True)
    pickle.load, pickle.loads, pickle.Unpickler, torch.load = saved
    predict_files(model, files).to_csv(path + ".csv", index=False)
"""


@pytest.fixture(scope="module")
def corpus():
    return make_synthetic_corpus(n_per_class=8, n_speakers=4, random_state=0)


@pytest.fixture(scope="module")
def wav_files(corpus, tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    paths = []
    for i in range(0, len(corpus.target), 5):
        path = folder / f"clip{i:02d}_{corpus.target[i]}.wav"
        sf.write(path, corpus.data[i], corpus.sampling_rate, subtype="FLOAT")
        paths.append(str(path))
    return paths


def _run_fresh(models: list[Path], files: list[str]) -> subprocess.CompletedProcess:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg"}
    env.pop("SERTOOLS_CACHE", None)
    return subprocess.run(
        [sys.executable, "-c", NO_PICKLE, ",".join(map(str, models)), *files],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_saved_models_load_in_a_fresh_process_without_pickle(corpus, wav_files, tmp_path):
    expected, paths = {}, []
    for classifier in ("svm", "dnn"):
        params = {"max_epochs": 15} if classifier == "dnn" else {}
        path = tmp_path / f"{classifier}.skops"
        pipe = train_model(
            corpus, feature="mfcc", classifier=classifier, classifier_params=params, out=path
        )
        expected[path] = predict_files(pipe, wav_files)
        assert (expected[path].error == "").all()
        paths.append(path)
    proc = _run_fresh(paths, wav_files)
    assert proc.returncode == 0, proc.stderr
    for path in paths:
        got = pd.read_csv(f"{path}.csv", keep_default_na=False)
        want = expected[path]
        assert (got.error == "").all(), got.error.tolist()
        assert got.label.tolist() == want.label.tolist()
        cols = [c for c in want.columns if c.startswith("p_")]
        assert cols == [c for c in got.columns if c.startswith("p_")]
        np.testing.assert_allclose(got[cols].to_numpy(float), want[cols].to_numpy(), atol=1e-12)
        _assert_no_pickle_in(path)


def _assert_no_pickle_in(path: Path) -> None:
    """Every entry of the archive is the schema, the card or a plain (non-object) array."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert "schema.json" in names and CARD_ENTRY in names
        schema = zf.read("schema.json").decode()
        for name in names:
            if name.endswith(".npy"):
                with zf.open(name) as fh:
                    arr = np.lib.format.read_array(fh, allow_pickle=False)
                assert arr.dtype != object
            else:
                assert name in {"schema.json", CARD_ENTRY}, name
    assert "torch" not in schema and "skorch" not in schema
    assert "BytesNode" not in schema and "ReduceNode" not in schema


def test_dnn_weights_are_stored_as_arrays(corpus, tmp_path, monkeypatch):
    import skops.io as sio
    import torch

    pipe = train_model(
        corpus, feature="mfcc", classifier="dnn", classifier_params={"max_epochs": 3}
    )
    path = save_model(pipe, tmp_path / "dnn.skops")

    def refuse(*args, **kwargs):
        raise AssertionError("torch.load called")

    monkeypatch.setattr(torch, "load", refuse)
    # a plain skops dump cannot store the torch module at all (its parameters are tensors)
    with pytest.raises(Exception, match=r"TensorBase|cannot pickle"):
        sio.dump(pipe, tmp_path / "naive.skops")
    loaded = load_model(path)  # ours does not
    monkeypatch.undo()
    net, new = pipe[-1].module_, loaded[-1].module_
    assert net is not new
    for (k, a), (k2, b) in zip(net.state_dict().items(), new.state_dict().items(), strict=True):
        assert k == k2
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert loaded[-1].n_iter_ == 3 and list(loaded[-1].classes_) == list(pipe[-1].classes_)
    # the fitted pipeline itself is untouched by saving
    assert hasattr(pipe[-1], "module_") and not hasattr(pipe[-1], "net_state_")


def _find_node(node, cls):
    """The first node of a skops schema that builds an object of class ``cls``."""
    if isinstance(node, dict):
        if node.get("__class__") == cls:
            return node
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_node(child, cls)
        if found is not None:
            return found
    return None


def test_tampered_file_with_an_untrusted_type_is_refused(corpus, tmp_path, monkeypatch):
    path = tmp_path / "model.skops"
    train_model(corpus, feature="mfcc", classifier="svm", out=path)
    tampered = tmp_path / "tampered.skops"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "schema.json":
                schema = json.loads(data)
                svc = _find_node(schema, "SVC")
                svc["__module__"], svc["__class__"] = "subprocess", "Popen"
                data = json.dumps(schema).encode()
            dst.writestr(item, data)

    def never(*args, **kwargs):
        raise AssertionError("an untrusted type was built")

    monkeypatch.setattr(subprocess, "Popen", never)
    with pytest.raises(ParameterError, match=r"does not trust: subprocess\.Popen") as err:
        load_model(tampered)
    print(err.value)  # shown in the report
    # trusting it explicitly goes past our list (skops then builds it: here it fails)
    with pytest.raises(Exception) as err2:
        load_model(tampered, trusted=["subprocess.Popen"])
    assert "does not trust" not in str(err2.value)


def test_every_builtin_feature_set_is_trusted():
    """The list names each registry class where it really lives (guards against moves)."""
    from sertools.features import available_feature_sets

    trusted = set(trusted_types())
    for name, fs in available_feature_sets().items():
        cls = fs.load()
        assert f"{cls.__module__}.{cls.__qualname__}" in trusted, name


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_every_named_classifier_trains_saves_and_loads(corpus, tmp_path, name):
    # a classifier's facts live in its catalogue entry: the types its model holds (trusted
    # on load), whether it is Platt-calibrated and what its card says of its probabilities
    from sklearn.calibration import CalibratedClassifierCV

    from sertools.study.catalogue import ESTIMATORS

    spec = ESTIMATORS[name]
    params = {"max_epochs": 3} if name == "dnn" else {}
    path = tmp_path / f"{name}.skops"
    pipe = train_model(corpus, feature="mfcc", classifier=name, classifier_params=params, out=path)
    assert set(spec.types) <= set(trusted_types())
    loaded = load_model(path)
    proba = loaded.predict_proba(corpus.data[:6])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(proba, pipe.predict_proba(corpus.data[:6]), atol=1e-9)
    assert read_card(path)["probabilities"] == spec.probabilities
    final = pipe[-1].steps[-1][1] if hasattr(pipe[-1], "steps") else pipe[-1]
    assert isinstance(final, CalibratedClassifierCV) == spec.calibrate


def test_saving_a_type_outside_the_list_is_refused(corpus, tmp_path):
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline

    from sertools.features import MFCCEmbedder

    pipe = Pipeline(
        [
            ("features", MFCCEmbedder(sampling_rate=16000)),
            ("classifier", KNeighborsClassifier(n_neighbors=3)),
        ]
    ).fit(corpus.data, corpus.target)
    name = "sklearn.neighbors._classification.KNeighborsClassifier"
    assert name not in trusted_types()
    with pytest.raises(ParameterError, match="KNeighborsClassifier"):
        save_model(pipe, tmp_path / "knn.skops")
    path = save_model(pipe, tmp_path / "knn.skops", trusted=[name])
    with pytest.raises(ParameterError, match="KNeighborsClassifier"):
        load_model(path)
    loaded = load_model(path, trusted=[name])
    np.testing.assert_allclose(
        loaded.predict_proba(corpus.data[:4]), pipe.predict_proba(corpus.data[:4]), atol=1e-12
    )


def test_not_a_model_file(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        load_model(tmp_path / "missing.skops")
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ParameterError, match="cannot read model file"):
        load_model(bad)


def test_card_and_markdown(corpus, tmp_path):
    path = tmp_path / "m.skops"
    pipe = train_model(corpus, feature="mfcc", classifier="svm", out=path, verbose=True)
    assert pipe[0].verbose is True and load_model(path)[0].verbose is False  # training's only
    card = read_card(path)
    assert card["feature_set"] == "mfcc" and card["classifier"] == "svm"
    assert card["labels"] == ["angry", "happy", "neutral", "sad"]
    assert card["training"] == {
        "corpus": "synthetic",
        "n_clips": 32,
        "per_class": {"angry": 8, "happy": 8, "neutral": 8, "sad": 8},
        "n_speakers": 4,
    }
    assert card["models"][0]["fingerprint"] == ""  # signal features: no checkpoint
    assert card["sertools_version"] and card["versions"]["skops"]
    md = path.with_suffix(".md").read_text()
    assert md.startswith("# Model card: mfcc × svm, trained on synthetic")
    assert "32 clips, 4 speakers" in md and "Platt" in md


def test_model_file_and_card_get_the_users_normal_permissions(corpus, tmp_path):
    # before: the .skops file kept mkstemp's private 0600 (its card beside it had 0644)
    import stat

    old = os.umask(0o022)
    try:
        path = train_model(corpus, feature="mfcc", classifier="svm", out=tmp_path / "m.skops")
    finally:
        os.umask(old)
    del path
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"m.skops": 0o644, "m.md": 0o644}, modes


def test_card_carries_the_study_scores(corpus, tmp_path):
    from sertools.study import StudyResult, run_study

    result = run_study({"synthetic": corpus}, features=["mfcc"], classifiers=["svm"], n_splits=2)
    result.scores.to_csv(tmp_path / "scores.csv", index=False)
    result.predictions.to_csv(tmp_path / "predictions.csv", index=False)
    summary = StudyResult.load(tmp_path).summary(n_boot=200)
    path = tmp_path / "m.skops"
    train_model(corpus, feature="mfcc", classifier="svm", study=tmp_path, out=path, n_boot=200)
    (row,) = read_card(path)["cross_validation"]
    expected = summary.loc[("synthetic", "paper", "mfcc", "svm")]
    assert row["protocol"] == "paper" and row["n_folds"] == 2
    assert row["uar_mean"] == pytest.approx(expected.uar_mean, abs=0.005)
    assert row["uar_ci_low"] == pytest.approx(expected.uar_ci_low, abs=0.005)
    assert row["war_mean"] == pytest.approx(expected.war_mean, abs=0.005)
    assert "| paper | 2 |" in path.with_suffix(".md").read_text()
    with pytest.raises(ParameterError, match=r"no cell for corpus 'synthetic'.*'dnn'"):
        train_model(corpus, feature="mfcc", classifier="dnn", study=tmp_path, out=path)


def test_predict_keeps_good_files_beside_an_unreadable_one(corpus, wav_files, tmp_path):
    pipe = train_model(corpus, feature="mfcc", classifier="svm")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    files = [wav_files[0], str(broken), *wav_files[1:3]]
    table = predict_files(pipe, files)
    assert table.file.tolist() == files
    assert table.error.tolist()[0] == "" and table.error.tolist()[2:] == ["", ""]
    assert "broken.wav" in table.error[1]
    assert table.label[1] == "" and table.iloc[1][["p_angry", "p_sad"]].isna().all()
    good = table.drop(index=1)
    np.testing.assert_allclose(good.filter(like="p_").sum(axis=1), 1.0, atol=1e-9)
    alone = predict_files(pipe, [wav_files[0], *wav_files[1:3]])
    np.testing.assert_allclose(
        good.filter(like="p_").to_numpy(), alone.filter(like="p_").to_numpy(), atol=1e-12
    )
    # the same through the command line: exit status 1, the error row in the CSV
    model = tmp_path / "m.skops"
    save_model(pipe, model)
    out = tmp_path / "pred.csv"
    code = main(["predict", str(model), *files, "--out", str(out), "--quiet"])
    assert code == 1
    csv = pd.read_csv(out, keep_default_na=False)
    assert csv.error.ne("").tolist() == [False, True, False, False]
    assert csv.label[0] == table.label[0]


def test_predict_shows_progress_on_a_terminal_only(corpus, wav_files, monkeypatch, capsys):
    import io

    pipe = train_model(corpus, feature="mfcc", classifier="svm")
    predict_files(pipe, wav_files, verbose=True)  # not a terminal: no bar
    assert "predict" not in capsys.readouterr().err
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr("sys.stderr", terminal)
    predict_files(pipe, wav_files, verbose=True)
    text = terminal.getvalue()
    assert "predict:" in text and f"/{len(wav_files)} [" in text
    assert "MFCCEmbedder" not in text  # the embedder's own bar (nested) stays hidden


def test_predict_a_folder(corpus, wav_files, tmp_path):
    pipe = train_model(corpus, feature="mfcc", classifier="svm")
    table = predict_files(pipe, [Path(wav_files[0]).parent])
    assert sorted(table.file) == sorted(wav_files)
    with pytest.raises(ParameterError, match="does not exist"):
        predict_files(pipe, [tmp_path / "nothing.wav"])


def test_window_starts_cover_the_recording():
    assert window_starts(100, window=30, hop=10) == [0, 10, 20, 30, 40, 50, 60, 70]
    assert window_starts(105, window=30, hop=10)[-1] == 75
    assert window_starts(20, window=30, hop=10) == [0]


def test_timeline_windows_are_embedded_like_clips(corpus, tmp_path):
    pipe = train_model(corpus, feature="mfcc", classifier="svm")
    sr = corpus.sampling_rate
    wave = np.concatenate(corpus.data[:8]).astype(np.float32)
    path = tmp_path / "long.wav"
    sf.write(path, wave, sr, subtype="FLOAT")
    tl = predict_timeline(pipe, path, window=2.0, hop=0.5)
    assert tl.start.iloc[0] == 0 and tl.end.iloc[-1] == pytest.approx(len(wave) / sr, abs=1e-3)
    assert np.allclose(np.diff(tl.start.to_numpy()[:-1]), 0.5)
    k = 3
    window = wave[int(tl.start[k] * sr) : int(tl.end[k] * sr)]
    pipe[0].set_params(sampling_rate=sr)
    one = pipe.predict_proba([window])[0]
    np.testing.assert_allclose(tl.filter(like="p_").iloc[k].to_numpy(), one, atol=1e-9)
    with pytest.raises(ParameterError, match="hop=0"):
        predict_timeline(pipe, path, window=2.0, hop=0)


def _synthetic_emovo_tree(corpus, root: Path) -> None:
    """The synthetic clips under EMOVO's names (speaker folders, emotion-speaker-sentence)."""
    codes = {"angry": "rab", "happy": "gio", "neutral": "neu", "sad": "tri"}
    speakers = ["f1", "f2", "f3", "m1", "m2", "m3"]
    sentences = ["b1", "b2", "b3", "d1", "d2", "l1", "l2", "l3", "l4", "n1", "n2", "n3"]
    used: dict[tuple[str, str], int] = {}
    for i, (wave, label) in enumerate(zip(corpus.data, corpus.target, strict=True)):
        spk = speakers[i % 6]
        k = used[spk, label] = used.get((spk, label), -1) + 1
        path = root / spk / f"{codes[label]}-{spk}-{sentences[k]}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, wave, corpus.sampling_rate)


@pytest.mark.filterwarnings("ignore:EMOVO under .* differs from the full corpus")
def test_cli_train_then_predict_with_a_timeline(corpus, tmp_path, capsys):
    root = tmp_path / "emovo"
    _synthetic_emovo_tree(corpus, root)
    model = tmp_path / "model.skops"
    code = main(
        ["train", "--corpus", f"emovo={root}", "--features", "mfcc", "--classifier", "svm",
         "--out", str(model), "--quiet"]
    )  # fmt: skip
    assert code == 0
    said = capsys.readouterr().out
    assert "trained mfcc × svm on emovo: 32 clips" in said
    assert read_card(model)["training"]["corpus"] == "emovo"
    long = tmp_path / "long.wav"
    sf.write(long, np.concatenate(corpus.data[:6]), corpus.sampling_rate)
    out = tmp_path / "timeline.csv"
    code = main(
        ["predict", str(model), str(long), "--window", "3", "--hop", "1", "--out", str(out),
         "--quiet"]
    )  # fmt: skip
    assert code == 0
    tl = pd.read_csv(out, keep_default_na=False)
    assert tl.columns.tolist()[:4] == ["file", "start", "end", "label"]
    assert tl.start.tolist()[:3] == [0.0, 1.0, 2.0]
    assert (tmp_path / "timeline.png").stat().st_size > 1000
    assert main(["predict", str(model), str(long), "--hop", "1", "--out", str(out)]) == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--corpus", "emovo=nowhere", "--features", "titanet",
         "--model", "titanet=a.nemo", "--model", "titanet=b.nemo"],
        ["predict", "model.skops", "clip.wav",
         "--checkpoint", "titanet=a.nemo", "--checkpoint", "titanet=b.nemo"],
    ],
    ids=["train-model", "predict-checkpoint"],
)  # fmt: skip
def test_cli_refuses_a_checkpoint_given_twice(argv, tmp_path, monkeypatch, capsys):
    # as `sertools study --model` does: which of the two was meant cannot be guessed
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert "'titanet' given more than once" in capsys.readouterr().err


# ------------------------------------------------------------------ neural checkpoint identity
@pytest.fixture(scope="module")
def ge2e_checkpoint(tmp_path_factory):
    pytest.importorskip("torch")
    from sertools import BackendNotAvailableError
    from sertools.features.ge2e import packaged_checkpoint

    try:
        original = packaged_checkpoint()
    except BackendNotAvailableError as exc:
        pytest.skip(str(exc))
    folder = tmp_path_factory.mktemp("ge2e")
    return Path(shutil.copy(original, folder / "pretrained.pt"))


def test_a_checkpoint_with_another_fingerprint_is_refused(corpus, ge2e_checkpoint, tmp_path):
    import torch

    small = make_synthetic_corpus(n_per_class=3, n_speakers=2, random_state=1)
    path = tmp_path / "ge2e.skops"
    pipe = train_model(
        small,
        feature="ge2e",
        classifier="svm-scaled",
        embedder_params={"checkpoint": str(ge2e_checkpoint), "device": "cpu", "cache": False},
        out=path,
    )
    card = read_card(path)
    (entry,) = card["models"]
    assert entry["fingerprint"].startswith("sha256:") and entry["files"] == ["pretrained.pt"]
    schema = zipfile.ZipFile(path).read("schema.json").decode()
    assert str(ge2e_checkpoint.parent) not in schema  # no path of this machine in the file
    assert entry["from_file"]
    with pytest.raises(ParameterError, match=r"say where that checkpoint is here.*--checkpoint"):
        load_model(path)  # fitted from a path: the loader must be told where it is now
    # the same weights elsewhere: accepted, identical predictions
    same = tmp_path / "elsewhere" / "weights.pt"
    same.parent.mkdir()
    shutil.copy(ge2e_checkpoint, same)
    loaded = load_model(path, models={"ge2e": same})
    X = small.data[:4]
    np.testing.assert_allclose(loaded.predict_proba(X), pipe.predict_proba(X), atol=1e-9)
    # other weights (one value changed): refused, naming both files and hashes
    state = torch.load(ge2e_checkpoint, map_location="cpu", weights_only=True)
    key = next(iter(state["model_state"]))
    state["model_state"][key] = state["model_state"][key] + 1e-3
    other = tmp_path / "other.pt"
    torch.save(state, other)
    with pytest.raises(ParameterError, match=r"fitted with the model pretrained\.pt") as err:
        load_model(path, models={"ge2e": other})
    assert entry["fingerprint"] in str(err.value) and "other.pt" in str(err.value)
    with pytest.raises(ParameterError, match="matches no neural feature set"):
        load_model(path, models={"titanet": same})


# ------------------------------------------------------------------------------- real data
@pytest.mark.slow
def test_timeline_on_a_real_emovo_recording(emovo_root, tmp_path):
    from sertools.datasets import load_emovo
    from sertools.persist import plot_timeline

    emovo = load_emovo(emovo_root)
    train = np.isin(emovo.speaker, ["f1", "m1", "f3"])
    sub = type(emovo)(filenames=emovo.filenames[train], target=emovo.target[train], corpus="emovo")
    pipe = train_model(sub, feature="mfcc", classifier="svm-scaled")
    # ~30 s of an unseen speaker (f2): one clip of each emotion, then more
    others = [f for f in emovo.filenames if "-f2-" in Path(f).name]
    waves, sr, total = [], None, 0.0
    for f in others[::7]:
        w, sr = sf.read(f, dtype="float32")
        waves.append(w)
        total += len(w) / sr
        if total >= 30:
            break
    long = tmp_path / "emovo_f2_30s.wav"
    sf.write(long, np.concatenate(waves), sr)
    tl = predict_timeline(pipe, long, window=3, hop=1)
    assert len(tl) >= 28 and tl.end.iloc[-1] == pytest.approx(total, abs=1e-2)
    assert set(tl.label) <= set(pipe.classes_)
    np.testing.assert_allclose(tl.filter(like="p_").sum(axis=1), 1.0, atol=1e-9)
    plot_timeline(tl, tmp_path / "tl.png")
    assert (tmp_path / "tl.png").stat().st_size > 1000
    print(tl.head(5).round(3).to_string())
