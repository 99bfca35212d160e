"""The per-song map: error report, cache, n_jobs, check_songs."""

from __future__ import annotations

import os
import time

import joblib
import numpy as np
import pytest

from viral_sklearn import AudioClip, MelSpectrogramTransformer, SongErrors, check_songs
from viral_sklearn.audio._per_song import SongCache, map_songs
from .conftest import tone, write_audio


def _mel(**kw):
    return MelSpectrogramTransformer(sample_rate=8000, duration=1.0, n_mels=16, **kw)


def test_cache_hit_skips_decoding(tmp_path, count_decodes):
    paths = [write_audio(tmp_path / f"{k}.wav", tone(1.0, 8000, freq=300 + 100 * k), 8000) for k in range(3)]
    cache = tmp_path / "cache"
    first = _mel(memory=cache).transform(paths)
    assert len(count_decodes) == 3
    second = _mel(memory=str(cache)).transform(paths)
    assert len(count_decodes) == 3  # all from the cache
    np.testing.assert_array_equal(first, second)
    third = _mel(memory=joblib.Memory(cache, verbose=0)).transform(paths)
    np.testing.assert_array_equal(first, third)
    assert len(count_decodes) == 3


def test_cache_key_covers_parameters_and_file_state(tmp_path, count_decodes):
    path = write_audio(tmp_path / "a.wav", tone(1.0, 8000), 8000)
    cache = tmp_path / "cache"
    _mel(memory=cache).transform([path])
    _mel(memory=cache, top_db=40.0).transform([path])  # another parameter: recomputed
    assert len(count_decodes) == 2
    time.sleep(0.01)
    write_audio(path, tone(1.0, 8000, freq=1000), 8000)  # new content, new mtime/size state
    os.utime(path, ns=(time.time_ns(), time.time_ns()))
    new = _mel(memory=cache).transform([path])
    assert len(count_decodes) == 3
    np.testing.assert_array_equal(new, _mel().transform([path]))


def test_corrupted_or_half_written_entry_is_recomputed(tmp_path, count_decodes):
    path = write_audio(tmp_path / "a.wav", tone(1.0, 8000), 8000)
    cache = tmp_path / "cache"
    good = _mel(memory=cache).transform([path])
    entries = [os.path.join(d, f) for d, _, fs in os.walk(cache) for f in fs if f.endswith(".npy")]
    assert len(entries) == 1
    blob = open(entries[0], "rb").read()
    open(entries[0], "wb").write(blob[: len(blob) // 2])  # half-written
    np.testing.assert_array_equal(_mel(memory=cache).transform([path]), good)
    assert len(count_decodes) == 2
    blob = bytearray(open(entries[0], "rb").read())
    blob[-5] ^= 0xFF  # one flipped byte
    open(entries[0], "wb").write(bytes(blob))
    np.testing.assert_array_equal(_mel(memory=cache).transform([path]), good)
    assert len(count_decodes) == 3


def test_cache_leaves_no_temporary_files(tmp_path):
    cache = SongCache(tmp_path)
    cache.put("ab" * 20, np.arange(5))
    files = [f for _, _, fs in os.walk(tmp_path) for f in fs]
    assert files == ["ab" * 20 + ".npy"]
    np.testing.assert_array_equal(cache.get("ab" * 20), np.arange(5))
    assert cache.get("cd" * 20) is None


def test_in_memory_songs_are_keyed_by_content(tmp_path, count_decodes):
    a = AudioClip.from_array(tone(1.0, 8000)[:, 0], 8000)
    b = AudioClip.from_array(tone(1.0, 8000, freq=900)[:, 0], 8000)
    out_a = _mel(memory=tmp_path).transform([a])
    out_b = _mel(memory=tmp_path).transform([b])
    assert len(count_decodes) == 2 and not np.array_equal(out_a, out_b)


def test_memory_type_is_checked():
    with pytest.raises(ValueError, match="'memory' parameter of MelSpectrogramTransformer"):
        _mel(memory=3).transform([])


def test_map_reports_every_failure_with_counts():
    clips = [AudioClip.from_array(np.zeros(10), 8000, name=f"s{k}") for k in range(5)]

    def func(clip):
        if clip.name in ("s1", "s4"):
            raise RuntimeError(f"boom {clip.name}")
        return np.zeros(1)

    with pytest.raises(SongErrors) as info:
        map_songs(func, clips, step="Step")
    assert info.value.failures == [(1, "s1", "RuntimeError: boom s1"), (4, "s4", "RuntimeError: boom s4")]
    assert str(info.value).splitlines()[0] == "Step: 2 of 5 songs failed (3 succeeded):"


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_the_progress_bar_ends_at_the_number_of_songs(capsys, n_jobs):
    clips = [AudioClip.from_array(np.zeros(10), 8000, name=f"s{k}") for k in range(3)]
    map_songs(lambda clip: np.zeros(1), clips, step="Step", n_jobs=n_jobs, verbose=True)
    last = capsys.readouterr().err.strip().split("\r")[-1]  # the bar as it was left
    assert "3/3" in last, last


def test_three_bad_files_among_thirty(tmp_path):
    paths = [write_audio(tmp_path / f"good{k:02d}.wav", tone(0.5, 8000), 8000) for k in range(27)]
    (tmp_path / "empty.mp3").write_bytes(b"")
    (tmp_path / "text.mp3").write_text("hello")
    bad = [str(tmp_path / "empty.mp3"), str(tmp_path / "text.mp3"), str(tmp_path / "gone.wav")]
    X = paths[:5] + [bad[0]] + paths[5:15] + [bad[1]] + paths[15:] + [bad[2]]
    with pytest.raises(SongErrors) as info:
        _mel(n_jobs=2).transform(X)
    assert [song for _, song, _ in info.value.failures] == bad
    assert info.value.n_succeeded == 27
    table = check_songs(X)
    assert list(table["song"]) == bad
    assert list(table["index"]) == [5, 16, 29]
    assert table["reason"].str.contains("empty|cannot decode|not found").all()
    assert check_songs(paths).empty


def test_two_processes_filling_one_cache_do_not_corrupt_it(tmp_path):
    import subprocess
    import sys

    paths = [write_audio(tmp_path / f"{k}.wav", tone(1.0, 8000, freq=250 + 50 * k), 8000) for k in range(12)]
    cache = tmp_path / "cache"
    code = (
        "import sys; from viral_sklearn import MelSpectrogramTransformer as M; "
        f"M(sample_rate=8000, duration=1.0, n_mels=16, memory={str(cache)!r}).transform(sys.argv[1:])"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, *order]) for order in (paths, paths[::-1])]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    entries = [os.path.join(d, f) for d, _, fs in os.walk(cache) for f in fs]
    assert len(entries) == 12 and all(e.endswith(".npy") and "/.tmp-" not in e for e in entries)
    cached = _mel(memory=cache).transform(paths)
    np.testing.assert_array_equal(cached, _mel().transform(paths))
