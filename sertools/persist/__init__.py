"""From a study to a model you can use: train one pipeline, save it safely, predict.

- :func:`train_model` fits one pipeline — a feature set of the registry
  (:func:`sertools.features.get_feature_set`) followed by a named classifier
  (``svm``, ``svm-scaled``, ``dnn``) — on a whole corpus, and can save it.
- :func:`save_model` / :func:`load_model` persist a fitted pipeline with
  `skops <https://skops.readthedocs.io>`_: no pickle on load, only the types of
  :func:`trusted_types` (and those passed as ``trusted=``) are ever built, a
  neural embedder whose checkpoint differs from the fitted one is refused, and
  the DNN's weights travel as plain arrays. The file carries a model card
  (:func:`read_card`), also written as Markdown beside it.
- :func:`predict_files` labels clips (one row per file, every class
  probability, an error row for an unreadable file); :func:`predict_timeline`
  slides a window over a long recording and :func:`plot_timeline` draws it.

The same steps from the command line: ``sertools train`` and ``sertools predict``
(see ``docs/persist.md``).
"""

from __future__ import annotations

from ._card import card_markdown, make_card
from ._io import load_model, read_card, save_model, trusted_types
from ._predict import audio_files, plot_timeline, predict_files, predict_timeline
from ._train import train_model

__all__ = [
    "audio_files",
    "card_markdown",
    "load_model",
    "make_card",
    "plot_timeline",
    "predict_files",
    "predict_timeline",
    "read_card",
    "save_model",
    "train_model",
    "trusted_types",
]
