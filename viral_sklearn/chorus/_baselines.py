"""Plain rules that place the clip without looking for repetition.

They are the baselines every chorus method is measured against, and the
extractor's fallback rules reuse them.  Their confidence is NaN: a rule has none.
"""

from __future__ import annotations

import math

import numpy as np

from ._estimate import ChorusEstimate

__all__ = ["find_chorus_loudest", "find_chorus_offset", "loudest_start", "offset_start"]

#: energy is summed over frames of this many samples
_LOUDEST_HOP = 512


def loudest_start(y: np.ndarray, sr: int, clip_length: float) -> float:
    """Start (s) of the ``clip_length`` window of highest energy, on a 512-sample grid.

    Choruses are usually the loudest part of a song.  Ties go to the earliest
    window; a song not longer than the clip gives 0.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.r_[np.full(1000, 0.1), np.full(1000, 0.9), np.full(1000, 0.1)].astype(np.float32)
    >>> loudest_start(y, 1000, 1.0)
    1.024
    """
    total = y.size / sr
    n_frames = y.size // _LOUDEST_HOP
    energy = np.square(y[: n_frames * _LOUDEST_HOP], dtype=np.float64).reshape(n_frames, _LOUDEST_HOP).sum(axis=1)
    width = max(1, int(round(clip_length * sr / _LOUDEST_HOP)))
    if n_frames <= width:
        return 0.0
    csum = np.concatenate([[0.0], np.cumsum(energy)])
    window = csum[width:] - csum[:-width]
    # the grid can put the last window up to half a hop past the end
    return float(max(0.0, min(np.argmax(window) * _LOUDEST_HOP / sr, total - clip_length)))


def offset_start(duration: float, clip_length: float, offset: float | str) -> float:
    """``offset`` seconds in (or the middle, ``"middle"``), kept inside the song.

    Examples
    --------
    >>> offset_start(180.0, 20.0, 30.0), offset_start(180.0, 20.0, "middle"), offset_start(40.0, 20.0, 30.0)
    (30.0, 80.0, 20.0)
    """
    latest = max(0.0, duration - clip_length)
    if offset == "middle":
        return latest / 2
    return float(min(max(float(offset), 0.0), latest))


def find_chorus_loudest(y: np.ndarray, sr: int, clip_length: float) -> ChorusEstimate:
    """The loudest ``clip_length`` seconds (:func:`loudest_start`)."""
    return ChorusEstimate(start=loudest_start(y, sr, clip_length), confidence=math.nan)


def find_chorus_offset(y: np.ndarray, sr: int, clip_length: float, offset: float | str = 30.0) -> ChorusEstimate:
    """A fixed start, or the middle of the song (:func:`offset_start`)."""
    return ChorusEstimate(start=offset_start(y.size / sr, clip_length, offset), confidence=math.nan)
