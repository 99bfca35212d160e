"""The sequence model: the PyTorch network, its skorch classifier, and the sanity check.

* :class:`LSTMModule`: LSTM over ``(batch, time, mel)`` and a small head (logits).
* :class:`LSTMClassifier`: the skorch classifier around it (labels of any type,
  ``class_weight``, seeded, ``device="auto"``); :class:`EpochProgressBar`.
* :func:`overfit_one_batch`: can the model fit 16 songs?  (:class:`OverfitReport`)
"""

from ._classifier import EpochProgressBar, LSTMClassifier
from ._diagnostics import OverfitReport, overfit_one_batch
from ._module import LSTMModule

__all__ = ["EpochProgressBar", "LSTMClassifier", "LSTMModule", "OverfitReport", "overfit_one_batch"]
