"""The pychorus chorus finder, re-implemented with vectorized numpy/scipy.

Steps 1-2 below live in :mod:`._pychorus_matrices`, pychorus's chroma in
:mod:`._chroma`; this module holds steps 3-5 and the method.

pychorus 0.1 (Vivek Jayaram) finds the most repeated section of a song from its
chroma.  This module implements the same algorithm and returns the same answer
(see :func:`find_chorus`), but

* never builds the ``12 x n x n`` temporaries pychorus does, nor its Python
  double loop over frame pairs (the diagonal averages of its denoising step);
* works in float32, by blocks of rows, with a peak of about two ``n x n``
  float32 matrices (a 10-minute song at 22050 Hz has ``n ~= 3230`` chroma
  frames, i.e. about 42 MB per matrix);
* scans the detection threshold over one concatenated stream of the candidate
  rows instead of a Python loop over columns, and scores all line pairs at once;
* never prints.

The algorithm, for a chroma ``c`` of ``n`` frames (``c_t`` its column ``t``) and
``sim(a, b) = 1 - ||a - b|| / sqrt(12)``:

1. Time-lag similarity ``L[lag, t] = sim(c_t, c_{(t - lag) mod n})``.  Like
   pychorus's circulant construction, it wraps around for ``t < lag``; those
   values are seen by the denoising below.
2. Denoising, with ``s = int(2.5 * frame_rate)`` frames: six moving averages of
   length ``s`` with zero padding (``left``/``right`` along ``t``, ``down``/``up``
   along ``lag``, and the two diagonal ones pychorus reads from its time-time
   matrix: ``ll[lag, t] = mean_k sim(c_{t-lag}, c_{t-k})`` and
   ``ur[lag, t] = mean_k sim(c_{t-lag}, c_{t+k})`` for ``lag < t``, else 0).  The
   diagonal ones are read here from the wrapped ``L`` itself,
   ``ll[lag, t] = mean_k L[(lag - k) mod n, t - k]`` and
   ``ur[lag, t] = mean_k L[(lag + k) mod n, t + k]``, so the time-time matrix is
   never needed.  Where ``max(left, right)`` beats every other average, the
   minimum of ``down, up, ll, ur`` is subtracted from ``L``, elsewhere their
   maximum; then the upper triangle is kept, smoothed along ``t`` with a
   gaussian of sigma ``s`` (``scipy.ndimage.gaussian_filter1d``), clipped at 0,
   and the first 5 lags are zeroed.
3. Candidate lags: local maxima of the row sums divided by ``n - lag``.
4. Lines: in candidate rows with ``lag >= clip`` frames, runs of values above a
   threshold (0.15, lowered by 0.95 up to 8 times until 8 lines are found)
   longer than the clip.  As in pychorus, a run still open at the end of one
   row carries into the next row's scan (its start is not reset).
5. Each line scores one point per other line that covers it vertically (same
   columns) or diagonally (same ``t - lag``), with a margin of 20% of the clip,
   at a lag more than a clip away.  The best line has the highest score, then
   the longest length, the first detected winning ties; its start column,
   converted to seconds, is the chorus start.

The gaussian is applied by FFT (float64) rather than by direct convolution;
round-off where the exact result is 0 is set to 0, as ndimage gives, so the
candidate rows (local maxima among many all-zero rows) come out the same.

Numerical agreement: the time-lag matrix is bit-for-bit pychorus's for a
float32 chroma (librosa's dtype); the denoised matrix agrees to float32
rounding (~1e-7; pychorus denoises in float64), so on rare songs a value
sitting on the detection threshold may fall the other way and pick another
line.  On the synthetic songs of the tests and benchmark the answers are equal.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import TYPE_CHECKING

import numpy as np

from ._chroma import N_PITCH_CLASSES, chroma_features
from ._pychorus_matrices import _denoise, _time_lag_similarity

if TYPE_CHECKING:
    from ._estimate import ChorusEstimate

__all__ = ["ChorusCandidates", "find_chorus", "find_chorus_candidates", "find_chorus_pychorus"]

# pychorus 0.1 constants (pychorus/constants.py)
SMOOTHING_SIZE_SEC = 2.5
LINE_THRESHOLD = 0.15
MIN_LINES = 8
NUM_ITERATIONS = 8
OVERLAP_PERCENT_MARGIN = 0.2
THRESHOLD_DECAY = 0.95
#: most line pairs compared at once when scoring
_PAIR_CHUNK = 1 << 22
#: highest accepted chroma frame rate (frames/s).  Real chroma has sr / hop
#: frames per second (5.4 for pychorus's 22050 / 4096, 375 for 192 kHz with a
#: hop of 512); far above, song_length_sec is inconsistent with the chroma and
#: the 2.5 s smoothing window alone would need gigabytes (an infinite rate, from
#: a subnormal length, would not even convert to a window size)
MAX_FRAME_RATE = 1000.0


# ----------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------
def _check_chroma(chroma) -> np.ndarray:
    arr = np.asarray(chroma)
    if arr.ndim != 2:
        raise ValueError(f"chroma must be a 2-D array of shape (12, n_frames), got shape {arr.shape}")
    if arr.shape[0] != N_PITCH_CLASSES:
        raise ValueError(
            f"chroma must have {N_PITCH_CLASSES} rows (pitch classes) and one column per frame, "
            f"got shape {arr.shape}"
        )
    if arr.shape[1] == 0:
        raise ValueError("chroma has no frames (shape (12, 0))")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)) or arr.dtype == bool:
        raise ValueError(f"chroma must hold real numbers, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError("chroma contains non-finite values (NaN or Inf)")
    return arr


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive finite number of seconds, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number of seconds, got {value!r}")
    return value


# ----------------------------------------------------------------------
# Steps 3-5: candidate rows, lines, scores
# ----------------------------------------------------------------------
def _local_maxima_rows(row_sums: np.ndarray) -> np.ndarray:
    """Rows whose sum divided by ``n - lag`` beats both neighbours (strictly).

    Same rows as ``scipy.signal.argrelextrema(normalized, np.greater)``.
    """
    n = row_sums.shape[0]
    if n < 3:
        return np.empty(0, dtype=np.int64)
    norm = row_sums / np.arange(n, 0, -1)
    mid = norm[1:-1]
    return np.flatnonzero((mid > norm[:-2]) & (mid > norm[2:])) + 1


@dataclasses.dataclass(frozen=True)
class _Stream:
    """The scanned cells of the candidate rows, concatenated in scan order."""

    values: np.ndarray  # (m,) float32: denoised[row, row:] for each scanned row
    offsets: np.ndarray  # (k + 1,) int64: where each row's cells start in values
    rows: np.ndarray  # (k,) int64: the scanned rows (lags)


def _scan_stream(denoised: np.ndarray, rows: np.ndarray, min_length: float) -> _Stream:
    rows = rows[rows >= min_length]  # pychorus skips rows below the clip length
    n = denoised.shape[0]
    lengths = n - rows
    offsets = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if rows.shape[0]:
        values = np.concatenate([denoised[r, r:] for r in rows])
    else:
        values = np.empty(0, dtype=np.float32)
    return _Stream(values, offsets, rows.astype(np.int64))


def _lines_above(stream: _Stream, threshold: float, min_length: float):
    """Lines of runs above ``threshold``, exactly as pychorus's column loop.

    pychorus never resets its segment start between rows, so its loop is one
    scan over the concatenated stream: a run may begin in one row and end in a
    later one.  A run ending at position ``e`` (the first value not above the
    threshold) gives ``Line(start column, column of e, row of e)`` when longer
    than ``min_length``; a run still open at the end of the stream gives none.
    """
    above = stream.values > np.float64(threshold)  # compared in float64, as pychorus
    edges = np.diff(above.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    closed = run_ends < above.shape[0]
    run_starts, run_ends = run_starts[closed], run_ends[closed]
    if not run_starts.shape[0]:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    row_of_start = np.searchsorted(stream.offsets, run_starts, side="right") - 1
    row_of_end = np.searchsorted(stream.offsets, run_ends, side="right") - 1
    start_col = stream.rows[row_of_start] + (run_starts - stream.offsets[row_of_start])
    end_lag = stream.rows[row_of_end]
    end_col = end_lag + (run_ends - stream.offsets[row_of_end])
    keep = (end_col - start_col) > min_length
    return start_col[keep], end_col[keep], end_lag[keep]


def _overlap_scores(starts, ends, lags, margin: float, min_length: float) -> np.ndarray:
    """For each line, how many lines cover it vertically or diagonally."""
    k = starts.shape[0]
    scores = np.zeros(k, dtype=np.int64)
    if not k:
        return scores
    s, e, g = (np.asarray(a, dtype=np.float64) for a in (starts, ends, lags))
    ds, de = s - g, e - g  # diagonal coordinates (t - lag)
    step = max(1, _PAIR_CHUNK // k)
    for i0 in range(0, k, step):
        i1 = min(k, i0 + step)
        far = np.abs(g[None, :] - g[i0:i1, None]) > min_length
        vertical = (s[None, :] < s[i0:i1, None] + margin) & (e[None, :] > e[i0:i1, None] - margin)
        diagonal = (ds[None, :] < ds[i0:i1, None] + margin) & (de[None, :] > de[i0:i1, None] - margin)
        scores[i0:i1] = np.count_nonzero(far & (vertical | diagonal), axis=1)
    return scores


@dataclasses.dataclass(frozen=True, eq=False)
class ChorusCandidates:
    """The lines found by :func:`find_chorus_candidates`, with their scores.

    Frames are chroma frames; ``frame_rate`` converts them to seconds.

    Attributes
    ----------
    starts : np.ndarray [shape=(n_lines,), dtype=int64]
        First frame (column ``t``) of each line, in detection order.
    ends : np.ndarray [shape=(n_lines,), dtype=int64]
        Frame just past each line (the first frame below the threshold).
    lags : np.ndarray [shape=(n_lines,), dtype=int64]
        Lag (row) of each line: the repeat is ``lag`` frames earlier.
    scores : np.ndarray [shape=(n_lines,), dtype=int64]
        How many other lines cover each line (pychorus's chorus matches).
    frame_rate : float
        Chroma frames per second, ``n_frames / song_length_sec``.
    threshold : float
        Detection threshold that produced the lines (the last one tried when
        there are none).
    best : int or None
        Index of the chorus line (highest score, then longest, first detected
        on ties), ``None`` when no line was found.
    """

    starts: np.ndarray
    ends: np.ndarray
    lags: np.ndarray
    scores: np.ndarray
    frame_rate: float
    threshold: float
    best: int | None

    def __post_init__(self):
        for name in ("starts", "ends", "lags", "scores"):
            arr = np.array(getattr(self, name), dtype=np.int64)  # own, read-only copies
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    @property
    def n_lines(self) -> int:
        """Number of detected lines."""
        return int(self.starts.shape[0])

    @property
    def start_sec(self) -> float | None:
        """Start of the best chorus in seconds, ``None`` when none was found."""
        if self.best is None:
            return None
        return int(self.starts[self.best]) / self.frame_rate

    def __repr__(self) -> str:
        start = "None" if self.best is None else f"{self.start_sec:.3f}"
        return (
            f"ChorusCandidates(n_lines={self.n_lines}, best={self.best}, start_sec={start}, "
            f"threshold={self.threshold:.4g}, frame_rate={self.frame_rate:.4g})"
        )


def _final_threshold() -> float:
    threshold = LINE_THRESHOLD
    for _ in range(NUM_ITERATIONS - 1):
        threshold *= THRESHOLD_DECAY
    return threshold


def find_chorus_candidates(chroma: np.ndarray, song_length_sec: float, clip_length: float) -> ChorusCandidates:
    """All chorus lines of a song with their scores (the work of :func:`find_chorus`).

    Parameters
    ----------
    chroma : array-like [shape=(12, n_frames)]
        Chroma of the whole song, e.g. from :func:`chroma_features`.  Cast to
        float32 (librosa's dtype; pychorus computes in the input's dtype).
    song_length_sec : float
        Length of the song in seconds (sets the frame rate ``n_frames / length``).
    clip_length : float
        Minimum chorus length in seconds (10-15 s is typical).

    Returns
    -------
    ChorusCandidates
        ``best is None`` when no line is long enough: in particular whenever
        ``n_frames - 1 <= clip_length * frame_rate`` (the song is not longer
        than the clip), found without computing any matrix.

    Raises
    ------
    ValueError
        ``chroma`` is not a finite real array of shape ``(12, n_frames)`` with
        ``n_frames >= 1``; a length is not a positive finite number; or the
        frame rate is so low (below ``1 / 2.5`` frames per second, i.e. a
        ``song_length_sec`` inconsistent with the chroma) that the 2.5 s
        smoothing window holds no frame (pychorus fails there too), or so
        high (above ``MAX_FRAME_RATE``, 1000 frames per second) that no real
        chroma has it.

    Notes
    -----
    Memory: about two ``n_frames**2`` float32 matrices (84 MB for a 10-minute
    song), plus small per-block buffers.  A silent song (all-zero chroma, which
    is what librosa gives for digital silence) or any constant chroma is
    handled: every frame is equally similar to every other, the denoising
    removes it all, and no line is found (``best is None``).
    """
    c = _check_chroma(chroma)
    length = _check_positive("song_length_sec", song_length_sec)
    clip = _check_positive("clip_length", clip_length)
    n = c.shape[1]
    frame_rate = n / length
    if not frame_rate <= MAX_FRAME_RATE:  # also catches an infinite rate
        raise ValueError(
            f"song_length_sec={length:g} s for {n} chroma frame(s) gives {frame_rate:.3g} frames/s, "
            f"more than any chroma has (at most {MAX_FRAME_RATE:g}); is song_length_sec the length "
            "in seconds of the audio this chroma was computed from?"
        )
    smoothing = int(SMOOTHING_SIZE_SEC * frame_rate)
    if smoothing < 1:
        raise ValueError(
            f"song_length_sec={length:g} s for {n} chroma frame(s) gives {frame_rate:.3g} frames/s: "
            f"the {SMOOTHING_SIZE_SEC} s smoothing window holds no frame; is song_length_sec the "
            "length of the audio this chroma was computed from?"
        )
    min_length = clip * frame_rate
    margin = OVERLAP_PERCENT_MARGIN * min_length
    empty = np.empty(0, dtype=np.int64)
    if n - 1 <= min_length:  # a line spans > min_length columns inside [0, n - 1]
        return ChorusCandidates(empty, empty, empty, empty, frame_rate, _final_threshold(), None)

    lag_matrix = _time_lag_similarity(c)
    denoised, row_sums = _denoise(lag_matrix, smoothing)
    del lag_matrix
    rows = _local_maxima_rows(row_sums)
    stream = _scan_stream(denoised, rows, min_length)
    del denoised

    threshold = LINE_THRESHOLD
    for iteration in range(NUM_ITERATIONS):
        starts, ends, lags = _lines_above(stream, threshold, min_length)
        if starts.shape[0] >= MIN_LINES or iteration == NUM_ITERATIONS - 1:
            break
        threshold *= THRESHOLD_DECAY
    if not starts.shape[0]:
        return ChorusCandidates(empty, empty, empty, empty, frame_rate, threshold, None)

    scores = _overlap_scores(starts, ends, lags, margin, min_length)
    # sort by (score, length) descending, stable: the first detected wins ties
    top = np.flatnonzero(scores == scores.max())
    best = int(top[np.argmax((ends - starts)[top])])
    return ChorusCandidates(starts, ends, lags, scores, frame_rate, threshold, best)


def find_chorus(chroma: np.ndarray, song_length_sec: float, clip_length: float) -> float | None:
    """Start (seconds) of the most repeated section of a song.

    Same algorithm and same answer as
    ``pychorus.helpers.find_chorus(chroma, sr, song_length_sec, clip_length)``
    (up to float32 rounding, see the module notes), vectorized, and silent.

    Parameters
    ----------
    chroma : array-like [shape=(12, n_frames)]
        Chroma of the whole song, e.g. from :func:`chroma_features`.
    song_length_sec : float
        Length of the song in seconds.
    clip_length : float
        Minimum chorus length in seconds.

    Returns
    -------
    float or None
        Start of the best chorus in seconds, in ``[0, song_length_sec)``;
        ``None`` when no line is detected (pychorus prints "No choruses were
        detected" there): e.g. a song not longer than ``clip_length``, or a
        silent or constant one.

    Raises
    ------
    ValueError
        Invalid chroma or lengths; see :func:`find_chorus_candidates`.

    Examples
    --------
    >>> import numpy as np
    >>> find_chorus(np.zeros((12, 100), dtype=np.float32), 18.5, 15.0) is None
    True
    """
    return find_chorus_candidates(chroma, song_length_sec, clip_length).start_sec


# ----------------------------------------------------------------------
# The method
# ----------------------------------------------------------------------
def find_chorus_pychorus(y: np.ndarray, sr: int, clip_length: float) -> ChorusEstimate:
    """pychorus's chorus: :func:`find_chorus_candidates` on :func:`chroma_features`.

    The confidence is the number of lines that support the chosen one (it and
    the lines covering it, pychorus's score) over the 8 lines pychorus looks
    for, at most 1; 0 when no line is found (``start`` is then ``None``).

    Examples
    --------
    >>> import numpy as np
    >>> find_chorus_pychorus(np.zeros(11025 * 30, dtype=np.float32), 11025, 20.0)
    ChorusEstimate(start=None, confidence=0.0)
    """
    from ._estimate import ChorusEstimate

    candidates = find_chorus_candidates(chroma_features(y, sr), y.size / sr, clip_length)
    if candidates.best is None:
        return ChorusEstimate(start=None, confidence=0.0)
    best_score = int(candidates.scores[candidates.best])
    confidence = min(1.0, (best_score + 1) / MIN_LINES)
    # a line ends inside the song, but its start in whole frames may put the
    # clip's end a frame past it: keep the clip inside
    start = min(candidates.start_sec, max(0.0, y.size / sr - clip_length))
    return ChorusEstimate(start=float(start), confidence=float(confidence))
