"""Long extractions: killed half way they restart from the cache; results fill one array.

* a real extraction subprocess (chorus + mel, ``n_jobs=2``, a per-song cache) is
  killed with SIGKILL half way; the restart with the same ``memory=`` reuses
  every song whose entry was written (it decodes exactly the others) and gives
  the same features as an uncached run;
* ``map_songs(out=...)`` writes each result in place and checks its shape.

The memory side (peak RSS flat from 100 to 1,000 songs) is a benchmark, not a
test: ``benchmarks/bench_scale.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

import viral_sklearn.audio._decode as audio_mod
from viral_sklearn import AudioClip, ChorusExtractor, MelSpectrogramTransformer
from viral_sklearn.audio._per_song import SongCache, map_songs
from .conftest import tone, write_audio

N_SONGS = 24
CHORUS_SR = 11025
MEL_SR = 16000

CHILD = """
import sys
from sklearn.pipeline import make_pipeline
from viral_sklearn import ChorusExtractor, MelSpectrogramTransformer
cache, *paths = sys.argv[1:]
make_pipeline(
    ChorusExtractor(clip_length=4.0, sample_rate={chorus_sr}, n_jobs=2, memory=cache),
    MelSpectrogramTransformer(duration=4.0, sample_rate={mel_sr}, n_mels=32, n_jobs=2, memory=cache),
).transform(paths)
"""


def extraction(**kw):
    return make_pipeline(
        ChorusExtractor(clip_length=4.0, sample_rate=CHORUS_SR, **kw),
        MelSpectrogramTransformer(duration=4.0, sample_rate=MEL_SR, n_mels=32, **kw),
    )


def entries(cache) -> list[str]:
    """Finished cache entries (temporary files of interrupted writes excluded)."""
    return [f for _, _, files in os.walk(cache) for f in files if f.endswith(".npy") and not f.startswith(".tmp-")]


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    rng = np.random.default_rng(0)
    paths = []
    for k in range(N_SONGS):
        y = tone(20.0, 22050, freq=180 + 25 * k)[:, 0]
        y[5 * 22050 : 9 * 22050] *= 2.5  # a louder stretch for the fallback to find
        y += 0.02 * rng.standard_normal(y.size).astype(np.float32)
        paths.append(write_audio(folder / f"song{k:02d}.wav", y, 22050))
    return paths


def test_killed_extraction_restarts_from_every_finished_song(songs, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    code = CHILD.format(chorus_sr=CHORUS_SR, mel_sr=MEL_SR)
    # its own session: the kill takes the child and its joblib worker processes together
    child = subprocess.Popen([sys.executable, "-c", code, str(cache), *songs], start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    try:
        while len(entries(cache)) < N_SONGS // 3:
            assert child.poll() is None, f"the extraction ended before it was killed: {child.stderr.read()[-2000:]!r}"
            assert time.monotonic() < deadline, "no cache entries after 300 s"
            time.sleep(0.02)
    finally:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:  # it had ended (and the loop said why)
            pass
        child.wait(timeout=60)
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    time.sleep(0.5)  # a worker of the killed group cannot still be writing
    finished = len(entries(cache))
    assert N_SONGS // 3 <= finished < 2 * N_SONGS, "killed half way: some songs done, not all"

    calls = []
    real = audio_mod._decode

    def counting(clip, sr):
        calls.append(sr)
        return real(clip, sr)

    monkeypatch.setattr(audio_mod, "_decode", counting)
    restarted = extraction(memory=cache).transform(songs)
    # every song with an entry was reused: only the others were decoded, at most
    # once per step (the chorus step's decode also gives the mel step its window,
    # so a song analysed again is not decoded again for its mel)
    assert calls.count(CHORUS_SR) <= N_SONGS and calls.count(MEL_SR) <= N_SONGS
    assert N_SONGS - finished // 2 <= len(calls) <= 2 * N_SONGS - finished
    assert len(entries(cache)) == 2 * N_SONGS
    monkeypatch.setattr(audio_mod, "_decode", real)
    assert restarted.tobytes() == extraction().transform(songs).tobytes()


def test_map_songs_fills_out_in_place_and_checks_shapes(tmp_path):
    clips = [AudioClip.from_array(np.full(4, k, dtype=np.float32), 8000, name=f"s{k}") for k in range(3)]
    out = np.zeros((3, 2), dtype=np.float32)
    got = map_songs(lambda c: c.samples.ravel()[:2] * 2, clips, step="Step", out=out)
    assert got is out
    np.testing.assert_array_equal(out, [[0, 0], [2, 2], [4, 4]])
    # cache hits land in out too
    first = map_songs(lambda c: c.samples.ravel()[:2] + 1, clips, step="Step", memory=tmp_path, out=np.zeros((3, 2)))
    again = map_songs(lambda c: c.samples.ravel()[:2] * 0, clips, step="Step", memory=tmp_path, out=np.zeros((3, 2)))
    np.testing.assert_array_equal(again, first)
    with pytest.raises(ValueError, match=r"Step: song s0 gave shape \(3,\), expected \(2,\)"):
        map_songs(lambda c: c.samples.ravel()[:3], clips, step="Step", out=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="Step: out has 2 rows for 3 songs"):
        map_songs(lambda c: c.samples.ravel()[:2], clips, step="Step", out=np.zeros((2, 2)))


def test_a_relative_cache_folder_is_where_the_caller_ran(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cache = SongCache("relative")
    monkeypatch.chdir("/")
    cache.put("ab" * 20, np.arange(3))
    assert os.path.exists(tmp_path / "relative" / "viral_sklearn" / "ab" / ("ab" * 20 + ".npy"))
