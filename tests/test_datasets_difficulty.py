"""make_songs(difficulty=..., n_artists=...) and load_dataset(group_column=...)."""

from __future__ import annotations

import hashlib
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from viral_sklearn import load_audio
from viral_sklearn.datasets import DatasetError, load_dataset, make_songs

SHORT = dict(duration=(20.0, 22.0), chorus_length=5.0, sample_rates=(22050,), format="wav")


def digest(path) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def chorus_high_band_db(path, chorus_times, lo=4500.0, hi=9000.0):
    """Share of the first chorus's energy between lo and hi Hz, in dB."""
    y, sr = load_audio(path)
    start, end = chorus_times[0]
    seg = y[int(start * sr): int(end * sr)]
    power = np.abs(np.fft.rfft(seg)) ** 2
    freqs = np.fft.rfftfreq(seg.size, 1 / sr)
    return 10 * np.log10(power[(freqs >= lo) & (freqs < hi)].sum() / power.sum())


def auc(scores, labels):
    pos, neg = scores[labels == 1], scores[labels == 0]
    return float(np.mean([(p > q) + 0.5 * (p == q) for p in pos for q in neg]))


# ======================================================================
# the default corpus is unchanged
# ======================================================================
def test_easy_is_the_default_corpus_bit_for_bit(tmp_path):
    default = make_songs(4, tmp_path / "a", random_state=5, **SHORT)
    easy = make_songs(4, tmp_path / "b", random_state=5, difficulty="easy", **SHORT)
    none = make_songs(4, tmp_path / "c", random_state=5, difficulty=None, **SHORT)
    for a, b, c in zip(default.paths, easy.paths, none.paths):
        assert digest(a) == digest(b) == digest(c)
    assert list(pd.read_csv(default.metadata_csv).columns) == ["id", "label"]
    assert default.artists is None and "artist" not in default.truth.columns
    assert (default.truth["audio_label"] == default.truth["label"]).all()
    assert default.truth["hook_gain"].tolist() == default.labels.astype(float).tolist()


# ======================================================================
# difficulty
# ======================================================================
@pytest.fixture(scope="module")
def levels(tmp_path_factory):
    """The same 24 songs (seeds) at each difficulty, with 30% positives."""
    root = tmp_path_factory.mktemp("levels")
    return {
        level: make_songs(24, root / level, random_state=3, difficulty=level, positive_fraction=0.3,
                          verse_hook_rate=0.0, n_jobs=2, **SHORT)
        for level in ("easy", "hard")
    }


def test_hard_makes_the_cue_weaker_and_noisier(levels):
    band = {level: np.array([chorus_high_band_db(p, c) for p, c in zip(s.paths, s.truth["chorus_times"])])
            for level, s in levels.items()}
    audio = levels["hard"].truth["audio_label"].to_numpy()
    assert (levels["easy"].truth["audio_label"].to_numpy() == audio).all()  # same seeds, same classes
    # easy: the hook separates the classes perfectly; hard: far less, with a smaller gap
    assert auc(band["easy"], audio) == 1.0
    assert 0.5 < auc(band["hard"], audio) < 1.0
    gap = {k: v[audio == 1].mean() - v[audio == 0].mean() for k, v in band.items()}
    assert gap["hard"] < gap["easy"] / 2
    gains = levels["hard"].truth["hook_gain"].to_numpy()
    assert (gains[audio == 1] > 0).all() and len(set(np.round(gains[audio == 1], 6))) == (audio == 1).sum()
    assert (gains[audio == 0] > 0).any()  # false hooks in some label-0 choruses


def test_label_noise_flips_labels_both_ways_and_keeps_the_positive_count(levels):
    hard = levels["hard"]
    truth = hard.truth
    flipped = truth["label"] != truth["audio_label"]
    assert flipped.sum() == 2 * round(0.1 * 24 / 2)  # 10% label noise: one song each way
    assert ((truth["label"] == 1) & flipped).sum() == ((truth["label"] == 0) & flipped).sum() == 1
    assert hard.labels.sum() == round(0.3 * 24) == levels["easy"].labels.sum()
    np.testing.assert_array_equal(pd.read_csv(hard.metadata_csv)["label"], hard.labels)


def test_difficulty_knobs_can_be_set_one_by_one(tmp_path):
    corpus = make_songs(6, tmp_path, random_state=1, difficulty={"label_noise": 0.5}, **SHORT)
    assert (corpus.truth["label"] != corpus.truth["audio_label"]).sum() == 2 * round(0.5 * 6 / 2)  # 4
    assert corpus.truth["hook_gain"].tolist() == corpus.truth["audio_label"].astype(float).tolist()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(difficulty="extreme"), "difficulty must be one of \\['easy', 'medium', 'hard', 'temporal'\\], a dict of knobs or None"),
        (dict(difficulty={"hook": 1}), "difficulty has unknown knobs \\['hook'\\]; the knobs are"),
        (dict(difficulty={"hook_gain": 0}), "difficulty\\['hook_gain'\\] must be the gain of the hook .* got 0"),
        (dict(difficulty={"label_noise": 0.6}), "difficulty\\['label_noise'\\] must be the fraction"),
        (dict(difficulty={"noise_db": 3}), "difficulty\\['noise_db'\\] must be the background noise level"),
        (dict(difficulty={"false_hook_rate": True}), "difficulty\\['false_hook_rate'\\]"),
        (dict(n_artists=0), "n_artists must be None or an integer from 1 to n_songs=4, got 0"),
        (dict(n_artists=5), "n_artists must be None or an integer from 1 to n_songs=4, got 5"),
        (dict(n_artists=2.0), "n_artists must be None or an integer"),
        (dict(form="pop", difficulty="hard", duration=(150, 160)), "only available for form='short'"),
        (dict(form="pop", n_artists=2, duration=(150, 160)), "only available for form='short'"),
    ],
)
def test_bad_difficulty_or_artists(tmp_path, kwargs, message):
    args = dict(SHORT)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        make_songs(4, tmp_path, random_state=0, **args)
    assert not list(tmp_path.iterdir())  # nothing written


# ======================================================================
# artists
# ======================================================================
@pytest.fixture(scope="module")
def artists(tmp_path_factory):
    return make_songs(30, tmp_path_factory.mktemp("artists"), random_state=2, n_artists=4,
                      difficulty={"artist_effect": 3.0}, n_jobs=2, duration=(24.0, 26.0), chorus_length=5.0,
                      sample_rates=(22050,), format="wav")


def test_artists_are_named_in_the_truth_the_metadata_and_the_corpus(artists):
    meta = pd.read_csv(artists.metadata_csv, dtype={"id": str})
    assert list(meta.columns) == ["id", "label", "artist"]
    assert meta["artist"].tolist() == artists.truth["artist"].tolist() == list(artists.artists)
    counts = meta["artist"].value_counts()
    assert sorted(counts.index) == ["artist_00", "artist_01", "artist_02", "artist_03"]
    assert sorted(counts.tolist()) == [7, 7, 8, 8]  # as even as possible


def test_an_artists_songs_share_a_tempo_and_a_brightness(artists):
    truth = artists.truth
    for _, songs in truth.groupby("artist"):
        assert songs["tempo"].max() - songs["tempo"].min() <= 8.0  # the artist's tempo +- 4 BPM

    def bright(path):  # share of the energy above 3 kHz, whole song
        y, sr = load_audio(path)
        power = np.abs(np.fft.rfft(y)) ** 2
        freqs = np.fft.rfftfreq(y.size, 1 / sr)
        return 10 * np.log10(power[freqs > 3000].sum() / power.sum())

    b = np.array([bright(p) for p in artists.paths])
    by = truth.assign(b=b).groupby("artist")["b"]
    # the artists differ far more than their songs do
    assert by.mean().std() > 1.5 * by.std().mean()


def test_artist_effect_makes_the_hit_rate_depend_on_the_artist(artists, tmp_path):
    rates = artists.truth.groupby("artist")["label"].mean()
    assert artists.labels.sum() == 15  # positive_fraction=0.5 still holds exactly
    assert rates.max() - rates.min() >= 0.5
    flat = make_songs(30, tmp_path, random_state=2, n_artists=4, n_jobs=2, duration=(24.0, 26.0),
                      chorus_length=5.0, sample_rates=(22050,), format="wav")
    assert flat.truth.groupby("artist")["label"].mean().std() < rates.std()


# ======================================================================
# load_dataset(group_column=...)
# ======================================================================
def touch(folder, *names):
    for name in names:
        (folder / name).write_bytes(b"not empty")


def test_load_dataset_returns_groups_only_when_asked(artists):
    pair = load_dataset(artists.metadata_csv, artists.out_dir, extension=".wav")
    assert len(pair) == 2
    paths, y, groups = load_dataset(artists.metadata_csv, artists.out_dir, extension=".wav", group_column="artist")
    assert paths == artists.paths and (y == artists.labels).all()
    assert groups.tolist() == list(artists.artists)


def test_groups_are_read_as_text_and_checked(tmp_path):
    touch(tmp_path, "a.mp3", "b.mp3", "c.mp3")
    csv = tmp_path / "metadata.csv"
    csv.write_text("id,label,artist\na,1,007\nb,0,7\nc,1,007\n")
    _, _, groups = load_dataset(csv, tmp_path, group_column="artist")
    assert groups.tolist() == ["007", "7", "007"]  # '007' and '7' are different artists
    frame = pd.DataFrame({"id": ["a", "b"], "label": [1, 0], "who": [3, 4]})
    assert load_dataset(frame, tmp_path, group_column="who")[2].tolist() == [3, 4]  # types kept from a table
    with pytest.raises(DatasetError, match=re.escape(
            f"{str(csv)!r} has no group column 'singer'; its columns are: 'id', 'label', 'artist' "
            "(pass group_column= to name them)")):
        load_dataset(csv, tmp_path, group_column="singer")
    csv.write_text("id,label,artist\na,1,x\nb,0,\nc,1, \n")
    with pytest.raises(DatasetError, match=re.escape("empty 'artist' cells in rows 1, 2; with group_column every "
                                                     "song needs a group")):
        load_dataset(csv, tmp_path, group_column="artist")


def test_skipped_rows_drop_their_groups_too(tmp_path):
    touch(tmp_path, "a.mp3", "c.mp3")
    frame = pd.DataFrame({"id": ["a", "b", "c"], "label": [1, 0, 1], "artist": ["x", "y", "z"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        paths, y, groups = load_dataset(frame, tmp_path, group_column="artist", on_error="skip")
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["a.mp3", "c.mp3"]
    assert y.tolist() == [1, 1] and groups.tolist() == ["x", "z"]
