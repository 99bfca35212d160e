"""The structure-aware chorus finder (ChorusExtractor's default method).

Its quality on the project's full evaluation corpus is a benchmark
(benchmarks/bench_chorus_quality.py, docs/performance.md); here: its steps on
constructed inputs, its documented results on unusual songs, the same answer
from every codec, and a small quality check on generated full-length songs.
"""

from __future__ import annotations


import numpy as np
import pytest

from tests.conftest import require_ffmpeg
from viral_sklearn import AudioClip, ChorusExtractor
from viral_sklearn.chorus import (
    METHODS,
    ChorusEstimate,
    SongFeatures,
    find_chorus_loudest,
    find_chorus_offset,
    find_chorus_pychorus,
    find_chorus_structure,
    song_features,
)
from viral_sklearn.chorus import _structure
from viral_sklearn.datasets import make_songs
from viral_sklearn.datasets._testing import write_encodings

SR = 11025
CLIP = 20.0


def _tone_sequence(pitches, seconds_each: float, sr: int = SR, amp: float = 0.3) -> np.ndarray:
    """Sine notes (semitones above A3), ``seconds_each`` long each, phase-continuous."""
    freq = np.repeat(220.0 * 2 ** (np.asarray(pitches, dtype=float) / 12), int(round(seconds_each * sr)))
    return (amp * np.sin(2 * np.pi * np.cumsum(freq) / sr)).astype(np.float32)


def _clip_in(start, clip, intervals) -> float:
    covered, cursor = 0.0, start
    for a, b in sorted(intervals):
        a, b = max(a, cursor), min(b, start + clip)
        if b > a:
            covered, cursor = covered + b - a, b
    return covered / clip


# ----------------------------------------------------------------------
# the steps, on constructed inputs
# ----------------------------------------------------------------------
def _features(chroma, mfcc=None, loudness=None, step=0.5) -> SongFeatures:
    n = chroma.shape[0]
    return SongFeatures(
        chroma=np.asarray(chroma, dtype=np.float32),
        mfcc=np.zeros((n, 13), np.float32) if mfcc is None else np.asarray(mfcc, np.float32),
        loudness=np.zeros(n, np.float32) if loudness is None else np.asarray(loudness, np.float32),
        brightness=np.zeros(n, np.float32), onset=np.zeros(n * 5, np.float32), step=step, hop=step / 5,
        duration=n * step,
    )


def _random_steps(rng, n):
    """``n`` steps of peaky random chroma (like real chroma) and random timbre."""
    return np.hstack([rng.random((n, 12)) ** 4, rng.standard_normal((n, 13))]).astype(np.float32)


def _song(parts) -> SongFeatures:
    steps = np.concatenate(parts)
    return _features(steps[:, :12], mfcc=steps[:, 12:])


def test_a_transposed_repeat_is_as_similar_as_a_copy():
    rng = np.random.default_rng(0)
    section, other = _random_steps(rng, 30)[:, :12], _random_steps(rng, 30)[:, :12]
    song = _features(np.concatenate([section, other, np.roll(section, 2, axis=1)]))  # last: two semitones up
    sim = _structure.self_similarity(song, chroma_weight=1.0)
    assert np.allclose(np.diagonal(sim[60:, :30]), 1.0, atol=1e-5)  # the key shift is undone
    untransposed = _structure.self_similarity(song, chroma_weight=1.0, key_shifts=(0,))
    assert np.diagonal(untransposed[60:, :30]).mean() < 0.9


def test_repetition_lines_pair_the_occurrences_of_a_section():
    rng = np.random.default_rng(1)
    chorus = _random_steps(rng, 30)  # 15 s at 0.5 s steps
    feats = _song([_random_steps(rng, 40), chorus, _random_steps(rng, 40), chorus, _random_steps(rng, 20)])
    sim = _structure.standardize_similarity(_structure.self_similarity(feats), 8)
    weights = _structure.repetition_lines(sim, feats.step)
    lags, times = np.nonzero(weights)
    assert set(lags) == {70}  # the chorus at steps 40-69 comes back 70 steps later
    assert times.min() >= 110 and times.max() < 140  # and lies at steps 110-139
    counts = _structure.repetition_counts(weights, 20)
    assert counts[115:135].min() > 0.9 and counts[45:65].min() > 0.9  # both occurrences, each once
    assert counts[:40].max() == 0 and counts[70:110].max() == 0 and counts[140:].max() == 0  # verses unpaired


def test_a_loop_inside_one_section_is_not_a_repetition():
    """A section built of a short loop pairs its steps with their neighbours: that
    is the section itself, not another occurrence of it."""
    rng = np.random.default_rng(2)
    riff = _random_steps(rng, 12)  # a 6-s riff
    feats = _song([_random_steps(rng, 40), *[riff] * 6, _random_steps(rng, 40)])  # 36 s of it
    sim = _structure.standardize_similarity(_structure.self_similarity(feats), 8)
    weights = _structure.repetition_lines(sim, feats.step)
    assert weights.any()  # the lines are there ...
    assert _structure.repetition_counts(weights, 20).max() == 0  # ... but within one occurrence
    assert _structure.repetition_counts(weights, 0).max() > 1  # counting every line would see many


def test_a_chorus_of_a_phrase_sung_twice_counts_each_other_chorus_once():
    """A chorus made of one 12-s phrase sung twice pairs each of its steps with
    both halves of every other chorus (lines 12 s apart): within one clip length,
    that is one other occurrence, not two."""
    rng = np.random.default_rng(3)
    phrase = _random_steps(rng, 24)  # 12 s
    feats = _song([_random_steps(rng, 40), phrase, phrase, _random_steps(rng, 40), phrase, phrase,
                   _random_steps(rng, 20)])
    rep = _structure.analyse_repetition(feats, CLIP)
    choruses = np.r_[45:84, 133:172]  # the two choruses, their edges left out
    assert 0.9 < rep.counts[choruses].min() and rep.counts[choruses].max() <= 1.0  # one other chorus, once
    assert rep.counts[:36].max() == 0 and rep.counts[92:124].max() == 0  # verses unpaired
    # grouping by half a clip (10 s, the former rule) counted the other chorus twice
    halves = _structure.repetition_counts(rep.pairs, int(round(0.5 * CLIP / feats.step)), paired=True)
    assert np.median(halves[choruses]) > 1.5


def test_place_clip_ends_the_clip_where_the_best_run_ends():
    score = np.zeros(100)
    score[20:50] = 1.0  # a block of 30 steps ...
    score[70:100] = 0.8  # ... and a weaker one
    assert _structure.place_clip(score, 20) == 30  # the best block; the clip ends with it
    score[10:20] = 0.9  # a lead-in as repeated as the block, a little quieter
    assert _structure.place_clip(score, 20) == 30  # still the block's end
    score[50:60] = 1.0  # back-to-back blocks make one run: the clip ends at the second's end
    assert _structure.place_clip(score, 20) == 40
    score[57] = 0.0  # a one-step dip inside the chorus ends it, unless the score is smoothed
    assert _structure.place_clip(score, 20, smooth=1) == 37
    assert _structure.place_clip(score, 20, smooth=5) == 39  # the block's end, blurred by one step
    assert _structure.place_clip(np.zeros(50), 20) is None


# ----------------------------------------------------------------------
# documented results on unusual songs
# ----------------------------------------------------------------------
def test_nothing_repeats_in_noise_silence_or_a_through_composed_piece():
    rng = np.random.default_rng(0)
    notes = rng.integers(0, 24, size=180)
    songs = {
        "noise": rng.standard_normal(60 * SR).astype(np.float32),
        "silence": np.zeros(60 * SR, np.float32),
        "through-composed": _tone_sequence(notes, 0.5),  # 90 s, no two bars alike
    }
    for name, y in songs.items():
        assert find_chorus_structure(y, SR, CLIP) == ChorusEstimate(start=None, confidence=0.0), name
    # the extractor then falls back to its rule and says so
    windows = ChorusExtractor(fallback="middle").find_choruses([AudioClip.from_array(songs["noise"], SR)])
    np.testing.assert_array_equal(windows, [[20.0, CLIP, 0.0, 0.0]])


def test_a_song_that_is_one_loop_is_found_anywhere_inside_it():
    """Every window of a song that is one 8-s riff repeated is alike: the method
    reports a chorus (found, the clip inside the song), with a low confidence:
    repeats within a clip length of each other chain into one section, the whole
    song, so hardly any step has another occurrence."""
    y = _tone_sequence(np.tile([0, 4, 7, 12], 12), 2.0)  # 96 s
    estimate = find_chorus_structure(y, SR, CLIP)
    assert estimate.start is not None and 0.0 <= estimate.start <= y.size / SR - CLIP
    assert 0.0 < estimate.confidence < 0.3


def test_short_songs():
    """Not longer than the clip: kept whole (the extractor never calls a
    method).  A little longer: too short for a repetition of 6 s to be
    seen twice, so the fallback places the clip."""
    riff = _tone_sequence([0, 4, 7, 12] * 4, 1.0)  # 16 s
    ext = ChorusExtractor(clip_length=CLIP)
    np.testing.assert_array_equal(ext.find_choruses([AudioClip.from_array(riff, SR)]), [[0.0, 16.0, 0.0, 0.0]])
    longer = _tone_sequence([0, 4, 7, 12] * 6, 1.0)  # 24 s
    assert find_chorus_structure(longer, SR, CLIP).start is None
    [(start, duration, found, confidence)] = ext.find_choruses([AudioClip.from_array(longer, SR)])
    assert found == 0.0 and duration == CLIP and 0.0 <= start <= 4.0


def test_the_clip_lies_inside_the_song_and_confidence_in_unit_interval():
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 24, 16), rng.integers(0, 24, 16)
    y = _tone_sequence(np.concatenate([a, b, a, b, a]), 1.0)  # A B A B A, 8-s sections... 80 s
    estimate = find_chorus_structure(y, SR, CLIP)
    assert 0.0 <= estimate.start <= y.size / SR - CLIP
    assert 0.0 < estimate.confidence <= 1.0


def test_every_method_has_the_same_signature():
    y = _tone_sequence(np.tile([0, 4, 7, 12], 8), 1.5)  # 48 s
    duration = y.size / SR
    assert set(METHODS) == {"structure", "pychorus", "loudest", "offset"}
    for find in (find_chorus_structure, find_chorus_pychorus, find_chorus_loudest, find_chorus_offset):
        estimate = find(y, SR, CLIP)
        assert isinstance(estimate, ChorusEstimate)
        assert estimate.start is None or 0.0 <= estimate.start <= duration - CLIP
    assert np.isnan(find_chorus_loudest(y, SR, CLIP).confidence)  # rules have no confidence
    assert find_chorus_offset(y, SR, CLIP, "middle").start == pytest.approx((duration - CLIP) / 2)
    assert find_chorus_offset(y, SR, CLIP, 40.0).start == pytest.approx(duration - CLIP)  # kept inside


def test_features_on_any_rate_have_the_same_step():
    y = _tone_sequence([0, 7] * 10, 1.0)
    steps = {sr: song_features(_tone_sequence([0, 7] * 10, 1.0, sr=sr), sr).step for sr in (8000, 11025, 22050)}
    assert all(abs(s - 0.5) < 0.05 for s in steps.values()), steps
    assert song_features(y, SR).chroma.shape[1] == 12


# ----------------------------------------------------------------------
# generated full-length songs: every codec, and quality
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def pop_songs(tmp_path_factory):
    """Full-length synthetic pop songs (make_songs(form="pop")), WAV at 44.1 kHz."""
    return make_songs(6, tmp_path_factory.mktemp("pop"), form="pop", format="wav", sample_rates=(44100,),
                      duration=(150, 200), random_state=11)


@pytest.mark.parametrize("song", [0, 1])
def test_same_start_from_every_codec(pop_songs, song, tmp_path):
    require_ffmpeg()  # M4A/AAC is decoded through FFmpeg
    path = pop_songs.paths[song]
    variants = write_encodings(path, tmp_path)
    assert set(variants) >= {"mp3", "flac", "ogg", "m4a", "wav 48 kHz", "mono 16 kHz"}
    windows = ChorusExtractor().find_choruses(list(variants.values()))
    starts = dict(zip(variants, windows[:, 0]))
    assert windows[:, 2].all(), starts  # found in every one
    assert max(starts.values()) - min(starts.values()) <= 1.0, starts
    choruses = pop_songs.truth["chorus_times"][song]
    assert _clip_in(starts["mp3"], CLIP, choruses) >= 0.9, (starts, choruses)


def test_structure_puts_the_clip_in_the_chorus_of_generated_songs(pop_songs):
    """The default puts at least 90% of the clip inside a chorus on average, on
    songs that pychorus's algorithm and the loudest window get far less of."""
    truth = list(pop_songs.truth["chorus_times"])
    fractions = {}
    for method in ("structure", "pychorus", "loudest"):
        windows = ChorusExtractor(method=method).find_choruses(pop_songs.paths)
        fractions[method] = np.array([_clip_in(s, d, t) for (s, d, _, _), t in zip(windows, truth)])
    means = {m: round(float(f.mean()), 3) for m, f in fractions.items()}
    assert means["structure"] >= 0.9, means
    assert means["structure"] >= means["pychorus"] + 0.15 and means["structure"] >= means["loudest"] + 0.05, means
    assert (fractions["structure"] >= 0.5).all(), means
