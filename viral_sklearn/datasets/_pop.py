"""Full-length pop songs for :func:`make_songs(form="pop") <make_songs>`.

A song of 2.5-4.5 minutes in one of the common radio forms (intro, verses with
or without pre-choruses, choruses, a bridge or an instrumental solo, the last
chorus repeated, an outro), sung by a vocal-like lead (:mod:`._voice`), with
the things that make chorus finding hard on real music:

* every occurrence of a section is rendered anew: drum fills, the singer's
  timing and dynamics and (in the verses) the vowels, i.e. the lyrics, differ
  from one occurrence to the next; the chorus keeps its lyrics;
* verses repeat (the same melody over the same chords), pre-choruses precede
  most choruses, and the intro or outro often plays the chorus's chords;
* the chorus is louder than the verses in most songs, but as loud or quieter in
  about a third (``chorus_db`` in the truth);
* the last chorus (or the last two) moves up one or two semitones in 30% of
  the songs.

As in the short form, label-1 choruses carry the hook, verses may carry it as a
decoy, and a song and its other-label twin differ only by the hook.
"""

from __future__ import annotations

import numpy as np

from ._music import (
    _CHORUS_PROGRESSIONS,
    _MAJOR,
    _MINOR,
    _PEAK,
    _drum_kit,
    _finished_song,
    _progression_timeline,
    _render_drums,
    _render_harmony,
    _render_hook,
    _Section,
)
from ._voice import VOWELS, sing

__all__ = ["POP_FORMS", "synth_pop_song"]

#: (weight, sections): C chorus, V verse, P pre-chorus, B bridge, S solo, I intro, O outro
POP_FORMS = (
    (3, "I V P C V P C B C C O"),
    (3, "I V C V C B C C O"),
    (2, "I V P C V P C B P C O"),
    (1, "C V C V C B C C O"),
    (1, "I V V C V C S C C O"),
    (1, "I V P C V P C S B C C O"),
)
_NAMES = {"C": "chorus", "V": "verse", "P": "pre-chorus", "B": "bridge", "S": "solo", "I": "intro", "O": "outro"}
#: chorus level relative to the verses (dB), and its probability
CHORUS_DB = ((3.0, 0.4), (1.5, 0.25), (0.0, 0.25), (-1.5, 0.1))
KEY_CHANGE_RATE = 0.3
_TEMPO = (80.0, 140.0)
_VOWEL_NAMES = tuple(VOWELS)


def _bars(rng, beat, lo_s, hi_s, options):
    bar = 4 * beat
    fits = [k for k in options if lo_s <= k * bar <= hi_s]
    return int(rng.choice(fits)) if fits else int(min(options, key=lambda k: abs(k * bar - (lo_s + hi_s) / 2)))


def _plan(rng, duration_range):
    """Form, tempo and bars per section type, near the duration range."""
    weights = np.array([w for w, _ in POP_FORMS], dtype=float)
    best = None
    for _ in range(100):
        form = POP_FORMS[int(rng.choice(len(POP_FORMS), p=weights / weights.sum()))][1].split()
        tempo = float(rng.uniform(*_TEMPO))
        beat = 60.0 / tempo
        bars = {
            "C": _bars(rng, beat, 15, 34, (8, 12, 16)),
            "V": _bars(rng, beat, 12, 36, (8, 16)),
            "P": _bars(rng, beat, 5, 12, (4,)),
            "B": _bars(rng, beat, 10, 24, (4, 8)),
            "S": _bars(rng, beat, 10, 24, (8,)),
            "I": _bars(rng, beat, 5, 16, (4, 8)),
            "O": _bars(rng, beat, 6, 18, (4, 8)),
        }
        total = sum(bars[s] for s in form) * 4 * beat
        lo, hi = duration_range
        miss = max(lo - total, total - hi, 0.0)
        if best is None or miss < best[0]:
            best = (miss, form, tempo, bars)
        if miss == 0:
            break
    return best[1:]


def _vocal_phrase(rng, timeline, start, bars, beat, key, scale, lo, hi):
    """Notes (start, dur, midi) of a sung phrase over ``bars`` bars from ``start``."""
    pool = np.array([60 + key + s + 12 * o for o in (-2, -1, 0, 1, 2) for s in scale])
    pool = pool[(pool >= lo) & (pool <= hi)]
    step = beat / 2
    n_steps = int(round(bars * 4 * beat / step))
    notes = []
    prev = int(rng.choice(pool))
    i = 0
    while i < n_steps - 2:  # the phrase ends with a rest (a breath)
        t = start + i * step
        if rng.random() < 0.2:
            i += 1
            continue
        length = int(rng.choice([1, 1, 2, 2, 3, 4]))
        chord = next((c for s, e, c in timeline if s - 1e-9 <= t < e), None)
        if chord is not None and rng.random() < 0.65:
            cand = pool[np.isin(pool % 12, [m % 12 for m in chord])]
        else:
            j = int(np.argmin(np.abs(pool - prev)))
            cand = pool[max(j - 2, 0) : j + 3]
        near = cand[np.abs(cand - prev) <= 5]
        prev = int(rng.choice(near if near.size else cand))
        notes.append((t, min(length, n_steps - 2 - i) * step, prev))
        i += length
    return notes


def _melody(rng, timeline, n_bars, beat, key, scale, lo, hi):
    """A section's melody: two-bar phrases in the pattern A A' B A (a motif repeated)."""
    bar = 4 * beat
    motif = _vocal_phrase(rng, timeline, 0.0, 2, beat, key, scale, lo, hi)
    other = _vocal_phrase(rng, timeline, 0.0, 2, beat, key, scale, lo, hi)
    notes = []
    for p in range(max(1, n_bars // 2)):
        kind = ("A", "A2", "B", "A")[p % 4]
        src = other if kind == "B" else motif
        for s, d, m in src:
            if kind == "A2" and rng.random() < 0.3:
                m = m + int(rng.choice([-2, 2]))
            notes.append((p * 2 * bar + s, d, m))
    return notes


def _timeline(degrees, chord_bars, n_bars, beat, key, scale):
    return _progression_timeline(degrees, 4 * chord_bars, n_bars * 4 * beat, beat, key, scale)


def _fill(sec, kit, length, beat, gain):
    """A snare fill over the last two beats (16ths, rising)."""
    t0 = length - 2 * beat
    times = t0 + np.arange(8) * beat / 4
    for k, t in enumerate(times):
        sec.hits(kit["snare"], [t], (0.12 + 0.03 * k) * gain, (0.75, 0.85))


def _crash(sr, rng):
    from scipy.signal import butter, sosfilt

    n = int(1.2 * sr)
    noise = rng.standard_normal(n).astype(np.float32)
    c = sosfilt(butter(2, 5000, "highpass", fs=sr, output="sos"), noise)
    t = np.arange(n, dtype=np.float32) / sr
    return (c / np.abs(c).max() * np.exp(-t / 0.35)).astype(np.float32)


def synth_pop_song(rng: np.random.Generator, label: int, *, duration_range, sample_rates,
                   verse_hook_rate, shared_chords: bool = False) -> tuple[np.ndarray, int, dict]:
    """Render one pop song: (samples (n, 2) float32, sample rate, truth).

    ``shared_chords=True``: the verses (and the solo, intro and outro) play the
    chorus's progression, so only the melody, the lyrics, the arrangement and
    the level tell the chorus from a verse (as in many real songs); nothing
    else of the song changes.
    """
    sr = int(rng.choice(sample_rates))
    form, tempo, bars = _plan(rng, duration_range)
    beat = 60.0 / tempo
    bar = 4 * beat
    key = int(rng.integers(12))
    minor = bool(rng.random() < 0.5)
    scale = _MINOR if minor else _MAJOR
    kit = _drum_kit(rng, sr)
    crash = _crash(sr, rng)
    levels, probs = zip(*CHORUS_DB)
    chorus_db = float(rng.choice(levels, p=np.array(probs) / sum(probs)))
    loud_verse = chorus_db <= 0.0  # verses played as hard as the chorus
    key_change = int(rng.choice([1, 2])) if rng.random() < KEY_CHANGE_RATE else 0
    chorus_slots = [i for i, s in enumerate(form) if s == "C"]
    shifted = set()
    if key_change:
        last = chorus_slots[-1]
        shifted = {last, last - 1} if form[last - 1] == "C" else {last}
    hats = bool(rng.random() < 0.6)

    # ---- the song's material: progressions and melodies, one per section type ----
    chorus_prog = list(_CHORUS_PROGRESSIONS[int(rng.integers(len(_CHORUS_PROGRESSIONS)))])
    used = {tuple(chorus_prog[i:] + chorus_prog[:i]) for i in range(4)}
    while True:
        verse_prog = [int(rng.integers(6))]
        while len(verse_prog) < 4:
            d = int(rng.integers(6))
            if d != verse_prog[-1]:
                verse_prog.append(d)
        if tuple(verse_prog) not in used:
            break
    pre_prog = [3, 4] if rng.random() < 0.6 else [5, 3]
    bridge_key = (key + int(rng.choice([5, 7, 9]))) % 12
    bridge_prog = [int(rng.integers(6)), int(rng.integers(6))]
    chorus_chord_bars = 2 if bars["C"] >= 16 and rng.random() < 0.5 else 1
    verse_chord_bars = int(rng.choice([1, 2]))
    intro_uses_chorus = bool(rng.random() < 0.4)
    outro_uses_chorus = bool(rng.random() < 0.5)

    def plan_for(code, k):
        """(timeline, melody, vocal range) of section type ``code`` in key ``k``."""
        n = bars[code]
        if code == "C" or (code == "I" and intro_uses_chorus) or (code == "O" and outro_uses_chorus) or \
                (shared_chords and code in ("V", "S", "I", "O")):
            return _timeline(chorus_prog, chorus_chord_bars, n, beat, k, scale)
        if code in ("V", "S", "I", "O"):
            return _timeline(verse_prog, verse_chord_bars, n, beat, k, scale)
        if code == "P":
            return _timeline(pre_prog, 2, n, beat, k, scale)
        return _timeline(bridge_prog, 2, n, beat, bridge_key, scale)

    melodies = {}
    for code, (lo, hi) in (("C", (64, 77)), ("V", (57, 69)), ("P", (60, 72)), ("S", (67, 84))):
        if code in form:
            melodies[code] = _melody(rng, plan_for(code, key), bars[code], beat, key, scale, lo, hi)
    chorus_lyrics = [str(v) for v in rng.choice(_VOWEL_NAMES, size=len(melodies["C"]))]

    # ---- render every occurrence, each with its own random stream ----------------
    seeds = rng.integers(2**63, size=(len(form), 2))
    pieces, hooks = [], []
    for i, code in enumerate(form):
        occ_rng = np.random.default_rng(int(seeds[i, 0]))
        k_shift = key_change if i in shifted else 0
        k = (key + k_shift) % 12
        length = bars[code] * bar
        n = int(round(length * sr))
        sec = _Section(n, sr)
        tl = plan_for(code, k)
        if code == "C":
            _render_harmony(sec, tl, amp_pad=0.10, amp_bass=0.24, beat=beat)
            _render_drums(sec, kit, length, beat, style="four" if hats else "verse", hats=True, gain=1.15)
            sec.hits(crash, [0.0], 0.22, (0.8, 0.8))
        elif code in ("V", "S"):
            _render_harmony(sec, tl, amp_pad=0.08, amp_bass=0.22, beat=beat)
            _render_drums(sec, kit, length, beat, style="four" if (loud_verse and hats) else "verse",
                          hats=hats or loud_verse, gain=1.15 if loud_verse else 0.9)
        elif code == "P":
            _render_harmony(sec, tl, amp_pad=0.09, amp_bass=0.2, beat=beat, bass_pulse=True)
            _render_drums(sec, kit, length, beat, style="verse", hats=True, gain=1.0)
        elif code == "B":
            _render_harmony(sec, tl, amp_pad=0.11, beat=beat, bass_pulse=False)
            _render_drums(sec, kit, length, beat, style="half", hats=hats)
        elif code == "I":
            _render_harmony(sec, tl, amp_pad=0.08, beat=beat, bass_pulse=False)
            if rng.random() < 0.5:
                _render_drums(sec, kit, length, beat, style="half", hats=True, gain=0.6)
        else:  # outro, fading
            _render_harmony(sec, tl, amp_pad=0.09, beat=beat)
            _render_drums(sec, kit, length, beat, style="verse", hats=hats, gain=0.8)
        if code in ("V", "P", "C", "B") and occ_rng.random() < 0.5:
            _fill(sec, kit, length, beat, 1.0)
        if code in ("C", "V", "P"):
            notes = [(s, d, m + k_shift) for s, d, m in melodies[code]]
            if code == "C":
                vowels = chorus_lyrics
            else:  # new lyrics every time
                vowels = [str(v) for v in occ_rng.choice(_VOWEL_NAMES, size=len(notes))]
            sing(sec.buf, sr, [(s, d, m, v) for (s, d, m), v in zip(notes, vowels)], amp=0.16,
                 pan=(0.8, 0.8), rng=occ_rng, jitter=0.012)
            if code == "C" and i in shifted and occ_rng.random() < 0.5:  # a harmony on the last chorus
                sing(sec.buf, sr, [(s, d, m + 4, v) for (s, d, m), v in zip(notes, vowels)], amp=0.07,
                     pan=(0.55, 0.95), rng=occ_rng, jitter=0.012)
        elif code == "S":
            for s, d, m in melodies["S"]:
                sec.note(s, d, m, "lead", 0.18, (0.85, 0.7), attack=0.01, release=0.04, decay=0.6)
        if code == "O":
            sec.buf *= np.linspace(1.0, 0.0, n, dtype=np.float32) ** 0.6
        if code == "I":
            sec.buf *= np.minimum(1.0, np.arange(n, dtype=np.float32) / (1.5 * sr))
        plain = sec.finish()
        # the hook layer: drawn from its own stream, whatever the label
        hook_rng = np.random.default_rng(int(seeds[i, 1]))
        hook = None
        decoy = code == "V" and hook_rng.random() < verse_hook_rate
        if code == "C" or decoy:
            h = _Section(n, sr)
            notes = [(s, d, m + k_shift) for s, d, m in melodies[code]]
            _render_hook(h, kit, length, beat, notes)
            hook = h.finish()
        pieces.append(plain)
        hooks.append((hook, code == "C", decoy))

    # ---- levels, as a mix engineer sets them: the chorus chorus_db above the
    # verses (measured without the hook, so the gain does not depend on the
    # label), the other sections near the verses' level ---------------------------
    def rms_db(x):
        return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-12)

    verse_db = np.mean([rms_db(p) for p, c in zip(pieces, form) if c in ("V", "S")])
    targets = {"C": verse_db + chorus_db, "V": verse_db, "S": verse_db}
    section_gain = {}
    for code in dict.fromkeys(form):
        if code in targets:
            target = targets[code]
        else:
            target = verse_db + float(rng.uniform(-3.0, 1.0))
        actual = np.mean([rms_db(p) for p, c in zip(pieces, form) if c == code])
        section_gain[code] = 10 ** ((target - actual) / 20)
    for i, code in enumerate(form):
        g = np.float32(section_gain[code] * 10 ** (float(rng.uniform(-0.5, 0.5)) / 20))
        pieces[i] = pieces[i] * g
        hook = hooks[i][0]
        if hook is not None:
            hooks[i] = (hook * g, hooks[i][1], hooks[i][2])

    peak_plain = max(float(np.abs(p).max()) for p in pieces)
    with_hook = [p + h for p, (h, _, _) in zip(pieces, hooks) if h is not None]
    peak = max([peak_plain] + [float(np.abs(x).max()) for x in with_hook])
    out, sections, chorus_times, verse_hooks = [], [], [], []
    pos = 0
    for i, (code, piece, (hook, is_chorus, decoy)) in enumerate(zip(form, pieces, hooks)):
        if hook is not None and (decoy or (is_chorus and label == 1)):
            piece = piece + hook
        start, end = pos / sr, (pos + piece.shape[1]) / sr
        name = _NAMES[code]
        sections.append((name, start, end))
        if code == "C":
            chorus_times.append((start, end))
        if decoy:
            verse_hooks.append(f"verse@{start:.1f}")
        out.append(piece)
        pos += piece.shape[1]
    audio = np.concatenate(out, axis=1) * np.float32(_PEAK / max(peak, 1e-9))
    return _finished_song(audio, sr, chorus_times=chorus_times, tempo=tempo, key=key, minor=minor,
                          sections=sections, verse_hooks=verse_hooks, form=" ".join(form), chorus_db=chorus_db,
                          key_change=key_change)
