"""The loader: formats, mixing, resampling, windows, and its errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from viral_sklearn import AudioClip, AudioLoadError, as_clips, audio_info, load_audio
from .conftest import require_ffmpeg, tone, write_audio


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
def test_formats_decode_to_mono_float32(tmp_path, ext):
    data = tone(2.0, 22050, channels=2)
    path = write_audio(tmp_path / f"song.{ext}", data, 22050)
    y, sr = load_audio(path)
    assert sr == 22050
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(y.size - data.shape[0]) <= 1152  # lossy codecs may pad a frame
    n = min(y.size, data.shape[0])
    if ext in ("wav", "flac"):
        np.testing.assert_allclose(y[:n], data[:n].mean(axis=1), atol=1e-4)
    else:  # lossy: energy preserved
        assert np.std(y) == pytest.approx(np.std(data.mean(axis=1)), rel=0.1)


def test_mean_of_channels_and_channel_pick(tmp_path):
    data = np.stack([np.full(1000, 0.5), np.full(1000, -0.25)], axis=1).astype(np.float32)
    path = write_audio(tmp_path / "c.wav", data, 8000, "WAV")
    clip = AudioClip.from_path(path)
    np.testing.assert_allclose(load_audio(clip.replace(mix="mean"))[0], 0.125, atol=1e-4)
    np.testing.assert_allclose(load_audio(clip.replace(mix=1))[0], -0.25, atol=1e-4)
    with pytest.raises(AudioLoadError, match=r"c\.wav.*channel 2 requested but the audio has 2"):
        load_audio(clip.replace(mix=2))


def test_resampling_keeps_duration_and_pitch(tmp_path):
    path = write_audio(tmp_path / "r.wav", tone(3.0, 44100, freq=440.0), 44100)
    y, sr = load_audio(path, sr=22050)
    assert sr == 22050
    assert abs(y.size - 3 * 22050) <= 2
    spectrum = np.abs(np.fft.rfft(y))
    assert np.fft.rfftfreq(y.size, 1 / sr)[np.argmax(spectrum)] == pytest.approx(440.0, abs=1.0)


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3"])
def test_window_equals_slice_of_full_decode(tmp_path, ext):
    rng = np.random.default_rng(1)
    t = np.arange(44100 * 12) / 44100
    freq = 220 * 2 ** (np.floor(t * 3) % 12 / 12)  # tonal: the case libsndfile's MP3 reads get wrong
    data = (0.3 * np.sin(2 * np.pi * np.cumsum(freq) / 44100) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    path = write_audio(tmp_path / f"w.{ext}", np.stack([data, data], 1), 44100)
    full, sr = load_audio(path, sr=22050)
    for offset in (0.0, 3.3, 8.0):
        part, _ = load_audio(path, sr=22050, offset=offset, duration=2.0)
        start = int(round(offset * sr))
        assert part.size == pytest.approx(2 * sr, abs=2)
        # resampling restarts at the window: allow its short edge transient
        np.testing.assert_allclose(part[200:-200], full[start + 200 : start + part.size - 200], atol=2e-3)


@pytest.mark.parametrize("block_frames", [1 << 16, None])
def test_mp3_whole_decode_has_no_block_dropouts(tmp_path, monkeypatch, block_frames):
    from viral_sklearn.audio import _decode as _audio

    t = np.arange(44100 * 30) / 44100
    data = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    path = write_audio(tmp_path / "long.mp3", np.stack([data, data], 1), 44100)
    monkeypatch.setattr(_audio, "_BLOCK_FRAMES", 1 << 24)  # one read: the reference
    whole, _ = load_audio(path)
    if block_frames is not None:  # ~20 block boundaries, each read after its own seek
        monkeypatch.setattr(_audio, "_BLOCK_FRAMES", block_frames)
    else:
        monkeypatch.undo()  # the library's block size
    y, _ = load_audio(path)
    # exact: every block is decoded from its own seek with the same warm-up frames
    # and resampled by the same streaming soxr state; no float sum depends on blocks
    np.testing.assert_array_equal(y, whole)
    body = y[5000:-5000]
    # a pure tone never has runs of exact zeros; libsndfile's block reads made them
    assert np.max(np.abs(body)) > 0.25
    runs = np.flatnonzero(np.abs(body) < 1e-7)
    assert runs.size < 50


@pytest.mark.parametrize("dtype, subtype", [("int16", "PCM_16"), ("int32", "PCM_32"), ("uint8", "PCM_U8")])
def test_integer_arrays_are_pcm_scaled_like_soundfile_reads_files(tmp_path, dtype, subtype):
    """An integer array is PCM: it decodes to the samples soundfile's float read
    of the same PCM file gives."""
    import soundfile as sf

    path = tmp_path / "pcm.wav"
    sf.write(path, (0.9 * tone(0.5, 8000, channels=2)).astype(np.float32), 8000, subtype=subtype)
    ref = sf.read(path, dtype="float32")[0]
    if dtype == "uint8":  # soundfile reads no uint8: rebuild the file's offset-binary bytes
        pcm = (sf.read(path, dtype="int16")[0].astype(np.int32) // 256 + 128).astype(np.uint8)
    else:
        pcm = sf.read(path, dtype=dtype)[0]
    y, _ = load_audio(AudioClip.from_array(pcm.T, 8000))
    np.testing.assert_array_equal(y, ref.mean(axis=1, dtype=np.float32))
    assert 0.1 < np.abs(y).max() <= 1.0  # full scale is 1, not 32767


@pytest.mark.parametrize("channels", range(2, 11))
def test_mix_is_the_float32_mean_of_channels(channels):
    samples = np.random.default_rng(channels).standard_normal((channels, 9001)).astype(np.float32)
    y, _ = load_audio(AudioClip.from_array(samples, 8000))
    np.testing.assert_array_equal(y, samples.T.mean(axis=1, dtype=np.float32))


def test_in_memory_audio(tmp_path):
    samples = tone(1.0, 16000, channels=2).T
    clip = AudioClip.from_array(samples, 16000)
    y, sr = load_audio(clip.replace(offset=0.25, duration=0.5))
    assert sr == 16000 and y.size == 8000
    np.testing.assert_allclose(y, samples.mean(axis=0)[4000:12000], atol=1e-6)
    assert clip.total_duration == pytest.approx(1.0)


def test_m4a_through_ffmpeg(tmp_path):
    require_ffmpeg()
    wav = write_audio(tmp_path / "src.wav", tone(3.0, 44100, channels=2), 44100)
    m4a = tmp_path / "song with space é.m4a"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", wav, str(m4a)], check=True)
    info = audio_info(m4a)
    assert info["backend"] == "torchcodec" and info["channels"] == 2
    y, sr = load_audio(m4a, sr=22050, offset=1.0, duration=1.0)
    assert sr == 22050 and abs(y.size - 22050) < 100


def test_audio_info(tmp_path):
    path = write_audio(tmp_path / "i.flac", tone(1.5, 48000, channels=3), 48000)
    info = audio_info(path)
    assert info == {"sample_rate": 48000, "channels": 3, "frames": 72000, "duration": 1.5, "backend": "soundfile"}


# -- errors name the file and the reason ----------------------------------
def test_missing_file(tmp_path):
    path = tmp_path / "nope.mp3"
    with pytest.raises(AudioLoadError, match=r"nope\.mp3.*file not found"):
        load_audio(path)


def test_directory(tmp_path):
    with pytest.raises(AudioLoadError, match="is a directory"):
        load_audio(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(AudioLoadError, match=r"empty\.mp3.*empty \(0 bytes\)"):
        load_audio(path)


def test_text_file_named_mp3(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("these are not the droids\n" * 50)
    with pytest.raises(AudioLoadError, match=r"notes\.mp3.*cannot decode audio"):
        load_audio(path)


def test_non_finite_in_memory_audio():
    samples = np.ones(100, dtype=np.float32)
    samples[10] = np.nan
    with pytest.raises(AudioLoadError, match=r"my song.*non-finite"):
        load_audio(AudioClip.from_array(samples, 8000, name="my song"))


def test_window_past_the_end(tmp_path):
    path = write_audio(tmp_path / "s.wav", tone(1.0, 8000), 8000)
    with pytest.raises(AudioLoadError, match=r"s\.wav.*past the end"):
        load_audio(path, offset=5.0, duration=1.0)


@pytest.mark.parametrize(
    "samples, sr, match",
    [
        (np.zeros((2, 2, 2)), 8000, r"shape \(n,\) or \(channels, n\)"),
        (np.array(["a", "b"]), 8000, "real numeric samples"),
        (np.zeros(10), 0, "positive integer"),
        (np.zeros(10), 8000.5, "positive integer"),
    ],
)
def test_from_array_validation(samples, sr, match):
    with pytest.raises(AudioLoadError, match=match):
        AudioClip.from_array(samples, sr)


def test_as_clips_accepts_what_users_have(tmp_path):
    import pandas as pd

    clip = AudioClip.from_path("x.wav")
    items = ["a.mp3", Path("b.mp3"), clip, (np.zeros(10, dtype=np.float32), 8000)]
    clips = as_clips(items)
    assert [c.path for c in clips[:3]] == ["a.mp3", "b.mp3", "x.wav"]
    assert clips[3].sample_rate == 8000
    assert [c.path for c in as_clips(pd.Series(["a.mp3", "b.mp3"]))] == ["a.mp3", "b.mp3"]
    assert [c.path for c in as_clips(np.array(["a.mp3"], dtype=object))] == ["a.mp3"]


@pytest.mark.parametrize(
    "X, error, match",
    [
        ("a.mp3", TypeError, "single str; wrap it in a list"),
        (np.zeros((3, 4)), ValueError, r"1-D collection of songs.*shape \(3, 4\)"),
        ([1.5], TypeError, "song #0: expected a file path"),
        (42, TypeError, "expected a collection of songs, got int"),
    ],
)
def test_as_clips_rejects(X, error, match):
    with pytest.raises(error, match=match):
        as_clips(X)


def test_quiet_stderr_restores_fd2_when_threads_overlap():
    """Two threads silencing mpg123 at once, leaving in either order: fd 2 is
    silenced while any is inside, and points back to the original after."""
    import os
    import threading

    from viral_sklearn.audio._decode import _quiet_stderr

    def target():
        st = os.fstat(2)
        return st.st_dev, st.st_ino

    original = target()
    null = os.stat(os.devnull)
    for first_out in ("a", "b"):
        inside = {name: threading.Event() for name in "ab"}
        leave = {name: threading.Event() for name in "ab"}
        seen = {}

        def worker(name):
            with _quiet_stderr():
                inside[name].set()
                leave[name].wait(10)
                seen[name] = target()

        threads = {name: threading.Thread(target=worker, args=(name,)) for name in "ab"}
        threads["a"].start()
        inside["a"].wait(10)
        threads["b"].start()
        inside["b"].wait(10)
        second_out = "b" if first_out == "a" else "a"
        leave[first_out].set()
        threads[first_out].join(10)
        assert target() == (null.st_dev, null.st_ino)  # the other is still inside
        leave[second_out].set()
        threads[second_out].join(10)
        assert seen[first_out] == seen[second_out] == (null.st_dev, null.st_ino)
        assert target() == original
