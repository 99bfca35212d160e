"""A song's score to audio: the band through FluidSynth, the voice through :mod:`.voice`.

A *score* is a dict::

    {"tracks": [{"program": int, "channel": int, "notes": [(start s, end s, pitch, velocity)],
                 "controls": [(time s, controller, value)]}, ...],
     "voice": [(start s, end s, pitch)], "syllables": [str, ...], "duration": float}

The tracks are written as one MIDI file (mido) and rendered with the
``fluidsynth`` program and a General MIDI SoundFont (Debian ``fluidsynth``,
``fluid-soundfont-gm``); the voice is sung over them and the mix is written
as MP3 or FLAC.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np

__all__ = ["SOUNDFONT", "RATE", "check_tools", "render_score", "drum_notes"]

SOUNDFONT = os.environ.get("VOCAL_CORPUS_SOUNDFONT", "/usr/share/sounds/sf2/FluidR3_GM.sf2")
#: rate the songs are rendered and written at
RATE = 22050
_TICKS = 960          # per beat, at 120 beats per minute: 1920 ticks a second
_TEMPO = 500_000


def check_tools() -> None:
    """Raise ``RuntimeError`` naming what is missing to render songs."""
    missing = [p for p in ("fluidsynth", "espeak-ng") if shutil.which(p) is None]
    if not os.path.exists(SOUNDFONT):
        missing.append(f"the SoundFont {SOUNDFONT}")
    if missing:
        raise RuntimeError("cannot render the vocal corpus without " + ", ".join(missing)
                           + " (Debian: apt-get install fluidsynth fluid-soundfont-gm espeak-ng)")


def _midi(tracks):
    import mido

    mid = mido.MidiFile(ticks_per_beat=_TICKS)
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=_TEMPO, time=0)])
    mid.tracks.append(meta)
    per_second = _TICKS * 1_000_000 / _TEMPO
    for tr in tracks:
        ch = tr["channel"]
        events = [(0, 0, mido.Message("program_change", channel=ch, program=tr["program"]))]
        for t, cc, value in tr.get("controls", ()):
            events.append((round(t * per_second), 1, mido.Message("control_change", channel=ch, control=cc,
                                                                   value=int(value))))
        for start, end, pitch, vel in tr["notes"]:
            if not 0 <= pitch <= 127 or end <= start:
                continue
            a, b = round(start * per_second), max(round(end * per_second), round(start * per_second) + 1)
            events.append((a, 2, mido.Message("note_on", channel=ch, note=int(pitch), velocity=int(np.clip(vel, 1, 127)))))
            events.append((b, 0, mido.Message("note_off", channel=ch, note=int(pitch), velocity=0)))
        events.sort(key=lambda e: (e[0], e[1]))
        track, now = mido.MidiTrack(), 0
        for tick, _, msg in events:
            track.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    return mid


def _fluidsynth(tracks, n_samples: int) -> np.ndarray:
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="vocal_corpus_") as tmp:
        mid_path, wav_path = os.path.join(tmp, "band.mid"), os.path.join(tmp, "band.wav")
        _midi(tracks).save(mid_path)
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(RATE), "-F", wav_path, SOUNDFONT, mid_path],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        y, sr = sf.read(wav_path, dtype="float32")
    if sr != RATE:
        raise RuntimeError(f"fluidsynth wrote {sr} Hz, asked for {RATE}")
    y = y.mean(axis=1) if y.ndim == 2 else y
    out = np.zeros(n_samples, np.float32)
    out[: min(n_samples, y.shape[0])] = y[:n_samples]
    return out


def _rms(y: np.ndarray) -> float:
    frames = y[: y.shape[0] // 2048 * 2048].reshape(-1, 2048)
    r = np.sqrt((frames**2).mean(axis=1))
    loud = r[r > 0.1 * r.max()] if r.max() > 0 else r
    return float(np.sqrt((loud**2).mean())) if loud.size else 0.0


def render_score(score: dict, path: str, bank: dict, rng: np.random.Generator, *, voice_db: float = 0.0) -> float:
    """Render ``score`` to ``path`` (``.mp3`` or ``.flac``); returns the duration in seconds.

    ``voice_db``: the voice's level over the band's (their loud-passage RMS).
    """
    from viral_sklearn.datasets._music import write_audio_file

    from .voice import sing

    n = int(score["duration"] * RATE)
    band = _fluidsynth(score["tracks"], n)
    voice = sing(score["voice"], score["syllables"], bank, n, RATE, rng)
    rb, rv = _rms(band), _rms(voice)
    if rv > 0:
        voice *= (rb / rv) * 10 ** (voice_db / 20)
    mix = band + voice
    mix *= 0.7 / max(float(np.abs(mix).max()), 1e-6)
    fmt = os.path.splitext(path)[1].lower().lstrip(".")
    if fmt not in ("mp3", "flac"):
        raise ValueError(f"write .mp3 or .flac, not {path!r}")
    tmp = path + ".part." + fmt
    write_audio_file(tmp, mix[:, None], RATE, fmt.upper() if fmt == "flac" else "MP3",
                     "MPEG_LAYER_III" if fmt == "mp3" else "PCM_16")
    os.replace(tmp, path)
    return n / RATE


def drum_notes(beat_times, beats_per_bar: int, *, start: float, end: float, velocity: int = 90,
               busy: bool = False) -> list:
    """A pop beat on GM drums between ``start`` and ``end`` s: kick on 1 and 3, snare on 2 and 4, hats."""
    out = []
    beats = [t for t in beat_times if start - 1e-6 <= t < end - 1e-3]
    for i, t in enumerate(beats):
        step = (beats[i + 1] - t) if i + 1 < len(beats) else (beats[i] - beats[i - 1] if i else 0.5)
        pos = i % beats_per_bar
        out.append((t, t + 0.1, 36 if pos % 2 == 0 else 38, velocity if pos % 2 == 0 else velocity - 5))
        hat = 46 if busy else 42
        out.append((t, t + 0.05, hat, velocity - 25))
        out.append((t + step / 2, t + step / 2 + 0.05, hat, velocity - 35))
    return out
