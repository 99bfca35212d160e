"""Steps 1-2 of pychorus's finder: the time-lag similarity and its denoising.

Both work in float32 by blocks of rows, with a peak of about two ``n x n``
float32 matrices; see :mod:`._pychorus` for the algorithm.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import fft as sfft
from scipy import ndimage

#: lags below this are zeroed after denoising (a song is similar to itself)
N_ZEROED_LAGS = 5
#: gaussian_filter1d's default truncation, in standard deviations
_GAUSS_TRUNCATE = 4.0
#: target sizes, in float32 elements, of one block of rows
_L_BLOCK_ELEMENTS = 1 << 15
_DENOISE_BLOCK_ELEMENTS = 1 << 17
_MIN_BLOCK_ROWS = 16
_SQRT_12 = np.float32(math.sqrt(12))


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
