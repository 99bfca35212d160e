"""The structure-aware chorus finder (``ChorusExtractor(method="structure")``).

The chorus is the part of a song that comes back most often, usually louder
than the rest and again near the end.  The method measures exactly that, in
five steps (each a small function below):

1. **Features** (:func:`~viral_sklearn.chorus._features.song_features`): chroma
   and MFCC on steps of about 0.5 s.
2. **Self-similarity** (:func:`self_similarity`): cosine similarity of the
   steps' chroma, maximised over transpositions of -2..+2 semitones (a last
   chorus sung a tone higher still matches the first), averaged with the
   similarity of their timbre (MFCC, standardised over the song); then
   standardised against the song's own typical similarity
   (:func:`standardize_similarity`), so that 1 means "as similar as a copy"
   and 0 "as similar as two random moments of this song".
3. **Repetitions** (:func:`repetition_lines`): in the time-lag plane, where a
   section that repeats ``lag`` seconds later is a horizontal line
   (Goto's RefraiD), the similarity is smoothed along time, kept at lags that
   beat their neighbours, thresholded, and only runs of at least 6 s are kept:
   each run is one pair of occurrences of a repeated section.  A sustained
   sound (similar to itself at every lag up to its length) is not a repetition.
4. **Chorus score** (:func:`chorus_score`): how many *other occurrences* each
   step has (:func:`repetition_counts`: repeats within one clip length of
   each other are one occurrence, and repeats that chain to the step's own
   neighbourhood, a loop inside one section, are that section, not another
   occurrence), each weighted by how close to a copy it is (from 0 at the
   threshold to 1 for a copy: a chorus repeats its lyrics, a verse does not),
   times a loudness factor (louder than the song's median), times a position
   factor (later steps weigh more: songs end on their chorus, and intros are
   rarely choruses; it falls to 0 over the last 5% of the song, the outro).
5. **Placement** (:func:`place_clip`): the ``clip_length`` windows whose total
   score is within 15% of the best form runs (back-to-back choruses make one
   run); the run holding the best window is the chorus, and the clip ends
   where it ends (the first step from the run's last window on where the
   score, averaged over 2.3 s, falls below half of the best window's mean
   step): a repeated block that begins with a lead-in (pre-chorus) ends on its
   chorus.  The start is then moved to the
   strongest onset within 0.5 s, a musical boundary.

A song with no repeated section (no line) has no chorus: ``start`` is
``None`` and :class:`~viral_sklearn.ChorusExtractor` applies its fallback rule.
The confidence is ``1 - exp(-m)``, ``m`` the mean number of other occurrences
of the clip's steps: 0 without repetition, 0.63 for one, 0.86 for two, 0.95
for three.

Cost is a few tens of milliseconds for a 4-minute song; memory is bounded by
analysing at most ``MAX_STEPS`` steps (longer songs use longer steps), i.e. a
few ``MAX_STEPS x MAX_STEPS`` float32 matrices.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from scipy import ndimage

from ._features import SongFeatures

__all__ = ["self_similarity", "standardize_similarity", "repetition_lines", "repetition_counts", "chorus_score",
           "place_clip", "analyse_repetition", "RepetitionAnalysis"]

#: transpositions (semitones, mod 12) under which chroma is compared
KEY_SHIFTS = (0, 1, 2, 10, 11)
#: weight of chroma in the similarity (the rest is timbre)
CHROMA_WEIGHT = 0.5
#: MFCCs compared for timbre: the first ones (the spectral envelope; the
#: higher ones follow the harmonics, which move with the key)
N_TIMBRE_COEFFICIENTS = 8
#: the smoothing and the shortest run below are for clips of REFERENCE_CLIP
#: seconds or longer; shorter clips (short songs) scale them down in proportion
REFERENCE_CLIP = 10.0
#: steps closer than this (seconds) are not compared when standardising
_NEAR_SECONDS = 4.0
#: smoothing of the time-lag similarity along time (seconds)
SMOOTHING_SECONDS = 4.0
#: shortest lag (seconds) at which a repetition counts
MIN_LAG_SECONDS = 5.0
#: shortest repetition (seconds)
MIN_RUN_SECONDS = 6.0
#: standardised similarity a line must exceed
LINE_THRESHOLD = 0.55
#: a line's weight grows linearly from 0 at the threshold to 1 this much above it
WEIGHT_RAMP = 0.3
#: repeats closer than this fraction of the clip belong to one occurrence.  A whole
#: clip (1.0, not 0.5): a chorus built of a phrase played twice (two 4-bar halves,
#: 10-12 s apart) is ONE other occurrence, not two, and a section-long loop of
#: chords (an instrumental break on the chorus's chords) is its own section; with
#: half a clip both were counted twice and a late break outscored the sung choruses
#: (vocal dev split: generated songs 0.757 -> 0.897 of the clip inside a chorus)
GROUP_FRACTION = 1.0
#: loudness factor exp(LOUDNESS_WEIGHT * z), z the step's standardised loudness (clipped to +-3).
#: More helps sung pop, where an intro or a break replays the chorus's music without its
#: voice (0.3: vocal dev and first held-out split 0.825 -> 0.837 of the clip inside a chorus),
#: but from 0.25 on the three near-equal choruses of a synthetic song change places with the
#: codec, and the Ogg copy's clip starts on a pre-chorus (tests/test_chorus_structure.py)
LOUDNESS_WEIGHT = 0.15
#: position factor 1 + POSITION_WEIGHT * (t / duration)
POSITION_WEIGHT = 2.0
#: ... falling to 0 over the song's last OUTRO_FRACTION: songs end on an outro (a fade, the
#: chorus's music without its voice) after their last chorus
OUTRO_FRACTION = 0.05
#: windows whose total is at least _RUN_LEVEL of the best window's hold together in
#: runs (0.85, not 0.9: the dip between back-to-back choruses then splits no run, so
#: every codec of a song gets the same run); the chorus ends where the score falls
#: below _DROP of the best window's mean step
_RUN_LEVEL = 0.85
_DROP = 0.5
#: the score is averaged over this many seconds to find where the chorus ends
END_SMOOTHING_SECONDS = 2.3
#: the start moves to the strongest onset within this many seconds
SNAP_SECONDS = 0.5
#: most steps analysed; longer songs are pooled into longer steps
MAX_STEPS = 1500


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-9)


def self_similarity(features: SongFeatures, *, chroma_weight: float | None = None,
                    key_shifts=None) -> np.ndarray:
    """Similarity of every pair of steps, in ``[0, 1]``.

    ``chroma_weight * max_k cos(chroma_i, roll(chroma_j, k)) + (1 - chroma_weight) *
    (1 + cos(mfcc_i, mfcc_j)) / 2``, ``k`` over ``key_shifts``; MFCCs are
    standardised per coefficient over the song first.  Silent steps have zero
    chroma (similarity 0 to everything).  ``None`` takes the module's
    ``CHROMA_WEIGHT`` and ``KEY_SHIFTS``.

    Returns
    -------
    np.ndarray [shape=(n_steps, n_steps), dtype=float32]
        Symmetric.
    """
    chroma_weight = CHROMA_WEIGHT if chroma_weight is None else float(chroma_weight)
    key_shifts = KEY_SHIFTS if key_shifts is None else tuple(key_shifts)
    chroma = _unit_rows(features.chroma.astype(np.float32))
    mfcc = features.mfcc[:, :N_TIMBRE_COEFFICIENTS].astype(np.float32)
    mfcc = _unit_rows((mfcc - mfcc.mean(axis=0)) / (mfcc.std(axis=0) + 1e-6))
    timbre = mfcc @ mfcc.T
    timbre += 1.0
    timbre *= np.float32((1.0 - chroma_weight) / 2.0)
    best = None
    for k in key_shifts:
        sim = chroma @ np.roll(chroma, k, axis=1).T
        if k:  # a transposition in either direction: symmetric
            np.maximum(sim, sim.T, out=sim)
        best = sim if best is None else np.maximum(best, sim, out=best)
    best *= np.float32(chroma_weight)
    best += timbre
    return best


def standardize_similarity(sim: np.ndarray, near_steps: int) -> np.ndarray:
    """``(sim - m) / (1 - m)``, ``m`` the median similarity of steps at least
    ``near_steps`` apart: 1 for copies, 0 for this song's typical pair.  In place."""
    n = sim.shape[0]
    far = [np.diagonal(sim, offset=d) for d in range(near_steps, n)]
    median = float(np.median(np.concatenate(far))) if far else float(np.median(sim))
    sim -= np.float32(median)
    sim /= np.float32(max(1.0 - median, 1e-6))
    return sim


def _time_lag(sim: np.ndarray) -> np.ndarray:
    """``lag[l, t] = sim[t, t - l]`` for ``t >= l``, 0 elsewhere (float32)."""
    n = sim.shape[0]
    lag = np.zeros((n, n), dtype=np.float32)
    for ell in range(n):
        lag[ell, ell:] = np.diagonal(sim, offset=-ell)
    return lag


def _moving_mean_rows(lag: np.ndarray, width: int) -> np.ndarray:
    """Centred moving mean along time (axis 1) over ``width`` steps of a
    time-lag matrix, over its valid part ``t >= lag`` only (fewer steps at the
    edges); ``-inf`` outside it."""
    n = lag.shape[0]
    sums = ndimage.uniform_filter1d(lag, width, axis=1, mode="constant", origin=-(width % 2 == 0))
    # uniform_filter1d's window for output t: [t - width // 2, t - width // 2 + width)
    t = np.arange(n, dtype=np.int32)
    lo = t - width // 2
    hi = np.minimum(lo + width, n)
    sums *= np.float32(width)
    # row ``l`` is valid from t = l on: a window holds min(hi, n) - max(lo, l) valid steps
    count = np.maximum(lo[None, :], t[:, None])
    np.subtract(hi[None, :], count, out=count)
    np.maximum(count, 1, out=count)
    sums /= count
    del count
    sums[np.tri(n, k=-1, dtype=bool)] = -np.inf  # t < l
    return sums


def repetition_lines(sim: np.ndarray, step: float, scale: float = 1.0) -> np.ndarray:
    """Weighted repetition lines in the time-lag plane.

    Parameters
    ----------
    sim : np.ndarray [shape=(n, n)]
        Standardised self-similarity (:func:`standardize_similarity`).
    step : float
        Seconds per step.
    scale : float, default=1.0
        Factor on the smoothing and the shortest run.

    Returns
    -------
    np.ndarray [shape=(n, n), dtype=float32]
        ``w[lag, t]``: the weight, in ``(0, 1]``, of the repetition of step
        ``t`` ``lag`` steps earlier, 0 where there is none.
    """
    n = sim.shape[0]
    smooth = _moving_mean_rows(_time_lag(sim), max(1, int(round(scale * SMOOTHING_SECONDS / step))))
    # keep a lag only where it beats the lags up to two away (one line per repetition)
    padded = np.pad(smooth, ((2, 2), (0, 0)), constant_values=-np.inf)
    peak = smooth > np.float32(LINE_THRESHOLD)
    for d in (-2, -1, 1, 2):
        peak &= smooth >= padded[2 + d : 2 + d + n]
    peak[: max(1, int(round(MIN_LAG_SECONDS / step)))] = False
    # a sustained sound (a drone, a held chord, a fade) is similar to itself at
    # every lag up to its length: not a repetition.  Drop lines at lags the
    # step's similarity never dipped below the threshold on the way to.
    sustained = np.logical_and.accumulate(smooth[1:] > np.float32(LINE_THRESHOLD), axis=0).sum(axis=0)
    peak &= np.arange(n)[:, None] > sustained[None, :] + 2
    # runs along time, one-step dips bridged, at least MIN_RUN_SECONDS long
    peak[:, 1:-1] |= peak[:, :-2] & peak[:, 2:]
    labels, n_runs = ndimage.label(peak, structure=[[0, 0, 0], [1, 1, 1], [0, 0, 0]])
    if n_runs:
        lengths = np.bincount(labels.ravel(), minlength=n_runs + 1)
        keep = lengths >= max(2, int(round(scale * MIN_RUN_SECONDS / step)))
        keep[0] = False
        peak = keep[labels]
    else:
        peak[:] = False
    weights = np.zeros((n, n), dtype=np.float32)
    # the weight rises from 0 at the threshold (a line that barely passes it
    # counts for little, so codec noise cannot flip a count) to 1 for copies
    weights[peak] = np.minimum((smooth[peak] - np.float32(LINE_THRESHOLD)) / np.float32(WEIGHT_RAMP), 1.0)
    return weights


def pair_matrix(weights: np.ndarray) -> np.ndarray:
    """``m[t, u]``: the weight of the line pairing steps ``t`` and ``u`` (symmetric)."""
    n = weights.shape[0]
    pairs = np.zeros((n, n), dtype=np.float32)
    for ell in np.flatnonzero(weights.any(axis=1)):
        rows = np.arange(ell, n)
        pairs[rows, rows - ell] = weights[ell, ell:]
    np.maximum(pairs, pairs.T, out=pairs)
    return pairs


def repetition_counts(weights: np.ndarray, group_steps: int = 0, *, paired: bool = False) -> np.ndarray:
    """Weighted number of other occurrences of each step.

    The steps ``u`` a step ``t`` is paired with by lines (as the later or the
    earlier copy) are grouped, gaps of at most ``group_steps`` closing a group:
    a group is one other occurrence, weighted by its best line.  A section
    built of a short loop pairs each step with many nearby steps of the same
    section: that group, the one reaching within ``group_steps`` of ``t``, is
    the step's own section and is not counted.  ``group_steps=0`` counts every
    line.  ``paired=True``: ``weights`` is already the symmetric pair matrix
    (``pair_matrix(repetition_lines(...))``).

    Examples
    --------
    >>> import numpy as np
    >>> pairs = np.zeros((30, 30), dtype=np.float32)
    >>> steps = np.arange(5)  # steps 0-4 come back at 20-24
    >>> pairs[steps, steps + 20] = pairs[steps + 20, steps] = 0.5
    >>> repetition_counts(pairs, 2, paired=True)[[0, 10, 22]].tolist()
    [0.5, 0.0, 0.5]
    """
    pairs = weights if paired else pair_matrix(weights)
    n = pairs.shape[0]
    if group_steps <= 0:
        return pairs.sum(axis=1, dtype=np.float64)
    t, u = np.nonzero(pairs)  # row by row, u rising within a row
    if not t.size:
        return np.zeros(n)
    # a group starts at each row's first pair and after each gap of more than group_steps
    opens = np.ones(t.size, dtype=bool)
    opens[1:] = (t[1:] != t[:-1]) | (np.diff(u) > group_steps)
    starts = np.flatnonzero(opens)
    ends = np.append(starts[1:], t.size) - 1
    best = np.maximum.reduceat(pairs[t, u], starts)
    row = t[starts]
    other = (u[ends] < row - group_steps) | (u[starts] > row + group_steps)
    # (bincount of no rows at all gives int64)
    return np.bincount(row[other], weights=best[other], minlength=n).astype(np.float64, copy=False)


def chorus_score(counts: np.ndarray, loudness: np.ndarray) -> np.ndarray:
    """``counts * exp(LOUDNESS_WEIGHT * z) * (1 + POSITION_WEIGHT * t / n) * outro(t)``,
    ``z`` the loudness standardised over the song (median, std), clipped to +-3, and
    ``outro`` falling linearly from 1 to 0 over the last ``OUTRO_FRACTION`` of the steps.

    Examples
    --------
    >>> import numpy as np
    >>> score = chorus_score(np.ones(100), np.zeros(100))  # same count, same loudness
    >>> float(score[0]), round(float(score[50]), 2), float(score[-1]) < float(score[90])
    (1.0, 2.0, True)
    """
    n = counts.shape[0]
    loud = loudness.astype(np.float64)
    z = np.clip((loud - np.median(loud)) / (loud.std() + 1e-6), -3.0, 3.0)
    t = np.arange(n)
    outro = np.clip((n - t) / max(OUTRO_FRACTION * n, 1.0), 0.0, 1.0)
    return counts * np.exp(LOUDNESS_WEIGHT * z) * (1.0 + POSITION_WEIGHT * t / n) * outro


def place_clip(score: np.ndarray, width: int, smooth: int = 1) -> int | None:
    """First step of the clip, from each step's chorus score.

    The windows of ``width`` steps whose total is within ``1 - _RUN_LEVEL`` of
    the best form runs (back-to-back choruses make one run); the run holding
    the best window is the chorus.  The clip ends where that chorus ends: the
    first step from the run's last window on where the score, averaged over
    ``smooth`` steps, falls below ``_DROP`` of the best window's mean step.  A
    repeated block that begins with a lead-in (a pre-chorus) thus gives the
    clip its end, the chorus.  ``None`` when every score is 0.
    """
    n = score.shape[0]
    width = max(1, min(width, n))
    totals = np.convolve(score, np.ones(width), mode="valid")
    top = int(np.argmax(totals)) if totals.size else 0
    if not totals.size or totals[top] <= 0.0:
        return None
    labels, _ = ndimage.label(totals >= _RUN_LEVEL * totals[top])
    starts = np.flatnonzero(labels == labels[top])
    r0, r1 = int(starts[0]), int(starts[-1])
    level = _DROP * totals[top] / width
    smoothed = np.convolve(score, np.ones(smooth) / smooth, mode="same") if smooth > 1 else score
    below = np.flatnonzero(smoothed[r1:] < level)
    end = r1 + int(below[0]) if below.size else n
    return int(min(max(end - width, r0), r1))


def snap_to_onset(start: float, features: SongFeatures) -> float:
    onset = features.onset
    lo = max(0, int(np.floor((start - SNAP_SECONDS) / features.hop)))
    hi = min(onset.size, int(np.ceil((start + SNAP_SECONDS) / features.hop)) + 1)
    if hi <= lo:
        return start
    return (lo + int(np.argmax(onset[lo:hi]))) * features.hop


def _pool_steps(features: SongFeatures, factor: int) -> SongFeatures:
    """Features on steps ``factor`` times longer (for very long songs)."""
    n = features.n_steps // factor

    def pool(a):
        return a[: n * factor].reshape(n, factor, *a.shape[1:]).mean(axis=1).astype(np.float32)

    return dataclasses.replace(
        features, chroma=pool(features.chroma), mfcc=pool(features.mfcc), loudness=pool(features.loudness),
        brightness=pool(features.brightness), step=features.step * factor,
    )


@dataclasses.dataclass(frozen=True, eq=False)
class RepetitionAnalysis:
    """What the steps above find in one song (the input of the section analysis).

    Attributes
    ----------
    features : SongFeatures
        The features analysed (pooled into longer steps for very long songs).
    similarity : np.ndarray [shape=(n, n), dtype=float32]
        Standardised self-similarity (:func:`standardize_similarity`).
    pairs : np.ndarray [shape=(n, n), dtype=float32]
        Weight of the repetition line pairing two steps (0: none), symmetric.
    counts : np.ndarray [shape=(n,)]
        Weighted number of other occurrences of each step (:func:`repetition_counts`).
    score : np.ndarray [shape=(n,)]
        Chorus score of each step (:func:`chorus_score`).
    first : int or None
        First step of the clip (:func:`place_clip`), ``None`` when nothing repeats.
    width : int
        Steps in the clip.
    """

    features: SongFeatures
    similarity: np.ndarray
    pairs: np.ndarray
    counts: np.ndarray
    score: np.ndarray
    first: int | None
    width: int


def analyse_repetition(features: SongFeatures, clip_length: float) -> RepetitionAnalysis:
    """Steps 2-5 of the module notes on a song's features."""
    if features.n_steps > MAX_STEPS:
        features = _pool_steps(features, -(-features.n_steps // MAX_STEPS))
    step = features.step
    scale = min(1.0, clip_length / REFERENCE_CLIP)
    sim = standardize_similarity(self_similarity(features), max(2, int(round(scale * _NEAR_SECONDS / step))))
    weights = repetition_lines(sim, step, scale)
    pairs = pair_matrix(weights)
    del weights
    counts = repetition_counts(pairs, int(round(GROUP_FRACTION * clip_length / step)), paired=True)
    score = chorus_score(counts, features.loudness)
    width = int(round(clip_length / step))
    first = place_clip(score, width, max(1, int(round(END_SMOOTHING_SECONDS / step))))
    return RepetitionAnalysis(features=features, similarity=sim, pairs=pairs, counts=counts, score=score,
                              first=first, width=max(1, min(width, counts.shape[0])))


def clip_confidence(counts: np.ndarray, first: int, width: int) -> float:
    """``1 - exp(-m)``, ``m`` the mean number of other occurrences of the clip's steps."""
    return float(1.0 - np.exp(-counts[first : first + width].mean()))


def analyse_structure(features: SongFeatures, clip_length: float) -> tuple[float | None, float, np.ndarray]:
    """``(start, confidence, per-step chorus score)`` from a song's features, without
    the section analysis of :func:`~viral_sklearn.chorus.analyze_structure` (the
    clip's start snapped to an onset only)."""
    rep = analyse_repetition(features, clip_length)
    if rep.first is None:
        return None, 0.0, rep.score
    start = float(min(max(snap_to_onset(rep.first * rep.features.step, rep.features), 0.0),
                      max(rep.features.duration - clip_length, 0.0)))
    return start, clip_confidence(rep.counts, rep.first, rep.width), rep.score


@functools.lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()
