"""The notebook's sanity check: can the model overfit one small batch?"""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

__all__ = ["OverfitReport", "overfit_one_batch"]


@dataclasses.dataclass(frozen=True)
class OverfitReport:
    """Outcome of :func:`overfit_one_batch`.

    Attributes
    ----------
    passed : bool
        Whether training accuracy on the batch reached ``target_accuracy``.
    accuracy : float
        Final training accuracy on the batch.
    losses : list of float
        Training loss after each epoch.
    epochs : int
        Epochs run (stops early once the target is reached).
    n_samples : int
        Size of the batch.
    """

    passed: bool
    accuracy: float
    losses: list
    epochs: int
    n_samples: int

    def __str__(self) -> str:
        verdict = "can overfit" if self.passed else "could NOT overfit"
        first = self.losses[0] if self.losses else float("nan")
        last = self.losses[-1] if self.losses else float("nan")
        return (
            f"model {verdict} one batch of {self.n_samples}: accuracy {self.accuracy:.2f} after "
            f"{self.epochs} epochs, loss {first:.3f} -> {last:.3f}"
        )


def overfit_one_batch(
    estimator, X, y, *, batch_size: int = 16, max_epochs: int = 50, target_accuracy: float = 1.0, random_state=0
) -> OverfitReport:
    """Train a copy of the classifier on one small batch until it fits it.

    The notebook's first experiment: a model (and a feature pipeline) that
    cannot overfit 16 songs has a bug, and a long fit would be wasted.  Run
    it before the long fit.

    Parameters
    ----------
    estimator : LSTMClassifier or Pipeline ending in one
        Not modified: a clone is trained.  With a Pipeline, its transformers
        turn the songs into features first (only the batch's songs).
    X : songs (for a Pipeline) or array [shape=(n_samples, n_frames, n_features)]
    y : array-like [shape=(n_samples,)]
    batch_size : int, default=16
        The first ``batch_size`` samples, taken stratified when possible.
    max_epochs : int, default=50
    target_accuracy : float, default=1.0
    random_state : int, default=0

    Returns
    -------
    OverfitReport
    """
    y = np.asarray(y)
    n = min(batch_size, len(y))
    rng = np.random.RandomState(random_state)
    # a batch with every class when possible: round-robin over classes
    by_class = [rng.permutation(np.flatnonzero(y == c)).tolist() for c in np.unique(y)]
    idx = []
    while len(idx) < n:
        for members in by_class:
            if members and len(idx) < n:
                idx.append(members.pop())
    idx = np.array(sorted(idx))
    if isinstance(estimator, Pipeline):
        features = estimator[:-1]
        Xb = features.fit_transform([X[i] for i in idx], y[idx])
        clf = estimator[-1]
    else:
        Xb = np.asarray(X)[idx]
        clf = estimator
    model = clone(clf).set_params(
        train_split=None, batch_size=n, max_epochs=1, warm_start=True, random_state=random_state, verbose=0
    )
    losses, accuracy, epochs = [], 0.0, 0
    model.fit(Xb, y[idx])
    for epochs in range(1, max_epochs + 1):
        if epochs > 1:
            model.partial_fit(Xb, y[idx])
        losses.append(float(model.history[-1, "train_loss"]))
        accuracy = float(np.mean(model.predict(Xb) == y[idx]))
        if accuracy >= target_accuracy:
            break
    return OverfitReport(accuracy >= target_accuracy, accuracy, losses, epochs, n)
