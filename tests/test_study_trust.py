"""The study store and reports can be trusted (issues #20, #26): stale cells, paths, crashes.

Each test here failed on the code before its fix (the note in its docstring says how).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.svm import SVC

from sertools import MFCCEmbedder, ParameterError
from sertools.cli import main
from sertools.datasets import make_synthetic_corpus
from sertools.features import inherit_parameters
from sertools.study import (
    StudyResult,
    corrected_resampled_ttest,
    paired_bootstrap_uar,
    plot_confusion,
    run_study,
    write_reports,
)


@pytest.fixture(scope="module")
def corpus():
    return make_synthetic_corpus(n_per_class=6, n_speakers=4, random_state=0)


class CountingSVC(SVC):
    """SVC that counts its fits (class-wide; the study clones it per fold)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@inherit_parameters
class WeightedMFCC(MFCCEmbedder):
    """MFCCs scaled by weights read from a checkpoint file (a model whose content matters).

    ``device`` is stored only: like every embedder's, it does not change the vectors
    (declared with the ``placement`` role, as the neural embedders declare it).
    """

    _param_roles = {"device": "placement", "checkpoint": "model"}

    def __init__(self, *, checkpoint=None, device="cpu", **params):
        super().__init__(**params)
        self.checkpoint = checkpoint
        self.device = device

    def _load(self):
        super()._load()
        self._weights = np.load(self.checkpoint, allow_pickle=False)

    def _model_fingerprint(self):
        import hashlib

        return "sha256:" + hashlib.sha256(Path(self.checkpoint).read_bytes()).hexdigest()

    def _embed(self, waves):
        return super()._embed(waves) * self._weights


def _svm():
    return {"svm": CountingSVC(C=10, gamma=1e-3)}


def _files_outside(root: Path, inside: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and inside not in p.parents]


# --------------------------------------------------------------------------- #20 item 3
def test_names_that_become_paths_stay_inside_out(corpus, tmp_path: Path):
    # before: confusion_{corpus}_{proto}.png with corpus "../../../x" landed above `out`,
    # and a corpus named ".." put its cells beside `cells`
    out = tmp_path / "a" / "b" / "out"
    result = run_study(
        {"../../../x": corpus, "..": corpus},
        features={"..": MFCCEmbedder(sampling_rate=corpus.sampling_rate)},
        classifiers={"../svm": SVC(C=10, gamma=1e-3)},
        n_splits=2,
        store=out / "cells",
    )
    assert result.ok, result.failures
    paths = write_reports(result, out, n_boot=50)
    assert _files_outside(tmp_path, out) == []
    for p in paths.values():
        assert out.resolve() in p.resolve().parents
    cells = sorted((out / "cells").rglob("*.json"))
    assert len(cells) == 2
    assert all((out / "cells").resolve() in p.resolve().parents for p in cells)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["cells"]


# --------------------------------------------------------------------------- #20 item 4
def test_clip_rewritten_in_place_is_not_read_back(tmp_path: Path):
    # before: a clip's identity was path + size + mtime, so a file rewritten with the same
    # size and its mtime restored read back the old cell
    import soundfile as sf

    c = make_synthetic_corpus(n_per_class=4, n_speakers=2, random_state=0)
    files = []
    for i, wave in enumerate(c.data):
        files.append(tmp_path / f"clip{i:02d}.wav")
        sf.write(files[-1], wave, c.sampling_rate, subtype="FLOAT")

    def run():
        return run_study(
            {"c": ([str(f) for f in files], c.target, c.speaker)},
            features=("mfcc",),
            classifiers=_svm(),
            n_splits=2,
            store=tmp_path / "cells",
        )

    run()
    CountingSVC.fits = 0
    run()
    assert CountingSVC.fits == 0  # same files: read back
    rng = np.random.default_rng(1)
    for f in files:
        st = f.stat()
        wave, rate = sf.read(f, dtype="float32")
        sf.write(f, rng.permutation(wave), rate, subtype="FLOAT")
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    CountingSVC.fits = 0
    run()
    assert CountingSVC.fits == 2, "a rewritten clip must not read back the old cell"


# --------------------------------------------------------------------------- #20 item 5
def test_checkpoint_replaced_at_the_same_path_is_not_read_back(corpus, tmp_path: Path):
    # before: a cell's digest held the parameters' repr, so a checkpoint replaced at the
    # same path read back the old model's cell
    ckpt = tmp_path / "weights.npy"
    np.save(ckpt, np.ones(39, dtype=np.float32))

    def run(**params):
        emb = WeightedMFCC(checkpoint=str(ckpt), sampling_rate=corpus.sampling_rate, **params)
        return run_study(
            {"s": corpus},
            features={"w": emb},
            classifiers=_svm(),
            n_splits=2,
            store=tmp_path / "cells",
        )

    run()
    CountingSVC.fits = 0
    run()
    assert CountingSVC.fits == 0
    np.save(ckpt, np.linspace(0.1, 50, 39).astype(np.float32))
    CountingSVC.fits = 0
    run()
    assert CountingSVC.fits == 2, "a replaced checkpoint must not read back the old cell"
    assert len(list((tmp_path / "cells").rglob("*.json"))) == 2


def test_execution_only_parameters_do_not_recompute_cells(corpus, tmp_path: Path):
    # before: device (left out of the embedders' cache keys) was in every cell's digest
    ckpt = tmp_path / "weights.npy"
    np.save(ckpt, np.ones(39, dtype=np.float32))

    def run(**params):
        emb = WeightedMFCC(checkpoint=str(ckpt), sampling_rate=corpus.sampling_rate, **params)
        return run_study(
            {"s": corpus},
            features={"w": emb},
            classifiers=_svm(),
            n_splits=2,
            store=tmp_path / "cells",
        )

    run()
    for params in (
        {"device": "cuda"},
        {"verbose": True},
        {"cache": str(tmp_path / "emb")},
        {"n_jobs": 2},
    ):
        CountingSVC.fits = 0
        run(**params)
        assert CountingSVC.fits == 0, params
    CountingSVC.fits = 0
    run(n_fft=1024)  # a parameter that changes the vectors: a new cell
    assert CountingSVC.fits == 2


# --------------------------------------------------------------------------- #20 item 8
def test_pandas_series_labels_and_speakers_resume(corpus, tmp_path: Path):
    # before: object arrays were fingerprinted by their memory (pointers)
    def run():
        y = pd.Series([str(v) + "" for v in corpus.target.tolist()])
        g = pd.Series(["spk-" + str(v) for v in corpus.speaker.tolist()])
        return run_study(
            {"s": (corpus.data, y, g)},
            features={"mfcc": MFCCEmbedder(sampling_rate=corpus.sampling_rate)},
            classifiers=_svm(),
            n_splits=2,
            store=tmp_path / "cells",
        )

    run()
    CountingSVC.fits = 0
    run()
    assert CountingSVC.fits == 0


# --------------------------------------------------------------------------- #20 item 9
def test_clean_rerun_removes_stale_failures(corpus, tmp_path: Path):
    # before: failures.csv of an earlier run stayed, and load(out).ok was False
    out = tmp_path / "out"
    failed = run_study(
        {"s": (corpus.data, corpus.target)},
        features={"mfcc": MFCCEmbedder(sampling_rate=corpus.sampling_rate)},
        classifiers=("svm",),
        protocols=("paper", "speaker"),
        n_splits=2,
    )
    assert not failed.ok
    write_reports(failed, out, n_boot=50)
    assert (out / "failures.csv").is_file() and not StudyResult.load(out).ok
    clean = run_study(
        {"s": corpus},
        features={"mfcc": MFCCEmbedder(sampling_rate=corpus.sampling_rate)},
        classifiers=("svm",),
        n_splits=2,
    )
    paths = write_reports(clean, out, n_boot=50)
    assert "failures" not in paths and not (out / "failures.csv").exists()
    assert StudyResult.load(out).ok


# --------------------------------------------------------------------------- crashes
def test_speaker_na_and_label_none_survive_load(tmp_path: Path):
    # before: pandas read "NA" and "None" as NaN; summary() then failed comparing float to str
    c = make_synthetic_corpus(n_per_class=6, n_speakers=2, random_state=0)
    y = np.where(c.target == c.target[0], "None", c.target)
    speakers = np.where(c.speaker == c.speaker[0], "NA", "null")
    result = run_study(
        {"s": (c.data, y, speakers)},
        features={"mfcc": MFCCEmbedder(sampling_rate=c.sampling_rate)},
        classifiers=("svm-scaled",),
        protocols=("speaker",),
    )
    assert result.ok
    result.save(tmp_path, n_boot=50)
    back = StudyResult.load(tmp_path)
    assert set(back.predictions.group) == {"NA", "null"}
    assert "None" in set(back.predictions.y_true)
    pd.testing.assert_frame_equal(back.summary(n_boot=50), result.summary(n_boot=50))


def test_dollar_in_a_label_does_not_break_the_confusion_plot():
    # before: matplotlib's mathtext raised on "$x^$" after every cell was computed
    labels = ["$x^$", "a$b", "plain"]
    cm = pd.DataFrame(np.eye(3, dtype=int) * 3 + 1, index=labels, columns=labels)
    png = plot_confusion(cm, title="corpus $1, feature $^")
    assert png[1:4] == b"PNG"


@pytest.mark.parametrize("content", ["{}", "[]", '{"rows": 3}', "not json"])
def test_a_broken_cell_file_is_named_and_recomputed(corpus, tmp_path: Path, content):
    # before: {} or [] stopped the study with a bare KeyError: 'rows'
    def run():
        return run_study(
            {"s": corpus},
            features={"mfcc": MFCCEmbedder(sampling_rate=corpus.sampling_rate)},
            classifiers=_svm(),
            n_splits=2,
            store=tmp_path / "cells",
        )

    first = run()
    (cell,) = (tmp_path / "cells").rglob("*.json")
    cell.write_text(content)
    CountingSVC.fits = 0
    with pytest.warns(UserWarning, match=cell.name) as record:
        again = run()
    assert "recomputed" in str(record[0].message)
    assert CountingSVC.fits == 2
    pd.testing.assert_frame_equal(
        again.scores.drop(columns=["fit_time", "extraction_time"]),
        first.scores.drop(columns=["fit_time", "extraction_time"]),
    )
    json.loads(cell.read_text())["rows"]  # rewritten whole


def test_ttest_with_no_training_clips_is_a_parameter_error():
    # before: ZeroDivisionError
    with pytest.raises(ParameterError, match="n_train"):
        corrected_resampled_ttest([0.5, 0.6], [0.4, 0.5], n_train=0, n_test=10)
    with pytest.raises(ParameterError, match="n_test"):
        corrected_resampled_ttest([0.5, 0.6], [0.4, 0.5], n_train=10, n_test=-1)


def test_paired_bootstrap_refuses_mixed_label_types():
    # before: int labels against str predictions gave a difference of -1.0 and p = 0.02
    y = np.array([0, 0, 1, 1, 0, 1])
    groups = np.array(["a", "a", "b", "b", "c", "c"])
    with pytest.raises(ParameterError, match=r"[Mm]ix of label types"):
        paired_bootstrap_uar(y, y, y.astype(str), groups, n_boot=20)
    with pytest.raises(ParameterError, match=r"[Mm]ix of label types"):
        paired_bootstrap_uar(y.astype(str), y, y.astype(str), groups, n_boot=20)


# --------------------------------------------------------------------------- #26
def test_outputs_get_the_users_normal_permissions(corpus, tmp_path: Path):
    # before: mkstemp's 0600 whatever the umask
    old = os.umask(0o022)
    try:
        result = run_study(
            {"s": corpus},
            features={"mfcc": MFCCEmbedder(sampling_rate=corpus.sampling_rate)},
            classifiers=("svm",),
            n_splits=2,
            store=tmp_path / "out" / "cells",
        )
        paths = write_reports(result, tmp_path / "out", n_boot=50)
    finally:
        os.umask(old)
    files = [*paths.values(), *(tmp_path / "out" / "cells").rglob("*.json")]
    modes = {stat.S_IMODE(p.stat().st_mode) for p in files}
    assert modes == {0o644}, {oct(m) for m in modes}


def test_significance_table_names_its_deciding_test(corpus, tmp_path: Path):
    # before: a bare "significant" column beside the bootstrap's p and CI
    result = run_study(
        {"s": corpus},
        features={
            "mfcc": MFCCEmbedder(sampling_rate=corpus.sampling_rate),
            "mfcc13": MFCCEmbedder(sampling_rate=corpus.sampling_rate, n_mfcc=13),
        },
        classifiers=("svm-scaled",),
        n_splits=3,
    )
    paths = write_reports(result, tmp_path, n_boot=50)
    for key in ("report_md", "report_html"):
        assert "significant (Holm-corrected t-test)" in paths[key].read_text()


# --------------------------------------------------------------------------- CLI
def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return err[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--n-boot", "0"], "--n-boot 0: expected a positive number"),
        (["--n-splits", "1"], "--n-splits 1: expected 2 or more"),
        (["--n-jobs", "0"], "--n-jobs 0: expected a positive number of jobs or -1"),
        (["--dnn-epochs", "0"], "--dnn-epochs 0: expected a positive number"),
    ],
)
def test_cli_bad_numbers_are_refused_before_any_work(args, expected, tmp_path: Path, capsys):
    # before: --n-boot 0 failed after every cell with scipy's message and no reports
    out = tmp_path / "out"
    code = main(
        ["demo", "--n-per-class", "6", "--n-splits", "2", "--quiet", "--out", str(out), *args]
    )
    assert code == 2
    assert expected in _one_line_error(capsys)
    assert not out.exists()


def test_cli_out_pointing_at_a_file_is_refused_before_any_work(tmp_path: Path, capsys):
    # before: FileExistsError after the first cell, exit 1
    out = tmp_path / "results.txt"
    out.write_text("mine")
    code = main(["demo", "--n-per-class", "6", "--n-splits", "2", "--quiet", "--out", str(out)])
    assert code == 2
    assert "--out" in _one_line_error(capsys)
    assert out.read_text() == "mine"


def test_cli_help_names_every_model_family():
    # before: --model-dir said "NeMo checkpoints" and --model omitted HF and GE2E
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), pytest.raises(SystemExit):
        main(["study", "--help"])
    text = " ".join(buf.getvalue().split())
    options = text[text.index("options:") :]
    model_help = options[options.index("--model FEATURE=PATH") : options.index("--model-dir")]
    for family in ("NeMo", "S3PRL", "Hugging Face", "GE2E"):
        assert family in model_help, family
    model_dir_help = options[options.index("--model-dir") : options.index("--device")]
    assert "NeMo" in model_dir_help and "Hugging Face" in model_dir_help


def test_cli_offline_hub_failure_is_not_a_usage_error(tmp_path: Path):
    # before: exit 2 ("bad arguments") for a model the hub could not deliver
    pytest.importorskip("transformers")
    import soundfile as sf

    root = tmp_path / "emovo"
    rng = np.random.default_rng(0)
    for spk in ("f1", "m1"):
        (root / spk).mkdir(parents=True)
        for emo in ("dis", "gio"):
            for sent in ("b1", "b2"):
                wave = 0.1 * rng.standard_normal(8000).astype(np.float32)
                sf.write(root / spk / f"{emo}-{spk}-{sent}.wav", wave, 16000)
    env = {k: v for k, v in os.environ.items() if k != "SERTOOLS_MODEL_DIR"}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"), PYTHONWARNINGS="ignore")
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1]), env.get("PYTHONPATH", "")])
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "sertools",
            "study",
            "--corpus",
            f"emovo={root}",
            "--features",
            "wavlm",
            "--classifiers",
            "svm",
            "--n-splits",
            "2",
            "--quiet",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 1, res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("sertools: error: feature set 'wavlm'"), res.stderr
    assert "Traceback" not in res.stderr


def test_dimensional_cells_follow_the_model_content_and_ignore_execution_params(
    corpus, tmp_path: Path
):
    # before: the dimensional study keyed its cells with its own list of parameters to
    # leave out and without the model's content, so a checkpoint replaced at the same path
    # read back the old model's CCC, and device="cuda" recomputed every cell
    from sertools.study.dimensional import run_dimensional

    ckpt = tmp_path / "weights.npy"
    np.save(ckpt, np.ones(39, dtype=np.float32))

    def run(**params):
        emb = WeightedMFCC(checkpoint=str(ckpt), sampling_rate=corpus.sampling_rate, **params)
        return run_dimensional(
            {"s": corpus}, features={"w": emb}, n_splits=2, store=tmp_path / "cells", n_boot=50
        )

    first = run().scores
    files = set((tmp_path / "cells").rglob("*.json"))
    assert run(device="cuda").scores.equals(first)  # read back: placement only
    assert set((tmp_path / "cells").rglob("*.json")) == files
    np.save(ckpt, np.linspace(0.1, 50, 39).astype(np.float32))
    replaced = run().scores
    assert len(set((tmp_path / "cells").rglob("*.json")) - files) == 1, "recomputed once"
    assert not np.allclose(replaced["ccc"], first["ccc"])
