"""compare_pipelines: the same splits for every candidate, grouped splits that never share a
group, each song's features extracted once, the dummy row; grouped CV through the pipeline."""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from viral_sklearn import PooledMelTransformer, make_viral_pipeline
from viral_sklearn.datasets import make_songs
from viral_sklearn.model_selection import DEFAULT_SCORING, compare_pipelines, song_steps

CLIP = 4.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """18 short songs by 6 artists (3 songs each), balanced labels."""
    return make_songs(18, tmp_path_factory.mktemp("songs"), duration=(16.0, 18.0), chorus_length=CLIP,
                      sample_rates=(22050,), n_artists=6, random_state=0, n_jobs=2)


def lstm(**kw):
    pipe = make_viral_pipeline(clip_length=CLIP, max_epochs=1, batch_size=8, hidden_size=8, random_state=0,
                               train_split=None, **kw)
    return pipe.set_params(mel__hop_length=882)


def pooled(method="structure"):
    songs = lstm().set_params(chorus__method=method, chorus__offset=2.0).steps[:-1]
    return Pipeline(songs + [("pool", PooledMelTransformer()), ("scale", StandardScaler()),
                             ("clf", LogisticRegression(C=0.1, max_iter=1000))])


def count_files(folder) -> int:
    return sum(f.endswith(".npy") for _, _, files in os.walk(folder) for f in files)


# ======================================================================
# features once, through the cache, grouped
# ======================================================================
def test_compare_pipelines_extracts_each_songs_features_once(corpus, tmp_path, count_decodes):
    candidates = {
        "LSTM": lstm().set_params(chorus__offset=2.0),  # the same song steps as "pooled"
        "pooled": pooled(),
        "pooled, offset clip": pooled("offset"),
    }
    cache = tmp_path / "cache"
    table = compare_pipelines(candidates, corpus.paths, corpus.labels, groups=corpus.artists, cv=3, memory=cache)
    # two distinct sets of song steps (structure, offset clip); each decodes a song once (the
    # chorus step decodes the whole song and hands the mel step its window): 2 decodes per
    # song, whatever the folds and candidates
    decodes = Counter(count_decodes)
    assert set(decodes) == set(corpus.paths)
    assert set(decodes.values()) == {2}, decodes.most_common(3)
    assert count_files(cache) == 18 * 2 * 2  # one entry per song, step and set of song steps
    assert table["features_time"].gt(0).tolist() == [True, False, True, False]  # LSTM and offset extract
    # the steps' own memory was left alone
    assert candidates["LSTM"].named_steps["mel"].memory is None

    # again: everything from the cache, no decode, the same scores
    count_decodes.clear()
    again = compare_pipelines(candidates, corpus.paths, corpus.labels, groups=corpus.artists, cv=3, memory=cache)
    assert count_decodes == []
    scores = [c for c in table.columns if c.endswith(("_mean", "_std")) and not c.startswith("fit_time")]
    np.testing.assert_array_equal(again[scores].to_numpy(), table[scores].to_numpy())


def test_the_same_scores_as_cross_validating_the_whole_pipelines(corpus):
    """Running the song steps once gives what cross_validate gives on the whole pipelines."""
    cv = StratifiedGroupKFold(3, shuffle=True, random_state=0)
    table = compare_pipelines({"pooled": pooled()}, corpus.paths, corpus.labels, groups=corpus.artists, cv=cv,
                              dummy=None)
    whole = cross_validate(pooled(), corpus.paths, corpus.labels, groups=corpus.artists, cv=cv,
                           scoring=DEFAULT_SCORING)
    for score in DEFAULT_SCORING:
        assert table.loc[0, f"{score}_mean"] == pytest.approx(np.mean(whole[f"test_{score}"]), abs=1e-12)
        assert table.loc[0, f"{score}_std"] == pytest.approx(np.std(whole[f"test_{score}"]), abs=1e-12)


def test_grouped_cross_validation_through_the_pipeline_and_its_cache(corpus, tmp_path):
    """sklearn's own grouped CV on song paths: no artist on both sides, each song cached once per step."""
    cache = tmp_path / "cache"
    res = cross_validate(lstm(memory=cache), corpus.paths, corpus.labels, groups=corpus.artists,
                         cv=GroupKFold(3), return_indices=True)
    artists = np.asarray(corpus.artists)
    for train, test in zip(res["indices"]["train"], res["indices"]["test"]):
        assert not set(artists[train]) & set(artists[test])
        assert len(set(artists[test])) == 2
    assert count_files(cache) == 18 * 2


# ======================================================================
# the splits: the same for every candidate, grouped when asked
# ======================================================================
class Recorder(ClassifierMixin, BaseEstimator):
    """Scores column 1 of X; logs which rows (column 0) each fit and each scoring saw."""

    log: list = []

    def __init__(self, tag="a"):
        self.tag = tag

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        Recorder.log.append((self.tag, "fit", frozenset(np.asarray(X)[:, 0].astype(int).tolist())))
        return self

    def predict_proba(self, X):
        X = np.asarray(X)
        Recorder.log.append((self.tag, "score", frozenset(X[:, 0].astype(int).tolist())))
        p = 1 / (1 + np.exp(-X[:, 1]))
        return np.c_[1 - p, p]

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]


def folds_seen(tag):
    """(train rows, test rows) of each fold a Recorder saw: each fit, then the scorings that follow it."""
    out = []
    for t, kind, rows in Recorder.log:
        if t != tag:
            continue
        if kind == "fit":
            out.append((rows, set()))
        else:
            out[-1][1].update(rows)
    return [(train, frozenset(test)) for train, test in out]


@pytest.mark.parametrize("cv", [4, StratifiedGroupKFold(4), GroupKFold(4)], ids=["int", "stratified", "group"])
def test_grouped_splits_never_share_a_group_and_every_candidate_gets_the_same(cv):
    rng = np.random.RandomState(0)
    n = 40
    y = np.r_[np.zeros(20, dtype=int), np.ones(20, dtype=int)]
    groups = np.repeat(np.arange(10), 4)  # 10 artists of 4 songs
    X = np.c_[np.arange(n), y + rng.randn(n)]
    Recorder.log.clear()
    table, folds = compare_pipelines({"a": Recorder("a"), "b": Recorder("b")}, X, y, groups=groups, cv=cv,
                                     dummy=None, return_folds=True)
    seen_a, seen_b = folds_seen("a"), folds_seen("b")
    assert len(seen_a) == 4 and seen_a == seen_b  # the same folds, in the same order
    for train, test in seen_a:
        assert train | test == set(range(n)) and not train & test
        assert not set(groups[sorted(train)]) & set(groups[sorted(test)])
    assert sorted(i for _, test in seen_a for i in test) == list(range(n))
    assert list(folds["model"]) == ["a"] * 4 + ["b"] * 4
    assert folds["n_test"].tolist()[:4] == [len(test) for _, test in seen_a]
    np.testing.assert_array_equal(folds.loc[folds.model == "a", "roc_auc"], folds.loc[folds.model == "b", "roc_auc"])


def test_groups_with_a_splitter_that_ignores_them_are_refused():
    y = np.array([0, 1] * 10)
    X = np.c_[np.arange(20), y]
    groups = np.repeat(np.arange(5), 4)
    with pytest.raises(ValueError, match=r"cv=StratifiedKFold\(.*\) put \d+ groups in both the training and the "
                                         r"test songs of fold 0 .*StratifiedGroupKFold or GroupKFold"):
        with pytest.warns(UserWarning, match="The groups parameter is ignored by StratifiedKFold"):  # sklearn's
            compare_pipelines({"a": Recorder()}, X, y, groups=groups, cv=StratifiedKFold(3))


def test_the_table_and_the_dummy_row():
    y = np.r_[np.zeros(14, dtype=int), np.ones(6, dtype=int)]
    X = np.c_[np.arange(20), 3.0 * (2 * y - 1)]  # a perfect score in column 1
    table, folds = compare_pipelines({"perfect": Recorder()}, X, y, cv=2, return_folds=True)
    assert list(table.columns) == [
        "model", "roc_auc_mean", "roc_auc_std", "average_precision_mean", "average_precision_std",
        "f1_macro_mean", "f1_macro_std", "accuracy_mean", "accuracy_std", "fit_time_mean", "fit_time_std",
        "features_time",
    ]
    assert table["model"].tolist() == ["perfect", "dummy"]
    assert table.loc[0, ["roc_auc_mean", "average_precision_mean", "f1_macro_mean", "accuracy_mean"]].tolist() == [1.0] * 4
    # the dummy (training priors): ROC-AUC 0.5, PR-AUC the positive rate of each test fold,
    # accuracy the negative rate (it predicts the majority), macro-F1 half the majority's F1
    splits = list(StratifiedKFold(2, shuffle=True, random_state=0).split(X, y))
    rates = np.array([y[test].mean() for _, test in splits])
    dummy = folds[folds.model == "dummy"]
    np.testing.assert_allclose(dummy["roc_auc"], 0.5)
    np.testing.assert_allclose(dummy["average_precision"], rates)
    np.testing.assert_allclose(dummy["accuracy"], 1 - rates)
    np.testing.assert_allclose(dummy["f1_macro"], (1 - rates) / (2 - rates))  # F1 of the majority / 2
    assert table.loc[1, "roc_auc_std"] == 0.0 and table.loc[1, "features_time"] == 0.0
    assert compare_pipelines({"p": Recorder()}, X, y, cv=2, dummy=None)["model"].tolist() == ["p"]
    custom = compare_pipelines({"p": Recorder()}, X, y, cv=2, scoring=["accuracy"], dummy="most_frequent")
    assert list(custom.columns) == ["model", "accuracy_mean", "accuracy_std", "fit_time_mean", "fit_time_std",
                                    "features_time"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(candidates={}), "candidates must be a non-empty dict"),
        (dict(candidates={"dummy": Recorder()}), "a candidate is named 'dummy'"),
        (dict(candidates={1: Recorder()}), "candidate names must be strings"),
        (dict(y=[0, 1] * 5), "y must be 1-D with one label per song: 20 songs, y has shape \\(10,\\)"),
        (dict(groups=[0] * 19), "groups must be 1-D with one group per song: 20 songs"),
        (dict(cv=1), "cv must be at least 2 folds, got 1"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = dict(candidates={"a": Recorder()}, y=np.array([0, 1] * 10))
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        compare_pipelines(args.pop("candidates"), np.c_[np.arange(20), np.zeros(20)], args.pop("y"), **args)


def test_song_steps_splits_a_pipeline_after_its_song_steps():
    pipe = pooled()
    front, rest = song_steps(pipe)
    assert [n for n, _ in front.steps] == ["mono", "chorus", "mel"]
    assert [n for n, _ in rest.steps] == ["pool", "scale", "clf"]
    front, rest = song_steps(lstm())
    assert type(rest).__name__ == "LSTMClassifier"
    assert song_steps(LogisticRegression())[0] is None
    with pytest.raises(ValueError, match="a candidate holds only song steps"):
        song_steps(Pipeline(lstm().steps[:-1]))
