"""The paper's whole Table II in one environment (``nox -s tests``' ``all`` stack).

One study over the nine paper feature sets — Mel and MFCC (librosa), SpeakerNet,
TitaNet, ECAPA-TDNN and AmberNet (NeMo), wav2vec 2.0, DeCoAR and HuBERT (S3PRL) —
on random-weight checkpoints built with the real NeMo and S3PRL classes and saved in
their real formats: one ``sertools study --model NAME=PATH ...`` command over a
manifest of the synthetic corpus's clips writes one Table II. Needs NeMo *and* S3PRL
importable together (torch 2.8 + the ``all`` extra);
skipped elsewhere with the reason.
"""

from __future__ import annotations

import pandas as pd
import pytest
import soundfile as sf

pytest.importorskip("nemo", reason="needs NeMo and S3PRL together: the `all` extra")
pytest.importorskip("s3prl", reason="needs NeMo and S3PRL together: the `all` extra")

import _tiny_nemo
import _tiny_s3prl

from sertools.cli import main
from sertools.datasets import make_synthetic_corpus

PAPER_NINE = [
    "mel", "mfcc", "speakernet", "titanet", "ecapa", "ambernet", "wav2vec2", "decoar", "hubert"
]  # fmt: skip


@pytest.mark.nemo
@pytest.mark.s3prl
def test_one_study_writes_table2_over_the_nine_paper_feature_sets(tmp_path):
    models = {
        name: _tiny_nemo.save_model(name, tmp_path / f"{name}.nemo")
        for name in ("speakernet", "titanet", "ecapa", "ambernet")
    }
    models["hubert"] = _tiny_s3prl.save(_tiny_s3prl.hubert_state(), tmp_path / "hubert.pt")
    models["wav2vec2"] = _tiny_s3prl.save(_tiny_s3prl.wav2vec2_state(), tmp_path / "w2v2.pt")
    models["decoar"] = _tiny_s3prl.save(_tiny_s3prl.decoar_state(), tmp_path / "decoar.pt")
    corpus = make_synthetic_corpus(n_per_class=6, duration=(0.8, 1.2))
    rows = []
    clips = zip(corpus.data, corpus.target, corpus.speaker, strict=True)
    for i, (clip, label, speaker) in enumerate(clips):
        sf.write(tmp_path / f"clip{i:03d}.wav", clip, corpus.sampling_rate)
        rows.append({"file": f"clip{i:03d}.wav", "label": label, "speaker": speaker})
    manifest = tmp_path / "synthetic.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    out = tmp_path / "study"

    argv = ["study", "--corpus", f"synthetic={manifest}", "--features", ",".join(PAPER_NINE)]
    argv += ["--classifiers", "svm", "--protocol", "speaker", "--out", str(out), "--quiet"]
    for name, path in models.items():
        argv += ["--model", f"{name}={path}"]
    assert main(argv) == 0

    table = pd.read_csv(out / "table2_speaker.csv")
    print(table.to_string())
    summary = pd.read_csv(out / "summary.csv")
    assert sorted(set(summary["feature"])) == sorted(PAPER_NINE)  # one Table II, all nine
    assert summary["uar_mean"].notna().all() and len(summary) == len(PAPER_NINE)
    report = (out / "report.md").read_text()
    for name in PAPER_NINE:
        assert f"{name}" in report
