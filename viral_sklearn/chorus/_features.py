"""Frame features shared by the structure-aware chorus methods.

One pass of short-time Fourier transforms over the song, by blocks of frames
(bounded memory for any length), gives per frame: a chroma vector (pitch
classes), a log-mel spectrum (timbre), the frame's energy and a spectral-flux
onset strength.  Frames are then pooled into *steps* of about half a second,
the grid on which self-similarity is computed; the onset strength stays at the
frame rate, to place a clip on a musical boundary.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from scipy import fft as sfft

from ._chroma import _chroma_bank, _positive_int, _power_blocks, tame_loud_audio

__all__ = ["SongFeatures", "song_features", "STEP_SECONDS"]

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
    cbank = _chroma_bank(sr, n_fft, 0.0)
    mbank = _mel_bank(sr, n_fft)
    chroma_parts, mel_parts = [], []
    for power in _power_blocks(arr, n_fft):
        chroma_parts.append(power @ cbank)
        mel_parts.append(power @ mbank)
    chroma = np.concatenate(chroma_parts)
    mel = np.concatenate(mel_parts)
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
