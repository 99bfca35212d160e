"""Generated sung pop songs: scores made from a seed, with every section's time known.

What makes them a fair test of chorus finding on sung music:

* every chorus repeats its melody *and* its syllables; every verse repeats the
  verse's melody with new syllables (a verse's music with new words);
* in ``SHARED_CHORDS`` of the songs the verse plays the chorus's chords, so only
  the melody, the words and the arrangement tell them apart;
* the chorus sits higher than the verse in some songs and in the same register
  in others; it is louder in some, as loud or quieter in others;
* a bridge as loud as or louder than the choruses (a decoy for "the loudest
  20 s") in half the songs; several forms (``FORMS``: chorus first, pre-choruses,
  an instrumental break, a doubled last chorus); a key change up one or two
  semitones on the last chorus in a quarter of the songs.
"""

from __future__ import annotations

import numpy as np

from .render import drum_notes
from .voice import SYLLABLES

__all__ = ["FORMS", "make_score"]

#: song forms: (section, bars); V verse, P pre-chorus, C chorus, B bridge, I instrumental break
FORMS = (
    (("i", 4), ("V", 8), ("P", 4), ("C", 8), ("V", 8), ("P", 4), ("C", 8), ("B", 8), ("C", 8), ("C", 8), ("o", 4)),
    (("i", 4), ("V", 8), ("C", 8), ("V", 8), ("C", 8), ("B", 8), ("C", 8), ("o", 4)),
    (("i", 8), ("V", 8), ("V", 8), ("C", 8), ("V", 8), ("C", 8), ("I", 8), ("C", 8), ("o", 4)),
    (("i", 4), ("C", 8), ("V", 8), ("C", 8), ("V", 8), ("P", 4), ("C", 8), ("B", 8), ("C", 8), ("o", 2)),
    (("V", 8), ("P", 4), ("C", 8), ("I", 4), ("V", 8), ("P", 4), ("C", 8), ("B", 8), ("C", 8), ("C", 8)),
)
_NAMES = {"i": "intro", "V": "verse", "P": "prechorus", "C": "chorus", "B": "bridge", "I": "break", "o": "outro"}
SHARED_CHORDS = 0.4
_MAJOR, _MINOR = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)
_PADS, _KEYS = (48, 89, 50, 52), (0, 4, 5, 24, 25)


def _progression(rng, scale) -> list[list[int]]:
    """Four chords (scale degrees 0..6 as pitch classes of triads), one per bar, repeated."""
    degrees = [0] + list(rng.choice([1, 2, 3, 4, 5], size=3))
    return [[scale[(d + k) % 7] + 12 * ((d + k) // 7) for k in (0, 2, 4)] for d in degrees]


def _melody(rng, scale, bars: int, low: int, density: float) -> list[tuple[float, float, int]]:
    """``(onset beat, length beats, pitch)``: a random walk on the scale, phrases of two bars."""
    notes, degree = [], int(rng.integers(3, 9))
    for phrase in range(0, bars, 2):
        beat = phrase * 4.0 + float(rng.choice([0.0, 0.5, 1.0]))
        end = phrase * 4.0 + 7.0
        while beat < end:
            length = float(rng.choice([0.5, 1.0, 1.0, 1.5, 2.0], p=None if density > 0.5 else [0.1, 0.3, 0.3, 0.15, 0.15]))
            degree = int(np.clip(degree + rng.choice([-2, -1, -1, 0, 1, 1, 2]), 0, 11))
            notes.append((beat, min(length, end - beat), low + scale[degree % 7] + 12 * (degree // 7)))
            beat += length
    return notes


def make_score(seed: int, song_id: str) -> dict:
    """The score (:mod:`.render`) and truth of one generated song."""
    rng = np.random.default_rng(seed)
    form = FORMS[int(rng.integers(len(FORMS)))]
    tempo = float(rng.uniform(78, 132))
    beat_s = 60.0 / tempo
    root = int(rng.integers(0, 12))
    scale = _MINOR if rng.random() < 0.4 else _MAJOR
    shared = rng.random() < SHARED_CHORDS
    chords = {k: _progression(rng, scale) for k in "VPCBIio"}
    if shared:
        chords["V"] = chords["C"]
    chords["I"], chords["i"], chords["o"] = chords["C"], chords["V"], chords["C"]
    lift = int(rng.choice([0, 0, 2, 3, 5]))          # chorus register above the verse
    low = 55 + root % 5
    melodies = {"V": _melody(rng, scale, 8, low, 0.7), "P": _melody(rng, scale, 4, low + 2, 0.7),
                "C": _melody(rng, scale, 8, low + lift, 0.4), "B": _melody(rng, scale, 8, low + 4, 0.5)}
    loud = {"V": 80, "P": 85, "C": int(80 + rng.choice([-8, 0, 8, 15])), "B": 80, "I": 85, "i": 70, "o": 70}
    if rng.random() < 0.5:
        loud["B"] = max(loud["C"], 80) + 12                 # the decoy loud bridge
    n_choruses = sum(s == "C" for s, _ in form)
    shift_last = int(rng.choice([1, 2])) if rng.random() < 0.25 else 0
    words = {k: [SYLLABLES[int(i)] for i in rng.integers(len(SYLLABLES), size=64)] for k in ("C",)}
    keys_prog, pad_prog = int(rng.choice(_KEYS)), int(rng.choice(_PADS))

    sections, keys, pad, bass, lead, voice, syllables, beats = [], [], [], [], [], [], [], []
    bar, count = 0, {}
    for name, n_bars in form:
        count[name] = count.get(name, 0) + 1
        start = bar * 4 * beat_s
        end = (bar + n_bars) * 4 * beat_s
        sections.append([_NAMES[name], start, end])
        shift = shift_last if name == "C" and count["C"] == n_choruses else 0
        vel = loud[name]
        for b in range(n_bars):
            t = start + b * 4 * beat_s
            chord = [root + 48 + p + shift for p in chords[name][b % 4]]
            for p in chord:
                pad.append((t, t + 4 * beat_s, p + 12, vel - 20))
                for k in range(4 if vel >= 80 else 2):
                    step = 4 // (4 if vel >= 80 else 2)
                    keys.append((t + k * step * beat_s, t + (k * step + step * 0.9) * beat_s, p + 12, vel - 10))
            bass.append((t, t + 1.9 * beat_s, chord[0] - 12, vel))
            bass.append((t + 2 * beat_s, t + 3.9 * beat_s, chord[0] - 12, vel - 10))
        beats += [start + k * beat_s for k in range(4 * n_bars)]
        if name in melodies:
            text = words["C"] if name == "C" else [SYLLABLES[int(i)] for i in rng.integers(len(SYLLABLES), size=64)]
            for j, (on, length, pitch) in enumerate(melodies[name]):
                a, b = start + on * beat_s, start + (on + length) * beat_s * 0.95
                voice.append((a, b, pitch + root % 7 + shift))
                syllables.append(text[j % len(text)])
                lead.append((a, b, pitch + root % 7 + shift, 45))
        bar += n_bars
    duration = bar * 4 * beat_s + 2.0
    sections[-1][2] = duration
    drums = []
    for name, a, b in sections:
        if name not in ("intro", "outro"):
            drums += drum_notes(beats, 4, start=a, end=b, velocity=min(loud[_key(name)] + 5, 120),
                                busy=name in ("chorus", "bridge"))
    tracks = [{"program": keys_prog, "channel": 0, "notes": keys},
              {"program": pad_prog, "channel": 1, "notes": pad},
              {"program": 33, "channel": 3, "notes": bass},
              {"program": 53, "channel": 2, "notes": lead},
              {"program": 0, "channel": 9, "notes": drums}]
    truth = {"form": " ".join(f"{s}{n}" for s, n in form), "sections": sections,
             "chorus_times": [[a, b] for n, a, b in sections if n == "chorus"], "tempo": tempo,
             "shared_chords": bool(shared), "chorus_lift": lift, "loud_bridge": loud["B"] > loud["C"],
             "key_change": shift_last, "bar_times": [k * 4 * beat_s for k in range(bar + 1)]}
    return {"tracks": tracks, "voice": voice, "syllables": syllables, "duration": duration, "truth": truth,
            "id": song_id}


def _key(name: str) -> str:
    return next(k for k, v in _NAMES.items() if v == name)
