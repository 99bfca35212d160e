"""The short song form of :func:`~viral_sklearn.datasets.make_songs`: verses, a chorus that carries the class.

A song is an intro, verses of their own chords and melody, and two to four
occurrences of one chorus whose hook (a bright shaker and a lead figure) is
audible only in the viral class; the chorus times are the truth.
"""

from __future__ import annotations

import numpy as np

from ._music import (
    _MAJOR,
    _MINOR,
    _CHORUS_PROGRESSIONS,
    _PEAK,
    _Section,
    _drum_kit,
    _triad,
    _progression_timeline,
    _render_harmony,
    _render_drums,
    _render_melody,
    _render_hook,
    _finished_song,
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
