"""The PyTorch network: an LSTM over the (time x mel) sequence and a small head."""

from __future__ import annotations

from torch import nn

__all__ = ["LSTMModule"]


class LSTMModule(nn.Module):
    """LSTM over a (time x features) sequence, then a small MLP head on the last step.

    The notebook's architecture, corrected: the LSTM starts from a zero state
    (the notebook drew a random state on every forward, so predictions were
    random) and the head outputs logits (the notebook applied a Softmax before
    ``CrossEntropyLoss``, a double softmax).

    Parameters
    ----------
    input_size : int
        Features per time step (mel bands).  ``LSTMClassifier`` sets it from
        the data at fit time.
    hidden_size : int, default=64
    num_layers : int, default=1
    dropout : float, default=0.0
        Dropout between LSTM layers (needs ``num_layers > 1``).
    head_size : int, default=64
        Width of the two hidden layers of the head.
    n_classes : int, default=2
        Set from the data by ``LSTMClassifier``.

    Shapes
    ------
    input ``(batch, time, input_size)`` float32, output ``(batch, n_classes)`` logits.
    """

    def __init__(self, input_size, hidden_size=64, num_layers=1, dropout=0.0, head_size=64, n_classes=2):
        super().__init__()
        self.lstm = nn.LSTM(
            input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
            batch_first=True, dropout=dropout if num_layers > 1 else 0.0,
        )
        self.head = nn.Sequential(
            nn.Linear(hidden_size, head_size),
            nn.LeakyReLU(),
            nn.Linear(head_size, head_size),
            nn.LeakyReLU(),
            nn.Linear(head_size, n_classes),
        )

    def forward(self, X):
        out, _ = self.lstm(X)  # zero initial state
        return self.head(out[:, -1, :])
