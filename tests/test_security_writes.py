"""The library writes only where its caller says: the cache folder and the model file."""

from __future__ import annotations

import os

import numpy as np

from viral_sklearn import make_viral_pipeline
from viral_sklearn.persistence import load_pipeline, save_pipeline

from ._model_files import sandbox_dirs, written_files
from .conftest import tone, write_audio


def test_fit_predict_save_load_write_only_the_cache_and_the_model(tmp_path, monkeypatch):
    songs = tmp_path / "songs"
    songs.mkdir()
    paths = [write_audio(songs / f"s{k}.wav", tone(2.0, 8000, freq=200 + 50 * k)[:, 0], 8000) for k in range(6)]
    y = np.array([0, 1] * 3)
    before = sorted(os.listdir(songs))
    dirs = sandbox_dirs(tmp_path, monkeypatch)  # cwd, HOME (and XDG caches), TMPDIR: all must stay empty
    cache, out = tmp_path / "cache", tmp_path / "out"
    pipe = make_viral_pipeline(clip_length=1.0, sample_rate=8000, n_mels=16, hidden_size=8, max_epochs=1,
                               random_state=0, memory=cache)
    pipe.set_params(mel__hop_length=160)
    pipe.fit(paths, y)
    out.mkdir()
    model = save_pipeline(pipe, out / "model.safetensors")
    proba = load_pipeline(model, memory=cache).predict_proba(paths)
    np.testing.assert_array_equal(proba, pipe.predict_proba(paths))
    assert written_files(dirs, torch_cache_ok=True) == []  # see SECURITY.md on PyTorch's own folder
    assert sorted(os.listdir(songs)) == before
    assert os.listdir(out) == ["model.safetensors"]
    cached = [p for p in cache.rglob("*") if p.is_file()]
    assert len(cached) == 12 and all(p.suffix == ".npy" for p in cached)  # 6 songs x (chorus, mel)
