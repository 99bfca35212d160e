"""Scores of a song's chorus estimate against its truth (benchmark helpers, not the library).

The segmentation scores are mir_eval's (``pip install viral-sklearn[bench]``):

* :func:`boundary_f`: ``mir_eval.segment.detection`` (hit rate F of the section
  boundaries within 0.5 s or 3 s; ``trim=True``, so the song's own start and end,
  which every method gets for free, are not counted);
* :func:`pairwise_f`: ``mir_eval.segment.pairwise`` (F of "these two 0.1 s
  frames carry the same label", so labels need only be consistent, not named alike).

The chorus scores follow chorus-from-music-structure (beantowel; its
``data/evalResult`` tables for RWC-Pop):

* the single clip: :func:`clip_in_chorus` (fraction of the clip inside a chorus)
  and :func:`onset_error` (seconds from the clip's start to the nearest chorus start);
* every chorus: :func:`chorus_overlap_f` (F of chorus time: predicted chorus
  time that is chorus, true chorus time that is predicted) and
  :func:`chorus_onset_f` (``mir_eval.onset.f_measure`` of the chorus starts
  within +-3 s, one-to-one).

A method that gives one clip is scored on every-chorus metrics with that clip
as its only predicted chorus.
"""

from __future__ import annotations

import numpy as np

__all__ = ["clip_in_chorus", "onset_error", "chorus_overlap_f", "chorus_onset_f", "boundary_f", "pairwise_f"]


def _f(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _union_length(intervals) -> float:
    total, cursor = 0.0, -np.inf
    for a, b in sorted(intervals):
        a = max(a, cursor)
        if b > a:
            total += b - a
            cursor = b
    return total


def _intersection_length(x, y) -> float:
    """Length of (union of ``x``) intersected with (union of ``y``)."""
    pieces = [(max(a, c), min(b, d)) for a, b in x for c, d in y if min(b, d) > max(a, c)]
    return _union_length(pieces)


def clip_in_chorus(start: float, clip: float, choruses) -> float:
    """Fraction of ``[start, start + clip)`` inside a true chorus.

    >>> clip_in_chorus(10.0, 20.0, [(0.0, 15.0), (25.0, 60.0)])
    0.5
    """
    return _intersection_length([(start, start + clip)], choruses) / clip


def onset_error(start: float, choruses) -> float:
    """Seconds from ``start`` to the nearest true chorus start.

    >>> onset_error(47.0, [(20.0, 40.0), (50.0, 70.0)])
    3.0
    """
    return float(min(abs(start - a) for a, _ in choruses))


def chorus_overlap_f(predicted, choruses) -> float:
    """F of chorus time: precision = predicted time inside a chorus, recall = chorus time predicted.

    >>> round(chorus_overlap_f([(0.0, 10.0)], [(5.0, 25.0)]), 3)  # P 0.5, R 0.25
    0.333
    >>> chorus_overlap_f([], [(5.0, 25.0)])
    0.0
    """
    predicted = [(a, b) for a, b in predicted if b > a]
    if not predicted:
        return 0.0
    both = _intersection_length(predicted, choruses)
    return _f(both / _union_length(predicted), both / _union_length(choruses))


def chorus_onset_f(predicted, choruses, window: float = 3.0) -> float:
    """F of chorus starts matched one-to-one within ``window`` seconds (mir_eval.onset).

    >>> chorus_onset_f([(21.0, 41.0), (90.0, 110.0)], [(20.0, 40.0), (60.0, 80.0), (100.0, 120.0)])
    0.4
    """
    import mir_eval

    ref = np.array(sorted(a for a, _ in choruses))
    est = np.array(sorted(a for a, _ in predicted))
    if est.size == 0:
        return 0.0
    return float(mir_eval.onset.f_measure(ref, est, window=window)[0])


def _intervals_labels(sections, duration: float):
    import mir_eval

    intervals = np.array([[a, b] for _, a, b in sections], float)
    labels = [str(n) for n, _, _ in sections]
    return mir_eval.util.adjust_intervals(intervals, labels, t_min=0.0, t_max=duration)


def boundary_f(reference, estimated, duration: float, window: float) -> float:
    """mir_eval's boundary hit-rate F within ``window`` s; sections are ``(label, start, end)``.

    >>> ref = [("intro", 0, 10), ("verse", 10, 30), ("chorus", 30, 50), ("outro", 50, 60)]
    >>> boundary_f(ref, [("a", 0, 11), ("b", 11, 60)], 60.0, 3.0)  # 1 of 1 found, 1 of 3 true
    0.5
    """
    import mir_eval

    ref, _ = _intervals_labels(reference, duration)
    est, _ = _intervals_labels(estimated, duration)
    return float(mir_eval.segment.detection(ref, est, window=window, trim=True)[2])


def pairwise_f(reference, estimated, duration: float) -> float:
    """mir_eval's pairwise frame-clustering F (0.1 s frames); sections are ``(label, start, end)``.

    >>> ref = [("v", 0, 10), ("c", 10, 20), ("v", 20, 30), ("c", 30, 40)]
    >>> pairwise_f(ref, [("A", 0, 10), ("B", 10, 20), ("A", 20, 30), ("B", 30, 40)], 40.0)
    1.0
    """
    import mir_eval

    ref, ref_labels = _intervals_labels(reference, duration)
    est, est_labels = _intervals_labels(estimated, duration)
    return float(mir_eval.segment.pairwise(ref, ref_labels, est, est_labels, frame_size=0.1)[2])
