"""PooledMelTransformer: the statistics it computes, the sklearn contract on 3-D input, and
the pooled-mel pipeline on song paths."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from viral_sklearn import ChorusExtractor, MelSpectrogramTransformer, MonoMixer, PooledMelTransformer
from viral_sklearn.datasets import make_songs


def sequences(n=6, frames=7, bands=5, seed=0, dtype=np.float32):
    return np.random.RandomState(seed).randn(n, frames, bands).astype(dtype)


# ======================================================================
# what it computes
# ======================================================================
def test_default_is_mean_then_std_of_each_band():
    S = sequences()
    out = PooledMelTransformer().fit_transform(S)
    assert out.shape == (6, 10) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, :5], S.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(out[:, 5:], S.std(axis=1), rtol=1e-5)


def test_statistics_percentiles_and_deltas_in_their_documented_order():
    S = sequences(dtype=np.float64)
    pool = PooledMelTransformer(statistics=("max", "min"), percentiles=(10, 50), deltas=True).fit(S)
    out = pool.transform(S)
    D = S[:, 1:] - S[:, :-1]
    blocks = [S.max(1), S.min(1), *np.percentile(S, [10, 50], axis=1), D.max(1), D.min(1),
              *np.percentile(D, [10, 50], axis=1)]
    np.testing.assert_array_equal(out, np.concatenate(blocks, axis=1))
    assert out.dtype == np.float64
    names = pool.get_feature_names_out()
    assert len(names) == out.shape[1] == 8 * 5
    assert list(names[:2]) == ["max_mel0", "max_mel1"]
    assert names[10] == "p10_mel0" and names[20] == "delta_max_mel0" and names[-1] == "delta_p50_mel4"
    assert list(pool.get_feature_names_out(list("abcde"))[:2]) == ["max_a", "max_b"]


def test_delta_std_sees_a_flickering_band_that_the_mean_and_std_do_not():
    """Two songs whose band 0 has the same values, in a steady and in an alternating order."""
    steady = np.r_[np.zeros(10), np.ones(10)]
    flicker = np.tile([0.0, 1.0], 10)
    S = np.zeros((2, 20, 2))
    S[0, :, 0], S[1, :, 0] = steady, flicker
    out = PooledMelTransformer(deltas=True).fit_transform(S)
    np.testing.assert_array_equal(out[0, :4], out[1, :4])  # same mean and std
    # delta std of band 0: one step of 1 in 19 differences, against 19 steps of +-1
    np.testing.assert_allclose(out[:, 6], [np.sqrt(1 / 19 - 1 / 19**2), np.sqrt(1 - 1 / 19**2)])


def test_other_frame_counts_are_accepted_other_band_counts_are_not():
    pool = PooledMelTransformer().fit(sequences(frames=7))
    assert pool.n_features_in_ == 5 and pool.n_frames_in_ == 7
    assert pool.transform(sequences(frames=30)).shape == (6, 10)
    with pytest.raises(ValueError, match="X has 4 mel bands, but PooledMelTransformer was fitted with 5"):
        pool.transform(sequences(bands=4))
    with pytest.raises(ValueError, match="input_features has 2 names, but PooledMelTransformer was fitted with 5"):
        pool.get_feature_names_out(["a", "b"])


@pytest.mark.parametrize(
    "X, error, message",
    [
        (np.zeros((4, 5)), ValueError, re.escape("got an array of 2 dimensions (one song's spectrogram: add an axis")),
        (np.zeros(4), ValueError, "expects X of shape \\(n_songs, n_frames, n_mels\\), got an array of 1 dimensions"),
        (np.full((2, 3, 4), np.nan), ValueError, "Input X contains NaN"),
        (np.full((2, 3, 4), np.inf), ValueError, "Input X contains infinity"),
        (np.zeros((0, 3, 4)), ValueError, "0 sample"),
        (np.zeros((2, 3, 4), dtype=complex), ValueError, "Complex data not supported"),
        (np.array([[["a"]]], dtype=object), ValueError, "could not convert"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(X, error, message):
    with pytest.raises(error, match=message):
        PooledMelTransformer().fit(X)


def test_sparse_input_is_refused():
    from scipy.sparse import csr_matrix

    with pytest.raises(TypeError, match="does not accept sparse input"):
        PooledMelTransformer().fit(csr_matrix(np.eye(3)))


def test_deltas_need_two_frames():
    with pytest.raises(ValueError, match=re.escape("deltas=True) needs at least 2 frames per song, got X of shape (3, 1, 4)")):
        PooledMelTransformer(deltas=True).fit(np.zeros((3, 1, 4)))
    assert PooledMelTransformer().fit_transform(np.ones((3, 1, 4))).tolist() == [[1.0] * 4 + [0.0] * 4] * 3


@pytest.mark.parametrize(
    "params, message",
    [
        ({"statistics": ("mean", "median")}, "must hold names among \\['max', 'mean', 'min', 'std'\\]; got \\['median'\\]"),
        ({"statistics": ("std", "std")}, "'statistics' parameter of PooledMelTransformer repeats a name"),
        ({"percentiles": (50, 101)}, "numbers in \\[0, 100\\]; got \\[101\\]"),
        ({"percentiles": (np.nan,)}, "numbers in \\[0, 100\\]"),
        ({"percentiles": (10, 10.0)}, "repeats a value"),
        ({"statistics": (), "percentiles": ()}, "needs at least one statistic or percentile"),
        ({"statistics": "mean"}, "The 'statistics' parameter of PooledMelTransformer must be an instance of"),
        ({"deltas": "yes"}, "The 'deltas' parameter of PooledMelTransformer must be an instance of"),
    ],
)
def test_bad_parameters_name_themselves(params, message):
    with pytest.raises(ValueError, match=message):
        PooledMelTransformer(**params).fit(sequences())


# ======================================================================
# the sklearn contract, with 3-D input (the common checks feed 2-D; see test_common.py)
# ======================================================================
def test_contract_on_sequences():
    S = sequences(n=10, seed=1)
    pool = PooledMelTransformer(percentiles=(25,), deltas=True)
    with pytest.raises(NotFittedError):
        pool.transform(S)
    assert pool.fit(S) is pool  # fit returns self
    out = pool.transform(S)
    # fitting again, or a clone, gives the same; fitting changes no parameter
    assert pool.get_params() == clone(pool).get_params()
    np.testing.assert_array_equal(pool.fit(S).transform(S), out)
    np.testing.assert_array_equal(clone(pool).fit_transform(S), out)
    # each row depends on its song only: sample order and subsets
    order = np.random.RandomState(0).permutation(10)
    np.testing.assert_array_equal(pool.transform(S[order]), out[order])
    np.testing.assert_array_equal(pool.transform(S[3:5]), out[3:5])
    # pickling keeps it; read-only and Fortran-ordered input work; lists too
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pool)).transform(S), out)
    ro = S.copy()
    ro.setflags(write=False)
    np.testing.assert_array_equal(pool.transform(ro), out)
    np.testing.assert_allclose(pool.transform(np.asfortranarray(S)), out, rtol=1e-6)
    np.testing.assert_allclose(pool.transform(S.tolist()), out, rtol=1e-5, atol=1e-6)
    # integer input is pooled in float64
    assert pool.fit_transform(np.arange(24).reshape(2, 3, 4)).dtype == np.float64


# ======================================================================
# in a pipeline, on song paths, instead of the LSTM
# ======================================================================
@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_songs(16, tmp_path_factory.mktemp("songs"), duration=(16.0, 18.0), chorus_length=4.0,
                      sample_rates=(22050,), random_state=0, n_jobs=2)


def pooled_pipeline(classifier, **pool):
    return Pipeline([
        ("mono", MonoMixer()),
        ("chorus", ChorusExtractor(clip_length=4.0)),
        ("mel", MelSpectrogramTransformer(duration=4.0, hop_length=882)),
        ("pool", PooledMelTransformer(**pool)),
        ("scale", StandardScaler()),
        ("clf", classifier),
    ])


def test_pooled_mel_pipeline_with_logistic_regression_fits_and_predicts_on_paths(corpus):
    paths, y = corpus.paths, corpus.labels
    pipe = pooled_pipeline(LogisticRegression(C=0.1, max_iter=1000)).fit(paths[:12], y[:12])
    assert pipe.named_steps["pool"].n_features_in_ == 64
    assert pipe.named_steps["clf"].n_features_in_ == 128
    proba = pipe.predict_proba(paths[12:])
    assert proba.shape == (4, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(pipe.classes_) == [0, 1]
    # the default corpus is easy: the chorus's hook is a loud high-band layer
    assert (pipe.predict(paths[12:]) == y[12:]).all()
    assert pipe.score(paths, y) == 1.0


def test_gradient_boosting_takes_the_same_place(corpus):
    pipe = Pipeline(pooled_pipeline(None, deltas=True).steps[:4] + [
        ("clf", HistGradientBoostingClassifier(max_iter=20, min_samples_leaf=2, random_state=0))])
    pipe.fit(corpus.paths, corpus.labels)
    assert pipe.predict_proba(corpus.paths[:3]).shape == (3, 2)
    assert pipe.named_steps["clf"].n_features_in_ == 256
