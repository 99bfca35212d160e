"""POP909 songs as sung pop: the score, its bar grid, its sections and its choruses.

Sources (both MIT-licensed GitHub repositories, cloned by the caller):

* ``music-x-lab/POP909-Dataset``: ``POP909/NNN/NNN.mid``, tracks MELODY
  (channel 0), BRIDGE (1) and PIANO (2), one tempo per song;
* ``Dsqvival/hierarchical-structure-analysis``: ``POP909/NNN/melody.txt`` (the
  melody quantized to sixteenths from the first barline, as ``pitch duration``
  lines, pitch 0 a rest) and ``human_label{1,2}.txt`` (:mod:`.labels`).

The labels count bars from the first barline of ``melody.txt``, which the
authors moved by hand where POP909's MIDI downbeats were off.  So the bar grid
is placed in the MIDI by the melody itself: bar 0 is the MIDI time of the
first melody note minus its sixteenth offset in ``melody.txt`` (a sixteenth is
a quarter of the MIDI's beat).  A song is used only if that grid is right:
4/4 (the melody spans the labelled bars at 16 sixteenths a
bar), and at least 80% of ``melody.txt``'s notes found in the MIDI melody
within half a sixteenth.

The band is the MIDI's PIANO and BRIDGE tracks (on patches drawn per song),
a soft "voice oohs" doubling of the melody and a drum beat; the lead is sung
by :mod:`.voice`.  The chorus's phrases are sung to the same syllables every
time they come back; every other melodic phrase gets new syllables at each
return (a verse's melody with new words).
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from .labels import choose_chorus, parse_label, phrase_bars, section_name, sections_from_label
from .render import drum_notes
from .voice import SYLLABLES

__all__ = ["SkipSong", "load_song", "song_ids"]

_PIANOS = (0, 1, 4, 5)               # grand, bright, electric pianos
_BRIDGES = (48, 49, 24, 89, 50)      # strings, nylon guitar, warm pad, synth strings
_OOHS = 53                           # Voice Oohs


class SkipSong(Exception):
    """The song cannot be used; the message says why."""


def song_ids(pop_dir: str) -> list[str]:
    """The POP909 song numbers (``"001"`` ...) present under ``pop_dir/POP909``."""
    root = os.path.join(pop_dir, "POP909")
    return sorted(d for d in os.listdir(root) if d.isdigit())


def _read_melody(path: str) -> list[tuple[int, int, int]]:
    notes, onset = [], 0
    with open(path) as fh:
        for line in fh:
            if line.strip():
                pitch, dur = (int(v) for v in line.split())
                notes.append((pitch, onset, dur))
                onset += dur
    return notes


class _TempoMap:
    """MIDI ticks to seconds through the file's tempo changes."""

    def __init__(self, changes, ticks_per_beat: int):
        changes = sorted(changes) or [(0, 500_000)]
        if changes[0][0] > 0:
            changes.insert(0, (0, 500_000))
        self.ticks = np.array([t for t, _ in changes], float)
        self.rate = np.array([tempo / 1e6 / ticks_per_beat for _, tempo in changes])  # seconds per tick
        self.start = np.concatenate([[0.0], np.cumsum(np.diff(self.ticks) * self.rate[:-1])])

    def __call__(self, tick):
        i = np.searchsorted(self.ticks, tick, side="right") - 1
        return self.start[i] + (tick - self.ticks[i]) * self.rate[i]


def _midi_notes(path: str):
    """``(channel -> [(start tick, end tick, pitch, velocity)], [(tick, channel, value)] of the pedal, tempo map, tpb)``."""
    import mido

    mid = mido.MidiFile(path)
    tempos, notes, pedal = [], {}, []
    for track in mid.tracks:
        tick, open_notes = 0, {}
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempos.append((tick, msg.tempo))
            elif msg.type == "note_on" and msg.velocity > 0:
                open_notes[(msg.channel, msg.note)] = (tick, msg.velocity)
            elif msg.type in ("note_off", "note_on"):
                got = open_notes.pop((msg.channel, msg.note), None)
                if got is not None:
                    notes.setdefault(msg.channel, []).append((got[0], tick, msg.note, got[1]))
            elif msg.type == "control_change" and msg.control == 64:
                pedal.append((tick, msg.channel, msg.value))
    return notes, pedal, _TempoMap(tempos, mid.ticks_per_beat), mid.ticks_per_beat


def _syllable(*key) -> str:
    digest = hashlib.blake2b(repr(key).encode(), digest_size=4).digest()
    return SYLLABLES[int.from_bytes(digest, "little") % len(SYLLABLES)]


def load_song(pop_dir: str, label_dir: str, number: str) -> dict:
    """The score and truth of POP909 song ``number``; raises :class:`SkipSong` if unusable."""
    hsa = os.path.join(label_dir, "POP909", number)
    try:
        with open(os.path.join(hsa, "human_label1.txt")) as fh:
            tokens = parse_label(fh.read())
        with open(os.path.join(hsa, "human_label2.txt")) as fh:
            tokens2 = parse_label(fh.read())
        melody = _read_melody(os.path.join(hsa, "melody.txt"))
    except (OSError, ValueError) as exc:
        raise SkipSong(f"labels: {exc}") from exc
    chorus, reason = choose_chorus(tokens, melody, other_tokens=tokens2)
    if chorus is None:
        raise SkipSong(reason)
    n_bars = sum(n for _, n in tokens)
    span = melody[-1][1] + melody[-1][2]
    if not (n_bars - 8) * 16 <= span <= (n_bars + 1) * 16:
        raise SkipSong(f"melody spans {span / 16:.1f} bars of 16 sixteenths, labels {n_bars}: not 4/4")

    ticks, pedal, seconds, tpb = _midi_notes(os.path.join(pop_dir, "POP909", number, f"{number}.mid"))
    if 0 not in ticks:
        raise SkipSong("no melody track")
    six = tpb / 4  # ticks per sixteenth
    mel_ticks = sorted(ticks[0])
    first = next((on for p, on, _ in melody if p > 0), None)
    t0 = mel_ticks[0][0] - first * six
    onsets = np.array([n[0] for n in mel_ticks])
    expected = [t0 + on * six for p, on, _ in melody if p > 0]
    found = np.mean([np.min(np.abs(onsets - t)) <= six / 2 for t in expected])
    if found < 0.8:
        raise SkipSong(f"only {found:.0%} of melody.txt's notes are in the MIDI melody on the bar grid")

    notes = {ch: [(float(seconds(a)), float(seconds(b)), p, v) for a, b, p, v in ns] for ch, ns in ticks.items()}
    mel_midi = sorted(notes[0])
    bar_times = [float(seconds(t0 + i * 16 * six)) for i in range(n_bars + 1)]
    beats = [float(seconds(t0 + i * 4 * six)) for i in range(4 * n_bars)]
    end_time = max(max(n[1] for ch in notes.values() for n in ch), bar_times[-1]) + 2.0
    sections = [[section_name(letter, chorus), bar_times[a], bar_times[b]] for letter, a, b in sections_from_label(tokens)]
    sections[0][1] = 0.0
    sections[-1][2] = end_time
    choruses = [[a, b] for name, a, b in sections if name == "chorus"]

    # syllables: chorus phrases repeat their words, other phrases change them at every return
    phrases = phrase_bars(tokens)
    run_of, run_counts, prev = [], {}, None
    for letter, _, _ in phrases:
        if letter != prev:
            run_counts[letter] = run_counts.get(letter, -1) + 1
        run_of.append(run_counts[letter])
        prev = letter
    keys, counter = [], {}
    for start, _, _, _ in mel_ticks:
        bar_index = (start - t0 + six) / (16 * six)
        k = next((i for i, (_, a, b) in enumerate(phrases) if a <= bar_index < b), len(phrases) - 1)
        letter, run = (phrases[k][0], run_of[k]) if bar_index >= 0 else ("pickup", 0)
        idx = counter.get((letter, run), 0)
        counter[(letter, run)] = idx + 1
        keys.append((letter, run, idx))
    per_chorus = max(counter.get((chorus, 0), 1), 1)  # a longer last chorus sings its words again
    syllables = [_syllable(number, chorus, idx % per_chorus) if letter == chorus else _syllable(number, letter, run, idx)
                 for letter, run, idx in keys]
    voice = [(start, end, pitch) for start, end, pitch, _ in mel_midi]

    rng = np.random.default_rng(int(number))
    melodic = [(a, b) for letter, a, b in sections_from_label(tokens) if letter.isupper()]
    pedal = [(float(seconds(t)), 64, v) for t, ch, v in pedal if ch == 2]
    tracks = [
        {"program": int(rng.choice(_PIANOS)), "channel": 0, "notes": notes.get(2, []), "controls": pedal},
        {"program": int(rng.choice(_BRIDGES)), "channel": 1, "notes": [(a, b, p, v * 0.8) for a, b, p, v in notes.get(1, [])]},
        {"program": _OOHS, "channel": 2, "notes": [(a, b, p, v * 0.45) for a, b, p, v in mel_midi]},
        {"program": 0, "channel": 9, "notes": drum_notes(beats, 4, start=bar_times[melodic[0][0]],
                                                         end=bar_times[melodic[-1][1]], velocity=80)},
    ]
    truth = {"form": "".join(f"{c}{n}" for c, n in tokens), "chorus_letter": chorus,
             "sections": sections, "chorus_times": choruses, "bar_times": bar_times}
    return {"tracks": tracks, "voice": voice, "syllables": syllables, "duration": end_time, "truth": truth}
