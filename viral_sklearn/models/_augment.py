"""Train-time augmentation of (time x band) batches: SpecAugment-style masks, time shifts, mixup.

Every draw comes from torch's default CPU generator, which
:meth:`LSTMClassifier.fit` seeds from ``random_state`` inside
``torch.random.fork_rng``: the same seed gives the same augmented batches and
the same model, and the caller's generator is untouched.  Prediction never
augments.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Augmentation"]


@dataclass(frozen=True)
class Augmentation:
    """What to do to each training batch (every option 0 is off).

    Parameters
    ----------
    time_mask : float
        Each clip gets one run of frames, of a width drawn uniformly from 0 to
        ``time_mask`` of its frames, set to ``fill`` (SpecAugment's time mask).
    freq_mask : int
        Each clip gets one run of up to ``freq_mask`` adjacent bands set to
        ``fill`` (SpecAugment's frequency mask).
    time_shift : float
        Each clip is rolled in time (circularly) by up to ``time_shift`` of its
        frames, either way.
    mixup : float
        Mixup's Beta(alpha, alpha) parameter: the batch is mixed with a
        shuffled copy of itself, ``lam * x + (1 - lam) * x[perm]``, with
        ``lam >= 0.5`` drawn once per batch, and the loss mixed the same way.
    fill : torch.Tensor [shape=(n_bands,)] or None
        The value of masked cells in each band (the band's mean, so a mask is
        a zero after standardisation); None: 0.
    """

    time_mask: float = 0.0
    freq_mask: int = 0
    time_shift: float = 0.0
    mixup: float = 0.0
    fill: torch.Tensor | None = None

    @property
    def active(self) -> bool:
        return bool(self.time_mask or self.freq_mask or self.time_shift or self.mixup)

    def __call__(self, X: torch.Tensor, y: torch.Tensor):
        """``(X, y_other, lam)``: the augmented batch, and the mixup partner labels and weight
        (``y_other`` and ``lam`` are None without mixup).  ``X`` is not modified in place."""
        n, frames, bands = X.shape
        device = X.device
        X = X.clone()
        if self.time_shift and frames > 1:
            reach = int(self.time_shift * frames)
            shift = torch.randint(-reach, reach + 1, (n, 1))
            index = (torch.arange(frames)[None, :] - shift) % frames
            X = torch.gather(X, 1, index.to(device)[:, :, None].expand(n, frames, bands))
        fill = torch.zeros(bands) if self.fill is None else self.fill.to("cpu")
        if self.time_mask:
            X = _mask(X, int(self.time_mask * frames), axis=1, fill=fill.to(device, X.dtype)[None, None, :])
        if self.freq_mask:
            X = _mask(X, min(int(self.freq_mask), bands), axis=2, fill=fill.to(device, X.dtype)[None, None, :])
        if not self.mixup:
            return X, None, None
        lam = float(torch.distributions.Beta(self.mixup, self.mixup).sample())
        lam = max(lam, 1.0 - lam)
        perm = torch.randperm(n).to(device)
        return lam * X + (1.0 - lam) * X[perm], y[perm], lam


def _mask(X: torch.Tensor, max_width: int, *, axis: int, fill: torch.Tensor) -> torch.Tensor:
    """One run of ``0..max_width`` cells along ``axis`` (1: time, 2: bands) per clip set to ``fill``."""
    if max_width <= 0:
        return X
    n, size = X.shape[0], X.shape[axis]
    width = torch.randint(0, max_width + 1, (n,))
    start = (torch.rand(n) * (size - width + 1).float()).long()
    pos = torch.arange(size)[None, :]
    hit = ((pos >= start[:, None]) & (pos < (start + width)[:, None])).to(X.device)
    hit = hit[:, :, None] if axis == 1 else hit[:, None, :]
    return torch.where(hit, fill, X)
