"""Feature sets: scikit-learn transformers from raw waveforms to one vector per clip.

Signal features (librosa): :class:`MelSpectrogramEmbedder`, :class:`MFCCEmbedder`.
Neural embedders share one extraction engine (:mod:`sertools.features._engine`)
and import their backend (NeMo, S3PRL) only when fitted.
"""

from ._base import BaseEmbedder
from .signal import MelSpectrogramEmbedder, MFCCEmbedder

__all__ = ["BaseEmbedder", "MFCCEmbedder", "MelSpectrogramEmbedder"]
