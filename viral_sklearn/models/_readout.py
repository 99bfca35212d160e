"""How a sequence of LSTM states becomes one vector: the last step, the mean, or attention pooling."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["READOUTS", "Readout", "ConvFrontEnd"]

#: the readouts :class:`Readout` knows
READOUTS = ("last", "mean", "attention")


class Readout(nn.Module):
    """One vector per sequence from its states.

    Parameters
    ----------
    size : int
        Features per state.
    kind : {"last", "mean", "attention"}
        ``"last"``: the state at the last step (the notebook's); ``"mean"``:
        the average over time; ``"attention"``: a weighted average whose
        weights are a softmax over time of a learned score of each state
        (``Linear(size, 1)``), so a short event anywhere in the clip can carry
        the decision.
    bidirectional : bool, default=False
        The states are a bidirectional LSTM's (forward half, then backward
        half): ``"last"`` then takes the forward half at the last step and the
        backward half at the first, each direction's summary of the whole clip.

    Shapes
    ------
    input ``(batch, time, size)``, output ``(batch, size)``.
    """

    def __init__(self, size: int, kind: str = "last", *, bidirectional: bool = False):
        super().__init__()
        if kind not in READOUTS:
            raise ValueError(f"readout must be one of {list(READOUTS)}, got {kind!r}")
        self.kind = kind
        self.bidirectional = bidirectional
        self.score = nn.Linear(size, 1) if kind == "attention" else None

    def forward(self, states):
        if self.kind == "last":
            if self.bidirectional:
                half = states.shape[-1] // 2
                return torch.cat([states[:, -1, :half], states[:, 0, half:]], dim=-1)
            return states[:, -1, :]
        if self.kind == "mean":
            return states.mean(dim=1)
        weights = torch.softmax(self.score(states), dim=1)  # (batch, time, 1)
        return (weights * states).sum(dim=1)


class ConvFrontEnd(nn.Module):
    """A convolution over time before the LSTM (a CRNN): local patterns first, then their order.

    ``Conv1d(n_bands, channels, kernel, padding=kernel // 2)``, ReLU, then a
    max-pool over 2 steps, so the LSTM reads half as many steps.

    Shapes
    ------
    input ``(batch, time, n_bands)``, output ``(batch, time // 2, channels)``.
    """

    def __init__(self, n_bands: int, channels: int, kernel: int = 5):
        super().__init__()
        self.conv = nn.Conv1d(n_bands, channels, kernel, padding=kernel // 2)
        self.pool = nn.MaxPool1d(2, ceil_mode=True)

    def forward(self, X):
        h = torch.relu(self.conv(X.transpose(1, 2)))  # (batch, channels, time)
        return self.pool(h).transpose(1, 2)
