"""Frame features shared by the structure-aware chorus methods.

One pass of short-time Fourier transforms over the song, by blocks of frames
(bounded memory for any length), gives per frame: a chroma vector (pitch
classes), a log-mel spectrum (timbre), the frame's energy and a spectral-flux
onset strength.  Frames are then pooled into *steps* of about half a second,
the grid on which self-similarity is computed; the onset strength stays at the
frame rate, to place a clip on a musical boundary.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import math

import numpy as np
from scipy import fft as sfft

from ._chroma import _chroma_bank, _n_frames as _n_frames_of, _positive_int, _power_blocks, tame_loud_audio

__all__ = ["FeatureStream", "SongFeatures", "song_features", "STEP_SECONDS"]

#: target length of one analysis step, in seconds
STEP_SECONDS = 0.5
#: target STFT window, in seconds (4096 samples at 11025 Hz)
_WINDOW_SECONDS = 0.37
_N_MELS = 40
_N_MFCC = 13
_MEL_FMIN = 40.0
#: mel bands above this count towards a step's brightness
_BRIGHT_HZ = 1500.0
#: power floor of the log-mel spectrum (relative to full scale, -100 dB)
_POWER_FLOOR = 1e-10
#: the FeatureStream whose song song_features may be asked for (FeatureStream.use)
_STREAMED: contextvars.ContextVar = contextvars.ContextVar("viral_sklearn_feature_stream", default=None)


@dataclasses.dataclass(frozen=True, eq=False)
class SongFeatures:
    """A song's features on a grid of steps (about 0.5 s each).

    Attributes
    ----------
    chroma : np.ndarray [shape=(n_steps, 12), dtype=float32]
        Pitch-class energy of each step (not normalised; all zero in silence).
    mfcc : np.ndarray [shape=(n_steps, 13), dtype=float32]
        Mel-frequency cepstral coefficients 1-13 of each step's mean log-mel
        spectrum (coefficient 0, the level, is ``loudness``).
    loudness : np.ndarray [shape=(n_steps,), dtype=float32]
        Mean power of each step in dB (full scale = 0 dB, floor -100 dB).
    brightness : np.ndarray [shape=(n_steps,), dtype=float32]
        Fraction of each step's mel energy above 1.5 kHz.
    onset : np.ndarray [shape=(n_frames,), dtype=float32]
        Spectral-flux onset strength of each STFT frame (log-mel increase).
    step : float
        Seconds per step (``frames_per_step * hop``).
    hop : float
        Seconds per STFT frame (frame ``i`` is centred at ``i * hop``).
    duration : float
        Length of the song in seconds.
    """

    chroma: np.ndarray
    mfcc: np.ndarray
    loudness: np.ndarray
    brightness: np.ndarray
    onset: np.ndarray
    step: float
    hop: float
    duration: float

    @property
    def n_steps(self) -> int:
        return int(self.chroma.shape[0])

    @property
    def frames_per_step(self) -> int:
        return int(round(self.step / self.hop))


def feature_n_fft(sr: int) -> int:
    """STFT size for ``sr``: the power of two nearest a 0.37 s window.

    Examples
    --------
    >>> feature_n_fft(11025), feature_n_fft(22050), feature_n_fft(44100)
    (4096, 8192, 16384)
    """
    sr = _positive_int("sr", sr)
    return 1 << max(6, round(math.log2(_WINDOW_SECONDS * sr)))


@functools.lru_cache(maxsize=16)
def _mel_bank(sr: int, n_fft: int) -> np.ndarray:
    """librosa's mel filter bank, transposed to ``(1 + n_fft // 2, n_mels)``, float32."""
    import librosa

    bank = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=_N_MELS, fmin=_MEL_FMIN, fmax=sr / 2.0)
    bank = np.ascontiguousarray(bank.T, dtype=np.float32)
    bank.flags.writeable = False
    return bank


@functools.lru_cache(maxsize=16)
def _bright_bands(sr: int) -> np.ndarray:
    import librosa

    centres = librosa.mel_frequencies(n_mels=_N_MELS + 2, fmin=_MEL_FMIN, fmax=sr / 2.0)[1:-1]
    return centres >= _BRIGHT_HZ


class _Frames:
    """Chroma and mel power of STFT frames, block by block: what ``song_features`` pools."""

    def __init__(self, sr: int):
        n_fft = feature_n_fft(sr)
        self.cbank, self.mbank = _chroma_bank(sr, n_fft, 0.0), _mel_bank(sr, n_fft)
        self.chroma: list[np.ndarray] = []
        self.mel: list[np.ndarray] = []

    def add(self, power: np.ndarray) -> None:
        self.chroma.append(power @ self.cbank)
        self.mel.append(power @ self.mbank)


class FeatureStream:
    """The frames of :func:`song_features` computed while a song is decoded.

    The decoder :meth:`push`-es each resampled block; every block of STFT frames
    whose samples have all arrived is computed then (on a second core, beside
    the decoder's read-ahead), from the same samples and in the same shapes as
    :func:`song_features` computes it.  Inside :meth:`use`, ``song_features(y, sr)``
    of the song so decoded (the same array) starts from those frames: the same
    numbers, bit for bit, as without the stream.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 11025
    >>> y = np.sin(np.arange(30 * sr) / 7.0).astype(np.float32)
    >>> stream = FeatureStream(sr)
    >>> for block in np.array_split(y, 5):
    ...     stream.push(block)
    >>> with stream.use():
    ...     streamed = song_features(y, sr)
    >>> bool(np.array_equal(streamed.mfcc, song_features(y, sr).mfcc))
    True
    """

    def __init__(self, sr: int):
        self.sr = _positive_int("sr", sr)
        self.n_fft = feature_n_fft(self.sr)
        self._frames = _Frames(self.sr)
        self._tail = np.empty(0, dtype=np.float32)  # the samples from _base on
        self._base = 0
        self._received = 0
        self._next = 0  # first frame not computed yet
        self.peak = 0.0

    def push(self, block: np.ndarray) -> None:
        """The next samples of the song (float32, mono, at ``sr``)."""
        from ._chroma import _MAX_CHROMA_PEAK, _STFT_BLOCK_FRAMES

        block = np.asarray(block, dtype=np.float32)
        if block.size:
            self.peak = max(self.peak, float(block.max()), -float(block.min()))
        self._tail = np.concatenate([self._tail, block])
        self._received += block.size
        if self.peak > _MAX_CHROMA_PEAK:
            return  # the song is scaled first (tame_loud_audio): computed whole, later
        hop, pad = self.n_fft // 4, self.n_fft // 2
        # full blocks of frames whose last sample has arrived
        ready = (self._received + pad - self.n_fft) // hop + 1
        stop = self._next + (max(ready - self._next, 0) // _STFT_BLOCK_FRAMES) * _STFT_BLOCK_FRAMES
        if stop <= self._next:
            return
        for power in _power_blocks(self._tail, self.n_fft, first=self._next, stop=stop, base=self._base):
            self._frames.add(power)
        self._next = stop
        keep_from = max(stop * hop - pad, 0)  # the first sample of the next block
        self._tail = self._tail[keep_from - self._base :].copy()
        self._base = keep_from

    def frames(self, y: np.ndarray, sr: int) -> "_Frames | None":
        """The frames of ``y`` when it is the song streamed (else None): the
        streamed blocks, and the last ones computed from ``y``."""
        if self._frames is None or sr != self.sr or y.size != self._received:
            return None
        if self._base + self._tail.size != y.size or not np.array_equal(self._tail, y[self._base :]):
            return None
        for power in _power_blocks(y, self.n_fft, first=self._next):
            self._frames.add(power)
        self._next = _n_frames_of(y.size, self.n_fft)
        frames, self._frames = self._frames, None
        return frames

    @contextlib.contextmanager
    def use(self):
        """Inside, :func:`song_features` of the streamed song uses the streamed frames."""
        token = _STREAMED.set(self)
        try:
            yield self
        finally:
            _STREAMED.reset(token)


def song_features(y: np.ndarray, sr: int) -> SongFeatures:
    """Chroma, MFCC, loudness, brightness and onset strength of a mono song.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono audio (any float or integer dtype; cast to float32), finite.
    sr : int
        Its sample rate.  The STFT window is about 0.37 s at any rate
        (:func:`feature_n_fft`), the hop a quarter of it.

    Returns
    -------
    SongFeatures

    Raises
    ------
    ValueError
        ``y`` not 1-D, empty or not finite; ``sr`` not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 11025
    >>> t = np.arange(10 * sr) / sr
    >>> f = song_features(np.sin(2 * np.pi * 440 * t).astype(np.float32), sr)
    >>> f.n_steps, round(f.step, 3), int(np.argmax(f.chroma.sum(axis=0)))  # A is pitch class 9
    (21, 0.464, 9)
    """
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ValueError(f"y must be non-empty mono audio of shape (n_samples,), got shape {arr.shape}")
    sr = _positive_int("sr", sr)
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not (np.isfinite(arr.min()) and np.isfinite(arr.max())):  # NaN propagates; no mask of a long song
        raise ValueError("y contains non-finite samples (NaN or Inf)")
    arr = tame_loud_audio(arr)  # loudness is relative to the song: the scale does not matter
    n_fft = feature_n_fft(sr)
    hop_s = (n_fft // 4) / sr
    per_step = max(1, int(round(STEP_SECONDS / hop_s)))
    streamed = _STREAMED.get()
    frames = streamed.frames(arr, sr) if streamed is not None else None
    if frames is None:
        frames = _Frames(sr)
        for power in _power_blocks(arr, n_fft):
            frames.add(power)
    chroma = np.concatenate(frames.chroma)
    mel = np.concatenate(frames.mel)
    n_frames = mel.shape[0]
    # spectral flux onset strength on the frames' log-mel
    logmel = np.log10(np.maximum(mel, _POWER_FLOOR))
    onset = np.zeros(n_frames, dtype=np.float32)
    onset[1:] = np.maximum(np.diff(logmel, axis=0), 0).sum(axis=1)
    # pool frames into steps (the last, partial step is dropped unless it is the only one)
    n_steps = max(1, n_frames // per_step)
    used = min(n_frames, n_steps * per_step)
    pad = n_steps * per_step - used

    def pool(a):
        if pad:
            a = np.concatenate([a[:used], np.repeat(a[used - 1 : used], pad, axis=0)])
        return a[: n_steps * per_step].reshape(n_steps, per_step, *a.shape[1:]).mean(axis=1)

    step_chroma = pool(chroma).astype(np.float32)
    step_mel = pool(mel)
    mel_db = 10.0 * np.log10(np.maximum(step_mel, _POWER_FLOOR))
    mfcc = sfft.dct(mel_db, type=2, norm="ortho", axis=1)[:, 1 : 1 + _N_MFCC].astype(np.float32)
    total = step_mel.sum(axis=1)
    loudness = (10.0 * np.log10(np.maximum(total / _N_MELS, _POWER_FLOOR))).astype(np.float32)
    bright = step_mel[:, _bright_bands(sr)].sum(axis=1) / np.maximum(total, _POWER_FLOOR)
    return SongFeatures(
        chroma=step_chroma, mfcc=mfcc, loudness=loudness, brightness=bright.astype(np.float32), onset=onset,
        step=per_step * hop_s, hop=hop_s, duration=arr.shape[0] / sr,
    )
