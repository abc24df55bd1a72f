"""Pretrained models as data: one frozen :class:`ModelBundle` per published model.

A bundle says everything sertools knows about a pretrained model before loading
it: which backend family runs it, the name the family's hub knows it by, the
file name it has in a local model folder, its rate, width, layers, whether its
batched embeddings are padding-exact, and where it comes from (licence,
citation, URL). The named embedders (:class:`~sertools.features.TitaNetEmbedder`,
:class:`~sertools.features.HubertEmbedder`, ...) are one line each: a family
estimator whose ``bundle`` class attribute names the default model; their
docstrings are generated from the bundle.

Adding a pretrained model of an existing family is one constant here, one
named class in the family module (optional), one registry line and one test.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AMBERNET",
    "BUNDLES",
    "DECOAR",
    "ECAPA_TDNN",
    "HUBERT_BASE",
    "SPEAKERNET",
    "TITANET_LARGE",
    "TITANET_SMALL",
    "WAV2VEC2_BASE",
    "ModelBundle",
    "get_bundle",
]


@dataclass(frozen=True)
class ModelBundle:
    """What sertools knows about one pretrained model, before loading it.

    Parameters
    ----------
    name : str
        The model's name in sertools (also the stem of its local file).
    family : str
        Backend family that runs it: ``"nemo"`` or ``"s3prl"``.
    hub_name : str
        The name the family's hub knows: NeMo's ``from_pretrained`` name, or the
        S3PRL upstream name.
    local_file : str
        File name looked up in a local model folder (``model_dir`` or
        ``$SERTOOLS_MODEL_DIR``) before any download.
    sampling_rate : int
        Input rate in Hz.
    n_features : int or None
        Width of one layer's embedding (None: only known once loaded).
    n_layers : int
        Hidden states the model returns (1 for single-vector models).
    default_layer : int
        The layer the named embedder pools by default.
    padding_exact : bool
        Whether a clip embedded in a zero-padded batch gets its one-at-a-time
        embedding (then ``batch_seconds="auto"`` batches it).
    feature_prefix : str
        Prefix of the output feature names of the named embedder.
    title : str
        One line for docstrings and tables.
    description : str
        The architecture, for the generated docstring.
    licence, citation, url : str
        Where the weights come from and under which terms.

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
    sampling_rate: int
    n_features: int | None
    n_layers: int
    default_layer: int
    padding_exact: bool
    feature_prefix: str
    title: str
    description: str
    licence: str
    citation: str
    url: str


_NGC = "https://catalog.ngc.nvidia.com/orgs/nvidia/teams/nemo/models/"
_S3PRL_CKPT = "https://huggingface.co/s3prl/converted_ckpts/resolve/main/"

SPEAKERNET = ModelBundle(
    name="speakerverification_speakernet",
    family="nemo",
    hub_name="speakerverification_speakernet",
    local_file="speakerverification_speakernet.nemo",
    sampling_rate=16000,
    n_features=256,
    n_layers=1,
    default_layer=-1,
    padding_exact=True,
    feature_prefix="speakernet",
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
    sampling_rate=16000,
    n_features=192,
    n_layers=1,
    default_layer=-1,
    padding_exact=True,
    feature_prefix="titanet",
    title="TitaNet-L speaker embeddings",
    description=(
        "TitaNet: 1D depth-wise separable convolutions with squeeze-and-excitation "
        "(global context) and attentive statistics pooling."
    ),
    licence="CC-BY-4.0",
    citation="Koluguri et al., TitaNet, ICASSP 2022",
    url="https://huggingface.co/nvidia/speakerverification_en_titanet_large",
)

TITANET_SMALL = ModelBundle(
    name="titanet_small",
    family="nemo",
    hub_name="titanet_small",
    local_file="titanet_small.nemo",
    sampling_rate=16000,
    n_features=192,
    n_layers=1,
    default_layer=-1,
    padding_exact=True,
    feature_prefix="titanet_small",
    title="TitaNet-S speaker embeddings",
    description="TitaNet-S: the TitaNet architecture with fewer and narrower blocks.",
    licence="see the NGC model card",
    citation="Koluguri et al., TitaNet, ICASSP 2022",
    url=_NGC + "titanet_small",
)

ECAPA_TDNN = ModelBundle(
    name="ecapa_tdnn",
    family="nemo",
    hub_name="ecapa_tdnn",
    local_file="ecapa_tdnn.nemo",
    sampling_rate=16000,
    n_features=192,
    n_layers=1,
    default_layer=-1,
    padding_exact=True,  # through the adapter's per-clip masking (see nemo.py)
    feature_prefix="ecapa",
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
    sampling_rate=16000,
    n_features=None,
    n_layers=1,
    default_layer=-1,
    padding_exact=True,
    feature_prefix="ambernet",
    title="AmberNet spoken-language embeddings",
    description=(
        "AmberNet (TitaNet-LID): the TitaNet architecture trained to identify 107 "
        "spoken languages instead of speakers."
    ),
    licence="CC-BY-4.0",
    citation="Jia et al., AmberNet, arXiv:2210.15781, 2022",
    url="https://huggingface.co/nvidia/langid_ambernet",
)

WAV2VEC2_BASE = ModelBundle(
    name="wav2vec2",
    family="s3prl",
    hub_name="wav2vec2",
    local_file="wav2vec_small.pt",
    sampling_rate=16000,
    n_features=768,
    n_layers=13,
    default_layer=-1,
    padding_exact=True,  # through the hooks of _exact.py
    feature_prefix="wav2vec2_",
    title="wav2vec 2.0 Base hidden states",
    description=(
        "wav2vec 2.0: a convolutional front end (7 blocks, 320 samples per frame, "
        "group norm in the first) and 12 transformer layers, pretrained with a "
        "contrastive objective on LibriSpeech 960 h."
    ),
    licence="MIT (fairseq)",
    citation="Baevski et al., wav2vec 2.0, NeurIPS 2020",
    url=_S3PRL_CKPT + "wav2vec_small.pt",
)

HUBERT_BASE = ModelBundle(
    name="hubert",
    family="s3prl",
    hub_name="hubert",
    local_file="hubert_base_ls960.pt",
    sampling_rate=16000,
    n_features=768,
    n_layers=13,
    default_layer=-1,
    padding_exact=True,  # through the hooks of _exact.py
    feature_prefix="hubert",
    title="HuBERT Base hidden states",
    description=(
        "HuBERT: wav2vec 2.0's convolutional front end and 12 transformer layers, "
        "pretrained by masked prediction of k-means cluster targets on LibriSpeech 960 h."
    ),
    licence="MIT (fairseq)",
    citation="Hsu et al., HuBERT, IEEE/ACM TASLP 2021",
    url=_S3PRL_CKPT + "hubert_base_ls960.pt",
)

DECOAR = ModelBundle(
    name="decoar",
    family="s3prl",
    hub_name="decoar",
    local_file="checkpoint_decoar.pt",
    sampling_rate=16000,
    n_features=2048,
    n_layers=1,
    default_layer=-1,
    padding_exact=True,
    feature_prefix="decoar",
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

#: every bundle, by name
BUNDLES: dict[str, ModelBundle] = {
    b.name: b
    for b in (
        SPEAKERNET,
        TITANET_LARGE,
        TITANET_SMALL,
        ECAPA_TDNN,
        AMBERNET,
        WAV2VEC2_BASE,
        HUBERT_BASE,
        DECOAR,
    )
}


def get_bundle(name: str, family: str | None = None) -> ModelBundle | None:
    """The bundle called ``name`` (of ``family``, if given), or None."""
    bundle = BUNDLES.get(name)
    if bundle is None or (family is not None and bundle.family != family):
        return None
    return bundle
