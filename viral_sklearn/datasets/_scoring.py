"""score_chorus_detection: detected chorus windows against the true occurrences."""

from __future__ import annotations

import numpy as np

__all__ = ["score_chorus_detection"]


def _window(item, clip_length, index):
    """(start, end) of a detected window, or None when nothing was detected."""
    if item is None:
        return None
    if isinstance(item, np.ndarray) and item.ndim == 0:
        item = item.item()
    if isinstance(item, (tuple, list, np.ndarray)):
        if len(item) != 2:
            raise ValueError(f"detected[{index}]: expected a start or a (start, end) pair, got {item!r}")
        start, end = float(item[0]), float(item[1])
        if np.isnan(start):
            return None
    else:
        start = float(item)
        if np.isnan(start):
            return None
        if clip_length is None:
            raise ValueError(
                "detected gives chorus starts only: pass clip_length= (seconds) so that the "
                "window, and its overlap with the true choruses, is known"
            )
        end = start + clip_length
    if not (np.isfinite(start) and np.isfinite(end)) or start < 0 or end <= start:
        raise ValueError(f"detected[{index}]: expected 0 <= start < end, got ({start}, {end})")
    return start, end


def _covered(start: float, end: float, intervals) -> float:
    """Seconds of [start, end) covered by the union of ``intervals``."""
    total, cursor = 0.0, start
    for a, b in sorted(intervals):
        a, b = max(a, cursor), min(b, end)
        if b > a:
            total += b - a
            cursor = b
    return total


def score_chorus_detection(detected, truth_chorus_times, *, clip_length: float | None = None,
                           tolerance: float = 0.5) -> dict:
    """Score detected chorus windows against the true chorus occurrences.

    Parameters
    ----------
    detected : sequence, one item per song
        Each a detected window ``(start, end)`` in seconds, or its start alone
        (then ``clip_length`` gives its length), or ``None`` / NaN when nothing
        was detected (a miss with no overlap).
    truth_chorus_times : sequence, one item per song
        Each a list of ``(start, end)`` seconds of every true chorus occurrence,
        e.g. ``make_songs(...).truth["chorus_times"]``.
    clip_length : float or None, default=None
        Window length for bare starts; required when ``detected`` has any.
    tolerance : float, default=0.5
        A start up to ``tolerance`` seconds *before* a true chorus still counts as
        a hit (chroma frames last ~0.2 s).  A start must lie before the
        occurrence's end: there is no tolerance after.  pychorus-style detectors
        smooth over 2.5 s and start early on short choruses (on
        :func:`make_songs` corpora: 0.7 s early at the median, up to about 2 s),
        so ``tolerance=2.0`` counts what they find; ``mean_overlap`` needs no
        tolerance.

    Returns
    -------
    dict
        ``hit_rate`` (fraction of songs whose detected start lies in
        ``[start - tolerance, end)`` of some true occurrence), ``mean_overlap``
        (mean over songs of the fraction of the detected window covered by true
        chorus time; 0 for songs without a detection), ``n_songs``, and per song:
        ``hits`` (bool array), ``overlaps`` (float array), ``start_errors``
        (detected start minus the nearest true chorus start, NaN without a
        detection or a true chorus).
    """
    if hasattr(detected, "tolist") and not isinstance(detected, (list, tuple)):
        detected = detected.tolist()
    if hasattr(truth_chorus_times, "tolist") and not isinstance(truth_chorus_times, (list, tuple)):
        truth_chorus_times = truth_chorus_times.tolist()
    if isinstance(detected, (str, bytes)) or not isinstance(detected, (list, tuple)):
        raise TypeError(f"detected must be a sequence with one item per song, got {type(detected).__name__}")
    if not isinstance(truth_chorus_times, (list, tuple)):
        raise TypeError(
            f"truth_chorus_times must be a sequence with one list of (start, end) per song, "
            f"got {type(truth_chorus_times).__name__}"
        )
    if len(detected) != len(truth_chorus_times):
        raise ValueError(
            f"detected has {len(detected)} songs but truth_chorus_times has {len(truth_chorus_times)}"
        )
    if len(detected) == 0:
        raise ValueError("no songs to score")
    if clip_length is not None and not (np.isfinite(clip_length) and clip_length > 0):
        raise ValueError(f"clip_length must be a positive number of seconds, got {clip_length!r}")
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance must be a non-negative number of seconds, got {tolerance!r}")

    n = len(detected)
    hits = np.zeros(n, dtype=bool)
    overlaps = np.zeros(n, dtype=float)
    errors = np.full(n, np.nan)
    for i, (item, occ) in enumerate(zip(detected, truth_chorus_times)):
        intervals = []
        for pair in occ:
            if len(pair) != 2:
                raise ValueError(f"truth_chorus_times[{i}]: expected (start, end) pairs, got {pair!r}")
            a, b = float(pair[0]), float(pair[1])
            if not (np.isfinite(a) and np.isfinite(b)) or b <= a:
                raise ValueError(f"truth_chorus_times[{i}]: expected start < end, got ({a}, {b})")
            intervals.append((a, b))
        win = _window(item, clip_length, i)
        if win is None:
            continue
        s, e = win
        hits[i] = any(a - tolerance <= s < b for a, b in intervals)
        overlaps[i] = _covered(s, e, intervals) / (e - s)
        if intervals:
            starts = np.array([a for a, _ in intervals])
            errors[i] = s - starts[np.argmin(np.abs(starts - s))]
    return {
        "hit_rate": float(hits.mean()),
        "mean_overlap": float(overlaps.mean()),
        "n_songs": n,
        "hits": hits,
        "overlaps": overlaps,
        "start_errors": errors,
    }
