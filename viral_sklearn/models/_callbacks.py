"""The training callbacks of :class:`LSTMClassifier`: which ones a fit gets, and a progress bar."""

from __future__ import annotations

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, EpochScoring, GradientNormClipping, LRScheduler

__all__ = ["EpochProgressBar", "training_callbacks"]


def _silent(*args, **kwargs):
    """EarlyStopping's message sink: quiet (skorch's table shows the epochs)."""


def _valid_accuracy(net, X, y):
    """Validation accuracy on the encoded labels (skorch's scorer sees encoded y)."""
    proba = net.predict_proba(X)
    return float(np.mean(np.argmax(proba, axis=1) == np.asarray(y)))


def training_callbacks(net, skorch_defaults) -> list:
    """``net``'s default callbacks: skorch's (``valid_acc`` on the encoded labels), the
    learning-rate schedule, and those its parameters ask for (clipping, early stopping)."""
    callbacks = []
    for name, cb in skorch_defaults:
        if name == "valid_acc":
            cb = EpochScoring(_valid_accuracy, name="valid_acc", lower_is_better=False)
        callbacks.append((name, cb))
    callbacks.append(
        ("lr_scheduler", LRScheduler(policy=torch.optim.lr_scheduler.StepLR, step_size=10, gamma=0.5))
    )
    if net.gradient_clip is not None:
        callbacks.append(("gradient_clip", GradientNormClipping(gradient_clip_value=net.gradient_clip)))
    if isinstance(net.early_stopping, int) and net.train_split is not None:  # "refit": see LSTMClassifier.fit
        callbacks.append(("early_stopping", EarlyStopping(
            monitor="valid_loss", patience=net.early_stopping, load_best=True, sink=_silent)))
    return callbacks


class EpochProgressBar(Callback):
    """One progress bar per fit, advancing per epoch, showing the training loss.

    skorch's ``ProgressBar`` counts batches; this one counts epochs, which is
    what a long grid search wants.  Add it with
    ``LSTMClassifier(callbacks=[("progress", EpochProgressBar())])``.

    Parameters
    ----------
    leave : bool, default=False
        Keep the finished bar on screen.
    """

    def __init__(self, leave=False):
        self.leave = leave

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        hidden = net.get_params().get("module__hidden_size")
        self.bar_ = tqdm(
            total=net.max_epochs, desc=f"training (hidden={hidden}, lr={net.lr:g})", unit="epoch", leave=self.leave
        )

    def on_epoch_end(self, net, **kwargs):
        self.bar_.update(1)
        self.bar_.set_postfix(loss=f"{net.history[-1, 'train_loss']:.3f}")

    def on_train_end(self, net, **kwargs):
        self.bar_.close()

    def __getstate__(self):  # a saved model carries no terminal state
        state = dict(self.__dict__)
        state.pop("bar_", None)
        return state
