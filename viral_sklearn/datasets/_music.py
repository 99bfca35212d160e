"""The instruments of the generated songs: scales, wavetables, sections, drums, rendering, writing.

Both song forms (the short one of :mod:`._synthetic`, the full-length pop form
of :mod:`._pop`) build their songs from these pieces, so neither imports the
other's generator.
"""

from __future__ import annotations

import numpy as np

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)


_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
#: chorus progressions, as 0-based scale degrees (I-V-vi-IV and friends)
_CHORUS_PROGRESSIONS = (
    (0, 4, 5, 3),
    (5, 3, 0, 4),
    (0, 5, 3, 4),
    (3, 0, 4, 5),
    (0, 3, 5, 4),
    (5, 4, 3, 4),
    (0, 2, 3, 4),
)


_TABLE_N = 4096
_FADE_S = 0.004  # fade at every section edge (no clicks)


_PEAK = 0.89  # peak level after normalisation (MP3 overshoot stays below 1)


def _wavetable(harmonics: dict) -> np.ndarray:
    ph = np.arange(_TABLE_N) * (2 * np.pi / _TABLE_N)
    w = sum(a * np.sin(k * ph) for k, a in harmonics.items())
    return (w / np.abs(w).max()).astype(np.float32)


_TABLES = {
    "pad": _wavetable({k: 1.0 / k for k in range(1, 7)}),  # soft saw
    "lead": _wavetable({1: 1.0, 3: 1 / 9, 5: 1 / 25, 7: 1 / 49}),  # triangle
    "hook": _wavetable({1: 1.0, 3: 1 / 3, 5: 1 / 5}),  # hollow square
    "bass": _wavetable({1: 1.0, 2: 0.35}),
}


def _midi_hz(m: float) -> float:
    return 440.0 * 2.0 ** ((m - 69) / 12.0)


class _Section:
    """A stereo buffer being filled with notes and drum hits."""

    def __init__(self, n: int, sr: int, tables: dict | None = None):
        self.sr = sr
        self.buf = np.zeros((2, n), dtype=np.float32)
        self.tables = _TABLES if tables is None else tables

    def note(self, start, dur, midi, table, amp, pan, *, attack=0.01, release=0.05, decay=None):
        sr, n_total = self.sr, self.buf.shape[1]
        i0 = int(round(start * sr))
        n = min(int(round(dur * sr)), n_total - i0)
        if n <= 0 or i0 < 0:
            return
        # phase in float64 (float32 loses the table index on long, high notes)
        idx = (np.arange(n) * (_midi_hz(midi) * _TABLE_N / sr)).astype(np.int64) & (_TABLE_N - 1)
        t = np.arange(n, dtype=np.float32)
        env = np.minimum(1.0, t / max(attack * sr, 1.0))
        env *= np.minimum(1.0, (n - t) / max(release * sr, 1.0))
        if decay is not None:
            env *= np.exp(-t / np.float32(decay * sr))
        v = self.tables[table][idx] * env * np.float32(amp)
        self.buf[0, i0 : i0 + n] += np.float32(pan[0]) * v
        self.buf[1, i0 : i0 + n] += np.float32(pan[1]) * v

    def hits(self, sample, times, amp, pan):
        """Place a drum sample at each onset (a loop over hits, not samples)."""
        sr, n_total = self.sr, self.buf.shape[1]
        v0 = sample * np.float32(amp)
        for t in times:
            i0 = int(round(t * sr))
            n = min(len(v0), n_total - i0)
            if n <= 0:
                continue
            self.buf[0, i0 : i0 + n] += np.float32(pan[0]) * v0[:n]
            self.buf[1, i0 : i0 + n] += np.float32(pan[1]) * v0[:n]

    def finish(self) -> np.ndarray:
        f = min(int(_FADE_S * self.sr), self.buf.shape[1] // 2)
        if f > 0:
            ramp = np.linspace(0.0, 1.0, f, dtype=np.float32)
            self.buf[:, :f] *= ramp
            self.buf[:, -f:] *= ramp[::-1]
        return self.buf


def _drum_kit(rng: np.random.Generator, sr: int) -> dict:
    """One-shot drum samples, rendered once per song (like a sampler would)."""
    from scipy.signal import butter, sosfilt

    def noise(dur):
        return rng.standard_normal(int(dur * sr)).astype(np.float32)

    t = np.arange(int(0.25 * sr), dtype=np.float32) / sr
    f = 48.0 + 95.0 * np.exp(-t / 0.03)
    kick = np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.09)

    t = np.arange(int(0.2 * sr), dtype=np.float32) / sr
    sn = sosfilt(butter(2, [1200, 4500], "bandpass", fs=sr, output="sos"), noise(0.2))
    snare = 0.8 * sn / np.abs(sn).max() * np.exp(-t / 0.05) + 0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.04)

    t = np.arange(int(0.05 * sr), dtype=np.float32) / sr
    hh = sosfilt(butter(2, 7000, "highpass", fs=sr, output="sos"), noise(0.05))
    hat = hh / np.abs(hh).max() * np.exp(-t / 0.012)

    # The hook's shaker: a bright, longer noise burst in 4.5-9 kHz.
    t = np.arange(int(0.09 * sr), dtype=np.float32) / sr
    sh = sosfilt(butter(3, [4500, 9000], "bandpass", fs=sr, output="sos"), noise(0.09))
    shaker = sh / np.abs(sh).max() * np.minimum(1.0, t / 0.003) * np.exp(-t / 0.028)
    return {k: np.asarray(v, dtype=np.float32) for k, v in
            {"kick": kick, "snare": snare, "hat": hat, "shaker": shaker}.items()}


def _triad(key: int, scale, degree: int, octave_base: int = 48) -> list[int]:
    """MIDI notes (root position) of the diatonic triad on a 0-based degree."""
    notes = []
    for step in (0, 2, 4):
        d = degree + step
        notes.append(octave_base + key + scale[d % 7] + 12 * (d // 7))
    root = notes[0]
    while root - octave_base >= 12:  # keep roots within one octave
        notes = [m - 12 for m in notes]
        root = notes[0]
    return notes


def _progression_timeline(degrees, chord_beats, length, beat, key, scale):
    """Cycle ``degrees`` (one chord per ``chord_beats`` beats) over ``length`` s."""
    out = []
    t, i = 0.0, 0
    dur = chord_beats * beat
    while t < length - 1e-9:
        out.append((t, min(t + dur, length), _triad(key, scale, degrees[i % len(degrees)])))
        t += dur
        i += 1
    return out


def _render_harmony(sec: _Section, timeline, amp_pad=0.09, amp_bass=0.22, beat=None, bass_pulse=True):
    for s, e, chord in timeline:
        for j, m in enumerate(chord):
            pan = (0.95, 0.55) if j % 2 == 0 else (0.55, 0.95)
            sec.note(s, e - s, m, "pad", amp_pad, pan, attack=0.03, release=0.06)
        root = chord[0] - 12
        if bass_pulse and beat is not None:
            k = 0
            while s + k * beat < e - 1e-9:
                sec.note(s + k * beat, min(beat, e - s - k * beat), root, "bass", amp_bass, (0.8, 0.8),
                         attack=0.005, release=0.03, decay=0.35)
                k += 1
        else:
            sec.note(s, e - s, root, "bass", amp_bass * 0.7, (0.8, 0.8), attack=0.05, release=0.1)


def _render_drums(sec: _Section, kit, length, beat, *, style, hats, gain=1.0):
    n_beats = int(np.floor(length / beat + 1e-9))
    beats = np.arange(n_beats) * beat
    if style == "four":  # four on the floor
        kicks = beats
        snares = beats[1::2]
    elif style == "half":  # bridge: half time
        kicks = beats[0::4]
        snares = beats[2::4]
    else:  # verse: 1 and 3, plus the "and" of 4 every other bar
        kicks = np.concatenate([beats[0::2], beats[3::8] + beat / 2])
        snares = beats[1::2]
    sec.hits(kit["kick"], kicks, 0.55 * gain, (0.8, 0.8))
    sec.hits(kit["snare"], snares, 0.28 * gain, (0.75, 0.85))
    if hats:
        sec.hits(kit["hat"], np.arange(2 * n_beats) * (beat / 2), 0.10, (0.9, 0.6))


def _render_melody(sec: _Section, notes):
    for s, d, m in notes:
        sec.note(s, d, m, "lead", 0.20, (0.85, 0.7), attack=0.01, release=0.04, decay=0.6)


def _render_hook(sec: _Section, kit, length, beat, notes):
    """The class signal: a 16th-note shaker and the melody doubled an octave up."""
    n_beats = int(np.floor(length / beat + 1e-9))
    sixteenths = np.arange(4 * n_beats) * (beat / 4)
    accented = np.arange(len(sixteenths)) % 4 == 2  # the "and"s
    sec.hits(kit["shaker"], sixteenths[accented], 0.30, (0.55, 0.95))
    sec.hits(kit["shaker"], sixteenths[~accented], 0.30 * 0.55, (0.55, 0.95))
    for s, d, m in notes:  # bright, plucked
        sec.note(s, d, m + 12, "hook", 0.11, (0.6, 0.9), attack=0.003, release=0.03, decay=0.25)


def _finished_song(audio: np.ndarray, sr: int, *, chorus_times: list, tempo: float, key: int, minor: bool,
                   sections: list, verse_hooks: list, **extra) -> tuple[np.ndarray, int, dict]:
    """A rendered (channels, samples) song as (samples, channels) with its truth row
    (the columns every form records, then ``extra``)."""
    truth = {
        "duration": audio.shape[1] / sr,
        "sample_rate": sr,
        "chorus_times": chorus_times,
        "n_choruses": len(chorus_times),
        "tempo": tempo,
        "key": f"{_NOTE_NAMES[key]} {'minor' if minor else 'major'}",
        "sections": sections,
        "verse_hooks": verse_hooks,
        **extra,
    }
    return np.ascontiguousarray(audio.T), sr, truth


#: frames per write: libsndfile's Vorbis encoder crashes on one long write
#: (a 3-minute stereo song at 44.1 kHz), never on blocks
_WRITE_BLOCK = 1 << 16


def write_audio_file(path: str, audio: np.ndarray, sr: int, sf_format: str, subtype: str) -> None:
    """Write ``(n, channels)`` samples with libsndfile, by blocks of 65536 frames."""
    import soundfile as sf

    with sf.SoundFile(path, "w", sr, audio.shape[1], format=sf_format, subtype=subtype) as fh:
        for i in range(0, audio.shape[0], _WRITE_BLOCK):
            fh.write(audio[i : i + _WRITE_BLOCK])
