"""The ``device`` parameters on a CPU-only machine: "auto", its resolution, bad values.

What needs a real GPU is in tests/test_gpu.py (skipped without CUDA).
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone

from viral_sklearn import AudioClip, LSTMClassifier, MelSpectrogramTransformer, SongErrors, mel_db
from viral_sklearn._runtime._device import resolve_device, rng_devices
from .conftest import tone

X = np.random.RandomState(0).randn(24, 15, 4).astype(np.float32)
Y = np.arange(24) % 2


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_auto_is_the_default_and_trains_where_torch_can(no_gpu):
    auto = LSTMClassifier(max_epochs=3, random_state=0)
    assert auto.get_params()["device"] == "auto"
    auto.fit(X, Y)
    assert auto.device == "auto" and auto.get_params()["device"] == "auto"  # fit did not overwrite it
    assert next(auto.module_.parameters()).device.type == "cpu"
    pinned = LSTMClassifier(max_epochs=3, random_state=0, device="cpu").fit(X, Y)
    assert auto.predict_proba(X).tobytes() == pinned.predict_proba(X).tobytes()
    assert clone(auto).device == "auto"


def test_auto_means_cuda_where_torch_sees_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    for pinned in ("cpu", "cuda:1", torch.device("cpu"), None):
        assert resolve_device(pinned) is pinned
    assert rng_devices("cpu") == []


def test_an_auto_model_reloads_without_a_device_warning(no_gpu):
    clf = LSTMClassifier(max_epochs=2, random_state=0).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # skorch warns when a saved device is missing; "auto" never is
        again = pickle.loads(pickle.dumps(clf))
    assert again.device == "auto"
    assert again.predict_proba(X).tobytes() == clf.predict_proba(X).tobytes()


def test_auto_survives_reinitialisation_and_further_training(no_gpu):
    clf = LSTMClassifier(max_epochs=2, random_state=0).fit(X, Y)
    clf.partial_fit(X, Y)
    assert len(clf.history) == 4 and clf.device == "auto"
    assert clf.forward(X[:3], device="auto").shape == (3, 2)
    clf.set_params(module__hidden_size=8)  # skorch re-initialises the module on the device now
    assert clf.module_.lstm.hidden_size == 8 and clf.device == "auto"
    pinned = LSTMClassifier(max_epochs=2, random_state=0, device="cpu").fit(X, Y)
    pinned.set_params(device="auto", module__hidden_size=8)
    assert pinned.device == "auto" and pinned.module_.lstm.hidden_size == 8


def test_a_cpu_fit_leaves_the_gpu_generators_alone(monkeypatch):
    seeded = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: seeded.append(seed))
    monkeypatch.setattr(torch.cuda, "manual_seed", lambda seed: seeded.append(seed))
    LSTMClassifier(max_epochs=1, random_state=0, device="cpu").fit(X, Y)
    assert seeded == []


def test_mel_on_auto_is_the_cpu_result_here(no_gpu):
    y = tone(1.0, 8000, freq=500)[:, 0]
    np.testing.assert_array_equal(mel_db(y, 8000, device="auto"), mel_db(y, 8000))
    song = AudioClip.from_array(y, 8000)
    default = MelSpectrogramTransformer(sample_rate=8000, duration=1.0).transform([song])
    auto = MelSpectrogramTransformer(sample_rate=8000, duration=1.0, device="auto").transform([song])
    assert auto.tobytes() == default.tobytes()


def test_mel_device_errors_name_the_parameter_and_the_reason(no_gpu):
    song = AudioClip.from_array(tone(1.0, 8000)[:, 0], 8000, name="tone")
    with pytest.raises(ValueError, match="'device' parameter of MelSpectrogramTransformer must be 'auto', 'cpu'.*'gpu0'"):
        MelSpectrogramTransformer(device="gpu0").transform([song])
    with pytest.raises(ValueError, match="'device' parameter of MelSpectrogramTransformer must be an instance of 'str'"):
        MelSpectrogramTransformer(device=0).transform([song])
    with pytest.raises(SongErrors, match=r"\[0\] tone: ValueError: device='cuda' asks for a GPU, but torch sees no CUDA"):
        MelSpectrogramTransformer(sample_rate=8000, duration=1.0, device="cuda").transform([song])
