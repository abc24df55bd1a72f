"""The lean training core of the paper's DNN: one or many networks, trained as one stack.

Every network of the stack is the paper's MLP (:class:`~sertools.models.PaperMLP`);
the stack trains ``M`` of them at once with a leading model dimension:

* the weights of all networks live in one ``(M, P)`` buffer (``P`` parameters per
  network); each layer's weight is a ``(M, in, out)`` view of it and a layer is one
  ``torch.baddbmm`` for all networks;
* batch normalisation runs as one ``torch.batch_norm`` over ``M * width`` channels,
  which is channel for channel what each network's own ``BatchNorm1d`` computes;
* Adam is a handful of element-wise operations on the ``(M, P)`` buffer, with each
  network's own step count (per-network coefficients of shape ``(M, 1)``);
* each network draws its weights, its shuffling and its dropout masks from its
  own seed, in an order that does not depend on the other networks.

Hence a network trained in a stack of ``M`` is, operation for operation, the
network trained alone (a stack of one): the per-step overhead of the framework
is paid once for the stack. A network whose epoch has fewer (or smaller)
mini-batches than the others', or which stopped early, sits out the steps it
does not have: its weights and Adam state are left exactly as they are.

Training data is given per network (:class:`Job`): standardised float32
features, targets (class indices, or float targets) and optionally a validation
set for early stopping.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["Job", "Settings", "Trained", "train_stack"]

_MASK_FLOATS = 1 << 22  # dropout masks drawn per chunk: at most 4 Mi floats per network
_BN_EPS = 1e-5
_BN_MOMENTUM = 0.1
_BETAS = (0.9, 0.999)
_ADAM_EPS = 1e-8
_CCC_EPS = 1e-8


@dataclass
class Job:
    """One network to train: its data and its seed.

    Attributes
    ----------
    X : ndarray of shape (n, d), float32, C-ordered
        Training inputs (already standardised).
    y : ndarray of shape (n,) int64 (classes) or (n, k) float32 (regression)
        Training targets.
    seed : int
        Seeds the initial weights (torch's default initialisation), then the
        shuffling and the dropout masks.
    X_valid, y_valid : ndarray or None
        Validation data for early stopping.
    """

    X: np.ndarray
    y: np.ndarray
    seed: int
    X_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None


@dataclass(frozen=True)
class Settings:
    """Training settings shared by every network of a stack."""

    n_features: int
    n_outputs: int
    dropout: float
    lr: float
    weight_decay: float
    batch_size: int
    max_epochs: int
    loss: str  # "ce", "mse" or "ccc"
    patience: int | None = None  # early stopping on the validation loss when set
    device: str = "cpu"
    verbose: int = 0
    dtype: str = "float64"  # the arithmetic of training (see docs/dnn.md)


@dataclass
class Trained:
    """A trained network: its module (in eval mode) and its per-epoch history."""

    module: nn.Module
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_iter(self) -> int:
        """Number of epochs run."""
        return len(self.history)


def make_module(settings: Settings, seed: int) -> nn.Module:
    """The network of ``seed``: torch's default initialisation under that seed."""
    from .dnn import PaperMLP

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return PaperMLP(settings.n_features, settings.n_outputs, dropout=settings.dropout)


def _loss(out: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-network mean loss, shape ``(M,)``, of outputs ``(M, B, K)``."""
    M, B, K = out.shape
    if kind == "ce":
        per = F.cross_entropy(out.reshape(M * B, K), y.reshape(M * B), reduction="none")
        return per.view(M, B).mean(1)
    if kind == "mse":
        return (out - y).square().mean((1, 2))
    # Lin's concordance correlation coefficient over the mini-batch, per output
    # (population moments), as a loss: 1 - CCC, averaged over the outputs
    mo, my = out.mean(1, keepdim=True), y.mean(1, keepdim=True)
    do, dy = out - mo, y - my
    cov = (do * dy).mean(1)
    var_o, var_y = do.square().mean(1), dy.square().mean(1)
    ccc = 2 * cov / (var_o + var_y + (mo - my).squeeze(1).square() + _CCC_EPS)
    return (1 - ccc).mean(1)


class _Stack:
    """``M`` networks of one shape in one flat ``(M, P)`` buffer; see the module doc."""

    def __init__(
        self, modules: Sequence[nn.Module], device: torch.device, dtype: torch.dtype
    ) -> None:
        first = modules[0]
        self.dtype = dtype
        self.M = M = len(modules)
        self.linears = [m for m in first.modules() if isinstance(m, nn.Linear)]
        self.shapes: list[tuple[int, ...]] = []
        for lin in self.linears:
            self.shapes += [(lin.in_features, lin.out_features), (lin.out_features,)]
        self.bn_widths = [lin.out_features for lin in self.linears[:-1]]
        for width in self.bn_widths:
            self.shapes += [(width,), (width,)]  # gamma, beta
        sizes = [math.prod(s) for s in self.shapes]
        self.P = sum(sizes)
        like = {"device": device, "dtype": dtype}
        self.theta = torch.empty(M, self.P, **like)
        self.grad = torch.zeros(M, self.P, **like)
        self.exp_avg = torch.zeros(M, self.P, **like)
        self.exp_avg_sq = torch.zeros(M, self.P, **like)
        self.steps = np.zeros(M, dtype=np.int64)
        self.params: list[torch.Tensor] = []
        offset = 0
        n_lin = len(self.linears)
        for i, (shape, size) in enumerate(zip(self.shapes, sizes, strict=True)):
            p = self.theta[:, offset : offset + size].view(M, *shape)
            # The bias of a linear layer followed by batch normalisation has a zero
            # gradient in exact arithmetic (the normalisation subtracts the batch
            # mean); in float32 it gets rounding noise, which Adam (dividing by
            # sqrt(v)) turns into full-size random steps. It is held at its exact
            # gradient, zero: see docs/dnn.md ("The same result on every CPU").
            before_bn = i < 2 * (n_lin - 1) and i % 2 == 1
            p.requires_grad_(not before_bn)
            p.grad = self.grad[:, offset : offset + size].view(M, *shape)
            self.params.append(p)
            offset += size
        self.running = [
            (torch.zeros(M * w, **like), torch.ones(M * w, **like)) for w in self.bn_widths
        ]
        self.tracked = np.zeros(M, dtype=np.int64)
        with torch.no_grad():
            for m, module in enumerate(modules):
                self._load(m, module)

    # -- conversion from and to PaperMLP modules
    def _load(self, m: int, module: nn.Module) -> None:
        linears = [x for x in module.modules() if isinstance(x, nn.Linear)]
        bns = [x for x in module.modules() if isinstance(x, nn.BatchNorm1d)]
        values: list[torch.Tensor] = []
        for lin in linears:
            values += [lin.weight.detach().T, lin.bias.detach()]
        for bn in bns:
            values += [bn.weight.detach(), bn.bias.detach()]
        for p, v in zip(self.params, values, strict=True):
            p.detach()[m].copy_(v)
        for (rm, rv), bn, w in zip(self.running, bns, self.bn_widths, strict=True):
            rm[m * w : (m + 1) * w].copy_(bn.running_mean)
            rv[m * w : (m + 1) * w].copy_(bn.running_var)

    def snapshot(self, m: int) -> tuple[torch.Tensor, list[torch.Tensor], int]:
        """Network ``m``'s weights and batch-norm statistics (copies)."""
        running = [
            torch.cat([rm[m * w : (m + 1) * w], rv[m * w : (m + 1) * w]])
            for (rm, rv), w in zip(self.running, self.bn_widths, strict=True)
        ]
        return self.theta[m].clone(), [r.clone() for r in running], int(self.tracked[m])

    def restore(self, m: int, snap: tuple[torch.Tensor, list[torch.Tensor], int]) -> None:
        theta, running, tracked = snap
        with torch.no_grad():
            self.theta[m].copy_(theta)
            for (rm, rv), r, w in zip(self.running, running, self.bn_widths, strict=True):
                rm[m * w : (m + 1) * w].copy_(r[:w])
                rv[m * w : (m + 1) * w].copy_(r[w:])
        self.tracked[m] = tracked

    def module(self, m: int, template: nn.Module) -> nn.Module:
        """Network ``m`` as a module shaped like ``template`` (eval mode)."""
        linears = [x for x in template.modules() if isinstance(x, nn.Linear)]
        bns = [x for x in template.modules() if isinstance(x, nn.BatchNorm1d)]
        with torch.no_grad():
            p = [q.detach()[m] for q in self.params]
            for i, lin in enumerate(linears):
                lin.weight.copy_(p[2 * i].T)
                lin.bias.copy_(p[2 * i + 1])
            base = 2 * len(linears)
            for i, (bn, (rm, rv), w) in enumerate(
                zip(bns, self.running, self.bn_widths, strict=True)
            ):
                bn.weight.copy_(p[base + 2 * i])
                bn.bias.copy_(p[base + 2 * i + 1])
                bn.running_mean.copy_(rm[m * w : (m + 1) * w])
                bn.running_var.copy_(rv[m * w : (m + 1) * w])
                bn.num_batches_tracked.fill_(int(self.tracked[m]))
        return template.eval()

    # -- training
    def forward(
        self,
        x: torch.Tensor,
        masks: list[torch.Tensor] | None,
        rows: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Training-mode outputs ``(G, B, K)`` of the networks ``rows`` (all when None).

        ``x`` is ``(G, B, d)``; ``masks`` are the dropout multipliers per hidden
        block, ``(G, B, width)`` each.
        """
        params = self.params if rows is None else [p.index_select(0, rows) for p in self.params]
        G, B = x.shape[0], x.shape[1]
        n_lin = len(self.linears)
        h = x
        for i in range(n_lin):
            W, b = params[2 * i], params[2 * i + 1]
            h = torch.baddbmm(b.unsqueeze(1), h, W)
            if i == n_lin - 1:
                break
            width = self.bn_widths[i]
            gamma, beta = params[2 * n_lin + 2 * i], params[2 * n_lin + 2 * i + 1]
            rm, rv = self.running[i]
            if rows is None:
                rm_g, rv_g = rm, rv
            else:  # statistics of the selected networks only, written back below
                sel = (rows[:, None] * width + torch.arange(width, device=rows.device)).reshape(-1)
                rm_g, rv_g = rm[sel], rv[sel]
            flat = h.transpose(0, 1).reshape(B, G * width)
            flat = torch.batch_norm(
                flat,
                gamma.reshape(G * width),
                beta.reshape(G * width),
                rm_g,
                rv_g,
                True,
                _BN_MOMENTUM,
                _BN_EPS,
                False,
            )
            if rows is not None:
                rm[sel], rv[sel] = rm_g, rv_g
            h = torch.relu(flat.view(B, G, width).transpose(0, 1))
            if masks is not None:
                h = h * masks[i]
        return h

    def adam(self, active: np.ndarray, lr: float, weight_decay: float) -> None:
        """One Adam step (``torch.optim.Adam``'s formula) of the ``active`` networks."""
        b1, b2 = _BETAS
        self.steps[active] += 1
        t = np.maximum(self.steps, 1).astype(np.float64)
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        step = np.where(active, lr / bc1, 0.0)
        keep1, keep2 = np.where(active, b1, 1.0), np.where(active, b2, 1.0)
        dev = self.theta.device

        def col(v: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(v, device=dev, dtype=self.dtype).view(-1, 1)

        with torch.no_grad():
            g = self.grad
            if weight_decay:
                g = g.add(self.theta, alpha=weight_decay)
            self.exp_avg.mul_(col(keep1)).addcmul_(g, col(1 - keep1))
            self.exp_avg_sq.mul_(col(keep2)).addcmul_(g.square(), col(1 - keep2))
            denom = (self.exp_avg_sq.sqrt() / col(np.sqrt(bc2))).add_(_ADAM_EPS)
            self.theta.addcdiv_(self.exp_avg * col(-step), denom)

    def eval_outputs(self, m: int, X: torch.Tensor) -> torch.Tensor:
        """Eval-mode outputs of network ``m`` on ``X`` ``(n, d)``."""
        n_lin = len(self.linears)
        p = [q.detach()[m] for q in self.params]
        h = X
        for i in range(n_lin):
            h = torch.addmm(p[2 * i + 1], h, p[2 * i])
            if i == n_lin - 1:
                break
            w = self.bn_widths[i]
            rm, rv = self.running[i]
            h = torch.batch_norm(
                h,
                p[2 * n_lin + 2 * i],
                p[2 * n_lin + 2 * i + 1],
                rm[m * w : (m + 1) * w],
                rv[m * w : (m + 1) * w],
                False,
                0.0,
                _BN_EPS,
                False,
            ).relu()
        return h


def _epoch_plan(n: int, batch_size: int) -> list[int]:
    """Mini-batch sizes of one epoch over ``n`` rows (a last batch of one is dropped)."""
    sizes = [batch_size] * (n // batch_size)
    if n % batch_size > 1:
        sizes.append(n % batch_size)
    return sizes


def train_stack(
    jobs: Sequence[Job],
    settings: Settings,
    *,
    on_step: Callable[[int], None] | None = None,
) -> list[Trained]:
    """Train one network per job, all in one stack.

    Parameters
    ----------
    jobs : sequence of Job
        One network each (same feature width and output width).
    settings : Settings
        Shared training settings.
    on_step : callable or None
        Called with the global step number before every optimisation step
        (used by the tests to interrupt training).

    Returns
    -------
    list of Trained
        The trained networks in the order of ``jobs``.
    """
    device = torch.device(settings.device)
    M = len(jobs)
    modules = [make_module(settings, job.seed) for job in jobs]
    dtype = getattr(torch, settings.dtype)
    stack = _Stack(modules, device, dtype)
    gens = [torch.Generator().manual_seed(job.seed) for job in jobs]
    sizes = np.array([len(job.y) for job in jobs])
    n_max = int(sizes.max())
    bs = settings.batch_size
    d = settings.n_features
    classify = settings.loss == "ce"

    X = torch.zeros(M, n_max, d, device=device, dtype=dtype)
    y_shape = (M, n_max) if classify else (M, n_max, settings.n_outputs)
    Y = torch.zeros(y_shape, dtype=torch.int64 if classify else dtype, device=device)
    for m, job in enumerate(jobs):
        X[m, : sizes[m]] = torch.as_tensor(job.X, device=device)
        Y[m, : sizes[m]] = torch.as_tensor(job.y, device=device)
    valid = [
        None
        if job.X_valid is None
        else (
            torch.as_tensor(job.X_valid, device=device, dtype=dtype),
            torch.as_tensor(job.y_valid, device=device, dtype=Y.dtype),
        )
        for job in jobs
    ]
    widths = stack.bn_widths
    w_total = sum(widths)
    p_drop = settings.dropout
    mask_rows = max(bs, (_MASK_FLOATS // max(w_total, 1)) // bs * bs)
    arange_m = torch.arange(M, device=device)

    # a network's batches: its own rows, batch_size at a time (all of them when fewer)
    plans = [_epoch_plan(int(n), min(bs, int(n))) for n in sizes]
    used = [sum(p) for p in plans]
    n_steps = max(len(p) for p in plans)
    # all networks have the same batch size at a step: the common, fast case
    regular = [all(k < len(p) and p[k] == plans[0][k] for p in plans) for k in range(n_steps)]
    histories: list[list[dict[str, Any]]] = [[] for _ in jobs]
    running = np.ones(M, dtype=bool)  # not stopped early
    best: list[tuple[float, int, Any]] = [(math.inf, -1, None) for _ in jobs]
    misses = np.zeros(M, dtype=np.int64)
    global_step = 0
    if settings.verbose:
        cols = "  valid_loss" if any(v is not None for v in valid) else ""
        print(f"  epoch  train_loss{cols}     dur", file=sys.stdout)

    for epoch in range(1, settings.max_epochs + 1):
        start = time.perf_counter()
        live = np.flatnonzero(running)
        perms = torch.zeros(M, n_max, dtype=torch.int64)
        for m in live:
            perms[m, : sizes[m]] = torch.randperm(int(sizes[m]), generator=gens[m])
        perms = perms.to(device)
        loss_sum = torch.zeros(M, device=device, dtype=dtype)
        chunk: torch.Tensor | None = None
        chunk_start = -1
        for k in range(n_steps):
            row0 = k * bs
            if p_drop > 0 and (chunk is None or row0 >= chunk_start + mask_rows):
                chunk_start = row0
                chunk = torch.ones(M, min(mask_rows, max(used) - row0), w_total, dtype=dtype)
                for m in live:
                    # each network's stream: its own rows of this chunk, in order
                    n_rows = min(mask_rows, max(0, used[m] - row0))
                    if n_rows:
                        draw = torch.rand(n_rows, w_total, generator=gens[m])
                        chunk[m, :n_rows] = (draw >= p_drop).to(dtype) / (1 - p_drop)
                chunk = chunk.to(device)
            if on_step is not None:
                on_step(global_step)
            global_step += 1
            if regular[k] and running.all():
                groups = [(None, plans[0][k])]
            else:
                by_size: dict[int, list[int]] = {}
                for m in live:
                    if k < len(plans[m]):
                        by_size.setdefault(plans[m][k], []).append(int(m))
                groups = [(np.array(ms), b) for b, ms in sorted(by_size.items())]
            for members, b in groups:
                stack.grad.zero_()
                if members is None:
                    rows_t, sel = None, arange_m
                    active = np.ones(M, dtype=bool)
                else:
                    rows_t = torch.as_tensor(members, device=device)
                    sel = rows_t
                    active = np.zeros(M, dtype=bool)
                    active[members] = True
                idx = perms[sel, row0 : row0 + b]
                xb = X[sel[:, None], idx]
                yb = Y[sel[:, None], idx]
                masks = None
                if p_drop > 0:
                    assert chunk is not None
                    r = row0 - chunk_start
                    mb = chunk[sel, r : r + b]
                    masks = list(torch.split(mb, widths, dim=2))
                out = stack.forward(xb, masks, rows_t)
                losses = _loss(out, yb, settings.loss)
                with warnings.catch_warnings():
                    # the grads are views of one flat buffer, by design (see _Stack)
                    warnings.filterwarnings("ignore", message="grad and param do not obey")
                    losses.sum().backward()
                stack.adam(active, settings.lr, settings.weight_decay)
                stack.tracked[active] += 1
                loss_sum.index_add_(0, sel, losses.detach() * b)
        train_loss = (loss_sum.cpu().numpy() / np.maximum(used, 1)).tolist()
        dur = time.perf_counter() - start
        for m in live:
            rec: dict[str, Any] = {
                "epoch": epoch,
                "train_loss": train_loss[m],
                "batch_sizes": plans[m],
                "dur": dur,
            }
            if valid[m] is not None:
                Xv, yv = valid[m]
                with torch.no_grad():
                    out = stack.eval_outputs(int(m), Xv)
                    loss = _loss(out.unsqueeze(0), yv.unsqueeze(0), settings.loss)
                rec["valid_loss"] = v_loss = float(loss[0])
                rec["n_valid"] = len(yv)
                if v_loss < best[m][0]:
                    best[m] = (v_loss, epoch, stack.snapshot(int(m)))
                    misses[m] = 0
                else:
                    misses[m] += 1
                rec["best"] = best[m][1] == epoch
                if settings.patience is not None and misses[m] >= settings.patience:
                    running[m] = False
            histories[m].append(rec)
        if settings.verbose:
            rec = histories[int(live[0])][-1]
            line = f"{epoch:7d}  {rec['train_loss']:10.4f}"
            if "valid_loss" in rec:
                line += f"  {rec['valid_loss']:10.4f}"
            print(f"{line}  {dur:6.3f}", file=sys.stdout)
        if not running.any():
            break

    trained = []
    for m, job in enumerate(jobs):
        if settings.patience is not None and best[m][2] is not None:
            stack.restore(m, best[m][2])
        module = stack.module(m, modules[m].to(dtype)).to(device)
        trained.append(Trained(module=module, history=histories[m]))
        del job
    return trained
