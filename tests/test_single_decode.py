"""One decode per song: the chorus step's decode feeds its features and the mel step's window.

* the window a :class:`ChorusExtractor` hands on (``AudioClip.decoded``) is the
  decode's own samples, and gives what a decode of that window from the file gives
  (exactly for WAV and FLAC; to the last bit for MP3 and OGG, whose decoders
  restarted at the window may round differently), for every format, mix and
  window position, with blocks read ahead or not;
* a pipeline decodes each song once, with the same features as decoding twice;
  what is not kept (long songs, past the per-call budget, cache hits, another
  window) is decoded again, as before;
* the structure method's features computed while the song is decoded
  (:class:`FeatureStream`) are the same numbers, bit for bit, as
  :func:`song_features` on the whole song, and ``song_features`` itself still
  computes what it computed before this change.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

import viral_sklearn.audio._decode as decode_mod
import viral_sklearn.chorus._extractor as extractor_mod
from viral_sklearn import AudioClip, ChorusExtractor, MelSpectrogramTransformer, MonoMixer, load_audio
from viral_sklearn.audio._per_song import map_songs
from viral_sklearn._runtime import limit_threads
from viral_sklearn.audio._prefetch import read_ahead, read_in_parallel
from viral_sklearn.audio._window import read_in_blocks
from viral_sklearn.chorus._chroma import _chroma_bank, _power_blocks
from viral_sklearn.chorus._features import FeatureStream, _mel_bank, feature_n_fft, song_features
from .conftest import write_audio

SR = 44100


def song(seconds: float, *, seed: int = 0, channels: int = 2) -> np.ndarray:
    """(frames, channels) float32: a verse / chorus form of chords with a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    section = (t // 6).astype(int) % 3  # A B C A B C ...: something repeats
    freq = np.array([220.0, 262.0, 330.0])[section]
    mono = 0.3 * np.sin(2 * np.pi * np.cumsum(freq) / SR) + 0.2 * np.sin(2 * np.pi * np.cumsum(1.5 * freq) / SR)
    mono += 0.01 * rng.standard_normal(t.size)
    cols = [mono * (1.0 - 0.3 * k) for k in range(channels)]
    return np.stack(cols, axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("single_decode")
    return {ext: write_audio(folder / f"s.{ext}", song(40.0, seed=1), SR) for ext in ("wav", "flac", "ogg", "mp3")}


def _fresh(clip: AudioClip, sr: int | None):
    return load_audio(clip.replace(decoded=None), sr=sr)


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
@pytest.mark.parametrize("block_frames", [1 << 14, None])
def test_kept_window_is_the_decoded_window(files, ext, block_frames, monkeypatch):
    if block_frames is not None:  # many blocks: read ahead, cut across blocks
        monkeypatch.setattr(decode_mod, "_BLOCK_FRAMES", block_frames)
    clips = ChorusExtractor(clip_length=5.0).transform([files[ext]])
    assert clips[0].decoded is not None and clips[0].decoded.sample_rate == SR
    whole, _ = load_audio(AudioClip.from_path(files[ext]).replace(mix="mean"))
    start = int(round(clips[0].offset * SR))
    # the kept window is the decode's own samples
    np.testing.assert_array_equal(clips[0].decoded.samples, whole[start : start + clips[0].decoded.samples.size])
    for sr in (22050, 16000, None):
        kept, rate = load_audio(clips[0], sr=sr)
        fresh, fresh_rate = _fresh(clips[0], sr)
        assert rate == fresh_rate and kept.shape == fresh.shape
        if ext in ("wav", "flac"):
            np.testing.assert_array_equal(kept, fresh)
        else:  # a lossy decoder restarted at the window may differ in the last bit
            np.testing.assert_allclose(kept, fresh, rtol=0, atol=1e-6)


@pytest.mark.parametrize("mix", ["mean", 1])
@pytest.mark.parametrize("clip_length", [3.0, 39.0, 60.0])
def test_windows_anywhere_and_any_mix_equal_their_decode(files, mix, clip_length, monkeypatch):
    monkeypatch.setattr(decode_mod, "_BLOCK_FRAMES", 1 << 15)
    clip = AudioClip.from_path(files["mp3"]).replace(mix=mix, offset=1.5)  # a window of the song, too
    for method in ("loudest", "offset"):
        out = ChorusExtractor(clip_length=clip_length, method=method, offset=100.0).transform([clip])[0]
        assert out.decoded is not None
        np.testing.assert_allclose(load_audio(out, sr=22050)[0], _fresh(out, 22050)[0], rtol=0, atol=1e-6)


def test_pipeline_decodes_each_song_once_with_the_same_features(tmp_path, count_decodes):
    paths = [write_audio(tmp_path / f"p{k}.mp3", song(30.0, seed=k), SR) for k in range(3)]
    steps = make_pipeline(MonoMixer(), ChorusExtractor(clip_length=6.0), MelSpectrogramTransformer(duration=6.0))
    features = steps.transform(paths)
    assert Counter(count_decodes) == Counter(paths)  # once each
    windows = steps[:2].transform(paths)
    twice = steps[2].transform([w.replace(decoded=None) for w in windows])
    # dB: an MP3 decoder restarted at the window may round its last bit differently
    np.testing.assert_allclose(features, twice, rtol=0, atol=0.01)


def test_windows_travel_to_worker_processes(tmp_path):
    # 8-s windows at 44.1 kHz are over joblib's 1 MB: workers get read-only memmaps
    paths = [write_audio(tmp_path / f"w{k}.mp3", song(30.0, seed=k), SR) for k in range(3)]

    def steps(chorus_jobs, mel_jobs):
        return make_pipeline(ChorusExtractor(clip_length=8.0, n_jobs=chorus_jobs),
                             MelSpectrogramTransformer(duration=8.0, n_jobs=mel_jobs))

    reference = steps(1, 1).transform(paths)
    np.testing.assert_array_equal(steps(1, 2).transform(paths), reference)
    # songs analysed in worker processes come back with their windows: the same features
    assert all(c.decoded is not None for c in steps(2, 2)[:1].transform(paths))
    np.testing.assert_array_equal(steps(2, 2).transform(paths), reference)


def test_what_is_not_kept_is_decoded_again(tmp_path, count_decodes, monkeypatch):
    paths = [write_audio(tmp_path / f"q{k}.wav", song(20.0, seed=k), SR) for k in range(3)]
    chorus = ChorusExtractor(clip_length=4.0)
    # a per-call budget of one window: the first song's is kept, not the others'
    monkeypatch.setattr(extractor_mod, "KEEP_WINDOWS_BYTES", 4 * 4 * SR + 100)
    clips = chorus.transform(paths)
    assert [c.decoded is not None for c in clips] == [True, False, False]
    # songs too long to keep
    monkeypatch.setattr(extractor_mod, "KEEP_SONG_BYTES", 1000)
    assert all(c.decoded is None for c in chorus.transform(paths))
    count_decodes.clear()
    mel = MelSpectrogramTransformer(duration=4.0).transform(clips)
    assert Counter(count_decodes) == Counter(paths[1:])
    np.testing.assert_array_equal(mel, MelSpectrogramTransformer(duration=4.0).transform(
        [c.replace(decoded=None) for c in clips]))  # WAV: exact


def test_a_cache_hit_has_no_window_and_the_same_features(tmp_path, count_decodes):
    paths = [write_audio(tmp_path / f"c{k}.flac", song(20.0, seed=k), SR) for k in range(2)]
    steps = make_pipeline(ChorusExtractor(clip_length=4.0, memory=tmp_path / "cache"),
                          MelSpectrogramTransformer(duration=4.0))
    first = steps.transform(paths)
    assert Counter(count_decodes) == Counter(paths)
    count_decodes.clear()
    assert all(c.decoded is None for c in steps[:1].transform(paths))  # from the cache: nothing decoded
    np.testing.assert_array_equal(steps.transform(paths), first)
    assert Counter(count_decodes) == Counter(paths)  # the mel step's windows only


def test_samples_of_another_window_are_never_used(files, count_decodes):
    out = ChorusExtractor(clip_length=4.0, method="offset", offset=10.0).transform([files["wav"]])[0]
    moved = out.replace(offset=12.0)
    assert moved.decoded is None  # replace drops what is not this window
    forged = AudioClip(path=out.path, mix=out.mix, offset=12.0, duration=4.0, decoded=out.decoded)
    count_decodes.clear()
    y, _ = load_audio(forged, sr=22050)
    assert count_decodes == [out.path]  # decoded, not taken from the other window
    np.testing.assert_array_equal(y, _fresh(forged, 22050)[0])
    assert out.replace(chorus_found=False).decoded is out.decoded
    assert "decoded" not in repr(out) and out.identity() == out.replace(decoded=None).identity()


def test_in_memory_songs_keep_no_window():
    clip = AudioClip.from_array(song(20.0).T, SR)
    assert ChorusExtractor(clip_length=4.0).transform([clip])[0].decoded is None


def test_map_songs_keeps_extras_within_their_budget_and_caches_only_values(tmp_path):
    clips = [AudioClip.from_array(np.full(8, k, dtype=np.float32), 8000, name=f"s{k}") for k in range(4)]

    def func(clip):
        return clip.samples.ravel()[:2], np.zeros(10, dtype=np.float32)  # 40 bytes of extra

    got = map_songs(func, clips, step="S", extras=100, memory=tmp_path)
    assert [extra is not None for _, extra in got] == [True, True, False, False]
    again = map_songs(func, clips, step="S", extras=100, memory=tmp_path)
    assert all(extra is None for _, extra in again)  # cached: the values only
    np.testing.assert_array_equal(np.stack([v for v, _ in again]), np.stack([v for v, _ in got]))


# ----------------------------------------------------------------------
# Features computed while decoding
# ----------------------------------------------------------------------
def _song_features_before(y, sr):
    """The frame loop of ``song_features`` as it was before the stream (2f3a7ce)."""
    n_fft = feature_n_fft(sr)
    cbank, mbank = _chroma_bank(sr, n_fft, 0.0), _mel_bank(sr, n_fft)
    chroma, mel = [], []
    for power in _power_blocks(y, n_fft):
        chroma.append(power @ cbank)
        mel.append(power @ mbank)
    return np.concatenate(chroma), np.concatenate(mel)


FIELDS = ("chroma", "mfcc", "loudness", "brightness", "onset")


@pytest.mark.parametrize("seconds", [0.05, 2.0, 31.3])
@pytest.mark.parametrize("pieces", [1, 3, 17])
def test_streamed_features_equal_song_features(seconds, pieces):
    sr = 11025
    y = np.ascontiguousarray(song(seconds, channels=1)[:, 0][:: SR // sr][: int(seconds * sr)])
    stream = FeatureStream(sr)
    for block in np.array_split(y, pieces):
        stream.push(block)
    with stream.use():
        streamed = song_features(y, sr)
    plain = song_features(y, sr)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(streamed, name), getattr(plain, name))
    assert (streamed.step, streamed.hop, streamed.duration) == (plain.step, plain.hop, plain.duration)


def test_song_features_frames_are_those_computed_before():
    sr = 11025
    y = np.ascontiguousarray(song(25.0, channels=1)[:, 0][::4])
    chroma, mel = _song_features_before(y, sr)
    f = song_features(y, sr)
    per_step = f.frames_per_step
    n = f.n_steps * per_step
    np.testing.assert_array_equal(f.chroma, chroma[:n].reshape(f.n_steps, per_step, 12).mean(axis=1))
    logmel = np.log10(np.maximum(mel, 1e-10))
    np.testing.assert_array_equal(f.onset[1:], np.maximum(np.diff(logmel, axis=0), 0).sum(axis=1))


def test_a_stream_is_used_only_for_its_own_song():
    sr = 11025
    y = np.ascontiguousarray(song(12.0, channels=1)[:, 0][::4])
    stream = FeatureStream(sr)
    stream.push(y)
    other = y.copy()
    other[-1] += 0.5
    with stream.use():
        assert stream.frames(other, sr) is None and stream.frames(y, 22050) is None
        used = song_features(y, sr)
        assert stream.frames(y, sr) is None  # used once
    np.testing.assert_array_equal(used.mfcc, song_features(y, sr).mfcc)


def test_a_loud_streamed_song_is_computed_whole():
    sr = 11025
    y = np.ascontiguousarray(song(8.0, channels=1)[:, 0][::4]) * np.float32(2.0**40)
    stream = FeatureStream(sr)
    stream.push(y)
    with stream.use():
        loud = song_features(y, sr)
    np.testing.assert_array_equal(loud.chroma, song_features(y, sr).chroma)
    assert np.isfinite(loud.loudness).all()


# ----------------------------------------------------------------------
# Read-ahead
# ----------------------------------------------------------------------
def test_read_ahead_gives_every_item_and_raises_the_producers_error():
    assert list(read_ahead(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in read_ahead(failing()):
            got.append(item)
    assert got == [1]


def test_read_ahead_stops_its_thread_when_the_consumer_stops():
    import threading

    produced = []

    def items():
        for k in range(1000):
            produced.append(k)
            yield k

    gen = read_ahead(items())
    assert next(gen) == 0
    gen.close()
    assert len(produced) < 10
    assert not any(t.name == "viral_sklearn-read-ahead" for t in threading.enumerate())


# ----------------------------------------------------------------------
# MP3 blocks decoded by several threads at once
# ----------------------------------------------------------------------
def _reader(x: np.ndarray, calls: list | None = None):
    def read(pos: int, n: int) -> np.ndarray:
        if calls is not None:
            calls.append(pos)
        return x[pos : pos + n]

    return contextlib.nullcontext(read)


@pytest.mark.parametrize("threads", [1, 2, 5])
@pytest.mark.parametrize("start, want, block", [(0, None, 7), (3, None, 10), (5, 40, 8), (0, 0, 4), (90, None, 4),
                                                (2, 500, 16), (0, 100, 10)])
def test_parallel_blocks_are_the_blocks_of_one_reader(threads, start, want, block):
    x = np.arange(100.0)
    expected = [(b.tolist(), last) for b, last in read_in_blocks(lambda p, n: x[p : p + n], start, want, block)]
    got = [(b.tolist(), last) for b, last in read_in_parallel([_reader(x) for _ in range(threads)], start, want, block)]
    assert got == expected


def test_parallel_blocks_raise_a_readers_error_at_its_block_and_stop_their_threads():
    x = np.arange(100.0)

    def read(pos, n):
        if pos == 30:
            raise OSError("bad frame at 30")
        return x[pos : pos + n]

    got = []
    with pytest.raises(OSError, match="bad frame at 30"):
        for block, _ in read_in_parallel([contextlib.nullcontext(read)] * 3, 0, None, 10):
            got.append(block[0])
    assert got == [0, 10, 20]  # every block before the bad one, in order
    assert not any(t.name == "viral_sklearn-decode" for t in threading.enumerate())


def test_parallel_blocks_go_on_when_a_reader_cannot_open_and_stop_with_the_consumer():
    x = np.arange(1000.0)

    @contextlib.contextmanager
    def broken():
        raise OSError("cannot open a second handle")
        yield  # pragma: no cover

    blocks = [b.tolist() for b, _ in read_in_parallel([broken(), _reader(x)], 0, None, 100)]
    assert sum(blocks, []) == x.tolist() and blocks[-1] == []  # the empty block that ends the file
    with pytest.raises(OSError, match="second handle"):  # no reader at all: the reason, not a hang
        list(read_in_parallel([broken(), broken()], 0, None, 100))
    calls: list = []
    gen = read_in_parallel([_reader(x, calls) for _ in range(2)], 0, None, 10)
    assert next(gen)[0][0] == 0
    gen.close()
    assert len(calls) <= 5  # bounded read-ahead: two threads, two blocks each at most
    assert not any(t.name == "viral_sklearn-decode" for t in threading.enumerate())


@pytest.mark.parametrize("ext", ["mp3", "ogg", "flac"])
def test_decoding_ahead_in_threads_gives_the_samples_of_one_thread(files, ext, monkeypatch):
    monkeypatch.setattr(decode_mod, "_BLOCK_FRAMES", 1 << 14)  # ~100 blocks
    window = AudioClip.from_path(files[ext]).replace(offset=3.3, duration=20.0)
    with limit_threads(1):  # no helper thread at all
        alone = load_audio(files[ext], sr=11025)[0], load_audio(window, sr=11025)[0]
    for threads in (2, 4):
        monkeypatch.setattr(decode_mod, "_decoder_threads", lambda want, k=threads: k)
        np.testing.assert_array_equal(load_audio(files[ext], sr=11025)[0], alone[0])
        np.testing.assert_array_equal(load_audio(window, sr=11025)[0], alone[1])
