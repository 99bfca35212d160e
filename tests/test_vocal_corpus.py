"""The vocal corpus's pure parts (benchmarks/vocal_corpus, benchmarks/chorus_metrics.py).

No audio is rendered here: the labels, the chorus rule, the split, the
generated scores and the score wrappers are checked on constructed inputs.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

import chorus_metrics as cm  # noqa: E402
from vocal_corpus import RESERVED, _in_split, split_of  # noqa: E402
from vocal_corpus.generated import make_score  # noqa: E402
from vocal_corpus.labels import (  # noqa: E402
    choose_chorus,
    chorus_letter,
    parse_label,
    section_name,
    sections_from_label,
)
from vocal_corpus.pop909 import _TempoMap  # noqa: E402
from vocal_corpus.voice import _stretch_index  # noqa: E402


def _notes(pitch_per_phrase, bars=4):
    """One whole-phrase melody note per phrase of ``bars`` bars (sixteenths)."""
    return [(p, k * bars * 16, bars * 16) for k, p in enumerate(pitch_per_phrase)]


# ---- labels -----------------------------------------------------------------------------

def test_parse_label_reads_pop909_labels():
    assert parse_label("i4A4B8A4A4b4B8A4A4b4b4A4A4b4A4o3\n")[:3] == [("i", 4), ("A", 4), ("B", 8)]
    assert sum(n for _, n in parse_label("i4A4B8A4A4b4B8A4A4b4b4A4A4b4A4o3")) == 71


@pytest.mark.parametrize("bad", ["", "A4B", "4A", "A4 ?3", "A0B4"])
def test_parse_label_refuses_what_is_not_a_label(bad):
    with pytest.raises(ValueError, match="phrase"):
        parse_label(bad)


def test_sections_merge_consecutive_phrases_of_one_group():
    sections = sections_from_label(parse_label("i4A4A4B8b4A4B4B4o2"))
    assert sections == [("i", 0, 4), ("A", 4, 12), ("B", 12, 20), ("b", 20, 24), ("A", 24, 28), ("B", 28, 36),
                        ("o", 36, 38)]


def test_chorus_is_the_highest_repeated_melodic_group():
    tokens = parse_label("i4A4B4C4A4B4C4o4")
    # A low, B highest, C middle; intro/outro melody (pitch 90) must not count
    notes = _notes([90, 60, 72, 66, 60, 72, 66, 90])
    assert chorus_letter(tokens, notes) == ("B", 6.0)


def test_chorus_rule_ignores_groups_that_do_not_come_back_and_x():
    tokens = parse_label("A4B4X4A4B4C4")
    notes = _notes([60, 64, 80, 60, 64, 79])  # X and C are higher but X is X and C occurs once
    assert chorus_letter(tokens, notes)[0] == "B"
    assert chorus_letter(parse_label("A4B4C4"), _notes([60, 64, 70])) == (None, 0.0)


def test_consecutive_phrases_count_as_one_return():
    # "B4B4" is one section: B comes back only if it appears again later
    tokens = parse_label("A4B4B4A4")
    assert chorus_letter(tokens, _notes([60, 70, 70, 60]))[0] == "A"


def test_choose_chorus_filters_ambiguous_songs():
    tokens = parse_label("i4A4B4A4B4o4")
    assert choose_chorus(tokens, _notes([0, 60, 67, 60, 67, 0])) == ("B", "ok")
    letter, reason = choose_chorus(tokens, _notes([0, 60, 60.5, 60, 60.5, 0]))
    assert letter is None and "semitones" in reason
    letter, reason = choose_chorus(tokens, _notes([0, 67, 60, 67, 60, 0]))
    assert letter is None and "first melodic" in reason
    # the second annotator splits differently but puts the chorus on the same bars: kept
    other = parse_label("i4A4B2B2A4B2B2o4")
    assert choose_chorus(tokens, _notes([0, 60, 67, 60, 67, 0]), other_tokens=other)[0] == "B"
    # ... or hears a different chorus: dropped
    letter, reason = choose_chorus(tokens, _notes([0, 60, 67, 60, 67, 0]), other_tokens=parse_label("i4B8B8o4"))
    assert letter is None and "agree" in reason


def test_section_names():
    assert [section_name(c, "C") for c in "iACbxoX"] == ["intro", "A", "chorus", "bridge", "transition", "outro", "X"]


# ---- split, bar grid, voice -------------------------------------------------------------

def test_split_is_fixed_by_the_id_and_halves_the_songs():
    ids = [f"pop909_{i:03d}" for i in range(1, 910)]
    splits = [split_of(i) for i in ids]
    assert splits == [split_of(i) for i in ids]
    assert set(splits) == {"dev", "heldout"}
    assert 0.4 < splits.count("dev") / len(ids) < 0.6
    assert split_of("pop909_001") == "heldout" and split_of("pop909_002") == "dev"


def test_heldout2_is_the_heldout_half_after_the_songs_earlier_builds_could_use():
    ids = [f"generated_{k:04d}" for k in range(400)]
    heldout = [i for i in ids if _in_split("generated", "heldout")(i)]
    accept = _in_split("generated", "heldout2")
    fresh = [i for i in ids if accept(i)]
    assert heldout == [i for i in ids if split_of(i) == "heldout"]
    assert fresh == heldout[RESERVED["generated"]:]  # in song order, none a default build can reach
    assert [i for i in ids if _in_split("generated", "dev")(i)] == [i for i in ids if split_of(i) == "dev"]


def test_tempo_map_follows_tempo_changes():
    seconds = _TempoMap([(0, 500_000), (960, 1_000_000)], ticks_per_beat=480)  # 120 bpm, then 60 bpm
    assert seconds(480) == pytest.approx(0.5)
    assert seconds(960) == pytest.approx(1.0)
    assert seconds(1440) == pytest.approx(2.0)
    assert _TempoMap([], 480)(480) == pytest.approx(0.5)  # the MIDI default


def test_syllable_stretch_keeps_the_consonant_and_stretches_the_vowel():
    idx = _stretch_index(40, 30)
    assert len(idx) == 40 and idx[0] == 0 and idx[-1] == 29
    assert list(idx[:6]) == list(range(6)) and np.all(np.diff(idx) >= 0)
    assert len(_stretch_index(3, 30)) == 3


# ---- generated songs ----------------------------------------------------------------------

def _sung(score, a, b):
    return [(round(s - a, 3), p, syl) for (s, _, p), syl in zip(score["voice"], score["syllables"]) if a <= s < b]


@pytest.mark.parametrize("seed", [18_000, 18_001, 18_002, 18_003])
def test_generated_choruses_repeat_words_and_verses_change_them(seed):
    score = make_score(seed, "x")
    truth = score["truth"]
    choruses = [(a, b) for n, a, b in truth["sections"] if n == "chorus"]
    verses = [(a, b) for n, a, b in truth["sections"] if n == "verse"]
    assert [list(c) for c in choruses] == truth["chorus_times"] and len(choruses) >= 2
    first = _sung(score, *choruses[0])
    for c in choruses[1:]:
        again = _sung(score, *c)
        assert [syl for *_, syl in again] == [syl for *_, syl in first]
        shift = {p2 - p1 for (_, p1, _), (_, p2, _) in zip(first, again)}
        assert len(shift) == 1 and shift <= {0, 1, 2}  # same melody, or all of it a key change up
    v1, v2 = _sung(score, *verses[0]), _sung(score, *verses[1])
    assert [(t, p) for t, p, _ in v1] == [(t, p) for t, p, _ in v2]
    assert [s for *_, s in v1] != [s for *_, s in v2]
    ends = [b for _, _, b in truth["sections"]]
    assert ends[-1] == pytest.approx(score["duration"])
    assert all(b1 == pytest.approx(a2) for (_, _, b1), (_, a2, _) in zip(truth["sections"], truth["sections"][1:]))


def test_generated_songs_vary_in_the_cues():
    truths = [make_score(18_000 + k, "x")["truth"] for k in range(40)]
    assert {t["shared_chords"] for t in truths} == {True, False}
    assert {t["loud_bridge"] for t in truths} == {True, False}
    assert len({t["form"] for t in truths}) >= 4
    assert {t["chorus_lift"] > 0 for t in truths} == {True, False}


# ---- score wrappers -------------------------------------------------------------------------

def test_clip_scores():
    choruses = [(30.0, 50.0), (90.0, 110.0)]
    assert cm.clip_in_chorus(30.0, 20.0, choruses) == 1.0
    assert cm.clip_in_chorus(40.0, 20.0, choruses) == 0.5
    assert cm.clip_in_chorus(60.0, 20.0, choruses) == 0.0
    assert cm.clip_in_chorus(45.0, 20.0, [(30.0, 50.0), (50.0, 70.0)]) == 1.0  # two touching choruses
    assert cm.onset_error(87.5, choruses) == 2.5


def test_every_chorus_scores():
    truth = [(30.0, 50.0), (90.0, 110.0), (150.0, 170.0)]
    assert cm.chorus_overlap_f(truth, truth) == 1.0
    assert cm.chorus_overlap_f([(30.0, 50.0)], truth) == pytest.approx(0.5)  # P 1, R 1/3
    assert cm.chorus_overlap_f([(0.0, 10.0)], truth) == 0.0
    assert cm.chorus_onset_f([(31.0, 51.0), (93.5, 113.5)], truth) == pytest.approx(0.4)  # one hit within 3 s
    assert cm.chorus_onset_f([(a + 2.9, b) for a, b in truth], truth) == 1.0
    assert cm.chorus_onset_f([], truth) == 0.0


def test_segmentation_scores_through_mir_eval():
    ref = [("intro", 0, 10), ("verse", 10, 30), ("chorus", 30, 50), ("verse", 50, 70), ("chorus", 70, 90)]
    assert cm.boundary_f(ref, ref, 90.0, 0.5) == 1.0
    shifted = [(n, a + 1.0 if a else 0.0, b + 1.0) for n, a, b in ref]
    assert cm.boundary_f(ref, shifted, 90.0, 0.5) == 0.0
    assert cm.boundary_f(ref, shifted, 90.0, 3.0) == 1.0
    renamed = [({"verse": "A", "chorus": "B", "intro": "C"}[n], a, b) for n, a, b in ref]
    assert cm.pairwise_f(ref, renamed, 90.0) == 1.0
    assert cm.pairwise_f(ref, [("A", 0, 90)], 90.0) < 0.6
