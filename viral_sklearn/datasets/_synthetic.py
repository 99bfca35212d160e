"""make_songs: a synthetic song corpus whose class is audible in the chorus only."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import Any, Sequence

import numpy as np

__all__ = ["SongCorpus", "make_songs"]


@dataclasses.dataclass(repr=False)
class SongCorpus:
    """What :func:`make_songs` wrote.

    Attributes
    ----------
    paths : list of str
        One audio file per song, in ``id`` order.
    labels : np.ndarray of int, shape (n_songs,)
        The class of each song (1 = "viral": its chorus carries the hook).
    metadata_csv : str
        The ``metadata.csv`` written next to the songs (columns ``id``, ``label``,
        and ``artist`` with ``n_artists``).
    out_dir : str
        The folder holding the songs and ``metadata.csv``.
    truth : pandas.DataFrame
        One row per song: ``id``, ``path``, ``label``, ``duration`` (s),
        ``sample_rate`` (Hz), ``chorus_times`` (list of ``(start, end)`` seconds of
        every chorus occurrence, sorted), ``n_choruses``, ``tempo`` (BPM), ``key``
        (e.g. ``"F# minor"``), ``sections`` (list of ``(name, start, end)``) and
        ``verse_hooks`` (names of the verses that carry the decoy hook);
        ``audio_label`` (the class the audio carries: ``label`` unless label
        noise flipped it); for ``form="short"``, ``hook_gain`` (the hook's
        gain in the chorus, 0 for none); with ``n_artists``, ``artist``.
    artists : np.ndarray of str or None
        Each song's artist (with ``n_artists``): the ``groups`` of grouped
        cross-validation.
    """

    paths: list
    labels: np.ndarray
    metadata_csv: str
    out_dir: str
    truth: Any
    artists: Any = None

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        pos = int(np.sum(self.labels == 1))
        return f"SongCorpus({len(self.paths)} songs, {pos} positive, out_dir={self.out_dir!r})"


#: (format for soundfile, subtype, file extension)
_FORMATS = {
    "mp3": ("MP3", "MPEG_LAYER_III", ".mp3"),
    "wav": ("WAV", "PCM_16", ".wav"),
    "flac": ("FLAC", "PCM_16", ".flac"),
    "ogg": ("OGG", "VORBIS", ".ogg"),
}
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_MIN_RATE = 22050  # the hook's shaker lies in 4.5-9 kHz

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
#: shortest intro / verse / bridge / outro, in seconds, for choruses of 8 s or
#: more (scaled down with shorter choruses).  The outro is long enough for a
#: self-similarity detector's smoothing (~2.5 s) to see the last chorus end.
_MIN_INTRO, _MIN_VERSE, _MIN_BRIDGE, _MIN_OUTRO = 2.5, 3.0, 1.5, 3.0
#: seconds after the last chorus, when the duration allows: pychorus-style
#: detectors (2.5 s smoothing, zero-padded edges) lose a repetition that runs
#: into the last seconds of the song
_TAIL = 8.0
_TEMPO_RANGE = (90.0, 135.0)
_TEMPO_GRID = np.arange(_TEMPO_RANGE[0], _TEMPO_RANGE[1] + 0.5, 1.0)
_TABLE_N = 4096
_FADE_S = 0.004  # fade at every section edge (no clicks)
_PEAK = 0.89  # peak level after normalisation (MP3 overshoot stays below 1)
#: shortest duration accepted for form="pop" (the forms at the fastest tempo)
_POP_SHORTEST = 90.0


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


def _melody(rng, chord_times, length, beat, key, scale) -> list[tuple]:
    """An 8th-note melody over a chord timeline: list of (start, dur, midi)."""
    pool = np.array([60 + key + s + 12 * o for o in (-1, 0, 1) for s in scale])
    pool = pool[(pool >= 62) & (pool <= 81)]
    step = beat / 2
    n_steps = int(round(length / step))
    notes: list[list] = []
    prev = int(rng.choice(pool))
    for i in range(n_steps):
        t = i * step
        r = rng.random()
        if r < 0.18:  # rest
            continue
        if r < 0.40 and notes and abs(notes[-1][0] + notes[-1][1] - t) < 1e-9:
            notes[-1][1] += step  # hold
            continue
        chord = next((c for s, e, c in chord_times if s - 1e-9 <= t < e), None)
        if chord is not None and rng.random() < 0.6:
            pcs = {m % 12 for m in chord}
            cand = pool[np.isin(pool % 12, list(pcs))]
        else:
            j = int(np.argmin(np.abs(pool - prev)))
            cand = pool[max(j - 2, 0) : j + 3]
        near = cand[np.abs(cand - prev) <= 7]
        prev = int(rng.choice(near if near.size else cand))
        notes.append([t, step, prev])
    return [(s, d, m) for s, d, m in notes if s < length]


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


def _render_cue(sec: _Section, kit, length, beat, notes, timeline, rising):
    """The hook (``rising`` None) or the order cue: an arpeggio over ``timeline``, rising or falling."""
    if rising is None:
        _render_hook(sec, kit, length, beat, notes)
        return
    from ._difficulty import arpeggio

    for s, d, m in arpeggio(timeline, beat, length, rising=rising):
        sec.note(s, d, m, "hook", 0.14, (0.6, 0.9), attack=0.003, release=0.03, decay=0.25)


def _section_minimums(beat: float, n_verses: int, chorus_length: float) -> np.ndarray:
    """Shortest intro, verses, bridge (whole beats) and outro, in seconds."""
    scale = min(1.0, chorus_length / 8.0)

    def up(x):
        return max(2, np.ceil(scale * x / beat - 1e-9)) * beat

    return np.array(
        [up(_MIN_INTRO)] + [up(_MIN_VERSE)] * n_verses + [up(_MIN_BRIDGE), scale * _MIN_OUTRO]
    )


def _chorus_beats(chorus_length: float, beat: float) -> int:
    return max(4, int(round(chorus_length / beat)))


def _shortest_song(tempo: float, chorus_length: float) -> float:
    """Seconds needed by intro, two verses, bridge, outro and two choruses."""
    beat = 60.0 / tempo
    return float(_section_minimums(beat, 2, chorus_length).sum() + 2 * _chorus_beats(chorus_length, beat) * beat)


def _allocate(rng, order, duration, chorus_dur, beat, chorus_length) -> dict:
    """Seconds of each non-chorus section: whole beats, but the outro takes the rest.

    The sections after the last chorus get at least ``_TAIL`` seconds together
    when the duration allows (see ``_TAIL``); the remaining time is shared at
    random, verses getting the most.
    """
    names = [n for n in dict.fromkeys(order) if n != "chorus"]
    mins = dict(zip(["intro"] + [n for n in names if n.startswith("verse")] + ["bridge", "outro"],
                    _section_minimums(beat, sum(n.startswith("verse") for n in names), chorus_length)))
    secs = {n: float(mins[n]) for n in names}
    extra = duration - order.count("chorus") * chorus_dur - sum(secs.values())
    last = len(order) - 1 - order[::-1].index("chorus")
    tail = order[last + 1 :]
    give = min(extra, max(0.0, _TAIL - sum(secs[n] for n in tail)))
    secs["outro"] += give
    extra -= give
    weights = np.array([2.0 if n.startswith("verse") else 1.0 if n == "bridge" else 0.6 for n in names])
    for n, share in zip(names, rng.dirichlet(weights * 4)):
        secs[n] += extra * share
    for n in names:
        if n != "outro":  # the minimums are whole beats, so flooring keeps them
            secs[n] = np.floor(secs[n] / beat + 1e-9) * beat
    secs["outro"] = duration - order.count("chorus") * chorus_dur - sum(secs[n] for n in names if n != "outro")
    return secs


def _synth_song(rng: np.random.Generator, label: int, *, duration_range, chorus_length, sample_rates,
                verse_hook_rate, hook=None, artist=None, noise=None, cue_order=None) -> tuple[np.ndarray, int, dict]:
    """Render one song: (samples (n, 2) float32, sample rate, truth).

    ``hook``: ``(chorus gain, song gain)``, the hook's gain in the chorus and
    the song's own hook level (decoys and the peak normalization use it, so
    the gain is label-free); ``None`` is ``(label, 1.0)``, the default corpus.
    ``artist``: an :class:`~._difficulty.Artist` whose sound the song shares.
    ``noise``: ``(rng, dB)`` of a background hiss added after normalization.
    ``cue_order``: ``(chorus rising, decoy rising)``: the hook is the order cue
    (:func:`~._difficulty.arpeggio`) instead of the shaker and the doubled melody.
    """
    chorus_gain, song_gain = (float(label), 1.0) if hook is None else hook
    sr = int(rng.choice(sample_rates))
    duration = float(rng.uniform(*duration_range))
    if artist is None:
        tempo = float(rng.uniform(*_TEMPO_RANGE))
    else:  # the artist's tempo, give or take 4 BPM
        tempo = float(np.clip(artist.tempo + rng.uniform(-4.0, 4.0), *_TEMPO_RANGE))
    if _shortest_song(tempo, chorus_length) > duration:  # a short song: take a tempo where the form fits
        fits = [t for t in _TEMPO_GRID if _shortest_song(t, chorus_length) <= duration]
        tempo = float(rng.choice(fits))
    beat = 60.0 / tempo
    key = int(rng.integers(12))
    minor = bool(rng.random() < 0.5)
    scale = _MINOR if minor else _MAJOR
    hats = bool(rng.random() < 0.5)
    kit = _drum_kit(rng, sr)
    tables = None
    if artist is not None:  # the artist's drum kit, instruments and hi-hats
        from ._difficulty import apply_tilt

        hats, tables = artist.hats, artist.tables
        kit = _drum_kit(np.random.default_rng(artist.kit_seed), sr)

    def finish(section):
        buf = section.finish()
        return buf if artist is None else apply_tilt(buf, sr, artist.brightness)

    # ---- form: how many choruses and verses, and their order -------------------
    chorus_beats = _chorus_beats(chorus_length, beat)
    chorus_dur = chorus_beats * beat

    def room(k):
        return duration - _section_minimums(beat, k, chorus_length).sum()

    max_choruses = min(4, max(2, int((room(2) + 1e-6) // chorus_dur)))
    n_choruses = int(rng.integers(2, max_choruses + 1))
    # a third verse only where it leaves the tail after the last chorus its time
    tail_room = n_choruses * chorus_dur + max(0.0, _TAIL - min(1.0, chorus_length / 8.0) * _MIN_OUTRO)
    n_verses = 3 if (room(3) >= tail_room and rng.random() < 0.5) else 2
    # chorus slots: one after each verse, two after the bridge
    slot_section = [v for v in range(n_verses)] + [n_verses, n_verses]
    counts = np.bincount(
        np.asarray(slot_section)[rng.choice(len(slot_section), n_choruses, replace=False)],
        minlength=n_verses + 1,
    )
    order = ["intro"]
    for v in range(n_verses):
        order.append(f"verse{v + 1}")
        order += ["chorus"] * int(counts[v])
    order += ["bridge"] + ["chorus"] * int(counts[-1]) + ["outro"]

    lengths = _allocate(rng, order, duration, chorus_dur, beat, chorus_length)
    lengths["chorus"] = chorus_dur

    # ---- harmony plans ---------------------------------------------------------------
    chorus_prog = _CHORUS_PROGRESSIONS[int(rng.integers(len(_CHORUS_PROGRESSIONS)))]
    used = {tuple(chorus_prog)}
    verse_progs = {}
    for v in range(n_verses):
        while True:
            prog = [int(rng.integers(6))]
            while len(prog) < 4:
                d = int(rng.integers(6))
                if d != prog[-1]:
                    prog.append(d)
            # no rotation of the chorus's (or another verse's) progression
            rots = {tuple(prog[i:] + prog[:i]) for i in range(4)}
            if not rots & used:
                break
        used.add(tuple(prog))
        verse_progs[f"verse{v + 1}"] = prog
    verse_hooks = [v for v in verse_progs if rng.random() < verse_hook_rate]

    # ---- render each distinct section once ------------------------------------------------
    # Nothing below draws random numbers differently for the two labels: a song
    # and its other-label twin differ only by the chorus's hook layer.
    rendered = {}
    peak = 0.0  # of the song with and without the chorus hook: a label-free gain
    for name in dict.fromkeys(order):
        length = lengths[name]
        n = int(round(length * sr))
        sec = _Section(n, sr, tables)
        if name == "chorus":
            # four chords of equal length over the chorus; identical every time it plays
            cb = chorus_beats / 4
            tl = [(i * cb * beat, (i + 1) * cb * beat, _triad(key, scale, d)) for i, d in enumerate(chorus_prog)]
            _render_harmony(sec, tl, amp_pad=0.11, amp_bass=0.26, beat=beat)  # fuller than the verses
            _render_drums(sec, kit, length, beat, style="four", hats=hats, gain=1.2)
            notes = _melody(rng, tl, length, beat, key, scale)
            _render_melody(sec, notes)
            layer = _Section(n, sr, tables)
            _render_cue(layer, kit, length, beat, notes, tl, None if cue_order is None else cue_order[0])
            plain, layer = finish(sec), finish(layer)
            hooked = plain + np.float32(song_gain) * layer
            played = plain + np.float32(chorus_gain) * layer
            peak = max(peak, float(np.abs(plain).max()), float(np.abs(hooked).max()), float(np.abs(played).max()))
            if cue_order is not None:  # the other direction's peak too: a gain free of the label
                other = _Section(n, sr, tables)
                _render_cue(other, kit, length, beat, notes, tl, not cue_order[0])
                peak = max(peak, float(np.abs(plain + np.float32(chorus_gain) * finish(other)).max()))
            rendered[name] = played
            continue
        if name.startswith("verse"):
            chord_beats = int(rng.choice([2, 4]))
            tl = _progression_timeline(verse_progs[name], chord_beats, length, beat, key, scale)
            _render_harmony(sec, tl, beat=beat)
            _render_drums(sec, kit, length, beat, style="verse", hats=hats)
            notes = _melody(rng, tl, length, beat, key, scale)
            _render_melody(sec, notes)
            if name in verse_hooks:  # the decoy, in either class
                rising = None if cue_order is None else cue_order[1]
                if song_gain == 1.0:
                    _render_cue(sec, kit, length, beat, notes, tl, rising)
                else:
                    layer = _Section(n, sr, tables)
                    _render_cue(layer, kit, length, beat, notes, tl, rising)
                    sec.buf += np.float32(song_gain) * layer.buf
        elif name == "bridge":
            bkey = (key + int(rng.choice([2, 5, 7]))) % 12  # a different key
            first = int(rng.integers(6))
            prog = [first, (first + 1 + int(rng.integers(5))) % 6]  # two different chords
            tl = _progression_timeline(prog, 4, length, beat, bkey, scale)
            _render_harmony(sec, tl, amp_pad=0.11, beat=beat, bass_pulse=False)
            _render_drums(sec, kit, length, beat, style="half", hats=hats)
        elif name == "intro":
            tl = _progression_timeline([0, 3] if rng.random() < 0.5 else [0, 4], 4, length, beat, key, scale)
            _render_harmony(sec, tl, amp_pad=0.08, bass_pulse=False)
        else:  # outro: its own moving progression, fading out (a held chord would
            # look like a repetition at every lag to a self-similarity detector)
            prog = [int(rng.integers(6)) for _ in range(3)] + [0]
            tl = _progression_timeline(prog, 2, length, beat, key, scale)
            _render_harmony(sec, tl, amp_pad=0.10, beat=beat)
            sec.buf *= np.linspace(1.0, 0.0, sec.buf.shape[1], dtype=np.float32) ** 0.5
        rendered[name] = finish(sec)
        peak = max(peak, float(np.abs(rendered[name]).max()))

    # ---- assemble, normalise ------------------------------------------------------------------
    pieces, sections, chorus_times = [], [], []
    pos = 0
    for name in order:
        buf = rendered[name]
        start, end = pos / sr, (pos + buf.shape[1]) / sr
        sections.append((name, start, end))
        if name == "chorus":
            chorus_times.append((start, end))
        pieces.append(buf)
        pos += buf.shape[1]
    audio = np.concatenate(pieces, axis=1)
    # peak normalization, by a gain that does not depend on the label (a
    # label-1 song would otherwise have quieter verses than its label-0 twin)
    audio *= np.float32(_PEAK / max(peak, 1e-9))
    if noise is not None:
        from ._difficulty import add_noise

        audio = add_noise(audio, *noise)
    return _finished_song(audio, sr, chorus_times=chorus_times, tempo=tempo, key=key, minor=minor,
                          sections=sections, verse_hooks=verse_hooks)


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


def _seed_sequence(random_state) -> np.random.SeedSequence:
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(2**31)))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool) and random_state >= 0:
        return np.random.SeedSequence(int(random_state))
    raise ValueError(
        f"random_state must be None, a non-negative int, a numpy Generator or RandomState, got {random_state!r}"
    )


def make_songs(
    n_songs: int = 100,
    out_dir: str | os.PathLike | None = None,
    *,
    duration: tuple[float, float] | float | None = None,
    chorus_length: float = 8.0,
    form: str = "short",
    sample_rates: Sequence[int] = (22050, 44100, 48000),
    format: str = "mp3",
    positive_fraction: float = 0.5,
    verse_hook_rate: float = 0.25,
    difficulty=None,
    n_artists: int | None = None,
    random_state=None,
    n_jobs: int | None = None,
) -> SongCorpus:
    """Write a corpus of synthetic songs whose class is audible in the chorus only.

    The generative story.  Each song draws a sample rate from ``sample_rates``,
    a duration from ``duration``, a tempo (90-135 BPM), a key (12 roots, major
    or minor) and a drum kit (kick, snare, and 8th-note hi-hats in half the
    songs, of either class).  Its form is ``intro, verse1, [chorus], verse2,
    [chorus], (verse3, [chorus],) bridge, [chorus, chorus], outro``: 2 or 3
    verses, and the chorus 2 to 4 times (as many as the duration allows) in
    slots drawn at random after the verses and after the bridge.  The first
    chorus therefore follows the intro and a verse (at about 5.5 s or later
    for 8-s choruses; the shortest sections shrink with shorter choruses).
    Non-chorus sections take the rest of the duration at random, whole beats
    each, and the sections after the last chorus get 8 s when the duration
    allows.

    * The **chorus** lasts the whole number of beats nearest ``chorus_length``
      (within half a beat).  It plays one of seven pop progressions (four chords,
      one per quarter of the chorus) with pad, pulsing bass, four-on-the-floor
      drums, an 8th-note melody, and is louder than the verses.  It is rendered
      once and pasted at every occurrence: all occurrences are the *same* audio,
      so the chorus is the most repeated section.
    * Each **verse** has its own four-chord progression (never a rotation of the
      chorus's or of another verse's), chord rhythm (2 or 4 beats per chord),
      melody and a sparser beat.  The **bridge** is in another key, half-time,
      without melody.  The **intro** (no drums) and the fading **outro** are pad
      and bass on their own progressions.
    * **The class.**  In label-1 songs the chorus carries a *hook*: a bright
      16th-note shaker (noise bursts in 4.5-9 kHz, accented off-beats) and a
      plucked "hollow square" lead doubling the melody an octave up.  Label-0
      choruses have neither.  As a decoy, each verse of *either* class carries
      the same hook with probability ``verse_hook_rate``.  Nothing else depends
      on the label: a song and its other-label twin (same seed) differ only
      inside the choruses, with the same gain (the peak normalization takes the
      larger peak of the two versions).  So the intro, the verses and the first
      seconds of a song tell nothing about its class; its chorus tells all.
    * **Difficulty.**  That default corpus is solved perfectly by any model
      that hears the chorus.  ``difficulty="medium"`` or ``"hard"`` (or a dict
      of the knobs below) makes the task credible: the hook is quieter
      (``hook_gain``) and its level varies from song to song
      (``hook_jitter_db``, log-normal; the decoys in the verses follow the
      song's level), some label-0 choruses carry it at half that level
      (``false_hook_rate``), a fraction of the labels disagree with the audio
      (``label_noise``, half of them each way, so the number of positives
      stays exact; ``truth["audio_label"]`` keeps the class the audio
      carries), and a hiss is added (``noise_db``, dB below full scale).
      The knobs of each level::

          level    hook_gain  hook_jitter_db  false_hook_rate  label_noise  noise_db  artist_effect
          easy       1.0          0              0               0            None       0
          medium     0.5          4              0.15            0.05         -45        0.75
          hard       0.35         6              0.3             0.1          -40        1.5
          temporal   0.5          3              0               0            -45        0

      ``"temporal"`` also sets ``order_cue=True``: the label is no longer the
      hook's presence but its *order*.  Every chorus of either class carries
      an arpeggio in 8th notes (its first chord's root, third and fifth, two
      octaves up, in whole runs of six notes), rising in label-1 songs and
      falling in label-0 songs;
      decoy verses carry it in a random direction.  Both directions play the
      same notes for the same time, so statistics pooled over time carry no
      label by construction; the truth's ``cue_order`` names the direction.

    * **Artists.**  With ``n_artists``, the songs are shared out among that
      many artists (as evenly as possible, at random).  An artist's songs
      share a drum kit (including the hook's shaker), the timbres of pad,
      lead and bass, hi-hats or not, a tempo (give or take 4 BPM) and a
      brightness (the level above ~1.5 kHz, from -9 to +6 dB): a model can
      recognise the artist from any few seconds.  An artist also has its own
      share of hits: each artist's odds of a hit are multiplied by
      ``exp(N(0, artist_effect))`` (the difficulty's knob; 0 with the default
      difficulty), while the total number of positives stays exact.  Then a
      model that learns "this artist's sound is a hit" scores well when the
      artist's other songs are in its training set, and not on new artists:
      cross-validate with ``groups=corpus.artists``
      (``StratifiedGroupKFold``) to measure what transfers.

    Synthesis is vectorized numpy (wavetable notes, one-shot drum samples placed
    per hit), stereo (instruments panned apart), peak-normalized to 0.89, and
    written with libsndfile (MP3: LAME, VBR).

    Parameters
    ----------
    n_songs : int, default=100
        Number of songs.
    out_dir : str, os.PathLike or None, default=None
        Folder to write into (created if missing; existing files of the same
        names are overwritten).  ``None`` makes a new temporary folder, which the
        caller owns.
    duration : (float, float) or float, default=(30.0, 45.0)
        Range of song durations in seconds (uniform), or one duration.  It must
        hold two choruses, the intro, two verses, the bridge and the outro; a
        ``ValueError`` says how long the shortest song must be (about 29 s for
        8-s choruses, 15 s for 4-s ones).  Short songs get a tempo at which their
        form fits.
    chorus_length : float, default=8.0
        Approximate chorus length in seconds, at least 2.
    sample_rates : sequence of int, default=(22050, 44100, 48000)
        Sample rates drawn per song, at least 22050 Hz (MP3 allows 22050, 24000,
        32000, 44100 and 48000).
    format : {"mp3", "wav", "flac", "ogg"}, default="mp3"
        File format (OGG is Vorbis, WAV and FLAC are 16-bit).
    positive_fraction : float, default=0.5
        Fraction of label-1 songs: exactly ``round(positive_fraction * n_songs)``
        songs, in random order.
    verse_hook_rate : float, default=0.25
        Probability that a verse (of either class) carries the hook as a decoy;
        0 keeps the hook out of the verses.
    difficulty : None, {"easy", "medium", "hard", "temporal"} or dict, default=None
        How hard the task is (see the generative story); a dict sets some
        knobs (``hook_gain``, ``hook_jitter_db``, ``false_hook_rate``,
        ``label_noise``, ``noise_db``, ``artist_effect``, ``order_cue``) over
        the "easy" ones.  ``None`` and ``"easy"`` make the default corpus, bit for bit.
        ``form="short"`` only.
    n_artists : int or None, default=None
        Share the songs out among this many artists (1 to ``n_songs``), who
        share a sound and a hit rate (see the generative story); the truth,
        ``metadata.csv`` and ``SongCorpus.artists`` then name each song's
        artist (``artist_00``, ...).  ``None``: no artists, and no artist
        column.  ``form="short"`` only.
    random_state : None, int, numpy Generator or RandomState, default=None
        Seed.  The same int gives the same labels, truth and bit-identical files;
        song ``i`` depends on its label and the seed, not on ``n_songs``.
    n_jobs : int or None, default=None
        Songs synthesized and encoded at once, in threads (the encoders release
        the GIL).  ``None`` or ``-1``: one per CPU, at most 8.  The files do not
        depend on it.

    Returns
    -------
    SongCorpus
        ``paths``, ``labels``, ``metadata_csv``, ``out_dir``, ``truth`` (every
        section and every chorus occurrence, in seconds of the written files,
        which decode sample-aligned) and ``artists`` (with ``n_artists``).

    Notes
    -----
    Chorus detection.  pychorus (and :class:`~viral_sklearn.ChorusExtractor`)
    needs ``clip_length`` no longer than the chorus: it looks for a repetition
    at least ``clip_length`` long.  Its 2.5-s smoothing blurs the edges of such
    short repetitions: its starts come out about 0.7 s early (median), and in
    16-20 s songs with 4-s choruses it finds about half of the choruses (the
    extractor's fallback rules then choose); see the ``tolerance`` of
    :func:`score_chorus_detection`.

    Cost.  Synthesis takes about 0.1 s per song; MP3 encoding dominates (LAME,
    roughly 15-25 ms of CPU per second of 44.1-48 kHz stereo audio).  WAV is the
    fastest format.

    Examples
    --------
    >>> import tempfile
    >>> from viral_sklearn.datasets import load_dataset
    >>> corpus = make_songs(4, tempfile.mkdtemp(), duration=(24, 28), chorus_length=5, random_state=0)
    >>> X, y = load_dataset(corpus.metadata_csv, corpus.out_dir)
    >>> len(X), sorted(set(y.tolist()))
    (4, [0, 1])
    """
    import pandas as pd

    # ---- validation ---------------------------------------------------------------
    if isinstance(n_songs, bool) or not isinstance(n_songs, (int, np.integer)) or n_songs < 1:
        raise ValueError(f"n_songs must be a positive integer, got {n_songs!r}")
    fmt = str(format).lower().lstrip(".")
    if fmt not in _FORMATS:
        raise ValueError(f"format must be one of {sorted(_FORMATS)}, got {format!r}")
    if form not in ("short", "pop"):
        raise ValueError(f"form must be 'short' or 'pop', got {form!r}")
    if duration is None:
        duration = (30.0, 45.0) if form == "short" else (150.0, 240.0)
    if np.isscalar(duration):
        duration = (duration, duration)
    try:
        lo, hi = (float(d) for d in duration)
    except (TypeError, ValueError):
        raise ValueError(f"duration must be a number or a (min, max) pair of seconds, got {duration!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= hi):
        raise ValueError(f"duration must satisfy 0 < min <= max, got {duration!r}")
    chorus_length = float(chorus_length)
    if not (np.isfinite(chorus_length) and chorus_length >= 2.0):
        raise ValueError(f"chorus_length must be at least 2 seconds, got {chorus_length!r}")
    need = min(_shortest_song(t, chorus_length) for t in _TEMPO_GRID) if form == "short" else _POP_SHORTEST
    if form == "pop" and lo < need:
        raise ValueError(
            f"pop songs of {lo:g} s are too short for their forms: the shortest duration must be at "
            f"least {need:g} s (form='short' makes shorter songs)"
        )
    if lo < need:
        raise ValueError(
            f"songs of {lo:g} s are too short for two choruses of {chorus_length:g} s plus intro, two "
            f"verses, bridge and outro: the shortest duration must be at least {need:.2f} s; lengthen "
            f"duration or shorten chorus_length"
        )
    rates = list(np.atleast_1d(np.asarray(sample_rates)).tolist()) if sample_rates is not None else []
    if not rates or any(isinstance(r, bool) or not isinstance(r, int) or r < _MIN_RATE for r in rates):
        raise ValueError(f"sample_rates must be integers of at least {_MIN_RATE} Hz, got {sample_rates!r}")
    if fmt == "mp3" and any(r not in _MP3_RATES for r in rates):
        bad = [r for r in rates if r not in _MP3_RATES]
        raise ValueError(f"MP3 cannot store sample rates {bad}; use some of {[r for r in _MP3_RATES if r >= _MIN_RATE]}")
    if not 0.0 <= float(positive_fraction) <= 1.0:
        raise ValueError(f"positive_fraction must be in [0, 1], got {positive_fraction!r}")
    if not 0.0 <= float(verse_hook_rate) <= 1.0:
        raise ValueError(f"verse_hook_rate must be in [0, 1], got {verse_hook_rate!r}")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0):
        raise ValueError(f"n_jobs must be None, -1 or a positive integer, got {n_jobs!r}")
    from . import _difficulty

    knobs = _difficulty.check_difficulty(difficulty)
    if n_artists is not None and (
        isinstance(n_artists, bool) or not isinstance(n_artists, (int, np.integer)) or not 1 <= n_artists <= n_songs
    ):
        raise ValueError(f"n_artists must be None or an integer from 1 to n_songs={n_songs}, got {n_artists!r}")
    plain = _difficulty.is_default(knobs) and n_artists is None
    if form == "pop" and not plain:
        raise ValueError("difficulty and n_artists are only available for form='short'")

    seq = _seed_sequence(random_state)
    master = np.random.default_rng(seq)
    n_pos = int(round(float(positive_fraction) * n_songs))
    artists = artist_of = None
    if n_artists is not None:
        # the artists' own streams: children of the seed, away from the songs'
        artist_seq = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, 0x41525453))
        artists = _difficulty.make_artists(
            artist_seq, int(n_artists), tempo_range=_TEMPO_RANGE, table_n=_TABLE_N, hook_table=_TABLES["hook"],
            artist_effect=knobs["artist_effect"],
        )
        artist_of = master.permutation(np.arange(n_songs) % int(n_artists))
    audio_labels = _difficulty.draw_labels(master, n_songs, n_pos, artist_of, artists)
    labels = _difficulty.flip_labels(master, audio_labels, knobs["label_noise"])
    song_seeds = seq.spawn(n_songs)

    if out_dir is None:
        out_dir = tempfile.mkdtemp(prefix="viral_songs_")
    out_dir = os.path.abspath(os.fspath(out_dir))
    os.makedirs(out_dir, exist_ok=True)
    sf_format, subtype, ext = _FORMATS[fmt]
    width = max(3, len(str(n_songs - 1)))

    def difficulty_of(i: int) -> dict:
        """The hook gains, artist and hiss of song i (a stream of its own: the song's is untouched)."""
        if plain:
            return {}
        rng = np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=(*song_seeds[i].spawn_key, 1)))
        level = knobs["hook_gain"] * 10.0 ** (rng.normal(0.0, knobs["hook_jitter_db"]) / 20.0)
        false_hook = rng.random() < knobs["false_hook_rate"]
        chorus = level if audio_labels[i] == 1 else (0.5 * level if false_hook else 0.0)
        cue_order = None
        if knobs["order_cue"]:  # every chorus plays the cue; its direction is the label
            chorus, cue_order = level, (bool(audio_labels[i] == 1), bool(rng.random() < 0.5))
        return {
            "hook": (float(chorus), float(level)),
            "artist": None if artists is None else artists[artist_of[i]],
            "noise": None if knobs["noise_db"] is None else (rng, knobs["noise_db"]),
            "cue_order": cue_order,
        }

    def one_song(i: int) -> dict:
        rng = np.random.default_rng(song_seeds[i])
        extra = {}
        if form == "pop":
            from ._pop import synth_pop_song

            audio, sr, truth = synth_pop_song(
                rng, int(audio_labels[i]), duration_range=(lo, hi), sample_rates=rates,
                verse_hook_rate=float(verse_hook_rate),
            )
        else:
            hard = difficulty_of(i)
            audio, sr, truth = _synth_song(
                rng, int(audio_labels[i]), duration_range=(lo, hi), chorus_length=chorus_length,
                sample_rates=rates, verse_hook_rate=float(verse_hook_rate), **hard,
            )
            extra["hook_gain"] = float(hard["hook"][0]) if hard else float(audio_labels[i])
            if hard and hard["cue_order"] is not None:
                extra["cue_order"] = "rising" if hard["cue_order"][0] else "falling"
            if artists is not None:
                extra["artist"] = hard["artist"].name
        song_id = f"song_{i:0{width}d}"
        path = os.path.join(out_dir, song_id + ext)
        write_audio_file(path, audio, sr, sf_format, subtype)
        return {"id": song_id, "path": path, "label": int(labels[i]), "audio_label": int(audio_labels[i]),
                **extra, **truth}

    # Encoding (LAME for MP3) dominates and releases the GIL: threads overlap it.
    if n_jobs is None or n_jobs < 0:
        n_jobs = min(os.cpu_count() or 1, 8)
    n_jobs = max(1, min(int(n_jobs), n_songs))
    if n_jobs == 1:
        rows = [one_song(i) for i in range(n_songs)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_jobs) as pool:
            rows = list(pool.map(one_song, range(n_songs)))
    paths = [r["path"] for r in rows]

    truth_df = pd.DataFrame(rows)
    metadata_csv = os.path.join(out_dir, "metadata.csv")
    truth_df[["id", "label"] + (["artist"] if artists is not None else [])].to_csv(metadata_csv, index=False)
    return SongCorpus(paths=paths, labels=labels, metadata_csv=metadata_csv, out_dir=out_dir, truth=truth_df,
                      artists=None if artists is None else truth_df["artist"].to_numpy())
