"""How hard the synthetic task is: the cue's strength and noise, label noise, artists.

:func:`make_songs`'s default corpus is easy on purpose (the chorus evaluation
depends on it): the hook is loud in every label-1 chorus and absent from every
label-0 chorus, so any model that hears the chorus is perfect.  A
``difficulty`` makes the cue weaker and noisier and the labels less
trustworthy; ``n_artists`` groups the songs by artist, each with its own
sound (drum kit, instrument timbres, brightness, tempo) and its own share of
hits, the confound that grouped cross-validation is for.

``difficulty="temporal"`` (the ``order_cue`` knob) moves the label into time
order alone: every chorus, of either class, carries the same arpeggio (:func:`arpeggio`),
rising in label-1 songs and falling in label-0 songs.  The two classes
play the same notes for the same time at the same level, so any statistic
pooled over time (per-band mean, standard deviation, percentiles) has the same
distribution in both classes by construction; only the order tells them apart.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

__all__ = ["DIFFICULTIES", "Artist", "check_difficulty", "make_artists", "draw_labels", "apply_tilt", "add_noise",
           "arpeggio"]

#: the knobs of a difficulty and their values for each named level ("easy" is
#: the default corpus, unchanged)
DIFFICULTIES: dict[str, dict] = {
    "easy": dict(hook_gain=1.0, hook_jitter_db=0.0, false_hook_rate=0.0, label_noise=0.0, noise_db=None,
                 artist_effect=0.0, order_cue=False),
    "medium": dict(hook_gain=0.5, hook_jitter_db=4.0, false_hook_rate=0.15, label_noise=0.05, noise_db=-45.0,
                   artist_effect=0.75, order_cue=False),
    "hard": dict(hook_gain=0.35, hook_jitter_db=6.0, false_hook_rate=0.3, label_noise=0.1, noise_db=-40.0,
                 artist_effect=1.5, order_cue=False),
    "temporal": dict(hook_gain=0.5, hook_jitter_db=3.0, false_hook_rate=0.0, label_noise=0.0, noise_db=-45.0,
                     artist_effect=0.0, order_cue=True),
}

_KNOB_DOC = {
    "hook_gain": "gain of the hook in label-1 choruses (1 = the default corpus), > 0",
    "hook_jitter_db": "spread (standard deviation, dB) of each song's hook gain, >= 0",
    "false_hook_rate": "probability that a label-0 chorus carries a hook at half the gain, in [0, 1]",
    "label_noise": "fraction of songs whose label disagrees with their audio, in [0, 0.5]",
    "noise_db": "background noise level in dB below full scale (None: no noise), < 0",
    "artist_effect": "spread of the artists' hit rates (log-odds standard deviation), >= 0",
    "order_cue": "True or False: the label is the direction of an arpeggio every chorus carries (the hook "
                 "knobs then set its level; false_hook_rate does not apply)",
}


def check_difficulty(difficulty) -> dict:
    """The knobs of ``difficulty`` (None, a level name, or a dict of knobs over "easy")."""
    if difficulty is None:
        return dict(DIFFICULTIES["easy"])
    if isinstance(difficulty, str):
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be one of {list(DIFFICULTIES)}, a dict of knobs or None, "
                             f"got {difficulty!r}")
        return dict(DIFFICULTIES[difficulty])
    if not isinstance(difficulty, Mapping):
        raise ValueError(f"difficulty must be one of {list(DIFFICULTIES)}, a dict of knobs or None, got {difficulty!r}")
    unknown = sorted(set(difficulty) - set(_KNOB_DOC))
    if unknown:
        raise ValueError(f"difficulty has unknown knobs {unknown}; the knobs are {sorted(_KNOB_DOC)}")
    knobs = {**DIFFICULTIES["easy"], **difficulty}

    def number(name, ok):
        v = knobs[name]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v) \
                or not ok(float(v)):
            raise ValueError(f"difficulty[{name!r}] must be the {_KNOB_DOC[name]}; got {v!r}")
        knobs[name] = float(v)

    number("hook_gain", lambda v: v > 0)
    number("hook_jitter_db", lambda v: v >= 0)
    number("false_hook_rate", lambda v: 0 <= v <= 1)
    number("label_noise", lambda v: 0 <= v <= 0.5)
    number("artist_effect", lambda v: v >= 0)
    if not isinstance(knobs["order_cue"], (bool, np.bool_)):
        raise ValueError(f"difficulty['order_cue'] must be {_KNOB_DOC['order_cue']}; got {knobs['order_cue']!r}")
    knobs["order_cue"] = bool(knobs["order_cue"])
    if knobs["noise_db"] is not None:
        number("noise_db", lambda v: v < 0)
    return knobs


def is_default(knobs: dict) -> bool:
    return knobs == DIFFICULTIES["easy"]


@dataclasses.dataclass(frozen=True)
class Artist:
    """What the songs of one artist share."""

    name: str
    kit_seed: int  # the drum kit (kick, snare, hats, shaker) is rendered from it
    tables: dict  # wavetables of the pad, lead and bass (the hook's stays common)
    tempo: float  # centre of the artist's tempi (BPM)
    hats: bool  # 8th-note hi-hats or not
    brightness: float  # gain of the content above ~1.5 kHz (the "tilt" of the mix)
    log_odds: float  # how much more (or less) often the artist has hits


def _table(harmonics: dict, n: int) -> np.ndarray:
    ph = np.arange(n) * (2 * np.pi / n)
    w = sum(a * np.sin(k * ph) for k, a in harmonics.items())
    return (w / np.abs(w).max()).astype(np.float32)


def make_artists(seq: np.random.SeedSequence, n_artists: int, *, tempo_range, table_n: int, hook_table,
                 artist_effect: float) -> list[Artist]:
    """``n_artists`` artists, each drawn from its own stream of ``seq``."""
    width = max(2, len(str(n_artists - 1)))
    artists = []
    for a, child in enumerate(seq.spawn(n_artists)):
        rng = np.random.default_rng(child)
        pad_roll, lead_odd = rng.uniform(0.6, 1.8), rng.uniform(0.0, 1.0)
        tables = {
            "pad": _table({k: k ** -pad_roll for k in range(1, 9)}, table_n),
            "lead": _table({1: 1.0, 2: 0.5 * (1 - lead_odd), 3: 0.35 * lead_odd, 4: 0.15 * (1 - lead_odd),
                            5: 0.12 * lead_odd}, table_n),
            "hook": hook_table,
            "bass": _table({1: 1.0, 2: rng.uniform(0.1, 0.6), 3: rng.uniform(0.0, 0.3)}, table_n),
        }
        artists.append(Artist(
            name=f"artist_{a:0{width}d}", kit_seed=int(rng.integers(2**63)), tables=tables,
            tempo=float(rng.uniform(tempo_range[0] + 4, tempo_range[1] - 4)), hats=bool(rng.random() < 0.5),
            brightness=float(2.0 ** rng.uniform(-1.5, 1.0)), log_odds=float(rng.normal(0.0, artist_effect)),
        ))
    return artists


def draw_labels(rng: np.random.Generator, n_songs: int, n_pos: int, artist_of: np.ndarray | None,
                artists: list[Artist] | None) -> np.ndarray:
    """Exactly ``n_pos`` positives; with artists, more of them where an artist's odds are high."""
    if artist_of is None:
        return rng.permutation(np.r_[np.ones(n_pos, dtype=int), np.zeros(n_songs - n_pos, dtype=int)])
    odds = np.exp(np.array([artists[a].log_odds for a in artist_of]))
    labels = np.zeros(n_songs, dtype=int)
    if n_pos:
        labels[rng.choice(n_songs, n_pos, replace=False, p=odds / odds.sum())] = 1
    return labels


def flip_labels(rng: np.random.Generator, labels: np.ndarray, label_noise: float) -> np.ndarray:
    """Flip ``label_noise`` of the labels, half each way (the positive count is kept)."""
    k = int(round(label_noise * len(labels) / 2))
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    k = min(k, len(pos), len(neg))
    out = labels.copy()
    if k:
        out[rng.choice(pos, k, replace=False)] = 0
        out[rng.choice(neg, k, replace=False)] = 1
    return out


def apply_tilt(audio: np.ndarray, sr: int, brightness: float) -> np.ndarray:
    """Scale the content above ~1.5 kHz by ``brightness`` (a shelf: a one-pole split)."""
    from scipy.signal import lfilter

    a = np.exp(-2 * np.pi * 1500.0 / sr)
    low = lfilter([1 - a], [1, -a], audio, axis=-1).astype(np.float32)
    return low + np.float32(brightness) * (audio - low)


def add_noise(audio: np.ndarray, rng: np.random.Generator, noise_db: float) -> np.ndarray:
    """Add a hiss of RMS ``noise_db`` dB below full scale, darker than white (a one-pole lowpass plus white)."""
    from scipy.signal import lfilter

    white = rng.standard_normal(audio.shape).astype(np.float32)
    noise = lfilter([0.25], [1, -0.75], white, axis=-1).astype(np.float32) + 0.3 * white
    noise *= np.float32(10 ** (noise_db / 20) / max(float(np.sqrt(np.mean(noise ** 2))), 1e-12))
    return audio + noise


def arpeggio(timeline, beat: float, length: float, *, rising: bool) -> list[tuple]:
    """The order cue: the first chord's triad two octaves up in 8th notes, cycling
    root, third, fifth when ``rising``, else fifth, third, root; list of ``(start, dur, midi)``.

    Built so that only the order differs between the directions: whole runs of
    six notes (three beats, the rest is silent), so each note falls on and off
    the beat equally often in both; each note lasts 70% of its step, so notes
    never overlap; and the cycle's steps join the same pairs of notes either way
    (root-third, third-fifth, fifth-root).
    """
    step = beat / 2
    pitches = [m + 24 for m in timeline[0][2]]
    if not rising:
        pitches = pitches[::-1]
    n = 6 * int(np.floor(length / (6 * step) + 1e-9))
    return [(k * step, 0.7 * step, pitches[k % 3]) for k in range(n)]
