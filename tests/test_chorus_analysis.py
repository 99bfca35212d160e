"""analyze_structure: every section, every chorus occurrence, and the one clip.

On a constructed song whose form is known exactly, on noise, through every
input form it accepts, and on a few generated full-length pop songs; the clip
is the default method's answer (one code path).
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from viral_sklearn import AudioClip, AudioLoadError, ChorusExtractor
from viral_sklearn.chorus import (
    ChorusOccurrence,
    Section,
    SongStructure,
    analyze_structure,
    find_chorus_structure,
)
from viral_sklearn.chorus._sections import label_sections, novelty_curve, section_boundaries
from viral_sklearn.datasets import make_songs

SR = 11025


def _part(rng, pitches, seconds, amp):
    """A loop of sine notes with a little noise: one section's music."""
    each = int(0.5 * SR)
    freq = np.repeat(220.0 * 2 ** (np.asarray(pitches, float) / 12), each)
    freq = np.tile(freq, int(np.ceil(seconds * SR / freq.size)))[: int(seconds * SR)]
    tone = amp * np.sin(2 * np.pi * np.cumsum(freq) / SR)
    return (tone + 0.01 * rng.standard_normal(tone.size)).astype(np.float32)


@pytest.fixture(scope="module")
def song():
    """verse, chorus, verse, chorus, bridge, chorus: 16 s each, the chorus louder."""
    rng = np.random.default_rng(0)
    verse = lambda: _part(rng, [0, 3, 7, 5, 3, 2, 0, 10], 16, 0.25)  # noqa: E731
    chorus = lambda: _part(rng, [12, 7, 9, 4, 5, 12, 11, 7, 9, 2], 16, 0.4)  # noqa: E731
    bridge = _part(rng, [1, 6, 8, 1, 6], 16, 0.3)
    parts = [verse(), chorus(), verse(), chorus(), bridge, chorus()]
    return np.concatenate(parts), [(16.0, 32.0), (48.0, 64.0), (80.0, 96.0)]


def test_sections_and_choruses_of_a_known_form(song):
    y, choruses = song
    result = analyze_structure((y, SR), clip_length=10.0)
    assert isinstance(result, SongStructure) and result.duration == pytest.approx(96.0)
    assert all(isinstance(s, Section) for s in result.sections)
    assert result.sections[0].start == 0.0 and result.sections[-1].end == pytest.approx(96.0)
    assert all(a.end == b.start for a, b in zip(result.sections, result.sections[1:]))  # no gap, no overlap
    starts = [s.start for s in result.sections]
    assert len(starts) == 6 and np.allclose(starts, [0, 16, 32, 48, 64, 80], atol=1.0), starts
    labels = [s.label for s in result.sections]
    assert labels == ["A", "B", "A", "B", "C", "B"], labels
    assert [s.chorus for s in result.sections] == [False, True, False, True, False, True]
    assert all(isinstance(c, ChorusOccurrence) for c in result.choruses)
    got = [(c.start, c.end) for c in result.choruses]
    assert np.allclose(got, choruses, atol=1.0), got
    assert all(0.5 < c.confidence < 1.0 for c in result.choruses)  # two other occurrences each: ~0.86
    assert any(a <= result.clip.start and result.clip.start + 10.0 <= b + 0.5 for a, b in choruses)


def test_the_clip_is_the_default_methods_answer(song, tmp_path):
    y, _ = song
    result = analyze_structure((y, SR), clip_length=10.0)
    assert find_chorus_structure(y, SR, 10.0) == result.clip
    path = tmp_path / "song.wav"
    sf.write(path, y, SR, subtype="FLOAT")
    start, duration, found, confidence = ChorusExtractor(clip_length=10.0).find_choruses([str(path)])[0]
    assert (start, found, confidence) == (pytest.approx(result.clip.start), 1.0, pytest.approx(result.clip.confidence))
    # a file, a clip, (y, sr) and (y, sr=) are the same song
    for source in (str(path), path, AudioClip.from_path(str(path))):
        assert analyze_structure(source, clip_length=10.0) == result
    assert analyze_structure(y, SR, clip_length=10.0) == result
    assert analyze_structure(np.stack([y, y]), SR, clip_length=10.0) == result  # (channels, n) is mixed


def test_nothing_repeats_in_noise():
    noise = np.random.default_rng(1).standard_normal(60 * SR).astype(np.float32)
    result = analyze_structure((noise, SR))
    assert result.choruses == () and result.clip.start is None and result.clip.confidence == 0.0
    assert not any(s.chorus for s in result.sections)
    assert result.sections[0].start == 0.0 and result.sections[-1].end == pytest.approx(60.0)


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(ValueError, match="samples need their rate"):
        analyze_structure(np.zeros(SR, np.float32))
    with pytest.raises(ValueError, match="a file or AudioClip carries its own rate"):
        analyze_structure(str(tmp_path / "x.wav"), 22050)
    missing = tmp_path / "missing.mp3"
    with pytest.raises(AudioLoadError, match="missing.mp3"):
        analyze_structure(missing)
    with pytest.raises(ValueError, match="non-finite"):
        analyze_structure((np.full(10 * SR, np.nan, np.float32), SR))


def test_novelty_boundaries_and_labels_on_a_block_matrix():
    sim = np.zeros((60, 60))
    for a, b, other in ((0, 20, 40), (20, 40, None)):
        sim[a:b, a:b] = 1
        if other is not None:  # the first part comes back at 40-60
            sim[a:b, other : other + 20] = sim[other : other + 20, a:b] = np.eye(20)
    sim[40:60, 40:60] = 1
    nov = novelty_curve(sim, 6)
    bounds = section_boundaries(nov, 8)
    assert bounds.tolist() == [0, 20, 40, 60]
    pairs = np.zeros((60, 60))
    pairs[np.arange(20), np.arange(40, 60)] = pairs[np.arange(40, 60), np.arange(20)] = 0.8
    assert label_sections(bounds, pairs) == [0, 1, 0]
    assert section_boundaries(np.zeros(60), 8).tolist() == [0, 60]  # flat: one section


def _overlap_f(estimated, true) -> float:
    inter = sum(max(0.0, min(b, d) - max(a, c)) for a, b in estimated for c, d in true)
    p = inter / max(sum(b - a for a, b in estimated), 1e-9)
    r = inter / sum(b - a for a, b in true)
    return 2 * p * r / max(p + r, 1e-9)


def test_chorus_occurrences_of_generated_pop_songs(tmp_path):
    """On full-length generated pop songs the occurrences overlap the true
    choruses with a mean F of at least 0.7 (and the clip lies in a chorus)."""
    songs = make_songs(3, tmp_path, form="pop", format="wav", sample_rates=(22050,), duration=(150, 180),
                       random_state=5)
    scores = []
    for path, truth in zip(songs.paths, songs.truth["chorus_times"]):
        result = analyze_structure(path)
        scores.append(_overlap_f([(c.start, c.end) for c in result.choruses], truth))
        inside = sum(max(0.0, min(b, result.clip.start + 20) - max(a, result.clip.start)) for a, b in truth)
        assert inside / 20 >= 0.5, (result.clip, truth)
    assert np.mean(scores) >= 0.7, scores


def test_a_section_a_fifth_covered_by_the_clip_is_chorus():
    """A sung chorus cut in two where its melody turns: the clip (steps 25-45) covers a
    quarter of section 1 (steps 10-30) and most of section 2; both labels are chorus.
    Sections it covers less than a fifth of, or not at all, are not."""
    from viral_sklearn.chorus._analysis import CHORUS_OVERLAP, chorus_section_labels

    bounds = np.array([0, 10, 30, 50, 60])
    assert CHORUS_OVERLAP == 0.2
    assert chorus_section_labels(bounds, [0, 1, 2, 3], first=25, width=20) == {1, 2}
    assert chorus_section_labels(bounds, [0, 1, 2, 3], first=27, width=20) == {2}  # 3/20 of section 1
    assert chorus_section_labels(bounds, [0, 1, 2, 3], first=30, width=20) == {2}


def test_occurrences_are_the_seed_and_what_the_lines_pair_with_it():
    """Runs of steps a line pairs with the seed; gaps up to ``gap_steps`` closed;
    short runs dropped unless they hold the seed; steps paired only with each
    other (another repeated section) are not the chorus."""
    from viral_sklearn.chorus._occurrences import repeat_occurrences

    n = 100
    pairs = np.zeros((n, n))

    def line(a, b, length):
        pairs[np.arange(a, a + length), np.arange(b, b + length)] = 0.8

    line(10, 40, 8)     # the seed's steps 10-17 come back at 40-47 ...
    line(12, 51, 6)     # ... and 12-17 at 51-56, 3 steps after that run: the same occurrence
    line(10, 80, 2)     # a 2-step echo at 80-81: too short
    line(60, 90, 8)     # another section repeated (60-67 at 90-97): not paired with the seed
    pairs = np.maximum(pairs, pairs.T)
    seed = np.zeros(n, dtype=bool)
    seed[10:20] = True
    assert repeat_occurrences(pairs, seed, gap_steps=3, min_steps=4) == [(10, 20), (40, 57)]
    assert repeat_occurrences(pairs, seed, gap_steps=2, min_steps=4) == [(10, 20), (40, 48), (51, 57)]
    assert repeat_occurrences(pairs, seed, gap_steps=3, min_steps=2) == [(10, 20), (40, 57), (80, 82)]
    short_seed = np.zeros(n, dtype=bool)
    short_seed[60:62] = True  # a seed shorter than min_steps is kept, and brings its repeat
    assert repeat_occurrences(pairs, short_seed, gap_steps=0, min_steps=4) == [(60, 62)]
    assert repeat_occurrences(np.zeros((n, n)), seed, gap_steps=3, min_steps=4) == [(10, 20)]


def test_chorus_sections_lie_in_the_occurrences(song):
    """A section is flagged chorus exactly when at least half of it lies in a chorus occurrence."""
    y, _ = song
    result = analyze_structure((y, SR), clip_length=10.0)

    def inside(s):
        return sum(max(0.0, min(s.end, c.end) - max(s.start, c.start)) for c in result.choruses) / (s.end - s.start)

    assert result.choruses
    assert all(s.chorus == (inside(s) >= 0.5) for s in result.sections)
