"""EMOVO UAR and CPU throughput of a feature set (never part of the tests).

Embeds all of EMOVO once (timing it), then scores the paper's ``SVC(C=10,
gamma=1e-3)`` on the raw vectors and ``StandardScaler + SVC(C=10,
gamma="scale")`` with ``StratifiedKFold(5, shuffle=True, random_state=0)``.
The embedders learn nothing from the data, so embedding once and
cross-validating the classifiers on the vectors equals cross-validating the
whole pipeline.

Usage::

    python benchmarks/bench_encoders.py --root /path/to/emovo egemaps compare mfcc
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import soundfile as sf
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sertools import uar_scorer
from sertools.datasets import load_emovo


def _embedder(name: str):
    import sertools.features as F

    if name == "mfcc":
        return F.MFCCEmbedder()
    if name == "egemaps":
        from sertools.features.opensmile import EGeMAPSEmbedder

        return EGeMAPSEmbedder()
    if name == "compare":
        from sertools.features.opensmile import ComParEEmbedder

        return ComParEEmbedder()
    if name == "ge2e":
        from sertools.features.ge2e import GE2EEmbedder

        return GE2EEmbedder(device="cpu")
    raise SystemExit(f"unknown feature set {name!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("names", nargs="+")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    emovo = load_emovo(args.root)
    files, y = list(emovo.filenames), np.asarray(emovo.target)
    audio_s = sum(sf.info(f).duration for f in files)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    for name in args.names:
        emb = _embedder(name)
        t0 = time.perf_counter()
        emb.fit(files[:1])
        t_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        X = emb.transform(files)
        t_emb = time.perf_counter() - t0
        paper = cross_val_score(SVC(C=10, gamma=1e-3), X, y, cv=cv, scoring=uar_scorer)
        scaled = cross_val_score(
            make_pipeline(StandardScaler(), SVC(C=10, gamma="scale")),
            X,
            y,
            cv=cv,
            scoring=uar_scorer,
        )
        print(
            json.dumps(
                {
                    "features": name,
                    "dim": X.shape[1],
                    "clips": len(files),
                    "audio_s": round(audio_s, 1),
                    "fit_s": round(t_fit, 2),
                    "embed_s": round(t_emb, 1),
                    "x_realtime": round(audio_s / t_emb, 1),
                    "threads": args.threads,
                    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                    "uar_paper_svc": round(100 * paper.mean(), 1),
                    "uar_scaled_svc": round(100 * scaled.mean(), 1),
                    "uar_scaled_svc_std": round(100 * scaled.std(), 1),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
