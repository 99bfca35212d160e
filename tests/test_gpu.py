"""On a CUDA GPU: training, prediction and mel spectrograms there, and models that go back to a CPU.

Skipped where torch sees no CUDA device (``torch.cuda.is_available()``), run
where it does.  The CPU-only side of ``device`` is in tests/test_device.py, and
``tests/test_persistence.py`` loads a model marked for CUDA on a CPU.
"""

from __future__ import annotations

import os
import subprocess
import sys

import joblib
import numpy as np
import pytest
import torch

from viral_sklearn import AudioClip, LSTMClassifier, MelSpectrogramTransformer, make_viral_pipeline, mel_db
from viral_sklearn.datasets import make_songs
from .conftest import tone

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

#: mel in dB on the GPU vs the CPU: float32 rounding of the FFT and the filter bank
MEL_ATOL_DB = 0.05


def pattern(n=64, frames=30, features=8, seed=0):
    """Label 1 sequences carry a positive offset: an LSTM learns it in a few epochs."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 2
    X = rng.randn(n, frames, features).astype(np.float32) + 1.5 * y[:, None, None].astype(np.float32)
    return X, y


def first_param_device(clf):
    return next(clf.module_.parameters()).device


@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_trains_and_predicts_on_the_gpu(device):
    X, y = pattern()
    clf = LSTMClassifier(max_epochs=8, random_state=0, device=device, train_split=None).fit(X, y)
    assert first_param_device(clf).type == "cuda"
    assert clf.get_params()["device"] == device
    proba = clf.predict_proba(X)
    assert isinstance(proba, np.ndarray) and proba.dtype == np.float32 and proba.shape == (64, 2)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)  # prediction is deterministic
    assert (clf.predict(X) == y).mean() >= 0.9


def test_a_fit_leaves_the_callers_generators_alone():
    X, y = pattern(n=16)
    cpu_state, cuda_state = torch.get_rng_state(), torch.cuda.get_rng_state()
    LSTMClassifier(max_epochs=1, random_state=0, device="cuda").fit(X, y)
    assert torch.equal(torch.get_rng_state(), cpu_state)
    assert torch.equal(torch.cuda.get_rng_state(), cuda_state)


@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_a_gpu_trained_model_predicts_in_a_process_without_a_gpu(device, tmp_path):
    X, y = pattern(n=32)
    clf = LSTMClassifier(max_epochs=2, random_state=0, device=device).fit(X, y)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "proba.npy", clf.predict_proba(X))
    joblib.dump(clf, tmp_path / "model.joblib")
    code = (
        "import sys, warnings, joblib, numpy as np, torch\n"
        "from skorch.exceptions import DeviceWarning\n"
        "assert not torch.cuda.is_available()\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    clf = joblib.load(sys.argv[1] + '/model.joblib')\n"
        "assert next(clf.module_.parameters()).device.type == 'cpu'\n"
        "proba = clf.predict_proba(np.load(sys.argv[1] + '/X.npy'))\n"
        "np.testing.assert_allclose(proba, np.load(sys.argv[1] + '/proba.npy'), atol=1e-5)\n"
        "print(clf.device, any(issubclass(w.category, DeviceWarning) for w in caught))\n"
    )
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # "cuda" falls back to the CPU with skorch's warning; "auto" simply means the CPU there
    assert done.stdout.split() == (["cpu", "True"] if device == "cuda" else ["auto", "False"])


def test_mel_on_the_gpu_equals_the_cpu_within_rounding():
    rng = np.random.default_rng(0)
    signals = [
        tone(3.0, 22050, freq=440)[:, 0],
        (0.3 * rng.standard_normal(3 * 22050)).astype(np.float32),
        np.zeros(3 * 22050, dtype=np.float32),  # silence: a constant floor on both
        np.full(3 * 22050, 3e18, dtype=np.float32),  # float32 power overflows: the float64 path on both
    ]
    for y in signals:
        cpu, gpu = mel_db(y, 22050), mel_db(y, 22050, device="cuda")
        assert gpu.dtype == np.float32 and gpu.shape == cpu.shape and np.isfinite(gpu).all()
        np.testing.assert_allclose(gpu, cpu, atol=MEL_ATOL_DB, rtol=0)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_mel_step_on_the_gpu(n_jobs):
    songs = [AudioClip.from_array(tone(2.0, 16000, freq=200 + 90 * k)[:, 0], 16000) for k in range(4)]
    cpu = MelSpectrogramTransformer(sample_rate=16000, duration=2.0).transform(songs)
    gpu = MelSpectrogramTransformer(sample_rate=16000, duration=2.0, device="cuda", n_jobs=n_jobs).transform(songs)
    assert gpu.dtype == np.float32 and gpu.shape == cpu.shape
    np.testing.assert_allclose(gpu, cpu, atol=MEL_ATOL_DB, rtol=0)


def test_the_whole_pipeline_on_the_gpu(tmp_path):
    songs = make_songs(8, tmp_path / "songs", duration=(12, 14), chorus_length=3, sample_rates=(22050,),
                       random_state=0)
    pipe = make_viral_pipeline(clip_length=3, max_epochs=2, hidden_size=8, random_state=0, device="cuda")
    pipe.set_params(mel__hop_length=441, mel__device="cuda")
    pipe.fit(songs.paths, songs.labels)
    assert first_param_device(pipe[-1]).type == "cuda"
    proba = pipe.predict_proba(songs.paths)
    assert proba.shape == (8, 2) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
