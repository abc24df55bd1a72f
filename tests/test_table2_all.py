"""The paper's whole Table II in one environment (``nox -s tests``' ``all`` stack).

One study over the nine paper feature sets — Mel and MFCC (librosa), SpeakerNet,
TitaNet, ECAPA-TDNN and AmberNet (NeMo), wav2vec 2.0, DeCoAR and HuBERT (S3PRL) —
on random-weight checkpoints built with the real NeMo and S3PRL classes and saved in
their real formats, passed as ``models=`` the way ``sertools study --model NAME=PATH``
passes them. Needs NeMo *and* S3PRL importable together (torch 2.8 + the ``all`` extra);
skipped elsewhere with the reason.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("nemo", reason="needs NeMo and S3PRL together: the `all` extra")
pytest.importorskip("s3prl", reason="needs NeMo and S3PRL together: the `all` extra")

import _tiny_nemo
import _tiny_s3prl

from sertools.datasets import make_synthetic_corpus
from sertools.study import run_study
from sertools.study.report import table2

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

    result = run_study(
        {"synthetic": corpus},
        features=PAPER_NINE,
        classifiers=["svm"],
        models={k: str(v) for k, v in models.items()},
        n_splits=2,
        store=tmp_path / "cells",
        cache_dir=tmp_path / "embeddings",
    )
    assert result.ok, result.failures
    summary = result.summary().reset_index()
    assert sorted(set(summary["feature"])) == sorted(PAPER_NINE)
    assert np.isfinite(summary["uar_mean"].to_numpy(dtype=float)).all()
    table = table2(result, protocol=summary["protocol"].iloc[0])
    print(table.to_string())
    for name in PAPER_NINE:  # one Table II, every paper feature set in it
        assert name in table.to_string()
