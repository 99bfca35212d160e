"""pychorus's chroma (``pychorus.helpers.create_chroma``), computed in float32 by blocks.

The same chroma as pychorus's (to float32 rounding at 22050 Hz), at about a
quarter of the cost: one blocked STFT pass, the tuning estimated from
piptrack's peaks alone, librosa's chroma filter bank.  The structure method's
features (:mod:`._features`) reuse the blocked power spectrogram.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings

import numpy as np
from scipy import fft as sfft

__all__ = ["chroma_features", "chroma_n_fft", "tame_loud_audio"]

#: pitch classes of a chroma
N_PITCH_CLASSES = 12
#: pychorus 0.1's FFT size (pychorus/constants.py)
N_FFT = 2**14
#: librosa.load's default rate, at which pychorus analyses every song
PYCHORUS_SAMPLE_RATE = 22050
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


def _power_blocks(y: np.ndarray, n_fft: int, out: np.ndarray | None = None, *, first: int = 0,
                  stop: int | None = None, base: int = 0):
    """The power spectrogram ``|stft(y, n_fft)|**2`` (Hann window, centred with
    zero padding, hop ``n_fft // 4``), frames first: yields arrays of shape
    ``(frames, 1 + n_fft // 2)`` for consecutive
    blocks of ``_STFT_BLOCK_FRAMES`` frames, float32.  With ``out`` (shape
    ``(n_frames, 1 + n_fft // 2)``) the blocks are written into it and the
    yielded arrays are its rows.

    While a song is still being decoded (``_features.FeatureStream``), ``y`` is
    the part of it from sample ``base`` on, and only the frames ``first`` (a
    multiple of ``_STFT_BLOCK_FRAMES``) to ``stop`` whose samples ``y`` holds are
    asked for: each block is then computed from the same samples, in the same
    shapes, as from the whole song."""
    hop = n_fft // 4
    pad = n_fft // 2
    n_frames = _n_frames(base + y.size, n_fft) if stop is None else stop
    window = _hann(n_fft)
    for f0 in range(first, n_frames, _STFT_BLOCK_FRAMES):
        f1 = min(f0 + _STFT_BLOCK_FRAMES, n_frames)
        # samples of the centred (zero-padded) signal that frames f0..f1-1 cover
        a, b = f0 * hop - pad - base, (f1 - 1) * hop - pad + n_fft - base
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
