"""MP3s without a length header are decoded to their end, or refused with the reason.

libsndfile stops an MP3 without a Xing/Info/VBRI header at a length estimated from
its first frame: a variable-bit-rate one is cut short without a word.  The decoder
counts such a file's frames (``audio/_mpeg_length.py``) and hands it to FFmpeg, or
says why it cannot; files with the header, and constant-bit-rate ones whose estimate
is right, stay with libsndfile.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf

import viral_sklearn.audio._decode as decode_mod
from viral_sklearn import AudioLoadError, audio_info, load_audio
from viral_sklearn.audio._mpeg_length import frame_header, samples_without_length_header
from .conftest import require_ffmpeg, write_audio

SR = 44100
SECONDS = 12.0


def _song() -> np.ndarray:
    """Near silence, then loud noise: an encoder's bit rate climbs after the first frames."""
    rng = np.random.default_rng(0)
    t = np.arange(int(SECONDS * SR)) / SR
    y = np.where(t < 2.0, 0.001 * np.sin(2 * np.pi * 220 * t),
                 0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * rng.standard_normal(t.size))
    return np.stack([y, y], axis=1).astype(np.float32)


def _without_length_header(path, out) -> str:
    """A copy of the MP3 ``path`` whose Xing tag is renamed: its first frame is then an
    ordinary (silent) frame and its length unknown to decoders."""
    data = bytearray(open(path, "rb").read())
    at = data.find(b"Xing", 0, 4096)
    assert at > 0, "libsndfile's encoder writes a Xing tag"
    data[at : at + 4] = b"Zzzz"
    out.write_bytes(bytes(data))
    return str(out)


@pytest.fixture(scope="module")
def mp3s(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mpeg_length")
    tagged = write_audio(folder / "tagged.mp3", _song(), SR)
    return {"tagged": tagged, "untagged": _without_length_header(tagged, folder / "untagged.mp3")}


def test_frame_headers_of_every_mpeg_version_and_layer():
    # MPEG-1 layer III 128 kbit/s 44.1 kHz, with and without padding
    assert frame_header(bytes([0xFF, 0xFB, 0x90, 0x64])) == (417, 1152, 44100)
    assert frame_header(bytes([0xFF, 0xFB, 0x92, 0x64])) == (418, 1152, 44100)
    # MPEG-2 layer III 64 kbit/s 22.05 kHz: 576 samples, 72 * 64000 / 22050 bytes
    assert frame_header(bytes([0xFF, 0xF3, 0x80, 0x64])) == (208, 576, 22050)
    # MPEG-2.5 layer III 8 kbit/s 8 kHz; MPEG-1 layer II 192 kbit/s 48 kHz; layer I 32 kbit/s 32 kHz
    assert frame_header(bytes([0xFF, 0xE3, 0x18, 0x00])) == (72, 576, 8000)
    assert frame_header(bytes([0xFF, 0xFD, 0xA4, 0x00])) == (576, 1152, 48000)
    assert frame_header(bytes([0xFF, 0xFF, 0x18, 0x00])) == (48, 384, 32000)
    for bad in (b"\xff\xfb\x00\x64", b"\xff\xfb\xf0\x64", b"\xff\xfb\x9c\x64", b"\xff\xeb\x90\x64", b"\xff\xf9\x90\x64",
                b"RIFF", b"\xff"):
        assert frame_header(bad) is None  # free format, bad bit rate, reserved rate, version, layer; too short


def test_a_length_header_means_nothing_to_count(mp3s):
    assert samples_without_length_header(mp3s["tagged"]) is None


def test_frames_are_counted_past_tags_and_junk(mp3s, tmp_path):
    untagged = open(mp3s["untagged"], "rb").read()
    counted = samples_without_length_header(mp3s["untagged"])
    assert SECONDS * SR <= counted <= SECONDS * SR + 3 * 1152  # the encoder's delay and padding, a frame at most each
    # an ID3v2 tag before the frames, junk between two frames, an ID3v1 tag after them
    first = frame_header(untagged[:4])[0]
    cut = first + frame_header(untagged[first : first + 4])[0]
    id3v2 = b"ID3\x04\x00\x00" + bytes([0, 0, 1, 0]) + b"\xff\xfb" * 64
    junk = b"\x00\xff\xfb\x90" + b"\x17" * 300  # a false header: no second frame where it points
    id3v1 = b"TAG" + b"\xff\xfb\x90\x64" * 31 + b"\x00"
    wrapped = tmp_path / "wrapped.mp3"
    wrapped.write_bytes(id3v2 + untagged[:cut] + junk + untagged[cut:] + id3v1)
    assert samples_without_length_header(str(wrapped)) == counted
    # not MPEG audio at all, and an empty file
    (tmp_path / "noise.mp3").write_bytes(np.random.default_rng(1).integers(0, 255, 5000, dtype=np.uint8).tobytes())
    (tmp_path / "empty.mp3").write_bytes(b"")
    assert samples_without_length_header(str(tmp_path / "noise.mp3")) in (None, 0)
    assert samples_without_length_header(str(tmp_path / "empty.mp3")) is None


def test_libsndfile_would_cut_the_song_short(mp3s):
    # the bug this guards against: libsndfile's length (and decode) stop at the estimate
    assert sf.info(mp3s["untagged"]).frames < 0.9 * SECONDS * SR


def test_an_mp3_without_length_header_is_decoded_to_its_end_by_ffmpeg(mp3s):
    require_ffmpeg()
    y, sr = load_audio(mp3s["untagged"])
    assert sr == SR and abs(y.size - SECONDS * SR) <= 3 * 1152
    info = audio_info(mp3s["untagged"])
    assert info["backend"] == "torchcodec" and abs(info["duration"] - SECONDS) < 0.1
    # the same music as with the header, a few frames later (FFmpeg cannot drop the
    # encoder's delay and the renamed tag's frame without the header that gives them)
    tagged, _ = load_audio(mp3s["tagged"])
    piece = tagged[4 * SR : 5 * SR]
    lags = range(0, 4 * 1152)
    match = [float(np.corrcoef(piece, y[4 * SR + lag : 5 * SR + lag])[0, 1]) for lag in lags]
    assert max(match) > 0.99
    lag = int(np.argmax(match))
    np.testing.assert_allclose(y[lag : lag + tagged.size - SR], tagged[: tagged.size - SR], atol=0.02)


def test_without_ffmpeg_the_error_names_the_file_and_the_reason(mp3s, monkeypatch):
    monkeypatch.setattr(decode_mod, "_torchcodec_available", lambda: False)
    for read in (load_audio, audio_info):
        with pytest.raises(AudioLoadError, match="without a length header") as err:
            read(mp3s["untagged"])
        assert "untagged.mp3" in str(err.value) and "would stop at" in str(err.value)
    assert load_audio(mp3s["tagged"])[0].size == SECONDS * SR  # with its header: libsndfile, whole


def test_a_constant_bit_rate_mp3_without_header_stays_with_libsndfile(tmp_path):
    require_ffmpeg()
    wav = write_audio(tmp_path / "song.wav", _song(), SR)
    cbr = str(tmp_path / "cbr.mp3")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", wav, "-c:a", "libmp3lame", "-b:a", "128k",
                    "-write_xing", "0", cbr], check=True)
    counted = samples_without_length_header(cbr)
    assert counted is not None  # no header: counted ...
    info = audio_info(cbr)
    assert info["backend"] == "soundfile"  # ... and libsndfile's estimate is right
    assert abs(info["frames"] - counted) <= 2 * 1152


def test_a_file_of_false_headers_costs_a_bounded_walk(mp3s, tmp_path):
    untagged = open(mp3s["untagged"], "rb").read()
    first = frame_header(untagged[:4])[0]
    # a real first frame, then 4 MB of headers that never lead to a second frame
    hostile = tmp_path / "hostile.mp3"
    hostile.write_bytes(untagged[: 2 * first] + b"\xff\xfb\x90\x64\x00" * 800_000)
    assert samples_without_length_header(str(hostile)) is None  # given up: libsndfile's length stands
    try:  # decoded, or refused with a clear error: never a hang or a crash
        load_audio(str(hostile))
    except AudioLoadError as err:
        assert "hostile.mp3" in str(err)
