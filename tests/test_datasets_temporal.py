"""make_songs(difficulty="temporal"): the label lives in the order of the chorus's notes only."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest, ttest_rel

from viral_sklearn import load_audio, mel_db
from viral_sklearn.datasets import make_songs

SHORT = dict(duration=(16.0, 18.0), chorus_length=4.0, sample_rates=(22050,), format="wav", difficulty="temporal")
N = 16


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """N songs made twice from one seed, all rising then all falling: song i of each
    corpus is the same song but for the cue's direction (a song depends on its
    label and the seed only)."""
    root = tmp_path_factory.mktemp("temporal")
    up = make_songs(N, root / "up", positive_fraction=1.0, random_state=4, **SHORT)
    down = make_songs(N, root / "down", positive_fraction=0.0, random_state=4, **SHORT)
    return up, down


def chorus_mel(path, times):
    y, sr = load_audio(path)
    start, end = times[0]
    return mel_db(y[int(start * sr):int(end * sr)], sr, n_fft=2048, hop_length=441, n_mels=96)


def pooled(m):
    """The per-band mean and standard deviation over time (PooledMelTransformer's default)."""
    return np.r_[m.mean(axis=0), m.std(axis=0)]


def upness(m):
    """How much energy moves up the bands from one frame to the next 0.1-0.35 s (minus how much moves down)."""
    z = (m - m.mean(axis=0)) / (m.std(axis=0) + 1e-6)
    total = 0.0
    for lag in range(4, 16):
        for shift in range(1, 6):
            total += np.mean(z[:-lag, :-shift] * z[lag:, shift:]) - np.mean(z[:-lag, shift:] * z[lag:, :-shift])
    return total


def test_twins_differ_only_by_the_direction_of_the_cue(twins):
    up, down = twins
    assert up.truth["cue_order"].tolist() == ["rising"] * N
    assert down.truth["cue_order"].tolist() == ["falling"] * N
    assert up.truth["chorus_times"].tolist() == down.truth["chorus_times"].tolist()
    assert np.allclose(up.truth["hook_gain"], down.truth["hook_gain"])  # the cue plays in both classes, as loud
    a, _ = load_audio(up.paths[0])
    b, _ = load_audio(down.paths[0])
    start, end = up.truth["chorus_times"][0][0]
    sr = 22050
    outside = np.r_[0:int(start * sr) - sr // 10]
    assert np.array_equal(a[outside], b[outside])  # the intro and first verse are the same samples
    assert not np.allclose(a[int(start * sr):int(end * sr)], b[int(start * sr):int(end * sr)])


def test_pooled_statistics_carry_no_label_but_the_order_does(twins):
    up, down = twins
    mels = [[chorus_mel(p, t) for p, t in zip(c.paths, c.truth["chorus_times"])] for c in (up, down)]
    rising, falling = (np.array([pooled(m) for m in ms]) for ms in mels)
    # pooled over time, a song and its twin are nearly the same point: far closer than two songs
    spread = np.concatenate([rising, falling]).std(axis=0)
    ratio = np.abs(rising - falling).mean(axis=0) / spread
    assert np.median(ratio) < 0.05 and ratio.max() < 0.25
    # and no pooled feature moves with the direction more often than chance would
    # (a paired t-test per feature: at most ~5% below p=0.05, none below Bonferroni's 0.05/192)
    p = ttest_rel(rising, falling).pvalue
    assert np.mean(p < 0.05) <= 0.1 and p.min() > 0.05 / len(p)
    # in time order the direction is plain: the rising twin moves up more, song after song
    wins = sum(upness(r) > upness(f) for r, f in zip(*mels))
    assert wins >= 14 and binomtest(wins, N, alternative="greater").pvalue < 0.01


def test_order_cue_is_a_knob(tmp_path):
    corpus = make_songs(4, tmp_path, random_state=0, **{**SHORT, "difficulty": {"order_cue": True}})
    assert set(corpus.truth["cue_order"]) <= {"rising", "falling"}
    assert [o == "rising" for o in corpus.truth["cue_order"]] == list(corpus.truth["audio_label"] == 1)
    with pytest.raises(ValueError, match=r"difficulty\['order_cue'\] must be True or False"):
        make_songs(2, tmp_path / "bad", random_state=0, **{**SHORT, "difficulty": {"order_cue": 1}})
