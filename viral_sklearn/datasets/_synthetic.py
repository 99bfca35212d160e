"""make_songs: a synthetic song corpus whose class is audible in the chorus only."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import Any, Sequence

import numpy as np

from ._music import (
    _TABLE_N,
    _TABLES,
    write_audio_file,
)
from ._short import _TEMPO_GRID, _TEMPO_RANGE, _shortest_song, _synth_song

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
#: shortest duration accepted for form="pop" (the forms at the fastest tempo)
_POP_SHORTEST = 90.0


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
