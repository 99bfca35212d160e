"""Per-band standardisation of (time x band) sequences, learned in ``fit`` and kept in the network."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["BandScaler", "band_statistics"]

#: the smallest standard deviation a band is divided by: a constant band
#: (silence, a padded clip) is centred, not blown up
MIN_STD = 1e-3

#: samples per block while the statistics are summed (bounds the float64 copy)
_BLOCK = 256


def band_statistics(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each band over samples and time.

    Parameters
    ----------
    X : np.ndarray [shape=(n_samples, n_frames, n_bands)]

    Returns
    -------
    mean, std : np.ndarray [shape=(n_bands,), dtype=float32]
        ``std`` is at least :data:`MIN_STD`.

    Examples
    --------
    >>> X = np.stack([np.full((4, 2), 1.0), np.full((4, 2), 3.0)]).astype(np.float32)
    >>> mean, std = band_statistics(X)
    >>> mean.tolist(), std.tolist()
    ([2.0, 2.0], [1.0, 1.0])
    """
    n_bands = X.shape[-1]
    total = np.zeros(n_bands)
    squares = np.zeros(n_bands)
    for start in range(0, len(X), _BLOCK):  # summed in float64, a block at a time
        block = X[start:start + _BLOCK].reshape(-1, n_bands).astype(np.float64)
        total += block.sum(axis=0)
        squares += np.square(block).sum(axis=0)
    count = max(1, X.shape[0] * X.shape[1])
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - np.square(mean), 0.0))
    return mean.astype(np.float32), np.maximum(std, MIN_STD).astype(np.float32)


class BandScaler(nn.Module):
    """``(X - mean) / std`` per band; the statistics are buffers, saved with the weights.

    Parameters
    ----------
    n_bands : int
        Bands (the last axis of the input).  A fresh scaler is the identity
        (mean 0, std 1) until :meth:`set_statistics`.

    Shapes
    ------
    input and output ``(batch, time, n_bands)``.
    """

    def __init__(self, n_bands: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_bands))
        self.register_buffer("std", torch.ones(n_bands))

    def set_statistics(self, mean, std) -> None:
        """Copy ``mean`` and ``std`` (each of shape ``(n_bands,)``, ``std > 0``) into the buffers."""
        mean = torch.as_tensor(np.asarray(mean, dtype=np.float32))
        std = torch.as_tensor(np.asarray(std, dtype=np.float32))
        if mean.shape != self.mean.shape or std.shape != self.std.shape:
            raise ValueError(f"statistics of shape {tuple(mean.shape)}/{tuple(std.shape)} for a scaler of "
                             f"{self.mean.shape[0]} bands")
        if not (torch.isfinite(mean).all() and torch.isfinite(std).all() and (std > 0).all()):
            raise ValueError("band statistics must be finite, with positive standard deviations")
        with torch.no_grad():
            self.mean.copy_(mean)
            self.std.copy_(std)

    def forward(self, X):
        return (X - self.mean) / self.std
