"""Pretrained models as data: one frozen :class:`ModelBundle` per published model.

A bundle says everything sertools knows about a pretrained model before loading
it: which backend family runs it, the name the family's hub knows it by, the
file (or folder) name it has in a local model folder, its rate, width, layers,
whether its batched embeddings are padding-exact, where it comes from (licence,
citation, URL), and under which short name and class it is offered.

Everything else derives from the bundles: a bundle with a ``class_name`` is a
short class statement in its family module
(:class:`~sertools.features.TitaNetEmbedder`,
:class:`~sertools.features.HubertEmbedder`, ...; its ``@named_embedder``
decorator, :func:`sertools.features._named.named_embedder`, takes the defaults,
feature prefix and docstring from the bundle), and the registry offers each
bundle's ``feature_set`` to the study, the command line and the documentation
tables. Adding a pretrained model of an existing family is one constant here
(and its line in :data:`BUNDLES`), its class statement, one test and a docs entry.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AMBERNET",
    "BUNDLES",
    "DATA2VEC_AUDIO_BASE",
    "DECOAR",
    "ECAPA_TDNN",
    "HF_HUBERT_BASE",
    "HF_WAV2VEC2_BASE",
    "HUBERT_BASE",
    "SPEAKERNET",
    "TITANET_LARGE",
    "TITANET_SMALL",
    "WAV2VEC2_BASE",
    "WAVLM_BASE",
    "WAVLM_BASE_PLUS",
    "WAVLM_LARGE",
    "WHISPER_BASE",
    "WHISPER_SMALL",
    "ModelBundle",
    "get_bundle",
]


@dataclass(frozen=True, kw_only=True)
class ModelBundle:
    """What sertools knows about one pretrained model, before loading it.

    Parameters
    ----------
    name : str
        The model's name in sertools, as its family estimator's model parameter
        takes it (NeMo's pretrained name, the S3PRL upstream, the Hugging Face id).
    family : str
        Backend family that runs it: ``"nemo"``, ``"s3prl"`` or ``"hf"``.
    hub_name : str
        The name the family's hub knows: NeMo's ``from_pretrained`` name, the
        S3PRL upstream name, or the Hugging Face hub id.
    local_file : str
        File (NeMo, S3PRL) or folder (Hugging Face) name looked up in a local
        model folder (``model_dir`` or ``$SERTOOLS_MODEL_DIR``) before any download.
    feature_prefix : str
        Prefix of the output feature names (``titanet`` -> ``titanet0, ...``).
    title : str
        One line for docstrings and tables.
    description : str
        The architecture, for the generated docstring.
    licence, citation, url : str
        Where the weights come from and under which terms.
    n_features : int or None, default=None
        Width of one layer's embedding (None: only known once loaded).
    sampling_rate : int, default=16000
        Input rate in Hz.
    n_layers : int, default=1
        Hidden states the model returns (1 for single-vector models).
    default_layer : int, default=-1
        The layer the named embedder pools by default.
    padding_exact : bool, default=True
        Whether a clip embedded in a zero-padded batch gets its one-at-a-time
        embedding (then ``batch_seconds="auto"`` batches it).
    feature_set : str or None, default=None
        Short name under which the study and ``sertools study --features``
        offer it (None: not offered by name).
    class_name : str or None, default=None
        Name of its named estimator, a class statement in its family module
        (None: none; the family estimator still takes the bundle or its name).

    Examples
    --------
    >>> from sertools.features import TITANET_LARGE, NeMoEmbedder
    >>> TITANET_LARGE.local_file, TITANET_LARGE.n_features
    ('titanet_large.nemo', 192)
    >>> NeMoEmbedder(model=TITANET_LARGE).model.hub_name
    'titanet_large'
    """

    name: str
    family: str
    hub_name: str
    local_file: str
    feature_prefix: str
    title: str
    description: str
    licence: str
    citation: str
    url: str
    n_features: int | None = None
    sampling_rate: int = 16000
    n_layers: int = 1
    default_layer: int = -1
    padding_exact: bool = True
    feature_set: str | None = None
    class_name: str | None = None


_NGC = "https://catalog.ngc.nvidia.com/orgs/nvidia/teams/nemo/models/"
_S3PRL_CKPT = "https://huggingface.co/s3prl/converted_ckpts/resolve/main/"
_HF = "https://huggingface.co/"

# ---- NeMo speaker/label models (the paper's four) -----------------------------------
SPEAKERNET = ModelBundle(
    name="speakerverification_speakernet",
    family="nemo",
    hub_name="speakerverification_speakernet",
    local_file="speakerverification_speakernet.nemo",
    n_features=256,
    feature_prefix="speakernet",
    feature_set="speakernet",
    class_name="SpeakerNetEmbedder",
    title="SpeakerNet speaker embeddings",
    description=(
        "SpeakerNet: 1D depth-wise separable convolutions (QuartzNet-style Jasper "
        "blocks) and x-vector statistics pooling."
    ),
    licence="see the NGC model card",
    citation="Koluguri et al., SpeakerNet, arXiv:2010.12653, 2020",
    url=_NGC + "speakerverification_speakernet",
)

TITANET_LARGE = ModelBundle(
    name="titanet_large",
    family="nemo",
    hub_name="titanet_large",
    local_file="titanet_large.nemo",
    n_features=192,
    feature_prefix="titanet",
    feature_set="titanet",
    class_name="TitaNetEmbedder",
    title="TitaNet-L speaker embeddings",
    description=(
        "TitaNet: 1D depth-wise separable convolutions with squeeze-and-excitation "
        "(global context) and attentive statistics pooling."
    ),
    licence="CC-BY-4.0",
    citation="Koluguri et al., TitaNet, ICASSP 2022",
    url=_HF + "nvidia/speakerverification_en_titanet_large",
)

ECAPA_TDNN = ModelBundle(
    name="ecapa_tdnn",
    family="nemo",
    hub_name="ecapa_tdnn",
    local_file="ecapa_tdnn.nemo",
    n_features=192,
    padding_exact=True,  # through the adapter's per-clip masking (see nemo.py)
    feature_prefix="ecapa",
    feature_set="ecapa",
    class_name="EcapaTdnnEmbedder",
    title="ECAPA-TDNN speaker embeddings",
    description=(
        "NeMo's ECAPA-TDNN (Desplanques et al., modified): TDNN layers with "
        "group-convolution squeeze-and-excitation blocks of single dilation (no "
        "Res2Net) and attentive statistics pooling."
    ),
    licence="see the NGC model card",
    citation="Desplanques et al., ECAPA-TDNN, Interspeech 2020",
    url=_NGC + "ecapa_tdnn",
)

AMBERNET = ModelBundle(
    name="langid_ambernet",
    family="nemo",
    hub_name="langid_ambernet",
    local_file="langid_ambernet.nemo",
    feature_prefix="ambernet",
    feature_set="ambernet",
    class_name="AmberNetEmbedder",
    title="AmberNet spoken-language embeddings",
    description=(
        "AmberNet (TitaNet-LID): the TitaNet architecture trained to identify 107 "
        "spoken languages instead of speakers."
    ),
    licence="CC-BY-4.0",
    citation="Jia et al., AmberNet, arXiv:2210.15781, 2022",
    url=_HF + "nvidia/langid_ambernet",
)

TITANET_SMALL = ModelBundle(
    name="titanet_small",
    family="nemo",
    hub_name="titanet_small",
    local_file="titanet_small.nemo",
    n_features=192,
    feature_prefix="titanet_small",
    feature_set="titanet-small",
    class_name="TitaNetSmallEmbedder",
    title="TitaNet-S speaker embeddings",
    description="TitaNet-S: the TitaNet architecture with fewer and narrower blocks.",
    licence="see the NGC model card",
    citation="Koluguri et al., TitaNet, ICASSP 2022",
    url=_NGC + "titanet_small",
)

# ---- S3PRL upstreams (the paper's three) ---------------------------------------------
WAV2VEC2_BASE = ModelBundle(
    name="wav2vec2",
    family="s3prl",
    hub_name="wav2vec2",
    local_file="wav2vec_small.pt",
    n_features=768,
    n_layers=13,
    padding_exact=True,  # through the hooks of _exact.py
    feature_prefix="wav2vec2_",
    feature_set="wav2vec2",
    class_name="Wav2Vec2Embedder",
    title="Hidden states of wav2vec 2.0 Base",
    description=(
        "wav2vec 2.0: a convolutional front end (7 blocks, 320 samples per frame, "
        "group norm in the first) and 12 transformer layers, pretrained with a "
        "contrastive objective on LibriSpeech 960 h."
    ),
    licence="MIT (fairseq)",
    citation="Baevski et al., wav2vec 2.0, NeurIPS 2020",
    url=_S3PRL_CKPT + "wav2vec_small.pt",
)

DECOAR = ModelBundle(
    name="decoar",
    family="s3prl",
    hub_name="decoar",
    local_file="checkpoint_decoar.pt",
    n_features=2048,
    feature_prefix="decoar",
    feature_set="decoar",
    class_name="DecoarEmbedder",
    title="DeCoAR hidden states",
    description=(
        "DeCoAR: 80-d kaldi fbank frames (10 ms, per-utterance mean/variance "
        "normalised) through forward and backward 4-layer LSTMs (1024 units each), "
        "whose outputs are concatenated: one 2048-d hidden state."
    ),
    licence="Apache-2.0",
    citation="Ling et al., DeCoAR, ICASSP 2020",
    url=_S3PRL_CKPT + "checkpoint_decoar.pt",
)

HUBERT_BASE = ModelBundle(
    name="hubert",
    family="s3prl",
    hub_name="hubert",
    local_file="hubert_base_ls960.pt",
    n_features=768,
    n_layers=13,
    padding_exact=True,  # through the hooks of _exact.py
    feature_prefix="hubert",
    feature_set="hubert",
    class_name="HubertEmbedder",
    title="HuBERT Base hidden states",
    description=(
        "HuBERT: wav2vec 2.0's convolutional front end and 12 transformer layers, "
        "pretrained by masked prediction of k-means cluster targets on LibriSpeech 960 h."
    ),
    licence="MIT (fairseq)",
    citation="Hsu et al., HuBERT, IEEE/ACM TASLP 2021",
    url=_S3PRL_CKPT + "hubert_base_ls960.pt",
)

# ---- Hugging Face transformers encoders (beyond the paper) ----------------------------
_WAVLM = "Chen et al., WavLM, IEEE JSTSP 2022"

WAVLM_BASE = ModelBundle(
    name="microsoft/wavlm-base",
    family="hf",
    hub_name="microsoft/wavlm-base",
    local_file="wavlm-base",
    n_features=768,
    n_layers=13,
    padding_exact=True,  # group-normed front end, through the hooks of _exact.py
    feature_prefix="wavlm_",
    feature_set="wavlm",
    class_name="WavLMBaseEmbedder",
    title="WavLM Base hidden states",
    description=(
        "WavLM: HuBERT-style masked prediction with denoising and gated relative "
        "position bias, pretrained on LibriSpeech 960 h."
    ),
    licence="see the model card",
    citation=_WAVLM,
    url=_HF + "microsoft/wavlm-base",
)

WAVLM_BASE_PLUS = ModelBundle(
    name="microsoft/wavlm-base-plus",
    family="hf",
    hub_name="microsoft/wavlm-base-plus",
    local_file="wavlm-base-plus",
    n_features=768,
    n_layers=13,
    feature_prefix="wavlm_",
    feature_set="wavlm-base-plus",
    class_name="WavLMBasePlusEmbedder",
    title="WavLM Base+ hidden states",
    description="WavLM Base+: WavLM Base pretrained on 94k hours of speech.",
    licence="see the model card",
    citation=_WAVLM,
    url=_HF + "microsoft/wavlm-base-plus",
)

WAVLM_LARGE = ModelBundle(
    name="microsoft/wavlm-large",
    family="hf",
    hub_name="microsoft/wavlm-large",
    local_file="wavlm-large",
    n_features=1024,
    n_layers=25,
    feature_prefix="wavlm_",
    feature_set="wavlm-large",
    class_name="WavLMLargeEmbedder",
    title="WavLM Large hidden states",
    description="WavLM Large: 24 transformer layers, a layer-normed (masked) front end.",
    licence="see the model card",
    citation=_WAVLM,
    url=_HF + "microsoft/wavlm-large",
)

HF_HUBERT_BASE = ModelBundle(
    name="facebook/hubert-base-ls960",
    family="hf",
    hub_name="facebook/hubert-base-ls960",
    local_file="hubert-base-ls960",
    n_features=768,
    n_layers=13,
    feature_prefix="hubert_",
    feature_set="hf-hubert",
    class_name="HFHubertEmbedder",
    title="HuBERT Base hidden states (transformers)",
    description="HuBERT Base, as converted to transformers (the S3PRL one is HubertEmbedder).",
    licence="Apache-2.0",
    citation="Hsu et al., HuBERT, IEEE/ACM TASLP 2021",
    url=_HF + "facebook/hubert-base-ls960",
)

HF_WAV2VEC2_BASE = ModelBundle(
    name="facebook/wav2vec2-base",
    family="hf",
    hub_name="facebook/wav2vec2-base",
    local_file="wav2vec2-base",
    n_features=768,
    n_layers=13,
    feature_prefix="wav2vec2_",
    feature_set="hf-wav2vec2",
    class_name="HFWav2Vec2Embedder",
    title="Hidden states of wav2vec 2.0 Base (transformers)",
    description="wav2vec 2.0 Base, as converted to transformers (S3PRL's: Wav2Vec2Embedder).",
    licence="Apache-2.0",
    citation="Baevski et al., wav2vec 2.0, NeurIPS 2020",
    url=_HF + "facebook/wav2vec2-base",
)

DATA2VEC_AUDIO_BASE = ModelBundle(
    name="facebook/data2vec-audio-base",
    family="hf",
    hub_name="facebook/data2vec-audio-base",
    local_file="data2vec-audio-base",
    n_features=768,
    n_layers=13,
    # its stacked positional convolutions, through the hooks of _exact.py (docs/hf.md)
    padding_exact=True,
    feature_prefix="data2vec_audio_",
    feature_set="data2vec",
    class_name="Data2VecAudioEmbedder",
    title="Hidden states of data2vec-audio Base",
    description=(
        "data2vec-audio: a layer-normed front end and 12 transformer layers trained "
        "to predict a teacher's averaged layer outputs."
    ),
    licence="Apache-2.0",
    citation="Baevski et al., data2vec, ICML 2022",
    url=_HF + "facebook/data2vec-audio-base",
)

WHISPER_BASE = ModelBundle(
    name="openai/whisper-base",
    family="hf",
    hub_name="openai/whisper-base",
    local_file="whisper-base",
    n_features=512,
    n_layers=7,
    feature_prefix="whisper_",
    feature_set="whisper-base",
    class_name="WhisperBaseEmbedder",
    title="Whisper base encoder states",
    description=(
        "Whisper's encoder (6 layers) over 80-band log-Mel frames of a 30-s window; "
        "only the frames of the clip are pooled."
    ),
    licence="Apache-2.0",
    citation="Radford et al., Whisper, ICML 2023",
    url=_HF + "openai/whisper-base",
)

WHISPER_SMALL = ModelBundle(
    name="openai/whisper-small",
    family="hf",
    hub_name="openai/whisper-small",
    local_file="whisper-small",
    n_features=768,
    n_layers=13,
    feature_prefix="whisper_",
    feature_set="whisper-small",
    class_name="WhisperSmallEmbedder",
    title="Whisper small encoder states",
    description="Whisper small's encoder (12 layers); only the frames of the clip are pooled.",
    licence="Apache-2.0",
    citation="Radford et al., Whisper, ICML 2023",
    url=_HF + "openai/whisper-small",
)

#: every bundle, by name: the paper's models first, in its order
BUNDLES: dict[str, ModelBundle] = {
    b.name: b
    for b in (
        SPEAKERNET,
        TITANET_LARGE,
        ECAPA_TDNN,
        AMBERNET,
        WAV2VEC2_BASE,
        DECOAR,
        HUBERT_BASE,
        WAVLM_BASE,
        WAVLM_BASE_PLUS,
        WAVLM_LARGE,
        HF_HUBERT_BASE,
        HF_WAV2VEC2_BASE,
        DATA2VEC_AUDIO_BASE,
        WHISPER_BASE,
        WHISPER_SMALL,
        TITANET_SMALL,
    )
}


def get_bundle(name: str, family: str | None = None) -> ModelBundle | None:
    """The bundle called ``name`` (of ``family``, if given), or None.

    Parameters
    ----------
    name : str
        A bundle's :attr:`~ModelBundle.name`.
    family : str or None, default=None
        Only a bundle of this backend family.

    Returns
    -------
    ModelBundle or None

    Examples
    --------
    >>> get_bundle("hubert").title
    'HuBERT Base hidden states'
    >>> get_bundle("hubert", family="nemo") is None
    True
    """
    bundle = BUNDLES.get(name)
    if bundle is None or (family is not None and bundle.family != family):
        return None
    return bundle
