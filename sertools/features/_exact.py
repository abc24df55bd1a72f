"""Padding-exact batches for wav2vec 2.0-style models (wav2vec 2.0, HuBERT, data2vec-audio).

A wav2vec 2.0-style model — a stack of unpadded 1-d convolutions over the
waveform (the *front end*), then a transformer whose input gets a convolutional
positional embedding — gives a clip in a zero-padded batch a different
embedding than alone, in up to three places:

1. **the front end's group norm**: the base models (fairseq ``extractor_mode=
   "default"``, transformers ``feat_extract_norm="group"``) normalise each
   channel of the first convolution's output over the whole time axis, the
   batch padding included;
2. **the positional convolution** (kernel 128, ``padding=64``, then one frame
   removed for the even kernel): alone, the frames after a clip's end are the
   convolution's zero padding; in a batch they are whatever the padded
   samples produced, unless they are zeroed first;
3. **self-attention**: padded frames are attended to unless their keys are
   masked;
4. **stacked positional convolutions** (data2vec-audio: five padded
   convolutions, each followed by a layer norm and GELU): the padded frames
   are zeroed before the first one only; after it they hold values computed
   from the clip's last frames, which the next convolution carries back into
   them.

:func:`make_padding_exact` installs forward hooks on the real modules of a
loaded model — nothing of the model is copied or replaced — so that a padded
batch gives each clip its one-at-a-time result:

* the group norm's output is recomputed for every clip with padding, from
  statistics over that clip's valid frames only (the frames the convolution
  computed from the clip's own samples, ``(n - kernel) // stride + 1`` per
  layer);
* (fairseq/S3PRL layout) the transformer gets the exact frame padding mask:
  the model zeroes the masked frames before its positional convolution and
  passes the mask to every self-attention layer as ``key_padding_mask``.
  wav2vec 2.0 computes that mask itself; HuBERT's ``forward_padding_mask``
  approximates it (a frame counts as padding only when *all* of its 320
  samples are), which lets a frame computed partly from padding into the
  attention. The hook replaces it with the exact one.
* each stacked positional convolution layer's output is zeroed at the padded
  frames, so the next one sees what its zero padding gives a clip alone;
* (transformers layout) ``Wav2Vec2Model`` / ``HubertModel`` turn an
  ``attention_mask`` into the exact frame mask, zero the padded frames and
  mask the attention themselves; only the group norm needs the hook. The
  caller must pass ``attention_mask``, which the checkpoints trained without
  one (``feat_extract_norm="group"``) are usually run without, because of (1).

The clips' lengths come from the model's own input: the sample padding mask
(``padding_mask``, True at padding; S3PRL's experts always pass it) or
``attention_mask`` (1 at valid samples). Without it the hooks do nothing, so
an unpadded call is untouched. The lengths are kept per thread, for the
duration of one forward call. Pooling over valid frames only stays the
caller's job (:func:`sertools.features._engine.masked_mean`).

Rows without padding keep the model's own group-norm output, so only padded
clips see a different (but equivalent) float computation: batched and
one-at-a-time embeddings agree to float precision (cosine >= 0.99999 on every
layer, docs/benchmarks-gpu.md and tests/test_exact.py).
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["PaddingExact", "find_padding_exact", "make_padding_exact"]

#: attribute under which the installed :class:`PaddingExact` is kept on the model
_ATTRIBUTE = "_sertools_padding_exact"

#: the two module layouts: model forward's waveform and mask arguments, whether
#: the mask marks padding (True) or valid samples (False), and whether the
#: encoder needs the exact frame mask from us
_LAYOUTS = {
    "fairseq": {"wave": "source", "mask": "padding_mask", "mask_is_padding": True},
    "transformers": {"wave": "input_values", "mask": "attention_mask", "mask_is_padding": False},
}


def _parameters(fn: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # builtins without a signature
        return set()


def _layout(model: Any) -> str | None:
    """``"fairseq"`` (S3PRL's copies), ``"transformers"``, or None if neither."""
    params = _parameters(model.forward)
    for name, spec in _LAYOUTS.items():
        if {spec["wave"], spec["mask"]} <= params:
            return name
    return None


class _Conv:
    """Kernel and stride of one unpadded, undilated ``Conv1d``."""

    def __init__(self, conv: Any) -> None:
        self.kernel = int(conv.kernel_size[0])
        self.stride = int(conv.stride[0])

    def __call__(self, n: Any) -> Any:
        import torch

        return torch.div(n - self.kernel, self.stride, rounding_mode="floor") + 1


class PaddingExact:
    """Hooks that make a wav2vec 2.0-style model's padded batches exact.

    Made by :func:`make_padding_exact`; see the module docstring. The hooks
    stay on the model until :meth:`remove`.

    Attributes
    ----------
    layout : {"fairseq", "transformers"}
        Which module layout the model has.
    n_group_norms : int
        Group norms over time found in the front end (1 for the base models,
        0 for the layer-norm front ends of the large ones).
    n_positional_convs : int
        Stacked positional convolution layers whose padded output frames are
        zeroed (data2vec-audio's five; 0 for a single positional convolution).
    """

    def __init__(self, model: Any, layout: str, blocks: list[tuple[list[_Conv], list[Any]]]):
        import torch

        self.layout = layout
        self._spec = _LAYOUTS[layout]
        self._signature = inspect.signature(model.forward)
        self._local = threading.local()
        self._handles: list[Any] = []
        self._convs: list[_Conv] = []
        self.n_group_norms = 0
        self._model = model
        # S3PRL's experts call model.extract_features, which calls self.forward
        # directly: module hooks on the model would not run, so the lengths are
        # read by a wrapper of the model's own forward, set on the instance
        self._original_forward = model.forward
        object.__setattr__(model, "forward", self._forward)
        for convs, norms in blocks:
            self._convs.extend(convs)
            counter = list(self._convs)  # frames after this block's convolutions
            for norm in norms:
                # a partial of a bound method, not a closure, so that a deepcopy of
                # the model gets hooks bound to the copy's PaddingExact
                hook = functools.partial(self._norm_hook, counter)
                self._handles.append(norm.register_forward_hook(hook))
                self.n_group_norms += 1
        self.n_positional_convs = 0
        for layer in _stacked_positional_convs(model):
            self._handles.append(layer.register_forward_hook(self._positional_hook))
            self.n_positional_convs += 1
        if layout == "fairseq":
            encoder = model.encoder
            self._encoder_signature = inspect.signature(encoder.forward)
            self._handles.append(
                encoder.register_forward_pre_hook(self._encoder_mask, with_kwargs=True)
            )
        self._torch = torch

    # --- lengths of the current forward call -------------------------------------
    def _forward(self, *args: Any, **kwargs: Any) -> Any:
        """The model's forward, with the clips' lengths kept for the hooks meanwhile."""
        bound = self._signature.bind_partial(*args, **kwargs).arguments
        wave, mask = bound.get(self._spec["wave"]), bound.get(self._spec["mask"])
        lengths = None
        if mask is not None and wave is not None and mask.dim() == 2:
            valid = ~mask.bool() if self._spec["mask_is_padding"] else mask.bool()
            lengths = valid.sum(dim=-1)
            if bool((lengths == wave.shape[-1]).all()):
                lengths = None  # nothing padded: leave the model alone
        previous = getattr(self._local, "lengths", None)
        self._local.lengths = lengths
        try:
            return self._original_forward(*args, **kwargs)
        finally:
            self._local.lengths = previous

    def valid_frames(self, n_samples: Any) -> Any:
        """Frames the front end computes from ``n_samples`` samples (tensor in, tensor out)."""
        for conv in self._convs:
            n_samples = conv(n_samples)
        return n_samples

    # --- group norm over valid frames ------------------------------------------------
    def _norm_hook(self, convs: list[_Conv], norm: Any, args: tuple, output: Any) -> Any:
        """Forward hook of a group norm: its output over each clip's valid frames."""
        lengths = getattr(self._local, "lengths", None)
        if lengths is None:
            return None
        frames = lengths.to(output.device)
        for conv in convs:
            frames = conv(frames)
        return self._masked_group_norm(norm, args[0], output, frames)

    def _masked_group_norm(self, norm: Any, x: Any, output: Any, frames: Any) -> Any:
        """``norm(x)`` with each row's statistics taken over its first ``frames`` frames.

        Parameters
        ----------
        norm : torch.nn.GroupNorm
        x : torch.Tensor of shape (batch, channels, n_frames)
            The norm's input.
        output : torch.Tensor of shape (batch, channels, n_frames)
            The norm's own output (kept for rows without padding).
        frames : torch.Tensor of shape (batch,)
            Valid frames of each row.

        Returns
        -------
        torch.Tensor of shape (batch, channels, n_frames), ``output.dtype``
            Padded frames are zero.
        """
        torch = self._torch
        batch, channels, n_frames = x.shape
        frames = frames.clamp(min=1, max=n_frames)
        full = frames == n_frames
        if bool(full.all()):
            return None
        groups = int(norm.num_groups)
        per_group = channels // groups
        valid = (torch.arange(n_frames, device=x.device)[None, :] < frames[:, None]).float()
        count = frames.float()[:, None] * per_group  # values per (row, group)

        def group_sums(values: Any) -> Any:  # (batch, channels, n_frames) -> (batch, groups)
            per_channel = torch.bmm(values, valid[:, :, None])[..., 0]  # valid frames only
            return per_channel.reshape(batch, groups, per_group).sum(dim=-1)

        # two passes (mean, then centred squares), in float32 like Fp32GroupNorm;
        # a matrix product sums over valid frames without a masked copy of x
        x = x.float()
        mean = group_sums(x) / count
        y = x - mean.repeat_interleave(per_group, dim=1)[..., None]
        var = group_sums(y * y) / count
        scale = torch.rsqrt(var + norm.eps).repeat_interleave(per_group, dim=1)
        if norm.affine:
            y.mul_((scale * norm.weight.float())[..., None]).add_(norm.bias.float()[None, :, None])
        else:
            y.mul_(scale[..., None])
        y.mul_(valid[:, None, :])  # padded frames: zero
        y = y.to(output.dtype)
        y[full] = output[full]  # rows without padding: the model's own numbers
        return y

    # --- stacked positional convolutions (data2vec-audio) ----------------------------
    def _positional_hook(self, layer: Any, args: tuple, output: Any) -> Any:
        """Forward hook of one of several stacked positional convolution layers.

        The encoder zeroes the padded frames before the first layer; this zeroes
        them again after each, so that the next layer sees zeros beyond a clip's
        end, as its own zero padding gives the clip alone.
        """
        lengths = getattr(self._local, "lengths", None)
        if lengths is None:
            return None
        n_frames = output.shape[-1]  # (batch, channels, n_frames)
        frames = self.valid_frames(lengths.to(output.device)).clamp(min=1, max=n_frames)
        valid = self._torch.arange(n_frames, device=output.device)[None, :] < frames[:, None]
        return output * valid[:, None, :].to(output.dtype)

    # --- exact frame mask for the transformer (fairseq layout) ------------------------
    def _encoder_mask(self, module: Any, args: tuple, kwargs: dict) -> tuple | None:
        lengths = getattr(self._local, "lengths", None)
        if lengths is None:
            return None
        bound = self._encoder_signature.bind(*args, **kwargs)
        x = bound.arguments[next(iter(self._encoder_signature.parameters))]
        n_frames = x.shape[1]
        frames = self.valid_frames(lengths.to(x.device)).clamp(min=1, max=n_frames)
        mask = self._torch.arange(n_frames, device=x.device)[None, :] >= frames[:, None]
        bound.arguments["padding_mask"] = mask if bool(mask.any()) else None
        return bound.args, bound.kwargs

    def __getstate__(self) -> dict[str, Any]:
        # deepcopy/pickle of a hooked model copies the hooks: the per-thread
        # lengths are not state
        return {k: v for k, v in self.__dict__.items() if k not in ("_local", "_torch")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        import torch

        self.__dict__.update(state)
        self._local = threading.local()
        self._torch = torch

    def remove(self) -> None:
        """Take the hooks off the model (its forward is the original again)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self._model.__dict__.get("forward") == self._forward:
            del self._model.__dict__["forward"]
        if getattr(self._model, _ATTRIBUTE, None) is self:
            delattr(self._model, _ATTRIBUTE)


def _front_end_blocks(model: Any) -> list[tuple[list[_Conv], list[Any]]] | None:
    """Per convolution block: its convolutions and its group norms, or None if unusable.

    Every ``Conv1d`` must be unpadded and undilated (then a clip's frames in a
    batch are computed from its own samples only, and their count is known).
    """
    import torch

    blocks = getattr(getattr(model, "feature_extractor", None), "conv_layers", None)
    if not isinstance(blocks, torch.nn.ModuleList) or len(blocks) == 0:
        return None
    out = []
    for block in blocks:
        convs, norms = [], []
        for module in block.modules():
            if isinstance(module, torch.nn.Conv1d):
                if module.padding != (0,) or module.dilation != (1,):
                    return None
                convs.append(_Conv(module))
            elif isinstance(module, torch.nn.GroupNorm):
                norms.append(module)
        if not convs:
            return None
        out.append((convs, norms))
    return out


def _stacked_positional_convs(model: Any) -> list[Any]:
    """The layers of a positional embedding made of several stacked convolutions.

    transformers' data2vec-audio (``encoder.pos_conv_embed.layers``, each a padded
    ``Conv1d``, layer norm and activation): between two of them, the frames after a
    clip's end hold what the previous layer computed there, not zeros. One
    convolution (wav2vec 2.0, HuBERT, WavLM) needs nothing: the encoder zeroes the
    padded frames before it.
    """
    import torch

    layers = getattr(
        getattr(getattr(model, "encoder", None), "pos_conv_embed", None), "layers", None
    )
    if isinstance(layers, torch.nn.ModuleList) and len(layers) > 1:
        return list(layers)
    return []


def find_padding_exact(model: Any) -> PaddingExact | None:
    """The :class:`PaddingExact` installed on ``model``, or None."""
    handle = getattr(model, _ATTRIBUTE, None)
    return handle if isinstance(handle, PaddingExact) else None


def make_padding_exact(model: Any) -> PaddingExact | None:
    """Make a wav2vec 2.0-style model give padded clips their one-at-a-time output.

    Parameters
    ----------
    model : torch.nn.Module
        The network whose ``forward`` takes the padded waveforms and their mask:
        S3PRL's (fairseq's) ``Wav2Vec2Model`` / ``HubertModel``
        (``forward(source, padding_mask, ...)``, ``feature_extractor.conv_layers``,
        ``encoder(x, padding_mask=...)``) or transformers' ``Wav2Vec2Model`` /
        ``HubertModel`` (``forward(input_values, attention_mask, ...)``).

    Returns
    -------
    PaddingExact or None
        The installed hooks (the same object if already installed), or None if
        the model has neither layout or its front end has padded or dilated
        convolutions: then nothing is installed and batches are not exact.

    Examples
    --------
    >>> hooks = make_padding_exact(upstream.upstream.model)  # doctest: +SKIP
    >>> hooks.valid_frames(torch.tensor([16000]))  # doctest: +SKIP
    tensor([49])
    """
    existing = find_padding_exact(model)
    if existing is not None:
        return existing
    layout = _layout(model)
    if layout is None:
        return None
    blocks = _front_end_blocks(model)
    if blocks is None:
        return None
    if layout == "fairseq" and "padding_mask" not in _parameters(
        getattr(getattr(model, "encoder", None), "forward", None) or (lambda: None)
    ):
        return None
    handle = PaddingExact(model, layout, blocks)
    object.__setattr__(model, _ATTRIBUTE, handle)
    return handle
