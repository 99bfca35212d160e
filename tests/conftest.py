"""Shared fixtures: seeding, and short synthetic audio written on the fly."""

from __future__ import annotations

import os
import random
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch


@pytest.fixture(autouse=True)
def seed_everything():
    """Every test starts from the same global random state (skorch's habit)."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield


@pytest.fixture
def count_decodes(monkeypatch):
    """The label of every song decoded in this process, in order (Dask or loky
    workers are other processes: what they decode is not seen)."""
    import viral_sklearn.audio._decode as audio_mod

    calls = []
    real = audio_mod._decode

    def counting(clip, sr):
        calls.append(clip.label)
        return real(clip, sr)

    monkeypatch.setattr(audio_mod, "_decode", counting)
    return calls


def tone(seconds: float, sr: int, *, freq: float = 440.0, channels: int = 1, amp: float = 0.3) -> np.ndarray:
    """A (frames, channels) float32 tone; channel k is at freq * (k + 1)."""
    t = np.arange(int(round(seconds * sr))) / sr
    cols = [amp * np.sin(2 * np.pi * freq * (k + 1) * t) for k in range(channels)]
    return np.stack(cols, axis=1).astype(np.float32)


def write_audio(path, data: np.ndarray, sr: int, fmt: str | None = None) -> str:
    path = os.fspath(path)
    sf.write(path, data, sr, format=fmt or path.rsplit(".", 1)[-1].upper())
    return path


def ffmpeg_backend_available() -> bool:
    from viral_sklearn.audio._decode import _torchcodec_available

    return shutil.which("ffmpeg") is not None and _torchcodec_available()


def require_ffmpeg():
    """Skip locally without FFmpeg; in CI (which installs it) its absence fails."""
    if ffmpeg_backend_available():
        return
    if os.environ.get("CI"):
        pytest.fail("CI must provide FFmpeg and torchcodec (.ci/run installs ffmpeg)")
    pytest.skip("FFmpeg/torchcodec not installed")
