"""MonoMixer, ChorusExtractor, MelSpectrogramTransformer on files and arrays."""

from __future__ import annotations

import numpy as np
import pytest

from viral_sklearn import (
    AudioClip,
    ChorusExtractor,
    MelSpectrogramTransformer,
    MonoMixer,
    SongErrors,
    load_audio,
)
from viral_sklearn.chorus._extractor import _fallback_start
from .conftest import tone, write_audio


def test_mono_mixer_records_the_mix_and_decodes_nothing(tmp_path, monkeypatch):
    import viral_sklearn.audio._decode as audio

    calls = []
    monkeypatch.setattr(audio, "_decode", lambda *a, **k: calls.append(a))
    out = MonoMixer().fit_transform(["missing.mp3", tmp_path / "b.wav"])
    assert out.dtype == object and out.shape == (2,)
    assert [c.mix for c in out] == ["mean", "mean"]
    assert out[1].path == str(tmp_path / "b.wav")
    assert calls == []  # lazy: not even a missing file is opened
    assert MonoMixer(channel=1).transform(["a.mp3"])[0].mix == 1


def test_mono_mixer_channel_applies_at_decode(tmp_path):
    data = np.stack([np.full(800, 0.5), np.full(800, -0.5)], 1).astype(np.float32)
    path = write_audio(tmp_path / "st.wav", data, 8000)
    left = MonoMixer(channel=0).transform([path])[0]
    mean = MonoMixer().transform([path])[0]
    np.testing.assert_allclose(load_audio(left)[0], 0.5, atol=1e-4)
    np.testing.assert_allclose(load_audio(mean)[0], 0.0, atol=1e-4)


def test_mono_mixer_rejects_bad_channel():
    with pytest.raises(ValueError, match="'channel' parameter of MonoMixer must be"):
        MonoMixer(channel="left").fit(["a.mp3"])


def _song_with_repeated_chorus(sr=22050, seed=0):
    """Verses of random notes; the same 8 s chorus three times."""
    rng = np.random.default_rng(seed)

    def section(notes, seconds):
        t = np.arange(int(seconds * sr)) / sr
        idx = np.minimum((t / seconds * len(notes)).astype(int), len(notes) - 1)
        f = 220 * 2 ** (np.asarray(notes)[idx] / 12)
        return (0.3 * np.sin(2 * np.pi * np.cumsum(f) / sr)).astype(np.float32)

    chorus = section([0, 4, 7, 12, 7, 4, 0, 5], 8)
    parts, times, now = [], [], 0.0
    for k in range(3):
        verse = section(rng.integers(0, 12, 8), 8)
        parts += [verse, chorus]
        times.append((now + 8, now + 16))
        now += 16
    y = np.concatenate(parts)
    return y + 0.01 * rng.standard_normal(y.size).astype(np.float32), times


@pytest.mark.parametrize("method", ["structure", "pychorus"])
def test_chorus_extractor_finds_the_repeated_section(method):
    y, times = _song_with_repeated_chorus()
    clip = AudioClip.from_array(y, 22050, name="song")
    out = ChorusExtractor(clip_length=6, method=method).fit_transform([clip])[0]
    assert out.chorus_found is True
    assert out.duration == 6.0
    assert any(a - 0.6 <= out.offset <= b for a, b in times), (out.offset, times)


def test_chorus_extractor_same_start_as_pychorus(tmp_path):
    import contextlib
    import io

    from pychorus.helpers import find_and_output_chorus

    y, _ = _song_with_repeated_chorus(seed=3)
    path = write_audio(tmp_path / "song.wav", y, 22050)
    with contextlib.redirect_stdout(io.StringIO()):
        expected = find_and_output_chorus(path, None, 6)
    start, duration, found, confidence = ChorusExtractor(clip_length=6, method="pychorus").find_choruses([path])[0]
    assert found == 1.0 and duration == 6.0 and 0.0 < confidence <= 1.0
    assert start == pytest.approx(expected, abs=0.5)


def test_chorus_extractor_keeps_short_songs_whole():
    clip = AudioClip.from_array(tone(3.0, 22050)[:, 0], 22050)
    out = ChorusExtractor(clip_length=5).transform([clip])[0]
    assert (out.offset, out.duration, out.chorus_found) == (0.0, 3.0, False)


def test_chorus_extractor_fallback_when_nothing_repeats():
    rng = np.random.default_rng(0)
    loud = np.zeros(22050 * 30, dtype=np.float32)
    loud[22050 * 20 : 22050 * 25] = rng.standard_normal(22050 * 5) * 0.5  # a noise burst, no repetition
    clip = AudioClip.from_array(loud, 22050, name="noise")
    windows = ChorusExtractor(clip_length=5, fallback="loudest").find_choruses([clip])
    start, duration, found, confidence = windows[0]
    assert found == 0.0 and duration == 5.0 and confidence == 0.0
    assert start == pytest.approx(20.0, abs=0.1)
    middle = ChorusExtractor(clip_length=5, fallback="middle").find_choruses([clip])[0, 0]
    assert middle == pytest.approx(12.5)
    with pytest.raises(SongErrors, match=r"\[0\] noise: ChorusNotFoundError: no chorus detected"):
        ChorusExtractor(clip_length=5, fallback="raise").transform([clip])


def test_fallback_rules_directly():
    y = np.zeros(22050 * 10, dtype=np.float32)
    y[22050 * 6 : 22050 * 8] = 1.0
    assert _fallback_start(y, 22050, 2.0, "loudest") == pytest.approx(6.0, abs=0.03)
    assert _fallback_start(y, 22050, 2.0, "start") == 0.0
    assert _fallback_start(y, 22050, 2.0, "middle") == pytest.approx(4.0)


def test_chorus_extractor_output_window_offsets_are_absolute(tmp_path):
    y, _ = _song_with_repeated_chorus(seed=1)
    path = write_audio(tmp_path / "s.wav", y, 22050)
    out = ChorusExtractor(clip_length=6).transform([path])[0]
    win, sr = load_audio(out, sr=22050)
    full, _ = load_audio(path, sr=22050)
    start = int(round(out.offset * sr))
    assert win.size == 6 * sr
    np.testing.assert_allclose(win, full[start : start + win.size], atol=1e-6)


def test_chorus_extractor_prints_nothing(capsys):
    y, _ = _song_with_repeated_chorus()
    ChorusExtractor(clip_length=6).transform([AudioClip.from_array(y, 22050)])
    assert capsys.readouterr().out == ""


def test_mel_shape_dtype_and_notebook_frames():
    song = AudioClip.from_array(tone(21.0, 22050)[:, 0], 22050)
    S = MelSpectrogramTransformer().fit_transform([song, song])
    assert S.shape == (2, 2206, 64)  # the notebook's batch shape (2206 frames x 64 bands)
    assert S.dtype == np.float32
    assert np.isfinite(S).all()
    assert S.max() - S.min() <= 80.0 + 1e-3  # top_db


def test_mel_pads_short_clips_with_silence():
    sr = 16000
    short = AudioClip.from_array(tone(1.0, sr)[:, 0], sr)
    S = MelSpectrogramTransformer(sample_rate=sr, duration=2.0, hop_length=160).transform([short])[0]
    assert S.shape == (201, 64)
    tail = S[110:]
    assert np.all(tail == tail.min())  # silence: one constant floor value
    assert S[:90].max() > tail.max() + 60  # the tone stands 80 dB above the floor


def test_mel_silence_is_finite():
    silent = AudioClip.from_array(np.zeros(8000, dtype=np.float32), 8000)
    S = MelSpectrogramTransformer(sample_rate=8000, duration=1.0, n_mels=32).transform([silent])
    assert np.isfinite(S).all() and np.all(S == -100.0)


def test_mel_uses_only_the_window(tmp_path):
    sr = 22050
    data = np.concatenate([tone(2.0, sr, freq=300)[:, 0], tone(2.0, sr, freq=3000)[:, 0]])
    path = write_audio(tmp_path / "two.wav", data, sr)
    clip = AudioClip.from_path(path).replace(offset=2.0, duration=2.0)
    S = MelSpectrogramTransformer(duration=2.0).transform([clip])[0]
    whole_high = MelSpectrogramTransformer(duration=2.0).transform([AudioClip.from_path(path)])[0]
    assert np.argmax(S.mean(axis=0)) > np.argmax(whole_high.mean(axis=0))  # 3 kHz band, not 300 Hz


def test_errors_list_every_failing_song(tmp_path):
    good = write_audio(tmp_path / "good.wav", tone(1.0, 8000), 8000)
    bad_text = tmp_path / "bad.mp3"
    bad_text.write_text("not audio")
    X = [good, tmp_path / "missing.wav", good, bad_text]
    with pytest.raises(SongErrors) as info:
        MelSpectrogramTransformer(sample_rate=8000, duration=1.0).transform(X)
    err = info.value
    assert [i for i, _, _ in err.failures] == [1, 3]
    assert err.n_succeeded == 2
    msg = str(err)
    assert "2 of 4 songs failed (2 succeeded)" in msg
    assert "missing.wav: file not found" in msg
    assert "bad.mp3: cannot decode audio" in msg


def test_parallel_equals_serial(tmp_path):
    paths = []
    for k in range(4):
        y, _ = _song_with_repeated_chorus(seed=k)
        paths.append(write_audio(tmp_path / f"p{k}.wav", y[: 22050 * 30], 22050))
    serial = ChorusExtractor(clip_length=5).find_choruses(paths)
    parallel = ChorusExtractor(clip_length=5, n_jobs=2).find_choruses(paths)
    # exact: each song runs the same code on the same shapes in whichever process;
    # only the song-to-worker assignment changes
    np.testing.assert_array_equal(serial, parallel)
    mel = MelSpectrogramTransformer(duration=2.0)
    np.testing.assert_array_equal(mel.transform(paths), mel.set_params(n_jobs=2).transform(paths))


def test_transformers_work_unfitted_and_keep_order(tmp_path):
    paths = [write_audio(tmp_path / f"{k}.wav", tone(1.0, 8000, freq=200 * (k + 1)), 8000) for k in range(3)]
    S = MelSpectrogramTransformer(sample_rate=8000, duration=1.0).transform(paths[::-1])
    S_fwd = MelSpectrogramTransformer(sample_rate=8000, duration=1.0).transform(paths)
    np.testing.assert_array_equal(S, S_fwd[::-1])


def _songs():
    rng = np.random.default_rng(5)
    return [
        AudioClip.from_array(rng.standard_normal(8000 * 3).astype(np.float32) * 0.1, 8000, name=f"song{k}")
        for k in range(4)
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda: MonoMixer(),
        lambda: ChorusExtractor(clip_length=1.0, sample_rate=8000),
        lambda: MelSpectrogramTransformer(sample_rate=8000, duration=1.0, n_mels=16),
    ],
    ids=["MonoMixer", "ChorusExtractor", "MelSpectrogramTransformer"],
)
def test_song_input_contract(make):
    """What sklearn's common checks protect, with songs as input."""
    import pickle

    from sklearn.base import clone

    songs = _songs()
    est = make()
    params = est.get_params()
    assert est.fit(songs) is est  # fit returns self
    assert est.get_params() == params  # fit changes no parameter
    assert est.__dict__.keys() == clone(est).__dict__.keys()  # fit sets no state

    def same(a, b):
        if a.dtype == object:
            key = lambda out: [(c.label, c.mix, c.offset, c.duration, c.chorus_found) for c in out]  # noqa: E731
            return key(a) == key(b)
        return np.array_equal(a, b)

    full = est.transform(songs)
    assert len(full) == len(songs)
    order = [2, 0, 3, 1]
    assert same(est.transform([songs[i] for i in order]), full[order])  # sample order invariance
    assert same(est.transform(songs[1:3]), full[1:3])  # subset invariance
    assert same(pickle.loads(pickle.dumps(est)).transform(songs), full)  # pickle round trip
    assert len(est.transform([])) == 0
    with pytest.raises(ValueError, match="1-D collection of songs"):
        est.transform(np.zeros((3, 4)))
