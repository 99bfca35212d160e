"""Bad and unusual songs, one case each, through the loader and the song steps.

Every case ends in one of two defined ways:

* an error of the library's own type (:class:`AudioLoadError` from
  ``load_audio``, :class:`SongErrors` from a transformer) whose message names
  the file and the reason; a transformer lists every failing song of the batch
  and still counts the good ones;
* or a documented result, run through ``MonoMixer -> ChorusExtractor ->
  MelSpectrogramTransformer`` (the pipeline without its classifier), whose
  features have the documented shape and are always finite.
"""

from __future__ import annotations

import io
import os
import re
import time
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from viral_sklearn import (
    AudioClip,
    AudioLoadError,
    ChorusExtractor,
    MelSpectrogramTransformer,
    MonoMixer,
    SongErrors,
    audio_info,
    load_audio,
    make_viral_pipeline,
)
from .conftest import tone, write_audio

SR = 22050  # the pipeline's analysis rate
CLIP = 2.0  # a small chorus window keeps every case fast
N_MELS = 16
N_FRAMES = 1 + int(CLIP * SR) // 200  # MelSpectrogramTransformer's default hop


# ----------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------
def song_steps():
    """MonoMixer -> ChorusExtractor -> MelSpectrogramTransformer, as the pipeline has them."""
    return make_viral_pipeline(clip_length=CLIP, n_mels=N_MELS)[:-1]


def features(X) -> np.ndarray:
    out = song_steps().fit_transform(X)
    assert out.shape == (len(X), N_FRAMES, N_MELS) and out.dtype == np.float32
    assert np.isfinite(out).all(), "features must never contain NaN or Inf"
    return out


def choruses(X) -> np.ndarray:
    """The chorus windows the pipeline keeps: ``[start, duration, found, confidence]`` per song."""
    return ChorusExtractor(clip_length=CLIP).find_choruses(MonoMixer().fit_transform(X))


@pytest.fixture
def good(tmp_path):
    """A valid song to put next to the bad one in every batch."""
    return write_audio(tmp_path / "good.wav", tone(3.0, SR, freq=330.0), SR)


def unanchored(pattern: str) -> str:
    """A reason pattern (anchored to the reason) searched in a whole message."""
    return pattern.removeprefix("^").removesuffix("$")


def assert_load_error(source, label: str, reason: str) -> AudioLoadError:
    """load_audio raises exactly AudioLoadError, naming ``label`` and the reason."""
    with pytest.raises(AudioLoadError) as info:
        load_audio(source)
    err = info.value
    assert type(err) is AudioLoadError
    assert err.source == label and re.search(reason, err.reason), err
    assert str(err).startswith(f"{label!r}: ") and re.search(unanchored(reason), str(err))
    return err


def assert_song_errors(X, bad_index: int, label: str, reason: str) -> None:
    """Each song step that decodes raises exactly SongErrors, naming the song
    (and only it: the good songs of the batch are counted as succeeded)."""
    steps = [
        ("ChorusExtractor", lambda: song_steps().fit_transform(X)),
        ("MelSpectrogramTransformer", lambda: MelSpectrogramTransformer(duration=CLIP, n_mels=N_MELS).transform(X)),
    ]
    for step, run in steps:
        with pytest.raises(SongErrors) as info:
            run()
        err = info.value
        assert type(err) is SongErrors and err.step == step
        assert err.n_total == len(X) and err.n_succeeded == len(X) - 1
        [(index, song, why)] = err.failures
        assert (index, song) == (bad_index, label)
        assert re.search(reason, why), why
        message = str(err)
        assert f"[{bad_index}] {label}: " in message and re.search(unanchored(reason), message)


def file_case(good, path, reason):
    """The whole check for a file that cannot be used."""
    path = os.fspath(path)
    assert_load_error(path, path, reason)
    assert_song_errors([good, path], 1, path, reason)


def float_wav(path, data: np.ndarray, sr: int) -> str:
    """A 32-bit float WAV: the samples are stored as they are (no clipping)."""
    sf.write(path, data, sr, format="WAV", subtype="FLOAT")
    assert sf.info(path).subtype == "FLOAT"
    return os.fspath(path)


def mp3_bytes(seconds: float = 6.0, sr: int = SR) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, tone(seconds, sr, channels=2), sr, format="MP3")
    return buf.getvalue()


# ----------------------------------------------------------------------
# files that cannot be used: the library's error, naming file and reason
# ----------------------------------------------------------------------
def test_missing_path(tmp_path, good):
    file_case(good, tmp_path / "no such song.mp3", r"^file not found$")


def test_directory(tmp_path, good):
    folder = tmp_path / "album.mp3"
    folder.mkdir()
    file_case(good, folder, r"^is a directory, not an audio file$")


def test_zero_byte_file(tmp_path, good):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    file_case(good, path, r"^file is empty \(0 bytes\)$")


def test_text_file_named_mp3(tmp_path, good):
    path = tmp_path / "lyrics.mp3"
    path.write_text("Never gonna give you up\n" * 40)
    # both back-ends were tried, and the reason says what each of them said
    file_case(good, path, r"^cannot decode audio \(soundfile: .+; FFmpeg")


@pytest.mark.parametrize("n_bytes", [1, 10, 100])
def test_mp3_truncated_to_a_few_bytes(tmp_path, good, n_bytes):
    path = tmp_path / f"stub{n_bytes}.mp3"
    path.write_bytes(mp3_bytes()[:n_bytes])
    file_case(good, path, r"^cannot decode audio \(")
    with pytest.raises(AudioLoadError, match=re.escape(str(path))):
        audio_info(path)


def test_truncated_mp3_decodes_what_is_there(tmp_path, capfd):
    """An MP3 cut in half (an interrupted download) is defined: the frames that
    are there decode, exactly as in the whole file (over more than one decoding
    block); the header (Xing/LAME tag) still announces the whole length, so
    ``audio_info`` reports it; a window across the cut stops at the cut, and a
    window past it is an error naming the file."""
    blob = mp3_bytes(30.0)
    whole = write_bytes(tmp_path / "whole.mp3", blob)
    half = write_bytes(tmp_path / "half.mp3", blob[: len(blob) // 2])
    full, sr = load_audio(whole)
    part, sr_part = load_audio(half)
    assert sr_part == sr == SR
    assert 0.3 < part.size / full.size < 0.7
    np.testing.assert_array_equal(part, full[: part.size])  # a prefix, bit for bit
    assert audio_info(half)["duration"] == pytest.approx(audio_info(whole)["duration"])
    cut = part.size / SR
    across, _ = load_audio(half, offset=cut - 1.0, duration=3.0)
    assert abs(across.size - SR) <= 1
    np.testing.assert_allclose(across, part[-across.size :], atol=1e-6)
    with pytest.raises(AudioLoadError, match=re.escape(half) + r".*past the end"):
        load_audio(half, offset=cut + 1.0, duration=0.3)
    # through the song steps: the chorus lies in the decoded part
    start, duration, _, _ = choruses([half])[0]
    assert duration == CLIP and 0 <= start <= part.size / SR - CLIP
    # and quietly: mpg123's notices ("Xing stream size off", seeks) never reach stderr
    assert capfd.readouterr().err == ""
    features([half])


def write_bytes(path, blob: bytes) -> str:
    path.write_bytes(blob)
    return os.fspath(path)


def _wav_bytes() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, tone(2.0, 8000), 8000, format="WAV", subtype="PCM_16")
    return buf.getvalue()  # 44-byte canonical header: RIFF, fmt at 12, data at 36


def _patch(blob: bytes, at: int, new: bytes) -> bytes:
    return blob[:at] + new + blob[at + len(new):]


@pytest.mark.parametrize(
    "corrupt, reason",
    [
        pytest.param(lambda b: _patch(b, 0, b"JUNK"), r"cannot decode audio \(soundfile: .*not recognised", id="riff-magic"),
        pytest.param(lambda b: _patch(b, 12, b"xxxxxxxx"), r"cannot decode audio \(soundfile: .*No 'data' chunk", id="fmt-chunk-id"),
        pytest.param(lambda b: _patch(b, 20, b"\xff\xff"), r"cannot decode audio \(soundfile: .*[Mm]alformed", id="format-tag"),
        pytest.param(lambda b: _patch(b, 24, b"\0\0\0\0"), r"cannot decode audio \(", id="zero-sample-rate"),
        pytest.param(lambda b: b[:30], r"cannot decode audio \(", id="header-cut"),
        pytest.param(lambda b: _patch(b, 40, b"\0\0\0\0"), r"^contains no audio samples$", id="zero-data-size"),
    ],
)
def test_wav_with_corrupt_header(tmp_path, good, corrupt, reason):
    path = write_bytes(tmp_path / "corrupt.wav", corrupt(_wav_bytes()))
    file_case(good, path, reason)


def test_wav_with_truncated_data_decodes_what_is_there(tmp_path):
    """The header announces 2 s but the file stops early: the samples present decode."""
    blob = _wav_bytes()
    path = write_bytes(tmp_path / "cut.wav", blob[: 44 + 2 * 3000])
    y, sr = load_audio(path)
    assert sr == 8000 and y.size == 3000
    np.testing.assert_allclose(y, tone(2.0, 8000)[:3000, 0], atol=1e-4)
    features([path])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_float_wav_with_non_finite_samples(tmp_path, good, bad):
    data = tone(3.0, SR, channels=2)
    data[1234, 1] = bad
    path = float_wav(tmp_path / "broken float.wav", data, SR)
    file_case(good, path, r"^contains non-finite samples \(NaN or Inf\)$")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_in_memory_arrays_with_non_finite_samples(bad):
    ok = tone(3.0, SR)[:, 0]
    samples = tone(3.0, SR, channels=2).T.astype(np.float64)
    samples[0, 100] = bad
    # a (samples, sr) tuple is named by its position; an AudioClip by its name
    assert_load_error(AudioClip.from_array(samples, SR), "<in-memory audio>", r"non-finite")
    assert_song_errors([(ok, SR), (samples, SR)], 1, "<in-memory song #1>", r"^contains non-finite samples")
    named = AudioClip.from_array(samples, SR, name="take 3")
    assert_song_errors([named, (ok, SR)], 0, "take 3", r"^contains non-finite samples")


def test_in_memory_array_without_channels():
    with pytest.raises(AudioLoadError, match=r"take 0.*at least one channel, got shape \(0, 100\)"):
        AudioClip.from_array(np.zeros((0, 100), dtype=np.float32), SR, name="take 0")


def test_mel_window_shorter_than_half_an_fft_is_a_clear_error():
    # 100 samples cannot be reflect-padded by n_fft // 2 = 200: said up front, not per song
    mel = MelSpectrogramTransformer(duration=100 / SR, n_mels=N_MELS)
    with pytest.raises(ValueError, match=r"100 samples; n_fft=400 needs more than 200"):
        mel.transform([(tone(1.0, SR)[:, 0], SR)])


# ----------------------------------------------------------------------
# unusual but valid songs: documented results, finite features
# ----------------------------------------------------------------------
def test_digital_silence(tmp_path):
    path = write_audio(tmp_path / "silence.wav", np.zeros((6 * SR, 2), dtype=np.float32), SR, "WAV")
    y, _ = load_audio(path)
    assert y.size == 6 * SR and not y.any()
    # no chorus in silence: the fallback ("loudest", all windows equal) keeps the start
    [(start, duration, found, confidence)] = choruses([path])
    assert (start, duration, found, confidence) == (0.0, CLIP, 0.0, 0.0)
    [clip] = song_steps()[:2].fit_transform([path])
    assert clip.chorus_found is False
    # the mel of silence is the dB floor, constant
    np.testing.assert_array_equal(features([path]), np.full((1, N_FRAMES, N_MELS), -100.0, dtype=np.float32))


def test_clip_shorter_than_one_second_is_padded(tmp_path):
    path = write_audio(tmp_path / "blip.flac", tone(0.4, SR, channels=2), SR)
    [(start, duration, found, confidence)] = choruses([path])
    assert start == 0.0 and duration == pytest.approx(0.4) and found == 0.0 and confidence == 0.0  # kept whole
    [spec] = features([path])
    sound = spec[: int(0.4 * SR) // 200 - 1]  # frames fully inside the 0.4 s of tone
    padding = spec[int(0.4 * SR) // 200 + 2 :]  # frames fully in the silence added after it
    assert sound.max() > padding.max()
    # the padding is silence, floored at top_db (80 dB) below the loudest cell
    np.testing.assert_array_equal(padding, np.full_like(padding, max(-100.0, spec.max() - 80.0)))


def test_float_wav_far_beyond_full_scale_gives_finite_features(tmp_path):
    """Finite but absurdly loud float samples (1e20: their power overflows
    float32) still give finite features, the loudest frames about 400 dB."""
    path = float_wav(tmp_path / "loud.wav", 1e20 * tone(3.0, SR), SR)
    y, _ = load_audio(path)
    assert np.isfinite(y).all() and np.abs(y).max() > 1e19
    spec = features([path])
    assert 350 < spec.max() < 450


@pytest.mark.parametrize("method, bound", [("structure", 0.2e9), ("pychorus", 0.55e9)])
def test_twenty_minute_track(tmp_path, method, bound):
    """A 20-minute song (8 kHz mono WAV, analysed at 11025 Hz as any other)
    finishes (a few seconds on 2 cores), in bounded memory: no whole-song STFT (librosa's,
    as pychorus uses, is 423 MB at 22050 Hz) nor its 1.8 GB tuning estimate."""
    rate, minutes = 8000, 20
    t = np.arange(minutes * 60 * rate) / rate
    # an 8-s four-note riff, the same all along: every 8 s repeats
    freq = 220.0 * 2 ** (np.array([0, 4, 7, 12])[(t // 2).astype(int) % 4] / 12)
    data = (0.3 * np.sin(2 * np.pi * np.cumsum(freq) / rate)).astype(np.float32)
    path = write_audio(tmp_path / "long mix.wav", data, rate, "WAV")
    del t, freq, data
    assert audio_info(path)["duration"] == minutes * 60

    steps = song_steps().set_params(chorus__method=method)
    tracemalloc.start()
    try:
        began = time.perf_counter()
        [clip] = steps[:2].fit_transform([path])
        elapsed = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert clip.duration == CLIP and 0 <= clip.offset <= minutes * 60 - CLIP
    # analysis at 11025 Hz: 53 MB of samples; the structure method's features by blocks,
    # its self-similarity on at most 1,500 steps (~110 MB in all); pychorus's spectrogram
    # by blocks of 64 frames, then its finder's two 6460 x 6460 float32 matrices (167 MB
    # each): ~430 MB; ~1.9 GB with librosa's chroma
    print(f"{method}: peak {peak / 1e6:.0f} MB, {elapsed:.1f} s")
    assert peak < bound, f"peak {peak / 1e6:.0f} MB"
    assert elapsed < 120, f"{elapsed:.1f} s"
    spec = steps[2].fit_transform([clip])
    assert spec.shape == (1, N_FRAMES, N_MELS) and np.isfinite(spec).all()


@pytest.mark.parametrize("rate", [8000, 192000])
@pytest.mark.parametrize("ext", ["wav", "flac"])
def test_low_and_high_sample_rates(tmp_path, rate, ext):
    path = write_audio(tmp_path / f"r{rate}.{ext}", tone(5.0, rate, channels=2), rate)
    assert audio_info(path)["sample_rate"] == rate
    y, sr = load_audio(path)
    assert (sr, y.size) == (rate, 5 * rate)
    y, sr = load_audio(path, sr=SR)  # resampled to the analysis rate
    assert sr == SR and abs(y.size - 5 * SR) <= 2
    [(start, duration, _, _)] = choruses([path])
    assert duration == CLIP and 0 <= start <= 5.0 - CLIP
    features([path])


@pytest.mark.parametrize("channels", range(1, 9))
def test_one_to_eight_channels(tmp_path, channels):
    data = tone(3.0, SR, channels=channels, amp=0.1)
    path = write_audio(tmp_path / f"c{channels}.wav", data, SR, "WAV")
    assert audio_info(path)["channels"] == channels
    y, _ = load_audio(path)
    np.testing.assert_allclose(y, data.mean(axis=1), atol=1e-4)  # mean of channels
    last, _ = load_audio(AudioClip.from_path(path).replace(mix=-1))
    np.testing.assert_allclose(last, data[:, -1], atol=1e-4)
    features([path])
    picked = make_viral_pipeline(clip_length=CLIP, n_mels=N_MELS)[:-1].set_params(mono__channel=channels - 1)
    assert np.isfinite(picked.fit_transform([path])).all()
    # a channel the file does not have is an error naming the file
    with pytest.raises(SongErrors, match=re.escape(path) + rf": channel {channels} requested but the audio has {channels} channel"):
        picked.set_params(mono__channel=channels).fit_transform([path])


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3"])
def test_file_names_with_spaces_and_non_ascii(tmp_path, ext):
    folder = tmp_path / "Música à écouter"
    folder.mkdir()
    path = write_audio(folder / f"Beyoncé - 日本語 ソング 🎵 (live).{ext}", tone(4.0, SR, channels=2), SR)
    y, sr = load_audio(path)
    assert sr == SR and abs(y.size - 4 * SR) <= 1152
    assert audio_info(path)["channels"] == 2
    features([path])
    # and errors name such files faithfully
    missing = os.fspath(folder / f"Sigur Rós – Hoppípolla.{ext}")
    file_case(path, missing, r"^file not found$")
