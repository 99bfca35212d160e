"""Songs and encodings the tests and the benchmarks share (private, like ``sklearn.utils._testing``).

* :func:`chord_song`: a seeded mono song of chords whose chorus progression
  repeats, the material pychorus's algorithm is compared on;
* :func:`write_encodings`: one recording in the seven versions the codec checks
  decode (WAV 44.1 kHz, MP3, FLAC, Ogg Vorbis, M4A/AAC where FFmpeg is installed,
  WAV 48 kHz, mono WAV 16 kHz).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np

from ._music import write_audio_file

__all__ = ["ENCODINGS", "chord_song", "write_encodings"]

#: the versions :func:`write_encodings` writes, in order
ENCODINGS = ("wav 44.1 kHz", "mp3", "flac", "ogg", "m4a", "wav 48 kHz", "mono 16 kHz")


def chord_song(seed: int, *, seconds: tuple[float, float] = (40.0, 90.0), sr: int = 22050) -> np.ndarray:
    """A synthetic mono float32 song, seeded.

    Chords (4 harmonic notes, 1.2-2.2 s each): distinct verses of random chords,
    and a chorus (a 4-chord progression played twice) repeated 2-4 times at
    random positions between them; then noise.

    Parameters
    ----------
    seed : int
    seconds : (float, float), default=(40.0, 90.0)
        Range the song's target length is drawn from (in whole chords; a song
        is longer when its chorus occurrences need more).
    sr : int, default=22050

    Returns
    -------
    np.ndarray [shape=(n_samples,), dtype=float32]

    Examples
    --------
    >>> y = chord_song(0, sr=8000)
    >>> y.dtype, y.ndim, y.size / 8000 >= 40
    (dtype('float32'), 1, True)
    """
    rng = np.random.default_rng(seed)
    chord_dur = rng.uniform(1.2, 2.2)
    target = rng.uniform(*seconds)

    def progression(k):
        return [(int(rng.integers(0, 12)), bool(rng.integers(0, 2))) for _ in range(k)]

    chorus = progression(4) * 2
    n_chorus = int(rng.integers(2, 5))
    free = max(int(target / chord_dur) - n_chorus * len(chorus), n_chorus + 1)
    cuts = np.sort(rng.choice(np.arange(1, free), size=n_chorus, replace=False))
    verse_lengths = np.diff(np.concatenate([[0], cuts, [free]]))
    sequence = []
    for i, length in enumerate(verse_lengths):
        sequence += progression(int(length))
        if i < n_chorus:
            sequence += chorus
    t = np.arange(int(chord_dur * sr)) / sr
    envelope = np.clip(np.minimum(t / 0.02, (chord_dur - t) / 0.05), 0, 1)
    pieces = []
    for root, minor in sequence:
        tone = np.zeros_like(t)
        for pitch in (root, root + (3 if minor else 4), root + 7, root + 12):
            f = 130.81 * 2 ** (pitch / 12)
            for harmonic, amp in ((1, 1.0), (2, 0.5), (3, 0.25)):
                tone += amp * np.sin(2 * np.pi * f * harmonic * t + rng.uniform(0, 2 * np.pi))
        pieces.append(tone * envelope)
    y = np.concatenate(pieces)
    y = 0.5 * y / np.abs(y).max() + rng.normal(0, 0.02, y.shape)
    return y.astype(np.float32)


def write_encodings(path: str | os.PathLike, folder: str | os.PathLike) -> dict[str, str]:
    """The recording at ``path`` (a WAV file) in every version of :data:`ENCODINGS`.

    Files are written into ``folder`` as ``<stem>.mp3``, ``<stem>.flac``,
    ``<stem>.ogg``, ``<stem>.m4a`` (only where an ``ffmpeg`` program is
    installed), ``<stem>_48k.wav`` and ``<stem>_mono16k.wav``; existing ones are
    reused.

    Returns
    -------
    dict of str -> str
        Version name -> file path; ``"wav 44.1 kHz"`` is ``path`` itself.
    """
    import soundfile as sf
    import soxr

    path = os.fspath(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    folder = os.fspath(folder)
    targets = {
        "mp3": os.path.join(folder, f"{stem}.mp3"), "flac": os.path.join(folder, f"{stem}.flac"),
        "ogg": os.path.join(folder, f"{stem}.ogg"), "wav 48 kHz": os.path.join(folder, f"{stem}_48k.wav"),
        "mono 16 kHz": os.path.join(folder, f"{stem}_mono16k.wav"),
    }
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg:
        targets["m4a"] = os.path.join(folder, f"{stem}.m4a")
    if not all(os.path.exists(p) for p in targets.values()):
        data, rate = sf.read(path, dtype="float32", always_2d=True)
        for fmt, subtype in (("mp3", "MPEG_LAYER_III"), ("flac", "PCM_16"), ("ogg", "VORBIS")):
            write_audio_file(targets[fmt], data, rate, fmt.upper(), subtype)
        write_audio_file(targets["wav 48 kHz"], soxr.resample(data, rate, 48000), 48000, "WAV", "PCM_16")
        write_audio_file(targets["mono 16 kHz"], soxr.resample(data.mean(axis=1), rate, 16000)[:, None], 16000,
                         "WAV", "PCM_16")
        if ffmpeg:
            subprocess.run([ffmpeg, "-v", "error", "-y", "-i", path, "-c:a", "aac", "-b:a", "160k", targets["m4a"]],
                           check=True)
    return {"wav 44.1 kHz": path, **targets}
