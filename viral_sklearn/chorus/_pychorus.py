"""The pychorus chorus finder, re-implemented with vectorized numpy/scipy.

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
import functools
import math
import numbers
import warnings
from typing import TYPE_CHECKING

import numpy as np
from scipy import fft as sfft
from scipy import ndimage

if TYPE_CHECKING:
    from ._estimate import ChorusEstimate

__all__ = ["ChorusCandidates", "chroma_features", "chroma_n_fft", "find_chorus", "find_chorus_candidates", "find_chorus_pychorus"]

# pychorus 0.1 constants (pychorus/constants.py)
N_FFT = 2**14
#: librosa.load's default rate, at which pychorus analyses every song
PYCHORUS_SAMPLE_RATE = 22050
SMOOTHING_SIZE_SEC = 2.5
LINE_THRESHOLD = 0.15
MIN_LINES = 8
NUM_ITERATIONS = 8
OVERLAP_PERCENT_MARGIN = 0.2
THRESHOLD_DECAY = 0.95
#: lags below this are zeroed after denoising (a song is similar to itself)
N_ZEROED_LAGS = 5
N_PITCH_CLASSES = 12
#: gaussian_filter1d's default truncation, in standard deviations
_GAUSS_TRUNCATE = 4.0
#: target sizes, in float32 elements, of one block of rows
_L_BLOCK_ELEMENTS = 1 << 15
_DENOISE_BLOCK_ELEMENTS = 1 << 17
_MIN_BLOCK_ROWS = 16
#: most line pairs compared at once when scoring
_PAIR_CHUNK = 1 << 22
#: highest accepted chroma frame rate (frames/s).  Real chroma has sr / hop
#: frames per second (5.4 for pychorus's 22050 / 4096, 375 for 192 kHz with a
#: hop of 512); far above, song_length_sec is inconsistent with the chroma and
#: the 2.5 s smoothing window alone would need gigabytes (an infinite rate, from
#: a subnormal length, would not even convert to a window size)
MAX_FRAME_RATE = 1000.0
#: louder audio (peak magnitude) is scaled down before its chroma: its float32
#: power spectrum, summed over thousands of bins, could overflow
_MAX_CHROMA_PEAK = 2.0**32
#: librosa.piptrack's defaults, which librosa.estimate_tuning (hence chroma_stft) uses
_PIP_FMIN = 150.0
_PIP_FMAX = 4000.0
_PIP_THRESHOLD = 0.1
#: frames per FFT block in chroma_features (a few MB of temporaries at n_fft = 2**14)
_STFT_BLOCK_FRAMES = 64
#: a power spectrogram up to this many float32 values (64 MB) is computed once and
#: kept between chroma_features' two passes; a longer one is computed twice
_KEEP_SPECTROGRAM_ELEMENTS = 1 << 24

_SQRT_12 = np.float32(math.sqrt(12))


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
# Step 1: time-lag similarity
# ----------------------------------------------------------------------
def _block_rows(n: int, target: int) -> int:
    """Rows per block so that a block holds about ``target`` elements."""
    return max(_MIN_BLOCK_ROWS, min(n, target // max(n, 1)))


def _time_lag_similarity(chroma: np.ndarray) -> np.ndarray:
    """Time-lag similarity matrix, bit-for-bit pychorus's for float32 input.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n), dtype=float32]
        C-contiguous chroma (validated).

    Returns
    -------
    np.ndarray [shape=(n, n), dtype=float32]
        ``L[lag, t] = 1 - ||c_t - c_{(t - lag) mod n}|| / sqrt(12)``.

    Notes
    -----
    Only ``t >= r0`` is computed for a block of rows ``[r0, r1)``, from
    circulant views of the chroma (no ``12 x n x n`` array).  The wrapped part
    ``t < lag`` repeats the upper triangle, ``L[lag, t] = L[n - lag, t + n - lag]``,
    and is copied from it through a strided view.  The 12 squared differences
    are summed in order in float32, as numpy's ``norm(axis=0)`` does: the
    result is bit-identical to pychorus's (checked with numpy 2.4).
    """
    n = chroma.shape[1]
    doubled = np.concatenate([chroma, chroma], axis=1)
    # circ[k, j, t] = doubled[k, j + t]; row ``lag`` of L reads j = n - lag
    circ = np.lib.stride_tricks.sliding_window_view(doubled, n, axis=1)
    out = np.empty((n, n), dtype=np.float32)
    b = _block_rows(n, _L_BLOCK_ELEMENTS)
    blocks = [(r0, min(n, r0 + b)) for r0 in range(0, n, b)]
    for r0, r1 in blocks:
        lagged = circ[:, n - r1 + 1 : n - r0 + 1, r0:][:, ::-1]  # [k, lag, t] -> c_k[(t - lag) mod n]
        diff = chroma[:, None, r0:] - lagged  # (12, rows, n - r0), a small block
        acc = out[r0:r1, r0:]
        np.einsum("kij,kij->ij", diff, diff, out=acc)  # sums k in order, as norm(axis=0)
        del diff
        np.sqrt(acc, out=acc)
        acc /= _SQRT_12
        np.subtract(np.float32(1.0), acc, out=acc)
    # wrapped part: L[y, x] = L[n - y, x + n - y] for x < r0 <= y, flat index
    # (n - y) * (n + 1) + x, inside the upper triangle already computed
    flat = out.reshape(-1)
    item = out.itemsize
    for r0, r1 in blocks[1:]:
        base = flat[(n - r0) * (n + 1) :]
        src = np.lib.stride_tricks.as_strided(
            base, shape=(r1 - r0, r0), strides=(-(n + 1) * item, item), writeable=False
        )
        out[r0:r1, :r0] = src
    return out


# ----------------------------------------------------------------------
# Step 2: denoising
# ----------------------------------------------------------------------
def _forward_box_sum(a: np.ndarray, size: int, dy: int, dx: int, shape: tuple[int, int]) -> np.ndarray:
    """``out[i, j] = sum(a[i + k*dy, j + k*dx] for k < size)`` on ``shape``.

    Sums by doubling: ``O(log size)`` array additions instead of ``size``.
    """
    rows, cols = shape
    acc = None
    offset = 0  # acc holds the terms k < offset
    width = 1  # cur[i, j] = sum(a[i + k*dy, j + k*dx] for k < width)
    cur = a
    remaining = size
    while True:
        if remaining & 1:
            piece = cur[offset * dy : offset * dy + rows, offset * dx : offset * dx + cols]
            if acc is None:
                acc = np.array(piece, dtype=np.float32, copy=True)
            else:
                acc += piece
            offset += width
        remaining >>= 1
        if not remaining:
            return acc
        h, w = cur.shape
        cur = cur[: h - width * dy, : w - width * dx] + cur[width * dy :, width * dx :]
        width *= 2


@functools.lru_cache(maxsize=64)
def _gaussian_spectrum(sigma: int, radius: int, size: int) -> np.ndarray:
    """Real spectrum of scipy.ndimage's gaussian kernel, centred circularly on
    ``size`` points (symmetric kernel: the rfft is real)."""
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 / (sigma * sigma) * x * x)
    kernel /= kernel.sum()
    padded = np.zeros(size, dtype=np.float64)
    padded[: radius + 1] = kernel[radius:]
    padded[size - radius :] = kernel[:radius]
    spectrum = np.ascontiguousarray(np.fft.rfft(padded).real)
    spectrum.flags.writeable = False
    return spectrum


class _RowSmoother:
    """``max(gaussian_filter1d(row, sigma, mode="reflect"), 0)`` of a block of rows.

    The rows are zero left of column ``first`` (the upper triangle of a block
    starting at lag ``first``), so only columns ``[c0, n)``,
    ``c0 = max(0, first - radius)``, can be non-zero.  The caller writes
    columns ``[first, n)`` into :attr:`data`, a view of a float64 FFT buffer;
    :meth:`finish` smooths them by FFT (ndimage itself for rows shorter than
    the kernel's radius, which need several reflections).
    """

    #: FFT round-off is ~1e-16 of a row's largest value; results below this
    #: fraction of it are where the exact result is 0 (e.g. only zeros within
    #: the kernel's reach), and are set to 0 as ndimage would give
    ROUND_OFF = 1e-12

    def __init__(self, rows: int, n: int, first: int, sigma: int, radius: int):
        self.sigma, self.radius = sigma, radius
        self.c0 = c0 = max(0, first - radius)
        self.w = w = n - c0
        self.fft = w >= radius
        if self.fft:
            self.size = size = sfft.next_fast_len(w + 2 * radius, real=True)
            self.buf = np.empty((rows, size), dtype=np.float64)
            lead = radius + first - c0  # left pad, then the zero columns [c0, first)
            self.buf[:, :lead] = 0
            self.buf[:, radius + w :] = 0
            self.data = self.buf[:, lead : radius + w]
        else:
            self.buf = np.zeros((rows, w), dtype=np.float32)
            self.data = self.buf[:, first - c0 :]

    def finish(self, out: np.ndarray) -> None:
        """Write the smoothed, clipped rows into ``out`` (shape ``(rows, n)``)."""
        r, w, c0 = self.radius, self.w, self.c0
        out[:, :c0] = 0
        res = out[:, c0:]
        if not self.fft:
            ndimage.gaussian_filter1d(self.buf, self.sigma, axis=1, output=res, mode="reflect",
                                      truncate=_GAUSS_TRUNCATE)
            np.maximum(res, 0, out=res)
            return
        buf, data = self.buf, self.data
        tol = np.maximum(data.max(axis=1, keepdims=True), -data.min(axis=1, keepdims=True))
        tol *= self.ROUND_OFF
        if c0 == 0:  # reflect the row's first columns (zeros when c0 > 0)
            buf[:, :r] = buf[:, 2 * r - 1 : r - 1 : -1]
        buf[:, r + w : 2 * r + w] = buf[:, r + w - 1 : w - 1 : -1]
        spec = sfft.rfft(buf, axis=1)
        gain = _gaussian_spectrum(self.sigma, r, self.size)  # real: scale re and im alike
        spec.view(np.float64).reshape(spec.shape + (2,))[...] *= gain[:, None]
        smooth = sfft.irfft(spec, n=self.size, axis=1)[:, r : r + w]
        # clip at 0, and drop round-off: keep values >= tol (> 0), else 0
        np.multiply(smooth, smooth >= tol, out=res)


def _denoise(lag_matrix: np.ndarray, smoothing_size: int) -> tuple[np.ndarray, np.ndarray]:
    """pychorus's ``TimeLagSimilarityMatrix.denoise``, by blocks of rows.

    Parameters
    ----------
    lag_matrix : np.ndarray [shape=(n, n), dtype=float32]
        Output of :func:`_time_lag_similarity` (not modified).
    smoothing_size : int
        Length ``s >= 1`` of the moving averages, and sigma of the gaussian.

    Returns
    -------
    denoised : np.ndarray [shape=(n, n), dtype=float32]
        The denoised matrix: zero left of the diagonal except for the
        gaussian's spill, zero in the first 5 rows.
    row_sums : np.ndarray [shape=(n,), dtype=float64]
        Sum of each row of ``denoised``.

    Notes
    -----
    For rows ``[r0, r1)`` only columns ``t >= r0`` are denoised (the rest is
    dropped by the upper-triangle step), from the rows ``[r0 - s + 1, r1 + s - 1)``
    (mod n) and columns ``[r0 - s + 1, n + s - 1)`` (zero outside ``[0, n)``).
    Moving sums are formed by doubling (``O(log s)`` additions); the gaussian
    is a float64 FFT of each block (see :class:`_RowSmoother`).
    """
    L = lag_matrix
    n = L.shape[0]
    s = int(smoothing_size)
    h = s - 1
    radius = int(_GAUSS_TRUNCATE * s + 0.5)
    s_f32 = np.float32(s)
    out = np.empty((n, n), dtype=np.float32)
    row_sums = np.empty(n, dtype=np.float64)
    b = _block_rows(n, _DENOISE_BLOCK_ELEMENTS)
    for r0 in range(0, n, b):
        r1 = min(n, r0 + b)
        nb = r1 - r0
        m = n - r0  # output columns [r0, n)
        # rows [r0 - h, r1 + h) wrapped mod n (L's circulant), columns
        # [r0 - h, n + h) zero outside [0, n)
        ext = np.empty((nb + 2 * h, m + 2 * h), dtype=np.float32)
        lo, hi = r0 - h, r1 + h
        c_lo = max(0, r0 - h)
        ext[:, : c_lo - (r0 - h)] = 0
        ext[:, h + m :] = 0
        dst = ext[:, c_lo - (r0 - h) : h + m]
        if lo >= 0 and hi <= n:
            dst[...] = L[lo:hi, c_lo:]
        else:
            dst[...] = np.take(L[:, c_lo:], np.arange(lo, hi), axis=0, mode="wrap")
        # horizontal: H[i, j] = sum_k L[y, r0 - h + j + k]; left = H[:, :m], right = H[:, h:]
        horiz = _forward_box_sum(ext[h : h + nb], s, 0, 1, (nb, m + h))
        hmax = np.maximum(horiz[:, :m], horiz[:, h : h + m])
        del horiz
        # diagonal, rows wrapped: ll = D[:nb, :m], ur = D[h:, h:]; pychorus has them
        # only for lag < t, 0 on the diagonal t == lag, which is D's main diagonal
        diag = _forward_box_sum(ext, s, 1, 1, (nb + h, m + h))
        np.fill_diagonal(diag, 0)
        # vertical, zero rows outside [0, n): down = V[:nb], up = V[h:]
        vsrc = ext[:, h : h + m]
        if lo < 0 or hi > n:
            vsrc = vsrc.copy()
            vsrc[: max(0, -lo)] = 0
            vsrc[vsrc.shape[0] - max(0, hi - n) :] = 0
        vert = _forward_box_sum(vsrc, s, 1, 0, (nb + h, m))
        del ext, vsrc
        down, up = vert[:nb], vert[h : h + nb]
        ll, ur = diag[:nb, :m], diag[h : h + nb, h : h + m]
        nmax = np.maximum(down, up)
        np.maximum(nmax, ll, out=nmax)
        np.maximum(nmax, ur, out=nmax)
        nmin = np.minimum(down, up)
        np.minimum(nmin, ll, out=nmin)
        np.minimum(nmin, ur, out=nmin)
        del vert, diag, down, up, ll, ur
        # suppression: the minimum where the horizontal average wins, else the maximum
        np.copyto(nmax, nmin, where=hmax > nmax)
        del nmin, hmax
        supp = nmax
        supp /= s_f32
        smoother = _RowSmoother(nb, n, r0, s, radius)
        block = np.subtract(L[r0:r1, r0:], supp, out=smoother.data)
        del supp
        # upper triangle t >= lag: column j >= row i of the block
        corner = block[:, :nb]
        corner[np.arange(corner.shape[1])[None, :] < np.arange(nb)[:, None]] = 0
        res = out[r0:r1]
        smoother.finish(res)
        np.sum(res, axis=1, dtype=np.float64, out=row_sums[r0:r1])
        del block, corner, smoother
    out[:N_ZEROED_LAGS] = 0
    row_sums[:N_ZEROED_LAGS] = 0
    return out, row_sums


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
# Chroma
# ----------------------------------------------------------------------
def chroma_n_fft(sr: int) -> int:
    """FFT size of the chroma at ``sr`` Hz: pychorus's 2**14 at 22050 Hz, scaled.

    The power of two nearest to pychorus's 0.74 s window, so that the chroma
    has about the same frequency resolution (1.35 Hz) and frame rate (5.4
    frames/s, the hop being a quarter of the window) at any analysis rate:
    2**13 at 11025 Hz, 2**14 at 16000 and 22050 Hz, 2**15 at 44100 Hz.

    Examples
    --------
    >>> chroma_n_fft(22050), chroma_n_fft(11025), chroma_n_fft(44100)
    (16384, 8192, 32768)
    """
    sr = _positive_int("sr", sr)
    return 1 << max(4, round(math.log2(N_FFT * sr / PYCHORUS_SAMPLE_RATE)))


def _positive_int(name: str, value, least: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        at_least = "" if least == 1 else f" >= {least}"
        raise ValueError(f"{name} must be a positive integer{at_least}, got {value!r}")
    return int(value)


def chroma_features(y: np.ndarray, sr: int, *, n_fft: int | None = None) -> np.ndarray:
    """Chroma of a song, as ``pychorus.helpers.create_chroma`` computes it.

    ``create_chroma`` loads the file with ``librosa.load`` (mono, 22050 Hz,
    float32) and computes the power spectrogram ``|stft(y, n_fft=2**14)|**2``
    (Hann window, hop ``n_fft // 4``, centred with zero padding), then
    ``librosa.feature.chroma_stft(S=..., sr=sr)``: a tuning estimate
    (``librosa.estimate_tuning``, i.e. ``piptrack``'s peaks between 150 and
    4000 Hz), librosa's chroma filter bank at that tuning, and each frame
    scaled to a maximum of 1.  This function computes the same in float32, by
    blocks of frames, with the tuning estimated from the peaks alone (the same
    peaks, pitches and magnitudes as ``piptrack``'s, the same tuning): at
    22050 Hz it equals ``create_chroma``'s chroma to float32 rounding (about
    1e-6), about 4x faster.

    At other rates the FFT size is scaled (:func:`chroma_n_fft`) so that the
    window and hop keep their length in seconds.  At 11025 Hz (the default of
    :class:`~viral_sklearn.ChorusExtractor`) the chroma only lacks the
    5.5-11 kHz band, which librosa's chroma filter weights by at most 0.42 and
    music carries little power in; it costs half as much.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono audio, cast to float32 (``librosa.load``'s dtype).
    sr : int
        Sample rate of ``y`` in Hz (pychorus always uses 22050).
    n_fft : int or None, default=None
        FFT size; ``None`` means :func:`chroma_n_fft(sr) <chroma_n_fft>`
        (pychorus's ``N_FFT = 2**14`` at 22050 Hz).

    Returns
    -------
    np.ndarray [shape=(12, n_frames), dtype=float32]
        ``n_frames = 1 + (n_samples - n_fft % 2) // (n_fft // 4)`` (librosa's
        count for centred frames: ``1 + n_samples // hop`` for an even
        ``n_fft``); each frame scaled to a
        maximum of 1.  Silence gives all-zero frames (and tuning 0, silently).
        Finite, however loud the audio: a peak above 2**32 is first scaled
        down by a power of two.

    Raises
    ------
    ValueError
        ``y`` is not 1-D, is empty or not finite; ``sr`` or ``n_fft`` is not a
        positive integer.

    Notes
    -----
    Memory: the float32 power spectrogram is kept between the tuning estimate
    and the chroma when it fits in 64 MB (songs up to ~10 minutes at 11025 Hz,
    ~6 at 22050 Hz); longer songs compute it twice instead.  The FFT works on
    blocks of 64 frames.
    """
    import librosa

    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"y must be mono audio of shape (n_samples,), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("y has no samples")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)) or arr.dtype == bool:
        raise ValueError(f"y must hold real numbers, got dtype {arr.dtype}")
    sr = _positive_int("sr", sr)
    n_fft = chroma_n_fft(sr) if n_fft is None else _positive_int("n_fft", n_fft, least=4)  # hop n_fft // 4
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError("y contains non-finite samples (NaN or Inf)")
    # the chroma does not depend on the scale of the audio (each frame is
    # normalised, the tuning estimate is relative)
    arr = tame_loud_audio(arr)

    n_frames = _n_frames(arr.size, n_fft)
    n_bins = 1 + n_fft // 2
    store = np.empty((n_frames, n_bins), dtype=np.float32) if n_frames * n_bins <= _KEEP_SPECTROGRAM_ELEMENTS else None
    tuning = _estimate_tuning(_power_blocks(arr, n_fft, out=store), sr, n_fft)
    bank = _chroma_bank(sr, n_fft, tuning)
    # the same block shapes through the same matrix product on both paths, so
    # kept and recomputed spectrograms give bit-identical chroma on any processor
    # (one product over all frames picks other BLAS kernels and reduction order)
    blocks = _row_blocks(store) if store is not None else _power_blocks(arr, n_fft)
    raw = np.concatenate([power @ bank for power in blocks])
    chroma = librosa.util.normalize(raw.T, norm=np.inf, axis=0)
    return np.ascontiguousarray(chroma, dtype=np.float32)


def tame_loud_audio(y: np.ndarray) -> np.ndarray:
    """``y`` scaled down by a power of two (exact) to a peak of 1 when its peak
    is above 2**32: the float32 power spectrum of audio that loud overflows once
    summed over thousands of bins.  Quieter audio is returned as it is."""
    peak = max(float(y.max()), -float(y.min())) if y.size else 0.0  # no |y| copy of a long song
    if peak > _MAX_CHROMA_PEAK:
        return np.ldexp(y, -math.ceil(math.log2(peak))).astype(np.float32, copy=False)
    return y


def _power_blocks(y: np.ndarray, n_fft: int, out: np.ndarray | None = None):
    """The power spectrogram ``|stft(y, n_fft)|**2`` (Hann window, centred with
    zero padding, hop ``n_fft // 4``), frames first: yields arrays of shape
    ``(frames, 1 + n_fft // 2)`` for consecutive
    blocks of ``_STFT_BLOCK_FRAMES`` frames, float32.  With ``out`` (shape
    ``(n_frames, 1 + n_fft // 2)``) the blocks are written into it and the
    yielded arrays are its rows."""
    hop = n_fft // 4
    pad = n_fft // 2
    n_frames = _n_frames(y.size, n_fft)
    window = _hann(n_fft)
    for f0 in range(0, n_frames, _STFT_BLOCK_FRAMES):
        f1 = min(f0 + _STFT_BLOCK_FRAMES, n_frames)
        # samples of the centred (zero-padded) signal that frames f0..f1-1 cover
        a, b = f0 * hop - pad, (f1 - 1) * hop - pad + n_fft
        if a >= 0 and b <= y.size:
            segment = y[a:b]
        else:
            segment = np.zeros(b - a, dtype=np.float32)
            lo, hi = max(a, 0), min(b, y.size)
            segment[lo - a : hi - a] = y[lo:hi]
        frames = np.lib.stride_tricks.sliding_window_view(segment, n_fft)[::hop]
        spectrum = sfft.rfft(frames * window, axis=-1)
        power = out[f0:f1] if out is not None else np.empty((f1 - f0, 1 + n_fft // 2), dtype=np.float32)
        np.abs(spectrum, out=power)  # |X| ** 2 as pychorus computes it (and faster than re² + im²)
        np.square(power, out=power)
        yield power


def _row_blocks(store: np.ndarray):
    """The rows of a kept spectrogram in the blocks :func:`_power_blocks`
    yields them (``_STFT_BLOCK_FRAMES`` frames each)."""
    for f0 in range(0, store.shape[0], _STFT_BLOCK_FRAMES):
        yield store[f0 : f0 + _STFT_BLOCK_FRAMES]


def _n_frames(n_samples: int, n_fft: int) -> int:
    """Centred frames of hop ``n_fft // 4`` over ``n_samples`` padded by
    ``n_fft // 2`` each side, as librosa counts them."""
    return 1 + (n_samples + 2 * (n_fft // 2) - n_fft) // (n_fft // 4)


@functools.lru_cache(maxsize=64)
def _chroma_bank(sr: int, n_fft: int, tuning: float) -> np.ndarray:
    """librosa's chroma filter bank, transposed to ``(1 + n_fft // 2, 12)``
    (the tuning takes one of 100 values: the cache saves ~2 ms a song)."""
    import librosa

    bank = np.ascontiguousarray(
        librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=N_PITCH_CLASSES).T, dtype=np.float32
    )
    bank.flags.writeable = False
    return bank


@functools.lru_cache(maxsize=8)
def _hann(n_fft: int) -> np.ndarray:
    """librosa's STFT window: the periodic Hann window, in float32."""
    n = np.arange(n_fft)
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(np.float32)
    window.flags.writeable = False
    return window


def _peak_band(sr: int, n_fft: int) -> tuple[int, int]:
    """FFT bins ``[lo, hi)`` inside piptrack's ``[150 Hz, min(4000 Hz, sr / 2))``."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    inside = np.flatnonzero((_PIP_FMIN <= freqs) & (freqs < min(_PIP_FMAX, sr / 2)))
    if inside.size == 0:
        return 0, 0
    return int(inside[0]), int(inside[-1]) + 1


def _spectral_peaks(power: np.ndarray, band: tuple[int, int], sr: int, n_fft: int):
    """The ``(pitch, magnitude)`` pairs ``librosa.piptrack(S=power.T, sr=sr)``
    finds in a block of frames (its non-zero entries), computed at the peaks
    only.

    piptrack keeps, in each frame, the bins of the band that are local maxima
    (``> `` the bin below, ``>=`` the bin above) of the spectrum zeroed below
    ``0.1 *`` the frame's maximum, then refines each by parabolic interpolation
    over its two neighbours: ``a = x[k+1] + x[k-1] - 2 x[k]``, ``b = (x[k+1] -
    x[k-1]) / 2``, shift ``-b / a`` (0 where ``|b| >= |a|``), evaluated in
    float64 as librosa's numba stencil does and stored in float32; pitch
    ``(k + shift) * sr / n_fft``, magnitude ``x[k] + 0.5 * b * shift``.
    """
    lo, hi = band
    if hi <= lo:
        empty = np.empty(0, dtype=np.float32)
        return empty, empty
    ref = np.float32(_PIP_THRESHOLD) * power.max(axis=1, keepdims=True)
    # piptrack's local maxima of ``x * (x > ref)``: a bin above ref that is
    # > the bin below and >= the bin above (a neighbour at or under ref is
    # then below it anyway).  The bins above ref are few: find them first.
    frame, k = np.nonzero(power[:, lo:hi] > ref)
    k += lo
    # the band can end at the Nyquist bin (sr <= 8000 Hz: rfftfreq puts it a
    # hair below sr / 2); there librosa compares the bin with itself (edge
    # padding) and does not interpolate
    last = power.shape[1] - 1
    x0, below, above = power[frame, k], power[frame, k - 1], power[frame, np.minimum(k + 1, last)]
    peak = (x0 > below) & (x0 >= above)
    frame, k, x0, below, above = frame[peak], k[peak], x0[peak], below[peak], above[peak]
    a = (above + below).astype(np.float64) - 2.0 * x0
    b = (above - below).astype(np.float64) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where((np.abs(b) >= np.abs(a)) | (k == last), 0.0, -b / a).astype(np.float32)
    pitch = ((k + shift) * float(sr) / n_fft).astype(np.float32)
    gradient = (above - below) / np.float32(2.0)
    magnitude = x0 + np.float32(0.5) * gradient * shift
    return pitch, magnitude


def _estimate_tuning(blocks, sr: int, n_fft: int) -> float:
    """``librosa.estimate_tuning(S=S, sr=sr, n_fft=n_fft, bins_per_octave=12)``
    for the power spectrogram given as consecutive blocks of frames (each
    ``(frames, 1 + n_fft // 2)``): piptrack's peaks (:func:`_spectral_peaks`),
    then the pitches of those at least as strong as their median, through
    ``librosa.pitch_tuning``."""
    import librosa

    band = _peak_band(sr, n_fft)
    peaks = [_spectral_peaks(power, band, sr, n_fft) for power in blocks]
    pitch = np.concatenate([p for p, _ in peaks])
    magnitude = np.concatenate([m for _, m in peaks])
    positive = pitch > 0
    pitch, magnitude = pitch[positive], magnitude[positive]
    threshold = np.median(magnitude) if magnitude.size else 0.0
    with warnings.catch_warnings():  # silence: no pitch at all, tuning 0
        warnings.filterwarnings("ignore", message="Trying to estimate tuning from empty frequency set")
        return float(
            librosa.pitch_tuning(pitch[magnitude >= threshold], resolution=0.01, bins_per_octave=N_PITCH_CLASSES)
        )


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
