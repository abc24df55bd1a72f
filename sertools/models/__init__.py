"""The paper's DNN for time-pooled speech embeddings, as classifier and regressor.

:class:`DNNClassifier` is the paper's four-layer feed-forward network (PyTorch,
trained by a lean loop) with the scikit-learn classifier API, and
:class:`DNNRegressor` the same network as a regressor (MSE or CCC loss, several
targets at once); :class:`PaperMLP` is the bare ``torch.nn.Module``.
:func:`fit_folds` trains the networks of many folds (and seeds) together, each
as it would be trained alone. The paper's SVM is plain
``sklearn.svm.SVC(C=10, gamma=1e-3)``.
"""

from __future__ import annotations

from .dnn import DNNClassifier, DNNRegressor, PaperMLP, fit_folds, paper_widths

__all__ = ["DNNClassifier", "DNNRegressor", "PaperMLP", "fit_folds", "paper_widths"]
