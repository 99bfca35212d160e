"""SongPipeline: the song steps run song by song, with a Pipeline's results.

* the chorus and mel steps in one task per song: the same features as a plain
  ``Pipeline`` (with ``n_jobs`` 1 and 2), each song decoded once even where a
  plain ``Pipeline`` would decode its window again (past the window budget), and
  no window handed back (memory flat in the number of songs);
* the per-step caches, the error report and the fitted pipeline's methods
  (``predict``, ``predict_proba``, ``score``, a grid search) are a
  ``Pipeline``'s; methods the final step lacks stay missing;
* a step used alone, or in a plain ``Pipeline``, works as before.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.pipeline import Pipeline

import viral_sklearn.chorus._extractor as extractor_mod
import viral_sklearn.features._mel as mel_mod
from viral_sklearn import (
    AudioClip,
    ChorusExtractor,
    MelSpectrogramTransformer,
    MonoMixer,
    PooledMelTransformer,
    SongErrors,
    SongPipeline,
    make_song_pipeline,
    make_viral_pipeline,
)
from viral_sklearn.audio._chain import PendingSongs, streaming
from .conftest import write_audio
from .test_single_decode import SR, song

CLIP = 5.0


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    folder = tmp_path_factory.mktemp("song_pipeline")
    return [write_audio(folder / f"s{k}.mp3", song(20.0, seed=k), SR) for k in range(4)]


def _steps(n_jobs=None, memory=None):
    return [("mono", MonoMixer()),
            ("chorus", ChorusExtractor(clip_length=CLIP, n_jobs=n_jobs, memory=memory)),
            ("mel", MelSpectrogramTransformer(duration=CLIP, n_jobs=n_jobs, memory=memory))]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_the_features_of_a_pipeline_with_each_song_decoded_once(paths, n_jobs, count_decodes, monkeypatch):
    reference = Pipeline(_steps()).transform(paths)
    count_decodes.clear()
    # a plain Pipeline past its window budget decodes the windows again ...
    monkeypatch.setattr(extractor_mod, "KEEP_WINDOWS_BYTES", 0)
    np.testing.assert_array_equal(Pipeline(_steps()).transform(paths), reference)
    assert Counter(count_decodes) == Counter({p: 2 for p in paths})
    count_decodes.clear()
    # ... a SongPipeline never: the window goes from the chorus step to the mel step within the task
    features = SongPipeline(_steps(n_jobs)).transform(paths)
    np.testing.assert_array_equal(features, reference)
    if n_jobs == 1:  # (workers are other processes: what they decode is not seen here)
        assert Counter(count_decodes) == Counter(paths)


def test_the_chorus_step_hands_on_pending_songs_only_inside_a_song_pipeline(paths):
    chorus, mel = ChorusExtractor(clip_length=CLIP), MelSpectrogramTransformer(duration=CLIP)
    assert SongPipeline([("c", chorus), ("m", mel)])._streaming_steps() == [chorus]
    with streaming([chorus]):
        pending = chorus.transform(paths)
        assert isinstance(pending, PendingSongs) and len(pending) == len(paths)
        assert [s.step for s in pending.stages] == ["ChorusExtractor"]
        # a step that does not chain songs gets the clips, as the chorus step alone gives them
        mixed = MonoMixer().transform(pending)
    alone = chorus.transform(paths)
    assert isinstance(alone, np.ndarray) and all(isinstance(c, AudioClip) for c in alone)
    assert [(c.offset, c.duration) for c in mixed] == [(c.offset, c.duration) for c in alone]
    # nothing streams into a step that does not chain songs, nor out of the last step
    assert SongPipeline([("c", chorus), ("mono", MonoMixer())])._streaming_steps() == []
    assert SongPipeline([("m", MonoMixer()), ("c", chorus)])._streaming_steps() == []


def test_per_step_caches_are_the_pipelines(paths, tmp_path, count_decodes):
    plain = Pipeline(_steps(memory=tmp_path)).transform(paths)
    count_decodes.clear()
    # the entries a plain Pipeline wrote are the SongPipeline's: nothing is decoded
    np.testing.assert_array_equal(SongPipeline(_steps(memory=tmp_path)).transform(paths), plain)
    assert count_decodes == []
    # the chorus step cached alone (another folder for the mel step): the windows are decoded, not the songs
    steps = _steps(memory=tmp_path)
    steps[2][1].set_params(memory=tmp_path / "mel")
    np.testing.assert_array_equal(SongPipeline(steps).transform(paths), plain)
    assert Counter(count_decodes) == Counter(paths)
    count_decodes.clear()
    np.testing.assert_array_equal(SongPipeline(steps).transform(paths), plain)  # now the mel step's too
    assert count_decodes == []


def test_failing_songs_are_reported_by_the_step_where_they_fail(paths, tmp_path, monkeypatch):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"not audio at all" * 100)
    songs = [paths[0], str(bad), paths[1], str(tmp_path / "missing.wav")]
    with pytest.raises(SongErrors) as plain:
        Pipeline(_steps()).transform(songs)
    with pytest.raises(SongErrors) as streamed:
        SongPipeline(_steps()).transform(songs)
    assert streamed.value.step == plain.value.step == "ChorusExtractor"
    assert streamed.value.failures == plain.value.failures and len(plain.value.failures) == 2
    assert str(streamed.value) == str(plain.value)
    # a song the mel step cannot take fails there, with its reason
    real = mel_mod._clip_mel

    def failing(clip, **kwargs):
        if clip.label == paths[2]:
            raise ValueError("no mel for this one")
        return real(clip, **kwargs)

    monkeypatch.setattr(mel_mod, "_clip_mel", failing)
    with pytest.raises(SongErrors) as mel:
        SongPipeline(_steps()).transform(paths)
    assert mel.value.step == "MelSpectrogramTransformer"
    assert mel.value.failures == [(2, paths[2], "ValueError: no mel for this one")]


def test_a_fitted_song_pipeline_predicts_scores_and_searches_as_a_pipeline(paths):
    songs, labels, groups = paths * 3, np.array([0, 1, 0, 1] * 3), np.repeat(np.arange(6), 2)

    def pooled(cls):
        return cls(_steps() + [("pool", PooledMelTransformer()), ("clf", LogisticRegression(max_iter=500))])

    plain, streamed = pooled(Pipeline).fit(songs, labels), pooled(SongPipeline).fit(songs, labels)
    np.testing.assert_array_equal(streamed.predict_proba(songs), plain.predict_proba(songs))
    np.testing.assert_array_equal(streamed.decision_function(songs), plain.decision_function(songs))
    assert streamed.score(songs, labels) == plain.score(songs, labels)
    cv = GroupKFold(n_splits=3)
    np.testing.assert_array_equal(cross_val_score(pooled(SongPipeline), songs, labels, groups=groups, cv=cv),
                                  cross_val_score(pooled(Pipeline), songs, labels, groups=groups, cv=cv))
    search = GridSearchCV(pooled(SongPipeline), {"clf__C": [0.1, 1.0]}, cv=cv).fit(songs, labels, groups=groups)
    assert isinstance(search.best_estimator_, SongPipeline)
    # clones, slices and the parameters of a Pipeline; missing methods stay missing
    assert isinstance(clone(streamed), SongPipeline) and isinstance(streamed[:-1], SongPipeline)
    assert not hasattr(SongPipeline(_steps()), "predict") and hasattr(streamed, "predict_log_proba")
    assert streamed.get_params()["chorus__clip_length"] == CLIP


def test_make_viral_pipeline_and_make_song_pipeline_build_song_pipelines():
    assert isinstance(make_viral_pipeline(), SongPipeline)
    pipe = make_song_pipeline(MonoMixer(), ChorusExtractor(), MelSpectrogramTransformer(), memory=None)
    assert isinstance(pipe, SongPipeline) and [n for n, _ in pipe.steps][1] == "chorusextractor"
    assert pipe._streaming_steps() == [pipe.steps[1][1]]


def test_the_pipelines_own_memory_fits_the_steps_one_after_the_other_then_streams(paths, tmp_path, count_decodes,
                                                                                   monkeypatch):
    steps = _steps() + [("pool", PooledMelTransformer()), ("clf", LogisticRegression(max_iter=500))]
    labels = [0, 1, 0, 1]
    reference = Pipeline(steps).fit(paths, labels).predict_proba(paths)
    cached = SongPipeline(clone(Pipeline(steps)).steps, memory=str(tmp_path)).fit(paths, labels)
    monkeypatch.setattr(extractor_mod, "KEEP_WINDOWS_BYTES", 0)  # steps run one after the other: two decodes
    count_decodes.clear()
    np.testing.assert_array_equal(cached.predict_proba(paths), reference)
    assert Counter(count_decodes) == Counter(paths)  # the fitted (cloned) steps stream: one decode a song
