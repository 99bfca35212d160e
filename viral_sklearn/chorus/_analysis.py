"""The whole structure of a song: every section, every chorus, and the one clip.

:func:`analyze_structure` is the structure method's one code path:
:func:`find_chorus_structure` (``ChorusExtractor(method="structure")``) is its
``clip``.  On the repetition analysis of
:func:`~viral_sklearn.chorus._structure.analyse_repetition` it adds the
sections (:mod:`~viral_sklearn.chorus._sections`: novelty boundaries, labels by
repetition).  The chorus sections are those of the labels that the clip placed
by the repetition count covers (at least ``CHORUS_OVERLAP`` of the section, or
of the clip: a chorus with a change inside it is two sections).  The clip moves
to the start of a run of chorus sections within ``SECTION_SNAP_SECONDS`` when
that puts at least ``SNAP_GAIN`` more of it inside them, so it begins with its
section rather than a few seconds before it; the start is finally moved to the
strongest onset within 0.5 s.

The chorus *occurrences* are then read off the repetition lines
(:mod:`~viral_sklearn.chorus._occurrences`): the clip and the chorus sections
holding it, and every stretch a line pairs with them, their edges moved to a
section boundary within ``OCCURRENCE_SNAP_SECONDS``; a section is flagged
chorus when at least half of it lies in an occurrence.  Section labels alone
over-reach (a verse on the chorus's chords shares its label) and cut long
choruses where the novelty curve peaks: on the development songs the lines
raise the every-chorus overlap F from 0.846 to 0.883 (instrumental dev split)
and from 0.699 to 0.719 (sung songs of ``benchmarks/build_vocal_corpus.py``, its
dev and first held-out split; ``docs/performance.md``, section 9).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from ._estimate import ChorusEstimate
from ._features import SongFeatures, song_features
from ._occurrences import OCCURRENCE_GAP_SECONDS, repeat_occurrences
from ._sections import KERNEL_SECONDS, MIN_SECTION_SECONDS, label_sections, novelty_curve, section_boundaries
from ._structure import (
    MIN_RUN_SECONDS,
    REFERENCE_CLIP,
    RepetitionAnalysis,
    _blas_controller,
    analyse_repetition,
    clip_confidence,
    snap_to_onset,
)

__all__ = ["Section", "ChorusOccurrence", "SongStructure", "analyze_structure", "find_chorus_structure",
           "SECTION_SNAP_SECONDS"]

#: the clip may move this far (seconds) to start with a chorus occurrence
SECTION_SNAP_SECONDS = 5.0
#: a section is part of the chorus when the placed clip covers this share of it (or of the
#: clip).  0.2, not 0.3: a sung chorus is often cut into two or three sections where its
#: melody turns, and a 20-s clip inside a 40-s chorus covers each of them only in part
#: (vocal dev split, POP909 songs: every-chorus overlap F 0.703 -> 0.732; instrumental
#: dev 0.844 -> 0.846, generated sung 0.753 -> 0.747)
CHORUS_OVERLAP = 0.2
#: ... and only when that fills at least this much more of the clip with chorus
SNAP_GAIN = 0.03
#: a chorus occurrence's start and end move to a section boundary this close (seconds)
OCCURRENCE_SNAP_SECONDS = 2.0


@dataclasses.dataclass(frozen=True)
class Section:
    """One section of a song.

    Attributes
    ----------
    start, end : float
        Seconds from the start of the song.
    label : str
        ``"A"``, ``"B"``, ...: sections with the same letter are the same music
        (a repeated verse, the choruses); letters in order of first appearance.
    chorus : bool
        Whether the section is a chorus occurrence.
    """

    start: float
    end: float
    label: str
    chorus: bool


@dataclasses.dataclass(frozen=True)
class ChorusOccurrence:
    """One occurrence of the chorus.

    Attributes
    ----------
    start, end : float
        Seconds from the start of the song.
    confidence : float
        ``1 - exp(-m)`` in ``[0, 1)``, ``m`` the mean number of other
        occurrences the repetition lines find for its steps (0.63 for one,
        0.86 for two).
    """

    start: float
    end: float
    confidence: float


@dataclasses.dataclass(frozen=True)
class SongStructure:
    """What :func:`analyze_structure` finds in a song.

    Attributes
    ----------
    sections : tuple of Section
        Every section, in order, covering ``[0, duration]``.
    choruses : tuple of ChorusOccurrence
        Every chorus occurrence, in order (empty when nothing repeats).
    clip : ChorusEstimate
        The one ``clip_length`` window :class:`~viral_sklearn.ChorusExtractor`
        keeps (``start=None`` when nothing repeats).
    clip_length : float
        Its length in seconds.
    duration : float
        Length of the song in seconds.
    """

    sections: tuple[Section, ...]
    choruses: tuple[ChorusOccurrence, ...]
    clip: ChorusEstimate
    clip_length: float
    duration: float


def _letters(k: int) -> str:
    text = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        text = chr(65 + r) + text
    return text


def _coverage(start: float, length: float, intervals) -> float:
    covered = sum(max(0.0, min(b, start + length) - max(a, start)) for a, b in intervals)
    return covered / length


def _sections(rep: RepetitionAnalysis) -> tuple[np.ndarray, list[int]]:
    step = rep.features.step
    novelty = novelty_curve(rep.similarity, max(1, int(round(KERNEL_SECONDS / step))))
    bounds = section_boundaries(novelty, max(1, int(round(MIN_SECTION_SECONDS / step))))
    return bounds, label_sections(bounds, rep.pairs)


def chorus_section_labels(bounds, labels, first: int, width: int) -> set:
    """The labels of the sections that the placed clip makes chorus.

    Parameters
    ----------
    bounds : np.ndarray [shape=(n_sections + 1,)]
        Section boundaries, in steps.
    labels : list of int [shape=(n_sections,)]
        Each section's repetition label.
    first, width : int
        The placed clip's first step and its length in steps.

    Returns
    -------
    set of int
        The label of the section holding most of the clip, and of every section
        of which the clip covers at least ``CHORUS_OVERLAP`` (of the section, or of
        the clip when the section is longer): a chorus split where its melody turns
        has two or three labels.

    Examples
    --------
    >>> import numpy as np
    >>> sorted(chorus_section_labels(np.array([0, 10, 30, 50, 60]), [0, 1, 2, 1], first=25, width=20))
    [1, 2]
    """
    a, b = first, first + width
    overlap = np.array([max(0, min(b, bounds[i + 1]) - max(a, bounds[i])) for i in range(len(labels))])
    lengths = np.diff(bounds)
    chosen = {labels[i] for i in range(len(labels))
              if overlap[i] > 0 and overlap[i] >= CHORUS_OVERLAP * min(lengths[i], width)}
    chosen.add(labels[int(np.argmax(overlap))])
    return chosen


def _structure(features: SongFeatures, clip_length: float) -> SongStructure:
    rep = analyse_repetition(features, clip_length)
    feats = rep.features
    step, duration = feats.step, feats.duration
    bounds, labels = _sections(rep)
    times = bounds.astype(np.float64) * step
    times[-1] = duration
    clip, choruses = ChorusEstimate(start=None, confidence=0.0), ()
    if rep.first is not None:  # something repeats
        chorus_labels = chorus_section_labels(bounds, labels, rep.first, rep.width)
        runs = []  # consecutive chorus sections make one run
        for i, label in enumerate(labels):
            if label in chorus_labels:
                if runs and runs[-1][1] == bounds[i]:
                    runs[-1][1] = int(bounds[i + 1])
                else:
                    runs.append([int(bounds[i]), int(bounds[i + 1])])
        # the clip moves to the start of a chorus section near it ...
        spans = [(float(times[np.searchsorted(bounds, r0)]), float(times[np.searchsorted(bounds, r1)]))
                 for r0, r1 in runs]
        clip = _place(rep, spans, clip_length)
        # ... and the chorus occurrences are where the lines say the clip's music comes back
        first = min(int(round(clip.start / step)), rep.counts.shape[0] - 1)
        choruses = _occurrences(rep, runs, bounds, first, clip_length)
    inside = [(c.start, c.end) for c in choruses]
    edges = times.tolist()
    sections = tuple(Section(start=a, end=b, label=_letters(label), chorus=_coverage(a, b - a, inside) >= 0.5)
                     for a, b, label in zip(edges, edges[1:], labels))
    return SongStructure(sections=sections, choruses=choruses, clip=clip, clip_length=float(clip_length),
                         duration=float(duration))


def _occurrences(rep: RepetitionAnalysis, runs, bounds: np.ndarray, first: int,
                 clip_length: float) -> tuple[ChorusOccurrence, ...]:
    """Where the lines say the chorus comes back: seeded by the clip at step ``first``
    and the chorus sections (``runs``) it overlaps (:func:`repeat_occurrences`), the
    edges moved to a section boundary within ``OCCURRENCE_SNAP_SECONDS``."""
    step, n = rep.features.step, rep.counts.shape[0]
    seed = np.zeros(n, dtype=bool)
    seed[first : first + rep.width] = True
    for r0, r1 in runs:
        if r0 < first + rep.width and r1 > first:
            seed[r0:r1] = True
    scale = min(1.0, clip_length / REFERENCE_CLIP)
    found = repeat_occurrences(rep.pairs, seed, gap_steps=int(OCCURRENCE_GAP_SECONDS / step),
                               min_steps=max(2, int(round(scale * MIN_RUN_SECONDS / step))))
    within = OCCURRENCE_SNAP_SECONDS / step
    found = [(_nearest(a, bounds, within), _nearest(b, bounds, within)) for a, b in found]
    confidence = 1.0 - np.exp(-rep.counts)
    edges = np.arange(n + 1, dtype=np.float64) * step
    edges[-1] = rep.features.duration
    return tuple(ChorusOccurrence(start=float(edges[a]), end=float(edges[b]), confidence=float(confidence[a:b].mean()))
                 for a, b in found if b > a)


def _nearest(step: int, bounds: np.ndarray, within: float) -> int:
    """``step`` moved to the nearest section boundary at most ``within`` steps away."""
    k = int(np.argmin(np.abs(bounds - step)))
    return int(bounds[k]) if abs(int(bounds[k]) - step) <= within else int(step)


def _place(rep: RepetitionAnalysis, spans, clip_length: float) -> ChorusEstimate:
    """The clip: the placed start, moved to the start of a chorus span within
    ``SECTION_SNAP_SECONDS`` when that fills ``SNAP_GAIN`` more of it, then to an onset
    (``rep.first`` is set: something repeats)."""
    feats = rep.features
    latest = max(feats.duration - clip_length, 0.0)
    placed = rep.first * feats.step
    candidates = [placed] + [a for a, _ in spans if abs(a - placed) <= SECTION_SNAP_SECONDS]
    candidates = [min(max(c, 0.0), latest) for c in candidates]
    # the most of the clip inside the choruses, the placed start unless another fills
    # SNAP_GAIN more of it; ties go to the earliest
    placed = candidates[0]
    gain = {c: _coverage(c, clip_length, spans) - (0.0 if c == placed else SNAP_GAIN) for c in candidates}
    best = max(candidates, key=lambda c: (round(gain[c], 6), c == placed, -c))
    start = float(min(max(snap_to_onset(best, feats), 0.0), latest))
    return ChorusEstimate(start=start, confidence=clip_confidence(rep.counts, rep.first, rep.width))


def _samples(audio, sr, sample_rate: int) -> tuple[np.ndarray, int]:
    from ..audio import AudioClip, load_audio

    if isinstance(audio, (str, os.PathLike, AudioClip)):
        if sr is not None:
            raise ValueError("sr is for samples; a file or AudioClip carries its own rate")
        return load_audio(audio, sr=sample_rate)
    if isinstance(audio, tuple) and len(audio) == 2 and sr is None:
        audio, sr = audio
    if sr is None:
        raise ValueError("samples need their rate: analyze_structure((y, sr)) or analyze_structure(y, sr)")
    y = np.asarray(audio)
    if y.ndim == 2:  # (channels, n), as AudioClip holds them
        y = y.mean(axis=0)
    return y, int(sr)


def analyze_structure(audio, sr: int | None = None, *, clip_length: float = 20.0,
                      sample_rate: int = 11025) -> SongStructure:
    """Every section and every chorus of a song, and the clip the extractor keeps.

    Parameters
    ----------
    audio : str, os.PathLike, AudioClip, (y, sr) or np.ndarray
        A file or clip (decoded once at ``sample_rate``, mono), or samples
        ``y`` [shape=(n,) or (channels, n)] with their rate (as a pair, or
        with ``sr``), analysed at their own rate.
    sr : int or None, default=None
        Rate of ``audio`` when it is an array.
    clip_length : float, default=20.0
        Length of the one clip (as :class:`~viral_sklearn.ChorusExtractor`'s).
    sample_rate : int, default=11025
        Rate at which files are decoded (the extractor's).

    Returns
    -------
    SongStructure
        ``sections`` (start, end, label, chorus), ``choruses`` (start, end,
        confidence) and ``clip`` (a :class:`ChorusEstimate`: the clip's start,
        ``None`` when nothing repeats, and its confidence).

    Raises
    ------
    AudioLoadError
        The file cannot be read (the message names it).
    ValueError
        Samples without a rate, or not finite.

    See Also
    --------
    find_chorus_structure : the clip alone (the extractor's default method).

    Examples
    --------
    >>> import numpy as np
    >>> sr = 11025
    >>> t = np.arange(int(12 * sr)) / sr
    >>> verse = (0.3 * np.sin(2 * np.pi * 220 * t * (1 + (t % 3 > 1.5) / 4))).astype(np.float32)
    >>> chorus = (0.5 * np.sin(2 * np.pi * 330 * t * (1 + (t % 2 > 1) / 3))).astype(np.float32)
    >>> song = np.concatenate([verse, chorus, verse[::-1], chorus, chorus])
    >>> result = analyze_structure((song, sr), clip_length=10.0)
    >>> [(s.label, round(s.start), round(s.end), s.chorus) for s in result.sections]
    [('A', 0, 12, False), ('B', 12, 24, True), ('A', 24, 36, False), ('B', 36, 60, True)]
    >>> [(round(c.start), round(c.end)) for c in result.choruses]  # back-to-back choruses make one
    [(12, 24), (36, 60)]
    >>> 36 <= result.clip.start <= 50
    True
    """
    y, rate = _samples(audio, sr, int(sample_rate))
    # one BLAS thread: the matrix products then sum in one order, so the answer
    # does not depend on how many threads the caller allows (they are small)
    with _blas_controller().limit(limits=1, user_api="blas"):
        return _structure(song_features(y, rate), float(clip_length))


def find_chorus_structure(y: np.ndarray, sr: int, clip_length: float) -> ChorusEstimate:
    """The chorus by song structure: the most repeated, loud, late window.

    The ``clip`` of :func:`analyze_structure` on these samples.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono audio.
    sr : int
        Its sample rate (the extractor analyses at 11025 Hz).
    clip_length : float
        Length of the clip in seconds.

    Returns
    -------
    ChorusEstimate
        ``start`` in ``[0, duration - clip_length]`` (``None`` when nothing
        repeats: silence, noise, a song without repeated sections), and the
        confidence described in the module notes of
        :mod:`viral_sklearn.chorus._structure`.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 11025
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.standard_normal(60 * sr).astype(np.float32)
    >>> find_chorus_structure(noise, sr, 20.0).start is None  # nothing repeats in noise
    True
    """
    return analyze_structure((y, sr), clip_length=clip_length).clip
