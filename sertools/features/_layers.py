"""Layer selection and masked pooling for any model with several hidden states.

A *layered model* is any object with

- ``n_layers`` (int) and ``hidden_sizes`` (list of int, one per hidden state),
- ``hidden_states(batch, lengths) -> (hidden, valid)``: for a zero-padded batch
  ``(B, T)`` and its true lengths ``(B,)``, every hidden state
  ``(B, n_frames, hidden_size)`` and the number of frames of each clip that
  were computed from its own samples ``(B,)``,
- and the engine's ``sampling_rate``, ``min_samples``, optionally
  ``checkpoint_files``, ``padding_exact``, ``auto_batch_seconds``,
  ``max_samples`` (the longest input it takes), ``feature_prefix`` and
  ``fitted_attributes()``.

:class:`LayerPooling` turns it into an engine backend that pools one layer,
the average of all layers, or every layer (for layer-wise probing), over the
valid frames only, so batch padding never enters a clip's vector. S3PRL's
upstreams use it; so can any other layered model (e.g. a Hugging Face encoder).
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

from .._exceptions import ParameterError
from ..utils._sklearn_compat import StrOptions
from ._base import inherit_parameters
from ._engine import masked_mean
from ._neural import NeuralEmbedder

__all__ = ["LAYER_CHOICES", "POOLING_CHOICES", "LayerPooling", "resolve_layer"]

#: the string values of ``layer``: the average of every layer, or all of them
LAYER_CHOICES = ("mean", "all")
#: ``pooling``: the time average, or the average and the standard deviation
POOLING_CHOICES = ("mean", "mean+std")


def resolve_layer(layer: Any, *, n_layers: int, hidden_sizes: list[int], name: str) -> int | str:
    """Check ``layer`` against a loaded model; integers become non-negative.

    Parameters
    ----------
    layer : int or {"mean", "all"}
        As the user gave it (negative indices count from the end).
    n_layers : int
        Hidden states the model returns.
    hidden_sizes : list of int
        Their widths.
    name : str
        The model, for messages.

    Returns
    -------
    int in [0, n_layers) or {"mean", "all"}

    Raises
    ------
    ParameterError
        For a bool, an index out of range, or ``"mean"``/``"all"`` over hidden
        states of different widths.
    """
    if isinstance(layer, bool):  # an Integral to Python, never a layer index
        raise ParameterError(f"layer={layer!r}: pass an integer layer index, 'mean' or 'all'")
    if isinstance(layer, str):
        if len(set(hidden_sizes)) > 1:
            raise ParameterError(
                f"layer={layer!r} needs hidden states of one width; {name}'s are "
                f"{hidden_sizes}: pick one layer"
            )
        return layer
    n = n_layers
    if not -n <= layer < n:
        raise ParameterError(
            f"layer={layer} is out of range: {name} returns {n} hidden states, so layer "
            f"must be an integer in [{-n}, {n - 1}], 'mean' or 'all'"
        )
    return int(layer) % n


class LayerPooling:
    """Engine backend: pool selected hidden states of a layered model.

    Parameters
    ----------
    model : layered model
        See the module docstring.
    layer : int or {"mean", "all"}
        Hidden state to pool (already checked by :func:`resolve_layer`), the
        average of all layers' pooled vectors, or all of them concatenated.
    pooling : {"mean", "mean+std"}
        Masked mean over valid frames, optionally followed by the masked
        (population) standard deviation.

    Attributes
    ----------
    n_features : int
        ``hidden_size * (2 if mean+std) * (n_layers if "all")``.
    hidden_size : int
        Width of one pooled hidden state.
    sampling_rate, min_samples, checkpoint_files, padding_exact, auto_batch_seconds
        The model's (what the engine and the embedder read from a backend).

    Examples
    --------
    A layered model with two hidden states of width 3, one frame per 160 samples:

    >>> import torch
    >>> class Tiny:
    ...     sampling_rate, min_samples, checkpoint_files = 16000, 160, ()
    ...     n_layers, hidden_sizes = 2, [3, 3]
    ...     def hidden_states(self, batch, lengths):
    ...         frames = batch.unfold(1, 160, 160)[..., :3]
    ...         return [frames, 2 * frames], [lengths // 160] * 2
    >>> pool = LayerPooling(Tiny(), layer="all", pooling="mean")
    >>> pool.n_features, pool.feature_names("x")[:4]
    (6, ['layer0_0', 'layer0_1', 'layer0_2', 'layer1_0'])
    >>> pool(torch.ones(2, 480), torch.tensor([480, 320])).shape
    torch.Size([2, 6])
    """

    def __init__(self, model: Any, *, layer: int | str, pooling: str) -> None:
        self.model = model
        self.layer = layer
        self.pooling = pooling
        self.layers = list(range(model.n_layers)) if isinstance(layer, str) else [layer]
        self.hidden_size = int(model.hidden_sizes[self.layers[0]])
        width = self.hidden_size * (2 if pooling == "mean+std" else 1)
        self.n_features = width * (model.n_layers if layer == "all" else 1)
        for attr in ("sampling_rate", "min_samples", "checkpoint_files"):
            setattr(self, attr, getattr(model, attr))
        self.padding_exact = bool(getattr(model, "padding_exact", False))
        for attr in ("auto_batch_seconds", "max_samples", "feature_prefix"):
            setattr(self, attr, getattr(model, attr, None))

    def fitted_attributes(self) -> dict[str, Any]:
        """What a fitted embedder exposes about the model.

        Returns
        -------
        dict of str -> object
            ``n_layers_`` and ``hidden_size_``, and the model's own
            ``fitted_attributes()`` where it has them.

        Examples
        --------
        >>> class Tiny:
        ...     sampling_rate, min_samples, checkpoint_files = 16000, 160, ()
        ...     n_layers, hidden_sizes = 2, [3, 3]
        >>> LayerPooling(Tiny(), layer=-1 % 2, pooling="mean").fitted_attributes()
        {'n_layers_': 2, 'hidden_size_': 3}
        """
        own = getattr(self.model, "fitted_attributes", None)
        return {
            "n_layers_": int(self.model.n_layers),
            "hidden_size_": self.hidden_size,
            **(own() if own is not None else {}),
        }

    def feature_names(self, prefix: str) -> list[str]:
        """The names of the output columns.

        Parameters
        ----------
        prefix : str
            The embedder's feature prefix.

        Returns
        -------
        list of str
            ``<prefix>j`` (then ``<prefix>_stdj`` for ``"mean+std"``, with a
            single underscore whether or not the prefix ends with one), or
            ``layer{i}_{j}`` (``layer{i}_std{j}``) for ``layer="all"``.

        Examples
        --------
        A model with two hidden states of width 2:

        >>> class Tiny:
        ...     sampling_rate, min_samples, checkpoint_files = 16000, 160, ()
        ...     n_layers, hidden_sizes = 2, [2, 2]
        >>> LayerPooling(Tiny(), layer=1, pooling="mean+std").feature_names("wavlm_")
        ['wavlm_0', 'wavlm_1', 'wavlm_std0', 'wavlm_std1']
        >>> LayerPooling(Tiny(), layer="all", pooling="mean+std").feature_names("wavlm_")
        ['layer0_0', 'layer0_1', 'layer0_std0', 'layer0_std1',
         'layer1_0', 'layer1_1', 'layer1_std0', 'layer1_std1']
        """
        stats = ["", "std"] if self.pooling == "mean+std" else [""]
        if self.layer == "all":
            return [
                f"layer{i}_{stat}{j}"
                for i in range(self.model.n_layers)
                for stat in stats
                for j in range(self.hidden_size)
            ]
        prefixes = {"": prefix, "std": f"{prefix.rstrip('_')}_std"}
        return [f"{prefixes[stat]}{j}" for stat in stats for j in range(self.hidden_size)]

    def _pool(self, hidden: Any, valid: Any) -> Any:
        import torch

        mean = masked_mean(hidden, valid)
        if self.pooling == "mean":
            return mean
        variance = masked_mean((hidden - mean[:, None, :]) ** 2, valid)
        return torch.cat([mean, variance.sqrt()], dim=-1)

    def __call__(self, batch: Any, lengths: Any) -> Any:
        """Embed a zero-padded batch.

        Parameters
        ----------
        batch : torch.Tensor of shape (batch, n_samples), float32
        lengths : torch.Tensor of shape (batch,), int64

        Returns
        -------
        torch.Tensor of shape (batch, n_features)
        """
        import torch

        hidden, valid = self.model.hidden_states(batch, lengths)
        pooled = [self._pool(hidden[i], valid[i]) for i in self.layers]
        if self.layer == "mean":
            return torch.stack(pooled).mean(dim=0)
        return torch.cat(pooled, dim=-1)


@inherit_parameters
class _LayeredEmbedder(NeuralEmbedder):
    """A neural embedder over a layered model: which hidden state, and how pooled.

    The family's ``_make_backend`` returns a layered model (see the module
    docstring); :meth:`_view` checks ``layer`` against it and pools it with
    :class:`LayerPooling`. The S3PRL and Hugging Face families derive from it.

    Parameters
    ----------
    layer : int or {"mean", "all"}, default=-1
        Hidden state to pool: an index into the model's hidden states
        (negative from the end; 0 is the transformer's input, *i* the output
        of layer *i*), ``"mean"`` the average of every layer's pooled vector,
        ``"all"`` all of them concatenated (layer-wise probing).
    pooling : {"mean", "mean+std"}, default="mean"
        Masked mean over the clip's valid frames, optionally with the masked
        standard deviation appended.
    """

    _parameter_constraints: dict[str, list[Any]] = {
        **NeuralEmbedder._parameter_constraints,
        "layer": [Integral, StrOptions(set(LAYER_CHOICES))],
        "pooling": [StrOptions(set(POOLING_CHOICES))],
    }

    def __init__(self, *, layer: int | str = -1, pooling: str = "mean", **params: Any) -> None:
        super().__init__(**params)
        self.layer = layer
        self.pooling = pooling

    def _view(self, model: Any) -> LayerPooling:
        layer = resolve_layer(
            self.layer,
            n_layers=model.n_layers,
            hidden_sizes=model.hidden_sizes,
            name=str(getattr(model, "name", type(self).__name__)),
        )
        return LayerPooling(model, layer=layer, pooling=self.pooling)
