"""Feature sets: scikit-learn transformers from raw waveforms to one vector per clip.

Signal features (librosa): :class:`MelSpectrogramEmbedder`, :class:`MFCCEmbedder`.
Neural embedders share one extraction engine (:mod:`sertools.features._engine`)
and import their backend (NeMo, S3PRL) only when fitted.
"""

from ._base import BaseEmbedder
from .nemo import (
    AmberNetEmbedder,
    EcapaTdnnEmbedder,
    NeMoEmbedder,
    SpeakerNetEmbedder,
    TitaNetEmbedder,
)
from .s3prl import DecoarEmbedder, HubertEmbedder, S3PRLEmbedder, Wav2Vec2Embedder
from .signal import MelSpectrogramEmbedder, MFCCEmbedder

__all__ = [
    "AmberNetEmbedder",
    "BaseEmbedder",
    "DecoarEmbedder",
    "EcapaTdnnEmbedder",
    "HubertEmbedder",
    "MFCCEmbedder",
    "MelSpectrogramEmbedder",
    "NeMoEmbedder",
    "S3PRLEmbedder",
    "SpeakerNetEmbedder",
    "TitaNetEmbedder",
    "Wav2Vec2Embedder",
]
