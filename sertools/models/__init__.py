"""Classifiers for time-pooled speech embeddings.

:class:`DNNClassifier` is the paper's four-layer feed-forward network (PyTorch via
skorch) with the scikit-learn classifier API; :class:`PaperMLP` is its bare
``torch.nn.Module``.  The paper's SVM is plain ``sklearn.svm.SVC(C=10, gamma=1e-3)``.
"""

from __future__ import annotations

from .dnn import DNNClassifier, PaperMLP, paper_widths

__all__ = ["DNNClassifier", "PaperMLP", "paper_widths"]
