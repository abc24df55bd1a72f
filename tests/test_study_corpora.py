"""Manifests, EmoBox folds, the fold audit and per-group UAR in `sertools study` (issue #22)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import soundfile as sf
from _fake_corpora import every_code_emovo, write_tree

from sertools.cli import main
from sertools.datasets import make_synthetic_corpus


def synthetic_manifest(tmp_path: Path) -> Path:
    corpus = make_synthetic_corpus(n_per_class=8, n_speakers=4, random_state=0)
    rows = []
    for i, (wave, label, spk) in enumerate(
        zip(corpus.data, corpus.target, corpus.speaker, strict=True)
    ):
        name = f"clips/{i:03d}.wav"
        (tmp_path / "clips").mkdir(exist_ok=True)
        sf.write(tmp_path / name, wave, corpus.sampling_rate)
        gender = "F" if spk in set(sorted(set(corpus.speaker))[:2]) else "M"
        rows.append({"file": name, "label": label, "speaker": spk, "gender": gender, "fold": spk})
    pd.DataFrame(rows).to_csv(tmp_path / "mine.csv", index=False)
    return tmp_path / "mine.csv"


def test_study_on_a_manifest_with_audit_and_groups(tmp_path: Path, capsys) -> None:
    manifest = synthetic_manifest(tmp_path)
    out = tmp_path / "out"
    code = main(
        ["study", "--corpus", f"mydata={manifest}", "--features", "mfcc",
         "--classifiers", "svm-scaled", "--protocol", "paper", "predefined",
         "--out", str(out), "--quiet", "--n-boot", "50"]
    )  # fmt: skip
    assert code == 0
    report = (out / "report.md").read_text()
    assert "## Table II, protocol `paper` (speaker-dependent folds: mydata)" in report
    assert "## Table II, protocol `predefined`\n" in report  # fold = speaker: independent
    assert "- `mydata` / `paper`: Speaker-dependent: 5 of 5 folds" in report
    assert "- `mydata` / `predefined`: Speaker-independent: no fold of 4" in report
    assert "## UAR by gender" in report and "| female | male |" in report
    assert "## UAR by speaker" in report
    groups = pd.read_csv(out / "group_uar.csv")
    assert set(groups.group) == set(pd.read_csv(manifest).speaker)
    assert "<h2>Fold audit</h2>" in (out / "report.html").read_text()


def fake_emobox_emovo(tmp_path: Path) -> tuple[Path, Path]:
    relpaths = every_code_emovo()
    write_tree(tmp_path / "EMOVO", relpaths, 16000)
    meta = tmp_path / "emobox" / "emovo"
    meta.mkdir(parents=True)
    rows = [
        {"key": f"emovo-{Path(r).stem}", "wav": f"downloads/emovo/{r}", "emo": Path(r).name[:3]}
        for r in relpaths
    ]
    (meta / "emovo.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    codes = {"neu": "Neutral", "dis": "Disgust", "gio": "Happy", "pau": "Fear", "rab": "Angry"}
    codes |= {"sor": "Surprise", "tri": "Sad"}
    (meta / "label_dict.json").write_text(json.dumps(codes))
    for j, spk in enumerate(("f1", "f2", "f3"), start=1):  # 3 folds of one speaker each
        test = [r for r in rows if f"/{spk}/" in r["wav"]]
        train = [r for r in rows if r not in test]
        for side, part in (("test", test), ("train", train)):
            path = meta / f"fold_{j}" / f"emovo_{side}_fold_{j}.jsonl"
            path.parent.mkdir(exist_ok=True)
            path.write_text("".join(json.dumps(r) + "\n" for r in part))
    return tmp_path / "emobox", tmp_path / "EMOVO"


def test_study_with_emobox_folds_shows_the_published_figure(tmp_path: Path) -> None:
    meta, audio = fake_emobox_emovo(tmp_path)
    out = tmp_path / "out"
    with pytest.warns(UserWarning):  # 42 of EMOVO's 588 files
        code = main(
            ["study", "--corpus", f"emovo={audio}", "--emobox-root", str(meta),
             "--features", "mfcc", "--classifiers", "svm-scaled", "--protocol", "emobox",
             "--out", str(out), "--quiet", "--n-boot", "50"]
        )  # fmt: skip
    assert code == 0
    scores = pd.read_csv(out / "scores.csv")
    assert scores.protocol.unique().tolist() == ["emobox"] and len(scores) == 3
    assert scores.n_test.tolist() == [7, 7, 7] and scores.n_train.tolist() == [35, 35, 35]
    report = (out / "report.md").read_text()
    assert "## Ours vs EmoBox (protocol `emobox`)" in report
    assert "| emovo | mfcc | svm-scaled |" in report and "| 57.82 |" in report
    assert "- `emovo` / `emobox`: Speaker-independent: no fold of 3" in report
    assert "21 clips in no test fold" in report  # m1-m3 are never tested here


def test_emobox_protocol_needs_the_root(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "study",
            "--corpus",
            f"emovo={tmp_path}",
            "--protocol",
            "emobox",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "--protocol emobox needs --emobox-root" in capsys.readouterr().err


@pytest.mark.realdata
@pytest.mark.slow
def test_real_emovo_with_emobox_folds_in_a_study(emovo_root: Path) -> None:
    """Done-when: EmoBox's EMOVO folds run in a study; one speaker per fold, so the
    cells equal leave-one-speaker-out's, fold for fold (in EmoBox's fold order)."""
    import os

    import numpy as np

    from sertools.datasets import load_emobox
    from sertools.study import run_study

    emobox = Path(os.environ["SERTOOLS_TEST_DATA"]) / "emobox"
    bunch = load_emobox("emovo", emobox, emovo_root)
    result = run_study(
        {"emovo": bunch}, features=["mfcc"], classifiers=["svm-scaled"],
        protocols=["emobox", "loso"],
    )  # fmt: skip
    s = result.scores
    by_speaker = {}
    for proto in ("emobox", "loso"):
        p = result.predictions[result.predictions.protocol == proto]
        for fold, uar in zip(s[s.protocol == proto].fold, s[s.protocol == proto].uar, strict=True):
            [spk] = set(p[p.fold == fold].group)
            by_speaker.setdefault(spk, []).append(uar)
    assert len(by_speaker) == 6
    for spk, (a, b) in by_speaker.items():
        np.testing.assert_allclose(a, b, err_msg=spk)
    audit = result.fold_audits["emovo", "emobox"]
    assert not audit.speaker_dependent and audit.folds["n_test"].tolist() == [98] * 6
