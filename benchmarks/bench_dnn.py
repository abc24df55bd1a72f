"""DNN training speed: DNNClassifier beside a lean PyTorch loop and skorch, in one run.

Part 1 (issue 24, lever a): one fit at the paper's settings (100 epochs, batch 32,
Adam lr 1e-2, dropout 0.1, one torch thread) on 6,000 x 80 random features with 7
classes, timed for

* ``lean``: a plain PyTorch loop of the same network (``PaperMLP``), tensors built
  once, one shuffled index per epoch, 32-row slices, ``torch.optim.Adam(foreach)``;
* ``skorch``: the same network through ``skorch.NeuralNetClassifier`` (how
  ``DNNClassifier`` trained before the lean core);
* ``DNNClassifier``: ``DNNClassifier(random_state=0).fit``.

Part 2 (lever b), on real EMOVO when ``--emovo`` is given: MFCC (``MFCCEmbedder``)
+ DNN, ``StratifiedKFold(5, shuffle=True, random_state=0)``, seeds 0, 1, 2:

* ``before``: 15 skorch fits, one after the other;
* ``alone``: 15 ``DNNClassifier.fit`` calls, one after the other;
* ``fit_folds``: the 15 networks in one stack (``sertools.models.fit_folds``);

with the UAR of each seed (mean over the folds) and how far ``fit_folds``'s
predictions are from the fold trained alone.

The machine may be shared: every contender runs in this one process, alternating,
and the best of ``--repeat`` runs is kept. Run::

    PYTHONPATH=$PWD python benchmarks/bench_dnn.py --emovo ../shared/data/emovo

Prints a Markdown table (docs/dnn.md quotes one run).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold
from torch import nn

from sertools.models import DNNClassifier, PaperMLP, fit_folds

EPOCHS, BATCH, LR, DROPOUT = 100, 32, 1e-2, 0.1


def lean_fit(X: np.ndarray, y: np.ndarray, seed: int, epochs: int = EPOCHS) -> nn.Module:
    """The lean reference loop of issue 24."""
    torch.manual_seed(seed)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    model = PaperMLP(X.shape[1], int(y.max()) + 1, dropout=DROPOUT)
    opt = torch.optim.Adam(model.parameters(), lr=LR, foreach=True)
    loss_fn = nn.CrossEntropyLoss()
    n = len(yt)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for start in range(0, n - 1, BATCH):  # a last batch of one is dropped
            idx = perm[start : start + BATCH]
            if len(idx) < 2:
                break
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    return model.eval()


def skorch_fit(X: np.ndarray, y: np.ndarray, seed: int, epochs: int = EPOCHS):
    """What DNNClassifier.fit ran before: the same network through skorch."""
    from skorch import NeuralNetClassifier

    torch.manual_seed(seed)
    net = NeuralNetClassifier(
        PaperMLP,
        module__n_features=X.shape[1],
        module__n_classes=int(y.max()) + 1,
        module__dropout=DROPOUT,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=LR,
        max_epochs=epochs,
        batch_size=BATCH,
        iterator_train__shuffle=True,
        iterator_train__drop_last=len(y) % BATCH == 1,
        train_split=None,
        predict_nonlinearity=None,
        verbose=0,
    )
    return net.fit(X, y)


def timed(fn, *args) -> tuple[float, object]:
    """CPU seconds of this process for ``fn(*args)`` (one torch thread: CPU time is what
    the fit costs, and depends far less than wall time on other jobs sharing the cores)."""
    start = time.process_time()
    out = fn(*args)
    return time.process_time() - start, out


def single_fit(n: int, d: int, repeat: int, epochs: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, n)
    centres = rng.normal(size=(7, d))
    X = (centres[y] + rng.normal(scale=3.0, size=(n, d))).astype(np.float32)
    Xs = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    best: dict[str, float] = {}
    for _ in range(repeat):
        for name, fn in (
            ("lean", lambda: lean_fit(Xs, y, 0, epochs)),
            ("skorch", lambda: skorch_fit(Xs, y, 0, epochs)),
            ("DNNClassifier", lambda: DNNClassifier(max_epochs=epochs, random_state=0).fit(X, y)),
        ):
            seconds, _ = timed(fn)
            best[name] = min(best.get(name, np.inf), seconds)
            print(f"  {name}: {seconds:.1f} s CPU", flush=True)
    return best


def emovo_folds(root: Path, seeds: list[int]) -> dict[str, object]:
    from sertools.features import MFCCEmbedder

    paths = sorted(str(p) for p in root.glob("*/*.wav"))
    labels = np.array([Path(p).name.split("-")[0] for p in paths])
    F = MFCCEmbedder().fit_transform(paths)
    classes, y_int = np.unique(labels, return_inverse=True)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(F, labels))
    template = DNNClassifier()
    out: dict[str, object] = {"n_clips": len(paths)}

    def uars(preds: list[np.ndarray]) -> list[float]:
        per_seed = []
        for j in range(len(seeds)):
            scores = [
                balanced_accuracy_score(labels[te], preds[i * len(seeds) + j])
                for i, (_, te) in enumerate(folds)
            ]
            per_seed.append(100 * float(np.mean(scores)))
        return per_seed

    # before: skorch, one network after the other (scaled as DNNClassifier scales)
    start = time.process_time()
    before = []
    for tr, te in folds:
        mu, sd = F[tr].mean(0), F[tr].std(0)
        sd[sd == 0] = 1
        for seed in seeds:
            net = skorch_fit(((F[tr] - mu) / sd).astype(np.float32), y_int[tr], seed)
            before.append(classes[net.predict(((F[te] - mu) / sd).astype(np.float32))])
    out["before_s"] = time.process_time() - start
    out["before_uar"] = uars(before)

    start = time.process_time()
    alone = [
        clone(template).set_params(random_state=s).fit(F[tr], labels[tr])
        for tr, _ in folds
        for s in seeds
    ]
    out["alone_s"] = time.process_time() - start

    start = time.process_time()
    stacked = fit_folds(template, F, labels, folds, random_states=seeds)
    out["stack_s"] = time.process_time() - start
    start = time.process_time()
    fit_folds(template, F, labels, folds, random_states=seeds[:1])
    out["stack1_s"] = time.process_time() - start

    tests = [te for _, te in folds for _ in seeds]
    pa = [est.predict(F[te]) for est, te in zip(alone, tests, strict=True)]
    ps = [est.predict(F[te]) for est, te in zip(stacked, tests, strict=True)]
    diff = max(
        float(np.abs(a.predict_proba(F[te]) - b.predict_proba(F[te])).max())
        for a, b, te in zip(alone, stacked, tests, strict=True)
    )
    same = float(np.mean(np.concatenate([a == b for a, b in zip(pa, ps, strict=True)])))
    out.update(alone_uar=uars(pa), stack_uar=uars(ps), max_proba_diff=diff, same_pred=same)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--features", type=int, default=80)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--emovo", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"# bench_dnn: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}), "
        f"load {os.getloadavg()[0]:.1f}"
    )
    best = single_fit(args.rows, args.features, args.repeat, args.epochs)
    lean = best["lean"]
    print(f"\n## One fit, {args.rows} x {args.features}, {args.epochs} epochs, batch {BATCH}\n")
    print("| trainer | CPU seconds | vs lean loop |\n|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.1f} | {seconds / lean:.2f}x |")
    if args.emovo is not None:
        seeds = [0, 1, 2]
        r = emovo_folds(args.emovo, seeds)
        n = 5 * len(seeds)
        print(f"\n## EMOVO MFCC + DNN, 5 folds x {len(seeds)} seeds ({r['n_clips']} clips)\n")
        print("| trainer | CPU s (15 networks) | per 5-fold CV | UAR per seed (%) |")
        print("|---|---|---|---|")
        for key, label in (
            ("before", "skorch, one by one (before)"),
            ("alone", "DNNClassifier.fit, one by one"),
            ("stack", "fit_folds, one stack"),
        ):
            uar = ", ".join(f"{u:.2f}" for u in r[f"{key}_uar"])
            print(
                f"| {label} | {r[f'{key}_s']:.1f} | {r[f'{key}_s'] * 5 / n:.1f} | {uar} "
                f"(mean {np.mean(r[f'{key}_uar']):.2f}) |"
            )
        print(
            f"| fit_folds, one seed (5 networks) | | {r['stack1_s']:.1f} | |\n"
            f"\nfit_folds vs alone: same predicted class for {100 * r['same_pred']:.2f} % of "
            f"test clips, max |proba difference| {r['max_proba_diff']:.2e}; speed-up vs "
            f"before {r['before_s'] / r['stack_s']:.1f}x (15 networks), "
            f"{r['before_s'] / 3 / r['stack1_s']:.1f}x (one 5-fold cell)"
        )


if __name__ == "__main__":
    main()
