"""Property tests (hypothesis): whatever the input, only the documented errors
escape, and what comes out is finite and shaped as documented.

* any bytes in a file (pure noise, or a valid WAV/FLAC/OGG/MP3 cut and with
  bytes overwritten) -> ``load_audio`` gives mono float32 audio or raises
  :class:`AudioLoadError`, nothing else;
* any 1-D or 2-D numeric array at any positive rate -> ``AudioClip.from_array``
  and ``load_audio`` give finite float32 audio or raise ``AudioLoadError``;
* any chroma -> ``find_chorus`` returns ``None`` or a start in
  ``[0, song_length_sec)``, or raises ``ValueError`` for the documented
  invalid inputs;
* any finite audio -> ``mel_db`` / :class:`MelSpectrogramTransformer` give
  exactly ``(n_frames, n_mels)`` finite float32 values, and ``ChorusExtractor``
  a window inside the song.
"""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from viral_sklearn import (
    AudioClip,
    AudioLoadError,
    ChorusExtractor,
    MelSpectrogramTransformer,
    SongErrors,
    find_chorus,
    load_audio,
    mel_db,
)
from viral_sklearn.chorus._pychorus import MAX_FRAME_RATE, SMOOTHING_SIZE_SEC

SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large]


# ----------------------------------------------------------------------
# files of any bytes
# ----------------------------------------------------------------------
def _encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    t = np.arange(8000) / 8000
    sf.write(buf, np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2, axis=1), 8000, format=fmt)
    return buf.getvalue()


VALID = {ext: _encoded(ext.upper()) for ext in ("wav", "flac", "ogg", "mp3")}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@st.composite
def damaged_files(draw):
    """(extension, bytes): noise, or a valid file cut short with bytes overwritten."""
    ext = draw(st.sampled_from(["wav", "flac", "ogg", "mp3", "m4a", "bin"]))
    if ext in VALID and draw(st.booleans()):
        blob = bytearray(VALID[ext][: draw(st.integers(0, len(VALID[ext])))])
        for at, value in draw(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255)), max_size=6)):
            if blob:  # mostly the header: the first 256 bytes, then anywhere
                blob[at % len(blob) if at < 200 else draw(st.integers(0, len(blob) - 1))] = value
        return ext, bytes(blob)
    return ext, draw(st.binary(max_size=3000))


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_DATA)
@given(case=damaged_files())
@example(case=("mp3", VALID["mp3"][:10]))
@example(case=("wav", VALID["wav"][:44]))  # a header and no samples
@example(case=("wav", b"RIFF" + b"\xff" * 40))
def test_any_bytes_load_or_raise_audio_load_error(workdir, case):
    ext, blob = case
    path = os.path.join(workdir, f"fuzz song.{ext}")
    with open(path, "wb") as fh:
        fh.write(blob)
    try:
        y, sr = load_audio(path)
    except AudioLoadError as err:
        assert err.source == path and err.reason
        return
    assert y.dtype == np.float32 and y.ndim == 1 and y.size > 0
    assert np.isfinite(y).all() and isinstance(sr, int) and sr > 0


# ----------------------------------------------------------------------
# in-memory arrays of any values
# ----------------------------------------------------------------------
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)


@st.composite
def sample_arrays(draw):
    dtype = draw(st.sampled_from([np.float64, np.float32, np.float16, np.int16, np.int64]))
    ndim = draw(st.sampled_from([1, 2]))
    n = draw(st.integers(0, 300))
    shape = (n,) if ndim == 1 else (draw(st.integers(0, 4)), n)
    if np.issubdtype(dtype, np.integer):
        elements = st.integers(np.iinfo(dtype).min, np.iinfo(dtype).max)
    else:
        width = 8 * np.dtype(dtype).itemsize
        elements = st.one_of(
            st.floats(width=width, allow_nan=True, allow_infinity=True, allow_subnormal=True),
            st.sampled_from([0.0, 1.0, -1.0]),
            st.floats(-1, 1, width=width),
        )
    return draw(hnp.arrays(dtype, shape, elements=elements))


def _expected_ok(samples: np.ndarray) -> bool:
    """Whether load_audio must succeed on the whole clip, native rate."""
    as32 = np.asarray(samples, dtype=np.float64)  # float32 may overflow: judge in float64
    if samples.size == 0:
        return False
    return bool(np.isfinite(as32).all() and np.abs(as32).max() < 1e37)


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_DATA)
@given(samples=sample_arrays(), rate=st.integers(1, 2**40))
@example(samples=np.zeros((0, 10)), rate=8000)  # no channel: an error, not a NaN mix
@example(samples=np.full((2, 5), 3e38, dtype=np.float32), rate=8000)  # the mix overflows
@example(samples=np.full(5, 1e-310), rate=8000)  # subnormal in float64, 0 in float32
def test_any_array_loads_finite_float32_or_raises_audio_load_error(samples, rate):
    with np.errstate(all="ignore"):  # casts that overflow are the point here
        try:
            clip = AudioClip.from_array(samples, rate)
            y, sr = load_audio(clip)
        except AudioLoadError as err:
            assert err.reason
            assert not _expected_ok(samples), err
            return
    assert y.dtype == np.float32 and y.ndim == 1 and np.isfinite(y).all()
    assert sr == rate and y.size == samples.shape[-1]
    if samples.ndim == 1:
        if np.issubdtype(samples.dtype, np.integer):  # PCM: full scale is 2 ** (bits - 1)
            expected = (samples / 2.0 ** (8 * samples.dtype.itemsize - 1)).astype(np.float32)
        else:
            expected = samples.astype(np.float32)
        np.testing.assert_array_equal(y, expected)
        assert np.abs(y).max(initial=0) <= 1 or not np.issubdtype(samples.dtype, np.integer)


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW_DATA)
@given(
    samples=sample_arrays(),
    rate=st.integers(100, 200_000),
    target=st.sampled_from([None, 8000, 22050]),
    offset=st.one_of(st.none(), st.floats(-1, 4)),
    duration=st.one_of(st.none(), st.floats(-1, 4)),
)
def test_any_window_and_rate_loads_finite_float32_or_raises(samples, rate, target, offset, duration):
    with np.errstate(all="ignore"):
        try:
            y, sr = load_audio(AudioClip.from_array(samples, rate), sr=target, offset=offset, duration=duration)
        except AudioLoadError as err:
            assert err.reason
            return
    assert y.dtype == np.float32 and y.ndim == 1 and np.isfinite(y).all()
    assert sr == (target or rate)
    if target is None:
        start = round((offset or 0.0) * rate)
        stop = samples.shape[-1] if duration is None else start + round(duration * rate)
        assert y.size == max(0, min(stop, samples.shape[-1]) - start)


# ----------------------------------------------------------------------
# find_chorus on any chroma
# ----------------------------------------------------------------------
CHROMA_VALUES = st.one_of(
    st.floats(0, 1, width=32),  # what chroma_features gives
    st.sampled_from([0.0, 1.0]),
    st.floats(width=32, allow_nan=False, allow_infinity=False),  # any finite float32
)


@st.composite
def chromas(draw, max_frames: int = 80):
    n = draw(st.integers(1, max_frames))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64]))
    if dtype is np.int64:
        return draw(hnp.arrays(dtype, (12, n), elements=st.integers(-5, 5)))
    chroma = draw(hnp.arrays(np.float32, (12, n), elements=CHROMA_VALUES))
    if draw(st.integers(0, 9)) == 0:  # sometimes a NaN or an infinity: documented ValueError
        chroma[draw(st.integers(0, 11)), draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return chroma.astype(dtype)


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW_DATA)
@given(
    chroma=chromas(),
    frame_rate=st.floats(0.5, 50),  # real chroma: sr / hop, 5.4 for pychorus's 22050 / 4096
    clip_fraction=st.floats(0.01, 1.5),
)
@example(chroma=np.zeros((12, 60), dtype=np.float32), frame_rate=5.38, clip_fraction=0.2)  # silence
@example(chroma=np.ones((12, 60), dtype=np.float32), frame_rate=5.38, clip_fraction=0.2)  # constant
@example(chroma=np.tile(np.eye(12, dtype=np.float32), 8), frame_rate=5.38, clip_fraction=0.1)  # repeats
def test_find_chorus_returns_none_or_a_start_in_the_song(chroma, frame_rate, clip_fraction):
    n = chroma.shape[1]
    length = n / frame_rate
    clip = clip_fraction * length
    with np.errstate(all="ignore"):  # huge values overflow to inf inside; the answer must still be sane
        try:
            start = find_chorus(chroma, length, clip)
        except ValueError as err:
            assert "non-finite" in str(err) and not np.isfinite(chroma).all()
            return
    assert np.isfinite(chroma).all()
    assert start is None or (isinstance(start, float) and 0 <= start < length)


@settings(max_examples=100, deadline=None, suppress_health_check=SLOW_DATA)
@given(
    n=st.integers(1, 60),
    length=st.one_of(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True), st.integers(-5, 5)),
    clip=st.floats(1e-3, 10),
)
@example(n=60, length=5e-324, clip=1e-6)  # was OverflowError: the rate is infinite
@example(n=60, length=1e-3, clip=1e-6)  # was MemoryError: a 300000-frame smoothing window
@example(n=5, length=100.0, clip=1.0)  # 0.05 frames/s: the window holds no frame
def test_find_chorus_lengths_are_valid_or_a_value_error(n, length, clip):
    """Any song length: a start, None, or the documented ValueError (length not
    a positive finite number, or a frame rate no chroma has)."""
    chroma = np.random.default_rng(n).random((12, n)).astype(np.float32)
    rate = n / length if isinstance(length, (int, float)) and length > 0 and math.isfinite(length) else None
    valid = rate is not None and rate <= MAX_FRAME_RATE and int(SMOOTHING_SIZE_SEC * rate) >= 1
    assume(not valid or rate <= 60)  # keep the valid cases quick: the smoothing grows with the rate
    if not valid:
        with pytest.raises(ValueError, match="song_length_sec"):
            find_chorus(chroma, length, clip)
        return
    start = find_chorus(chroma, length, clip)
    assert start is None or 0 <= start < length


# ----------------------------------------------------------------------
# mel spectrogram and chorus window of any finite audio
# ----------------------------------------------------------------------
AUDIO_VALUES = st.one_of(
    st.floats(-1, 1, width=32),
    st.floats(width=32, allow_nan=False, allow_infinity=False, allow_subnormal=True),  # huge and denormal
    st.just(0.0),
)


def assert_float32_overflow(err: SongErrors, y: np.ndarray, rate: int, target: int, channels: int = 1) -> None:
    """The one failure allowed for finite audio: samples near float32's limit
    (above ~1e35) overflow in the float32 resampler or channel mean, and the
    song is reported as containing non-finite samples (never NaN/Inf features)."""
    [(_, _, reason)] = err.failures
    assert reason == "contains non-finite samples (NaN or Inf)"
    assert (rate != target or channels > 1) and np.abs(y).max() > 1e30, err


@st.composite
def mel_cases(draw):
    n_fft = draw(st.integers(8, 512))
    n = draw(st.integers(n_fft // 2 + 1, 4000))
    y = draw(hnp.arrays(np.float32, n, elements=AUDIO_VALUES))
    sr = draw(st.integers(1000, 48000))
    params = dict(
        n_fft=n_fft,
        hop_length=draw(st.integers(1, n_fft)),
        n_mels=draw(st.integers(1, 40)),
        top_db=draw(st.one_of(st.none(), st.floats(1, 120))),
    )
    return y, sr, params


@settings(max_examples=80, deadline=None, suppress_health_check=SLOW_DATA)
@given(case=mel_cases())
@example(case=(np.zeros(1000, dtype=np.float32), 8000, dict(n_fft=400, hop_length=200, n_mels=16, top_db=80.0)))
@example(case=(np.full(1000, 3e38, dtype=np.float32), 8000, dict(n_fft=400, hop_length=200, n_mels=16, top_db=None)))
@example(case=(np.full(1000, 1e-44, dtype=np.float32), 8000, dict(n_fft=400, hop_length=200, n_mels=16, top_db=80.0)))
def test_mel_db_shape_finite_float32(case):
    y, sr, params = case
    import warnings

    with warnings.catch_warnings():  # many mels on few FFT bins: torchaudio warns of empty filters
        warnings.filterwarnings("ignore", message="At least one mel filterbank has all zero values")
        spec = mel_db(y, sr, **params)
    # centred frames: 1 + n // hop for an even n_fft, 1 + (n - 1) // hop for an odd one
    assert spec.shape == (1 + (y.size - params["n_fft"] % 2) // params["hop_length"], params["n_mels"])
    assert spec.dtype == np.float32 and np.isfinite(spec).all()
    if params["top_db"] is not None:
        assert spec.max() - spec.min() <= params["top_db"] * (1 + 1e-6) + 1e-3


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 400), bad=st.sampled_from([None, np.nan, np.inf]))
def test_mel_db_rejects_too_short_or_non_finite_audio(n, bad):
    y = np.zeros(n, dtype=np.float32)
    if bad is not None and n:
        y[n // 2] = bad
    if n > 200 and bad is None:
        assert mel_db(y, 8000, n_fft=400).shape == (1 + n // 200, 64)
        return
    with pytest.raises(ValueError, match="needs more than n_fft // 2 = 200|non-finite"):
        mel_db(y, 8000, n_fft=400)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # see assert_float32_overflow
@settings(max_examples=25, deadline=None, suppress_health_check=SLOW_DATA)
@given(
    # at least 8 samples: 1 sample at 44.1 kHz is none at 16 kHz ("contains no audio samples")
    y=hnp.arrays(np.float32, st.integers(8, 3 * 8000), elements=AUDIO_VALUES),
    channels=st.integers(1, 3),
    rate=st.sampled_from([8000, 11025, 16000, 44100]),
    duration=st.floats(0.05, 1.0),
    n_fft=st.sampled_from([400, 401, 256]),
)
def test_mel_transformer_shape_finite_float32(y, channels, rate, duration, n_fft):
    samples = np.tile(y, (channels, 1))
    mel = MelSpectrogramTransformer(sample_rate=16000, duration=duration, n_mels=16, n_fft=n_fft)
    try:
        X = mel.transform([AudioClip.from_array(samples, rate)])
    except SongErrors as err:
        assert_float32_overflow(err, y, rate, 16000, channels)
        return
    assert X.shape == (1, mel.n_frames, 16) and X.dtype == np.float32
    assert np.isfinite(X).all()


@pytest.mark.filterwarnings("ignore:n_fft=16384 is too large:UserWarning")  # songs under 0.75 s
@settings(max_examples=25, deadline=None, suppress_health_check=SLOW_DATA)
@given(
    y=hnp.arrays(np.float32, st.integers(1, 12 * 8000), elements=AUDIO_VALUES),
    clip_length=st.floats(0.1, 8.0),
)
def test_chorus_window_lies_inside_any_finite_song(y, clip_length):
    song = AudioClip.from_array(y, 8000, name="random")
    rate = ChorusExtractor().sample_rate  # the rate songs are analysed at
    try:
        [(start, duration, found, confidence)] = ChorusExtractor(clip_length=clip_length).find_choruses([song])
    except SongErrors as err:
        assert_float32_overflow(err, y, 8000, rate)
        return
    total = load_audio(song, sr=rate)[0].size / rate  # the song as analysed
    assert found in (0.0, 1.0) and 0 <= start and 0.0 <= confidence <= 1.0
    if total <= clip_length:  # kept whole
        assert (start, duration, found) == (0.0, total, 0.0)
    elif found:
        assert duration == clip_length and start + duration <= total
    else:
        # known limitation of _chorus._fallback_start ("loudest"): it scans a
        # 512-sample grid with the window width rounded to whole hops, so its
        # window may end up to half a hop past the song's end (the mel step
        # pads that with silence); clamping its start to total - clip_length
        # would remove it
        assert duration == clip_length and start + duration <= total + 256 / rate
