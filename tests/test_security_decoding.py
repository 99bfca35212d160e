"""A dataset file cannot make FFmpeg read another file (issue 21, point 1).

A 39-byte text file named ``evil.mp3`` holding an FFmpeg concat script, beside
a symbolic link to a file outside the dataset, used to be decoded as that
outside file by the FFmpeg fallback; playlists (HLS, m3u) name other files
too.  FFmpeg is now given only files whose first bytes are a known audio
container's, as the file object that was checked.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from viral_sklearn import AudioLoadError, ChorusExtractor, SongErrors, audio_info, load_audio
from viral_sklearn.audio._containers import CONTAINERS, container_of

from .conftest import require_ffmpeg, tone, write_audio

CONCAT = b"ffconcat version 1.0\nfile innocent.wav\n"
PLAYLIST = b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\ninnocent.wav\n#EXT-X-ENDLIST\n"
REFUSED = r"not a known audio container: it starts with text \('.*'\), as a playlist or a script does"


@pytest.fixture
def dataset(tmp_path):
    """data/innocent.wav -> ../outside/secret.wav, a 2-s tone outside the dataset folder."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "data").mkdir()
    write_audio(tmp_path / "outside" / "secret.wav", tone(2.0, 8000)[:, 0], 8000)
    os.symlink("../outside/secret.wav", tmp_path / "data" / "innocent.wav")
    return tmp_path / "data"


@pytest.fixture
def ffmpeg_calls(monkeypatch):
    """Every source FFmpeg's decoder is given."""
    require_ffmpeg()
    import torchcodec.decoders

    calls = []
    real = torchcodec.decoders.AudioDecoder

    def recording(source, *args, **kwargs):
        calls.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(torchcodec.decoders, "AudioDecoder", recording)
    return calls


@pytest.mark.parametrize("name,content", [("evil.mp3", CONCAT), ("evil.m4a", CONCAT), ("list.m3u8", PLAYLIST),
                                          ("list.mp3", PLAYLIST)])
def test_a_script_or_playlist_is_never_given_to_ffmpeg(dataset, ffmpeg_calls, name, content):
    assert len(CONCAT) == 39
    path = dataset / name
    path.write_bytes(content)
    with pytest.raises(AudioLoadError, match=REFUSED) as info:
        load_audio(path)
    assert str(info.value).startswith(repr(os.fspath(path)))
    with pytest.raises(AudioLoadError, match=REFUSED):
        audio_info(path)
    with pytest.raises(SongErrors, match=REFUSED):  # what the pipeline's first decoding step does with it
        ChorusExtractor(clip_length=1.0, sample_rate=8000).transform([os.fspath(path)])
    assert ffmpeg_calls == []


def test_a_real_container_still_goes_to_ffmpeg_as_the_checked_file(dataset, ffmpeg_calls, tmp_path):
    """An M4A (which soundfile cannot read) decodes through FFmpeg, given the opened file, not its path."""
    import shutil
    import subprocess

    m4a = tmp_path / "song.m4a"
    subprocess.run([shutil.which("ffmpeg"), "-loglevel", "error", "-i", os.fspath(dataset / "innocent.wav"),
                    "-c:a", "aac", os.fspath(m4a)], check=True)
    y, sr = load_audio(m4a, sr=8000)
    assert sr == 8000 and abs(y.size - 16000) < 2048 and np.abs(y).max() > 0.2
    assert ffmpeg_calls and all(hasattr(source, "read") for source in ffmpeg_calls)


@pytest.mark.parametrize("head,expected", [
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav"), (b"fLaC\x00\x00\x00\x22", "flac"), (b"OggS\x00\x02", "ogg"),
    (b"\x00\x00\x00\x20ftypM4A ", "mp4/m4a/mov"), (b"\x1a\x45\xdf\xa3\x9f", "matroska/webm"),
    (b"ID3\x04\x00\x00", "mp3/aac (ID3 tag)"), (b"\xff\xfb\x90\x64", "mp3/aac (frames)"),
    (b"\xff\xf1\x50\x80", "mp3/aac (frames)"),
])
def test_known_containers_are_recognised(head, expected):
    assert container_of(head) == expected and expected in CONTAINERS


@pytest.mark.parametrize("head", [CONCAT[:16], PLAYLIST[:16], b"[playlist]\nFile1", b"\xef\xbb\xbf#EXTM3U\n#EXT",
                                  b"file 'a.wav'\n"])
def test_text_is_refused_as_a_possible_script(head):
    with pytest.raises(ValueError, match=r"it starts with text .* as a playlist or a script does"):
        container_of(head)


def test_unknown_binary_is_refused_with_its_first_bytes():
    with pytest.raises(ValueError, match=r"its first bytes are 00 01 02 03 04 05 06 07$"):
        container_of(bytes(range(16)))
