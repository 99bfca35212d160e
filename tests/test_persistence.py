"""Safe persistence: safetensors weights + JSON description, nothing unpickled."""

from __future__ import annotations

import json
import os
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from viral_sklearn import LSTMClassifier, make_viral_pipeline
from viral_sklearn.persistence import FORMAT_VERSION, ModelFormatError, load_pipeline, save_pipeline
from .conftest import tone, write_audio


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    rng = np.random.default_rng(0)
    paths, labels = [], []
    for k in range(12):
        y = tone(3.0, 8000, freq=200 + 40 * k)[:, 0]
        if k % 2:
            y = y + 0.2 * rng.standard_normal(y.size).astype(np.float32)
        paths.append(write_audio(folder / f"s{k}.wav", y, 8000))
        labels.append("hit" if k % 2 else "flop")
    pipe = make_viral_pipeline(clip_length=1.0, sample_rate=8000, n_mels=16, hidden_size=8, max_epochs=2,
                               random_state=0)
    pipe.set_params(mel__hop_length=160)
    pipe.fit(paths, np.array(labels))
    return pipe, paths


def test_round_trip_gives_identical_probabilities(fitted, tmp_path):
    pipe, paths = fitted
    path = save_pipeline(pipe, tmp_path / "model.safetensors")
    loaded = load_pipeline(path)
    assert [n for n, _ in loaded.steps] == ["mono", "chorus", "mel", "clf"]
    np.testing.assert_array_equal(pipe.predict_proba(paths), loaded.predict_proba(paths))
    np.testing.assert_array_equal(pipe.predict(paths), loaded.predict(paths))
    assert list(loaded.classes_) == ["flop", "hit"]
    assert loaded.get_params()["mel__hop_length"] == 160
    assert loaded.get_params()["clf__module__hidden_size"] == 8


def _header(path):
    from safetensors import safe_open

    with safe_open(path, framework="pt") as fh:
        return json.loads(fh.metadata()["viral_sklearn"]), {k: fh.get_tensor(k) for k in fh.keys()}


def _rewrite(path, header, tensors):
    from safetensors.torch import save_file

    save_file(tensors, path, metadata={"viral_sklearn": json.dumps(header)})


def test_changed_step_type_is_refused(fitted, tmp_path):
    path = save_pipeline(fitted[0], tmp_path / "m.safetensors")
    header, tensors = _header(path)
    header["steps"][0]["type"] = "os.system"
    _rewrite(path, header, tensors)
    with pytest.raises(ModelFormatError, match=r"unknown step type 'os.system' \(allowed: ChorusExtractor"):
        load_pipeline(path)


def test_unknown_parameter_and_bad_weights_are_refused(fitted, tmp_path):
    path = save_pipeline(fitted[0], tmp_path / "m.safetensors")
    header, tensors = _header(path)
    header["steps"][2]["params"]["evil"] = 1
    _rewrite(path, header, tensors)
    with pytest.raises(ModelFormatError, match=r"unknown parameter\(s\) \['evil'\] for step 'mel'"):
        load_pipeline(path)
    header["steps"][2]["params"].pop("evil")
    tensors["clf.head.4.weight"] = torch.zeros(5, 5)
    _rewrite(path, header, tensors)
    with pytest.raises(ModelFormatError, match="weights do not fit the network of step 'clf'"):
        load_pipeline(path)


def test_incompatible_version_is_refused(fitted, tmp_path):
    path = save_pipeline(fitted[0], tmp_path / "m.safetensors")
    header, tensors = _header(path)
    header["format_version"] = "99.0"
    _rewrite(path, header, tensors)
    with pytest.raises(ModelFormatError, match=f"model format 99.0; this viral_sklearn reads format {FORMAT_VERSION}"):
        load_pipeline(path)


class _Payload:
    """Unpickling this would create a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_renamed_as_weights_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(ModelFormatError, match="is not a safetensors model file"):
        load_pipeline(path)
    assert not marker.exists()
    joblib.dump({"x": 1}, tmp_path / "j.safetensors")
    with pytest.raises(ModelFormatError, match="is not a safetensors model file"):
        load_pipeline(tmp_path / "j.safetensors")


def test_plain_safetensors_without_header_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(ModelFormatError, match="not a viral_sklearn model"):
        load_pipeline(tmp_path / "plain.safetensors")


def test_refuses_to_save_what_it_cannot_restore(fitted, tmp_path):
    with pytest.raises(TypeError, match="step 'scale' of type StandardScaler cannot be stored"):
        save_pipeline(Pipeline([("scale", StandardScaler())]), tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="LSTMClassifier is not fitted"):
        save_pipeline(make_viral_pipeline(), tmp_path / "x.safetensors")


def test_weights_are_stored_on_cpu_and_load_to_cpu(fitted, tmp_path):
    path = save_pipeline(fitted[0], tmp_path / "m.safetensors")
    _, tensors = _header(path)
    assert all(t.device.type == "cpu" for t in tensors.values())
    loaded = load_pipeline(path, device="cpu")
    assert next(loaded[-1].module_.parameters()).device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU to train on")
def test_gpu_trained_model_loads_on_cpu(tmp_path):  # pragma: no cover - run on GPU machines
    X = np.random.RandomState(0).randn(20, 10, 4).astype(np.float32)
    y = np.arange(20) % 2
    clf = LSTMClassifier(max_epochs=1, random_state=0, device="cuda").fit(X, y)
    pipe = Pipeline([("clf", clf)])
    loaded = load_pipeline(save_pipeline(pipe, tmp_path / "gpu.safetensors"), device="cpu")
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-5)
    assert os.path.getsize(tmp_path / "gpu.safetensors") > 0


def test_model_marked_for_cuda_loads_and_predicts_on_cpu_in_both_formats(fitted, tmp_path, monkeypatch):
    """No GPU here: a CPU-trained model is marked ``device="cuda"`` as a GPU-trained one
    is, then loaded on this CPU-only machine through both formats."""
    pipe, paths = fitted
    expected = pipe.predict_proba(paths)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    pipe[-1].device = "cuda"
    try:
        joblib.dump(pipe, tmp_path / "m.joblib")
        safe = save_pipeline(pipe, tmp_path / "m.safetensors")
    finally:
        pipe[-1].device = "cpu"
    with pytest.warns(UserWarning, match="no CUDA devices are available"):
        from_joblib = joblib.load(tmp_path / "m.joblib")
    assert str(from_joblib[-1].device) == "cpu"
    np.testing.assert_array_equal(from_joblib.predict_proba(paths), expected)
    np.testing.assert_array_equal(load_pipeline(safe).predict_proba(paths), expected)
