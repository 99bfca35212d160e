"""The whole recipe as a Pipeline: fit on MP3 paths, grid search, CV, persistence."""

from __future__ import annotations

from collections import Counter

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from viral_sklearn import make_viral_pipeline
from viral_sklearn.datasets import make_songs

CLIP = 4.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """24 short synthetic MP3 songs, balanced labels."""
    return make_songs(24, tmp_path_factory.mktemp("songs"), duration=(16.0, 20.0), chorus_length=CLIP, sample_rates=(22050,), random_state=0, n_jobs=2)


def small_pipeline(**kw):
    params = dict(clip_length=CLIP, max_epochs=3, batch_size=8, hidden_size=16, random_state=0)
    params.update(kw)
    pipe = make_viral_pipeline(**params)
    return pipe.set_params(mel__hop_length=441)  # 40 frames/s keeps the LSTM quick


def test_fit_on_mp3_paths_then_predict_other_paths(corpus):
    paths, y = corpus.paths, corpus.labels
    pipe = small_pipeline().fit(paths[:18], y[:18])
    proba = pipe.predict_proba(paths[18:])
    assert proba.shape == (6, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(pipe.predict(paths[18:])) <= set(y)
    assert list(pipe.classes_) == [0, 1]
    assert all(p.endswith(".mp3") for p in paths)


def test_grid_search_decodes_each_song_at_most_twice(corpus, tmp_path, count_decodes):
    pipe = small_pipeline(memory=tmp_path / "cache", max_epochs=2)
    grid = GridSearchCV(
        pipe,
        {"clf__module__hidden_size": [8, 16], "clf__lr": [1e-2, 5e-3]},
        cv=StratifiedKFold(3),
    )
    grid.fit(corpus.paths, corpus.labels)
    assert set(grid.best_params_) == {"clf__module__hidden_size", "clf__lr"}
    assert len(grid.cv_results_["mean_test_score"]) == 4
    decodes = Counter(count_decodes)
    assert set(decodes) == set(corpus.paths)
    assert max(decodes.values()) <= 2, decodes.most_common(3)


def test_cross_val_score_returns_three_scores(corpus):
    scores = cross_val_score(small_pipeline(max_epochs=2), corpus.paths, corpus.labels, cv=3)
    assert scores.shape == (3,)
    assert np.all((0 <= scores) & (scores <= 1))


def test_joblib_round_trip_gives_identical_probabilities(corpus, tmp_path):
    pipe = small_pipeline().fit(corpus.paths[:18], corpus.labels[:18])
    joblib.dump(pipe, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(pipe.predict_proba(corpus.paths[18:]), loaded.predict_proba(corpus.paths[18:]))


def test_same_random_state_same_probabilities(corpus):
    a = small_pipeline(random_state=3).fit(corpus.paths[:18], corpus.labels[:18])
    b = small_pipeline(random_state=3).fit(corpus.paths[:18], corpus.labels[:18])
    np.testing.assert_array_equal(a.predict_proba(corpus.paths[18:]), b.predict_proba(corpus.paths[18:]))


def test_params_reach_every_step_and_clone_round_trips():
    pipe = make_viral_pipeline()
    params = pipe.get_params()
    assert params["chorus__clip_length"] == 20.0 and params["mel__duration"] == 20.0
    assert params["mel__n_mels"] == 64 and params["clf__module__hidden_size"] == 64
    assert params["clf__lr"] == 5e-3 and params["clf__batch_size"] == 16 and params["clf__max_epochs"] == 30
    assert params["clf__random_state"] == 42
    # whole songs are analysed at 11025 Hz, the chorus window decoded at 22050 Hz
    assert params["chorus__sample_rate"] == 11025 and params["mel__sample_rate"] == 22050
    rates = make_viral_pipeline(sample_rate=16000, chorus_sample_rate=22050).get_params()
    assert rates["chorus__sample_rate"] == 22050 and rates["mel__sample_rate"] == 16000
    pipe.set_params(chorus__clip_length=10.0, mel__duration=10.0, clf__module__hidden_size=32, clf__lr=1e-3)
    twin = clone(pipe)
    for key in ("chorus__clip_length", "mel__duration", "clf__module__hidden_size", "clf__lr"):
        assert twin.get_params()[key] == pipe.get_params()[key]
    for name, step in pipe.steps:  # (deep params hold skorch's callback instances, new per clone)
        assert clone(step).get_params(deep=False) == step.get_params(deep=False), name


@pytest.mark.slow
def test_it_learns_from_the_chorus(tmp_path):
    songs = make_songs(60, tmp_path, duration=(16.0, 20.0), chorus_length=CLIP, random_state=1)
    pipe = small_pipeline(max_epochs=15, hidden_size=32, lr=1e-2, train_split=None, memory=tmp_path / "cache")
    scores = cross_val_score(pipe, songs.paths, songs.labels, cv=StratifiedKFold(3, shuffle=True, random_state=0))
    print(f"CV accuracy on 60 synthetic songs: {scores.round(3)} mean {scores.mean():.3f} (chance 0.5)")
    assert scores.mean() >= 0.75, scores
