"""The sequence model: the PyTorch network, its skorch classifier, and the sanity check.

* :class:`LSTMModule`: LSTM over ``(batch, time, mel)`` and a small head (logits).
* :class:`LSTMClassifier`: the skorch classifier around it (labels of any type,
  ``class_weight``, seeded, ``device="auto"``); :class:`EpochProgressBar`;
  :data:`NOTEBOOK_PARAMS`, the notebook's network and training as parameters.
* :func:`overfit_one_batch`: can the model fit 16 songs?  (:class:`OverfitReport`)
"""

from ._callbacks import EpochProgressBar
from ._classifier import NOTEBOOK_PARAMS, LSTMClassifier
from ._diagnostics import OverfitReport, overfit_one_batch
from ._module import LSTMModule

__all__ = ["NOTEBOOK_PARAMS", "EpochProgressBar", "LSTMClassifier", "LSTMModule", "OverfitReport", "overfit_one_batch"]
