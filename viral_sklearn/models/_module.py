"""The PyTorch network: an LSTM over the (time x mel) sequence and a small head."""

from __future__ import annotations

import torch
from torch import nn

from ._readout import ConvFrontEnd, Readout
from ._scaling import BandScaler

__all__ = ["LSTMModule"]


class LSTMModule(nn.Module):
    """LSTM over a (time x features) sequence, a readout, then a small MLP head.

    With its own defaults it is the notebook's architecture, corrected: the
    LSTM starts from a zero state (the notebook drew a random state on every
    forward, so predictions were random), reads the last step, and the head
    outputs logits (the notebook applied a Softmax before
    ``CrossEntropyLoss``, a double softmax).  :class:`LSTMClassifier` sets
    other defaults (standardised input, attention readout ...), chosen by
    ``benchmarks/bench_models.py``.

    Parameters
    ----------
    input_size : int
        Features per time step (mel bands).  ``LSTMClassifier`` sets it from
        the data at fit time.
    hidden_size : int, default=64
    num_layers : int, default=1
    dropout : float, default=0.0
        Dropout on the LSTM's outputs (before the readout) and between LSTM
        layers.
    head_size : int, default=64
        Width of the two hidden layers of the head.
    n_classes : int, default=2
        Set from the data by ``LSTMClassifier``.
    standardize : bool, default=False
        Standardise each band first (``models._scaling.BandScaler``:
        its mean and std are buffers of the network, set by ``LSTMClassifier.fit``
        from the training data and saved with the weights).
    readout : {"last", "mean", "attention"}, default="last"
        How the sequence of states becomes one vector: the last step's state
        (with ``bidirectional``, the forward direction's last and the backward
        direction's first), the mean over time, or attention pooling (a
        learned softmax weighting over time).
    bidirectional : bool, default=False
        Run the LSTM both ways (the readout sees twice ``hidden_size``).
    conv_channels : int, default=0
        With ``conv_channels > 0``, a convolutional front end (a CRNN):
        ``Conv1d(input_size, conv_channels, conv_kernel)`` over time, ReLU, and
        a max-pool over 2 steps before the LSTM.  0: none.
    conv_kernel : int, default=5
        Time steps the front end's convolution spans.
    band_stats : bool, default=False
        Join to the readout's vector each band's mean and standard deviation
        over time of the (standardised) input, the statistics a pooled-mel
        model sees, so the head has them from the first epoch whatever the
        recurrent part has learned (the head then reads
        ``width + 2 * input_size`` features).

    Notes
    -----
    Shapes: input ``(batch, time, input_size)`` float32, output ``(batch, n_classes)`` logits.
    """

    def __init__(self, input_size, hidden_size=64, num_layers=1, dropout=0.0, head_size=64, n_classes=2,
                 standardize=False, readout="last", bidirectional=False, conv_channels=0, conv_kernel=5,
                 band_stats=False):
        super().__init__()
        self.scaler = BandScaler(input_size) if standardize else None
        self.front = ConvFrontEnd(input_size, conv_channels, conv_kernel) if conv_channels else None
        self.lstm = nn.LSTM(
            input_size=conv_channels or input_size, hidden_size=hidden_size, num_layers=num_layers,
            batch_first=True, dropout=dropout if num_layers > 1 else 0.0, bidirectional=bool(bidirectional),
        )
        width = hidden_size * (2 if bidirectional else 1)
        self.dropout = nn.Dropout(dropout)
        self.readout = Readout(width, readout, bidirectional=bool(bidirectional))
        self.band_stats = bool(band_stats)
        self.head = nn.Sequential(
            nn.Linear(width + (2 * input_size if band_stats else 0), head_size),
            nn.LeakyReLU(),
            nn.Linear(head_size, head_size),
            nn.LeakyReLU(),
            nn.Linear(head_size, n_classes),
        )

    def forward(self, X):
        if self.scaler is not None:
            X = self.scaler(X)
        stats = (X.mean(dim=1), X.std(dim=1, correction=0)) if self.band_stats else ()
        if self.front is not None:
            X = self.front(X)
        out, _ = self.lstm(X)  # zero initial state
        summary = self.readout(self.dropout(out))
        if stats:
            summary = torch.cat([summary, *stats], dim=-1)
        return self.head(summary)
