"""A vocal-like lead line: sung vowels with vibrato, glides and formants.

Each note is a harmonic source (the glottal pulse's falling spectrum) whose
harmonics are weighted by the resonances of a vowel (three formants), with a
vibrato that sets in after the attack, a short glide from the previous pitch,
and a breath of noise.  The vowel changes with every syllable, so the same
melody with other "lyrics" has another spectrum, as a second verse has.
"""

from __future__ import annotations

import numpy as np

__all__ = ["VOWELS", "sing"]

#: formant centre frequencies (Hz) of five vowels, an adult voice
VOWELS = {
    "a": (800.0, 1200.0, 2600.0),
    "e": (480.0, 1850.0, 2600.0),
    "i": (300.0, 2250.0, 3000.0),
    "o": (500.0, 900.0, 2450.0),
    "u": (340.0, 800.0, 2350.0),
}
_BANDWIDTHS = (90.0, 110.0, 160.0)
_FORMANT_GAINS = (1.0, 0.6, 0.25)
_MAX_HARMONIC_HZ = 5000.0
_VIBRATO_HZ = 5.6
_VIBRATO_CENTS = 35.0
_GLIDE_S = 0.045


def _vowel_weights(f0: float, vowel: str, n_harm: int) -> np.ndarray:
    k = np.arange(1, n_harm + 1, dtype=np.float64)
    f = k * f0
    w = np.zeros(n_harm)
    for fc, bw, g in zip(VOWELS[vowel], _BANDWIDTHS, _FORMANT_GAINS):
        w += g / (1.0 + ((f - fc) / bw) ** 2)
    w *= k ** -0.6  # the source's spectral tilt
    return w / w.max()


def sing(buf: np.ndarray, sr: int, notes, *, amp: float, pan=(0.8, 0.8), rng: np.random.Generator,
         jitter: float = 0.0) -> None:
    """Add a sung line to a stereo buffer in place.

    Parameters
    ----------
    buf : np.ndarray [shape=(2, n), dtype=float32]
    sr : int
    notes : sequence of (start s, duration s, midi, vowel)
    amp : float
        Peak amplitude of a note.
    pan : (float, float)
        Gains of the two channels.
    rng : numpy Generator
        Draws the breath noise and, with ``jitter``, each note's timing
        (+- ``jitter`` seconds) and level (+- 1 dB): a second take.
    jitter : float, default=0.0
    """
    n_total = buf.shape[1]
    prev_hz = None
    for start, dur, midi, vowel in notes:
        if jitter:
            start = start + float(rng.uniform(-jitter, jitter))
            level = amp * 10 ** (float(rng.uniform(-1.0, 1.0)) / 20)
        else:
            level = amp
        i0 = max(0, int(round(start * sr)))
        n = min(int(round(dur * sr)), n_total - i0)
        if n <= 16:
            continue
        hz = 440.0 * 2.0 ** ((midi - 69) / 12.0)
        t = np.arange(n) / sr
        depth = _VIBRATO_CENTS * np.clip((t - 0.12) / 0.2, 0.0, 1.0)
        cents = depth * np.sin(2 * np.pi * _VIBRATO_HZ * t)
        if prev_hz is not None and abs(np.log2(prev_hz / hz)) < 1.0:
            glide = 1200 * np.log2(prev_hz / hz) * np.clip(1 - t / _GLIDE_S, 0, 1)
            cents = cents + glide
        inst = hz * 2.0 ** (cents / 1200.0)
        phase = 2 * np.pi * np.cumsum(inst) / sr
        n_harm = max(1, int(_MAX_HARMONIC_HZ // hz))
        weights = _vowel_weights(hz, vowel, n_harm)
        wave = np.zeros(n)
        for k, w in enumerate(weights, start=1):
            if w > 0.01:
                wave += w * np.sin(k * phase)
        env = np.minimum(1.0, t / 0.03) * np.minimum(1.0, (n - np.arange(n)) / (0.06 * sr))
        wave = wave / max(np.abs(wave).max(), 1e-9)
        breath = 0.04 * rng.standard_normal(n) * env
        v = ((wave * env + breath) * level).astype(np.float32)
        buf[0, i0 : i0 + n] += np.float32(pan[0]) * v
        buf[1, i0 : i0 + n] += np.float32(pan[1]) * v
        prev_hz = hz
