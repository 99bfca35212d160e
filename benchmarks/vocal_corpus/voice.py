"""A sung lead: espeak-ng syllables, sung on the melody's pitches.

espeak-ng speaks; it does not sing.  So each syllable is spoken once
(:func:`syllable_bank`), and what carries the words, its spectral envelope
over time (cepstrally smoothed, so espeak's own pitch is gone) and how noisy
each moment is (spectral flatness: the consonants), is laid on a source that
has the melody's pitch: a band-limited sawtooth with vibrato for the voiced
part and white noise for the unvoiced part (:func:`sing`), as a channel
vocoder does.  Each note gets one syllable: its onset (the consonant) at
speaking speed, the rest (the vowel) stretched over the note.

So the voice repeats exactly what the song's text repeats: a chorus sung to
the same syllables every time sounds the same every time; a verse sung to the
same melody with other syllables has the same pitches and another timbre.

Needs the ``espeak-ng`` program (Debian package ``espeak-ng``).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np

__all__ = ["SYLLABLES", "syllable_bank", "sing"]

#: the syllables the lyrics are drawn from
SYLLABLES = (
    "la", "na", "mi", "do", "ka", "so", "ri", "yu", "te", "bo", "lo", "ne", "ma", "di", "ko", "sa", "ru",
    "ye", "ta", "be", "li", "no", "mo", "da", "ki", "se", "ro", "wa", "pi", "fa", "hey", "oh", "love",
    "you", "me", "night", "day", "sky", "fire", "heart", "shine", "go", "stay", "run", "home", "baby",
)
N_FFT, HOP = 1024, 256
_LIFTER = 30          # cepstral coefficients kept: the envelope, not espeak's harmonics
_CONSONANT_FRAMES = 6  # ~70 ms at 22050 Hz sung at speaking speed


def _espeak(text: str, path: str) -> None:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    subprocess.run([exe, "-v", "en-us", "-s", "160", "-w", path, text], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _envelope(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cepstrally smoothed magnitude envelope ``(frames, bins)`` and flatness ``(frames,)``."""
    import librosa

    spec = np.abs(librosa.stft(y.astype(np.float32), n_fft=N_FFT, hop_length=HOP)).T + 1e-6
    cep = np.fft.irfft(np.log(spec), axis=1)
    cep[:, _LIFTER:-_LIFTER] = 0.0
    env = np.exp(np.fft.rfft(cep, axis=1).real).astype(np.float32)
    power = spec**2
    flat = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
    return env, np.clip(flat * 4.0, 0.0, 1.0).astype(np.float32)


def syllable_bank(cache_dir: str, rate: int = 22050) -> dict:
    """``syllable -> (envelope (frames, bins), flatness (frames,))``, spoken once into ``cache_dir``."""
    import librosa
    import soundfile as sf

    os.makedirs(cache_dir, exist_ok=True)
    bank = {}
    for syl in SYLLABLES:
        path = os.path.join(cache_dir, f"{syl}.wav")
        if not os.path.exists(path):
            _espeak(syl, path + ".tmp.wav")
            os.replace(path + ".tmp.wav", path)
        y, sr = sf.read(path, dtype="float32")
        if sr != rate:
            y = librosa.resample(y, orig_sr=sr, target_sr=rate)
        frame = np.sqrt(np.convolve(y**2, np.ones(256) / 256, mode="same"))
        loud = np.flatnonzero(frame > 0.05 * frame.max())
        y = y[max(loud[0] - 64, 0) : loud[-1] + 64]
        env, flat = _envelope(y)
        bank[syl] = (env / env.max(), flat)
    return bank


def _saw(f0: np.ndarray, rate: int) -> np.ndarray:
    """Band-limited sawtooth (polyBLEP) following ``f0`` (Hz per sample; 0 = silent)."""
    dt = f0 / rate
    phase = np.cumsum(dt) % 1.0
    out = 2.0 * phase - 1.0
    dts = np.maximum(dt, 1e-9)
    lo = phase < dts
    t = phase[lo] / dts[lo]
    out[lo] -= t + t - t * t - 1.0
    hi = phase > 1.0 - dts
    t = (phase[hi] - 1.0) / dts[hi]
    out[hi] -= t * t + t + t + 1.0
    return np.where(f0 > 0, out, 0.0)


def _stretch_index(n_note: int, n_syl: int) -> np.ndarray:
    """Which syllable frame each of a note's frames shows: onset 1:1, the rest stretched."""
    head = min(_CONSONANT_FRAMES, n_syl // 3, n_note)
    rest = n_note - head
    tail = np.linspace(head, n_syl - 1, rest) if rest > 0 else np.zeros(0)
    return np.concatenate([np.arange(head), tail]).astype(int)


def sing(notes, syllables, bank: dict, n_samples: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """The sung melody, ``(n_samples,)`` float32, peak-free (the caller sets the level).

    Parameters
    ----------
    notes : list of (float, float, float)
        ``(start s, end s, MIDI pitch)``, not overlapping (a later note cuts an earlier one).
    syllables : list of str
        One per note, keys of ``bank``.
    bank : dict
        From :func:`syllable_bank`.
    """
    import librosa

    f0 = np.zeros(n_samples)
    n_frames = 1 + n_samples // HOP
    env = np.zeros((n_frames, N_FFT // 2 + 1), np.float32)
    flat = np.zeros(n_frames, np.float32)
    order = sorted(range(len(notes)), key=lambda i: notes[i][0])
    for j, i in enumerate(order):
        start, end, pitch = notes[i]
        if j + 1 < len(order):
            end = min(end, notes[order[j + 1]][0])
        a, b = int(start * rate), min(int(end * rate), n_samples)
        if b - a < HOP:
            continue
        t = np.arange(b - a) / rate
        vibrato = 0.25 * np.sin(2 * np.pi * 5.5 * t + rng.uniform(0, 6.28)) * np.clip((t - 0.15) / 0.2, 0, 1)
        f0[a:b] = 440.0 * 2.0 ** ((pitch + vibrato - 69) / 12)
        s_env, s_flat = bank[syllables[i]]
        fa, fb = a // HOP, min(b // HOP, n_frames)
        idx = _stretch_index(fb - fa, s_env.shape[0])
        fade = np.minimum(1.0, np.arange(fb - fa, 0, -1) / 3.0)[:, None]  # 3-frame release
        env[fa:fb] = s_env[idx] * fade
        flat[fa:fb] = s_flat[idx]
    voiced = librosa.stft(_saw(f0, rate).astype(np.float32), n_fft=N_FFT, hop_length=HOP).T
    noise = librosa.stft(rng.standard_normal(n_samples).astype(np.float32) * 0.3, n_fft=N_FFT,
                         hop_length=HOP).T
    m = min(voiced.shape[0], n_frames)
    spec = env[:m] * (voiced[:m] * (1.0 - flat[:m, None]) + noise[:m] * flat[:m, None])
    y = librosa.istft(spec.T, hop_length=HOP, n_fft=N_FFT, length=n_samples)
    return y.astype(np.float32)
