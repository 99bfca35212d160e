"""viral_sklearn.chorus._pychorus (and _chroma, _pychorus_matrices) against pychorus 0.1, on synthetic songs.

pychorus prints ("No choruses were detected...") and uses the deprecated
``scipy.ndimage.filters`` namespace (a DeprecationWarning, an error under this
project's pytest settings): every call to it goes through :func:`quiet`.
"""

from __future__ import annotations

import contextlib
import io
import tracemalloc
import warnings

import numpy as np
import pytest
import soundfile as sf

ph = pytest.importorskip("pychorus.helpers")
from pychorus.similarity_matrix import Line, TimeLagSimilarityMatrix, TimeTimeSimilarityMatrix  # noqa: E402
from scipy.signal import argrelextrema  # noqa: E402

from viral_sklearn.chorus._pychorus import (  # noqa: E402
    ChorusCandidates,
    _lines_above,
    _local_maxima_rows,
    _overlap_scores,
    _scan_stream,
    find_chorus,
    find_chorus_candidates,
)
from viral_sklearn.chorus._chroma import chroma_features, chroma_n_fft  # noqa: E402
from viral_sklearn.datasets._testing import chord_song  # noqa: E402
from viral_sklearn.chorus._pychorus_matrices import _denoise, _time_lag_similarity  # noqa: E402

SR = 22050
AGREE_SEC = 0.5
N_SONGS = 36
CLIPS = (5.0, 8.0, 10.0, 12.0)


@contextlib.contextmanager
def quiet():
    """Silence pychorus: its prints and its scipy.ndimage.filters deprecation."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def repeated_chroma(seed: int, n: int) -> np.ndarray:
    """A random (12, n) float32 chroma with one pattern pasted 2-3 times."""
    rng = np.random.default_rng(seed)
    chroma = 0.3 * rng.random((12, n), dtype=np.float32)
    pattern = rng.random((12, max(3, n // 4)), dtype=np.float32)
    for _ in range(int(rng.integers(2, 4))):
        p = int(rng.integers(0, n))
        w = min(pattern.shape[1], n - p)
        chroma[:, p : p + w] = pattern[:, :w] + 0.05 * rng.random((12, w), dtype=np.float32)
    return chroma


@pytest.fixture(scope="module")
def songs():
    """(seed, song length in s, chroma, clip length) for N_SONGS songs."""
    out = []
    for seed in range(N_SONGS):
        y = chord_song(seed)
        out.append((seed, y.shape[0] / SR, chroma_features(y, SR), CLIPS[seed % len(CLIPS)]))
    return out


@pytest.fixture(scope="module")
def pychorus_starts(songs):
    """pychorus's chorus start of each song, from its chroma (at 22050 Hz,
    which ``chroma_features`` reproduces: see test_chroma_features_equals_create_chroma)."""
    out = []
    for _, length, chroma, clip in songs:
        with quiet():
            out.append(ph.find_chorus(chroma, SR, length, clip))
    return out


def _agreement(refs, ours, seeds):
    """Count of same answers (both None, or starts within AGREE_SEC), the seeds
    where only one is None, and a report."""
    agree, none_mismatch, lines = 0, [], []
    for seed, ref, mine in zip(seeds, refs, ours):
        if (ref is None) != (mine is None):
            none_mismatch.append(seed)
        ok = (ref is None and mine is None) or (
            ref is not None and mine is not None and abs(ref - mine) <= AGREE_SEC
        )
        agree += ok
        lines.append(f"seed {seed}: pychorus {ref}, ours {mine}{'' if ok else '  <-- differs'}")
    return agree, none_mismatch, "\n".join(lines)


# ----------------------------------------------------------------------
# (1) same answers as pychorus
# ----------------------------------------------------------------------
def test_chorus_extractor_pychorus_method_agrees_with_pychorus(songs, pychorus_starts):
    """The whole chorus step with method="pychorus" (decoded and analysed at
    the default 11025 Hz, half pychorus's rate) finds pychorus's start within
    0.5 s on at least 95% of the songs, and finds none exactly where it does."""
    from viral_sklearn import AudioClip, ChorusExtractor

    assert len(songs) >= 30 and ChorusExtractor().sample_rate == 11025
    ours = []
    for seed, length, _, clip in songs:
        song = AudioClip.from_array(chord_song(seed), SR, name=f"seed {seed}")
        start, _, found, _ = ChorusExtractor(clip_length=clip, method="pychorus").find_choruses([song])[0]
        ours.append(float(start) if found else None)
    agree, none_mismatch, report = _agreement(pychorus_starts, ours, [s[0] for s in songs])
    assert not none_mismatch, f"None cases differ for seeds {none_mismatch}:\n{report}"
    assert agree / len(songs) >= 0.95, f"agreement {agree}/{len(songs)}:\n{report}"


def test_find_chorus_agrees_with_pychorus(songs, pychorus_starts):
    """On the same chroma: the finder alone."""
    assert len(songs) >= 30
    ours = [find_chorus(chroma, length, clip) for _, length, chroma, clip in songs]
    for (_, length, _, _), start in zip(songs, ours):
        if start is not None:
            assert isinstance(start, float) and 0 <= start < length
    agree, none_mismatch, report = _agreement(pychorus_starts, ours, [s[0] for s in songs])
    assert not none_mismatch, f"None cases differ for seeds {none_mismatch}:\n{report}"
    assert agree / len(songs) >= 0.95, f"agreement {agree}/{len(songs)}:\n{report}"
    # the songs exercise both outcomes
    n_none = sum(ref is None for ref in pychorus_starts)
    assert 0 < n_none < len(songs) // 2, report


def test_candidates_match_find_chorus_and_pychorus_lines(songs):
    for seed, length, chroma, clip in songs[:8]:
        cand = find_chorus_candidates(chroma, length, clip)
        assert isinstance(cand, ChorusCandidates)
        assert cand.start_sec == find_chorus(chroma, length, clip)
        assert cand.frame_rate == chroma.shape[1] / length
        assert cand.starts.shape == cand.ends.shape == cand.lags.shape == cand.scores.shape == (cand.n_lines,)
        if cand.best is None:
            assert cand.n_lines == 0
        else:
            assert np.all(cand.ends - cand.starts > clip * cand.frame_rate)
            assert cand.scores[cand.best] == cand.scores.max()
        assert "ChorusCandidates(" in repr(cand)


# ----------------------------------------------------------------------
# (2) chroma
# ----------------------------------------------------------------------
def test_chroma_features_equals_create_chroma(tmp_path):
    y = chord_song(101, seconds=(20.0, 25.0))
    path = tmp_path / "song.wav"
    sf.write(path, y, SR, subtype="FLOAT")  # float WAV: librosa.load gives y back exactly
    with quiet():
        ref, ref_y, ref_sr, ref_length = ph.create_chroma(str(path))
    np.testing.assert_array_equal(ref_y, y)
    ours = chroma_features(y, SR)
    assert ours.dtype == np.float32 and ours.flags.c_contiguous
    assert ours.shape == ref.shape == (12, 1 + y.shape[0] // (2**14 // 4))
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-7)
    # float64 or int16-range input is cast to float32 first, as librosa.load gives
    np.testing.assert_allclose(chroma_features(y.astype(np.float64), SR), ours, rtol=1e-6, atol=1e-7)


def _power_spectrogram(y, sr, n_fft):
    import librosa

    return np.abs(librosa.stft(y, n_fft=n_fft)) ** 2  # pychorus's S, (bins, frames)


SPECTRA = ("song@22050", "song@11025", "detuned", "ties@11025", "ties@7000", "ties@250")


def _spectrum(name):
    """(power spectrogram (bins, frames) float32, sr, n_fft) for a case of
    SPECTRA: real songs, a detuned chord, ties (quantized values) with silent
    frames, and rates where piptrack's 4000 Hz bound reaches the Nyquist bin
    (7000 Hz) or no bin is at least 150 Hz (250 Hz)."""
    kind, rate = name.split("@") if "@" in name else (name, "11025")
    sr = int(rate)
    if kind == "song":
        y = chord_song(5, seconds=(20.0, 22.0))
        if sr != SR:
            import soxr

            y = soxr.resample(y, SR, sr).astype(np.float32)
        return _power_spectrogram(y, sr, chroma_n_fft(sr)), sr, chroma_n_fft(sr)
    if kind == "detuned":
        t = np.arange(6 * sr) / sr
        chord = sum(np.sin(2 * np.pi * 440 * 2 ** ((k + 0.31) / 12) * t) for k in (0, 4, 7)).astype(np.float32)
        return _power_spectrogram(chord, sr, 8192), sr, 8192
    ties = np.round(np.random.default_rng(0).exponential(1.0, (1025, 40)) * 4).astype(np.float32)
    ties[:, :3] = 0  # silent frames
    return ties, sr, 2048


@pytest.mark.parametrize("name", SPECTRA)
def test_spectral_peaks_are_piptracks(name):
    """The (pitch, magnitude) pairs equal librosa.piptrack's non-zero entries,
    bit for bit, whatever the blocks of frames."""
    import librosa

    from viral_sklearn.chorus._chroma import _peak_band, _spectral_peaks

    S, sr, n_fft = _spectrum(name)

    pitch, mag = librosa.piptrack(S=S, sr=sr, n_fft=n_fft)
    nz = pitch > 0
    ref = np.stack([pitch[nz], mag[nz]])
    frames = np.ascontiguousarray(S.T)
    band = _peak_band(sr, n_fft)
    found = [_spectral_peaks(frames[i : i + 7], band, sr, n_fft) for i in range(0, frames.shape[0], 7)]
    ours = np.stack([np.concatenate([p for p, _ in found]), np.concatenate([m for _, m in found])])
    assert ours.dtype == ref.dtype == np.float32
    order = lambda a: a[:, np.lexsort(a[::-1])]  # noqa: E731  (sort the pairs by pitch, then magnitude)
    np.testing.assert_array_equal(order(ours), order(ref))
    if sr == 250:
        assert ours.shape[1] == 0


@pytest.mark.parametrize("sr", [22050, 11025, 8000])
def test_chroma_features_equals_librosa_chroma_stft(sr):
    """Tuning included: a song detuned by a third of a semitone (librosa's
    estimate moves the filter bank; a different tuning would move the chroma
    by far more than float32 rounding)."""
    import librosa

    rng = np.random.default_rng(sr)
    t = np.arange(8 * sr) / sr
    notes = 220 * 2 ** ((rng.integers(0, 24, 16) + 0.33) / 12)
    f = np.repeat(notes, t.size // notes.size + 1)[: t.size]
    y = (np.sin(2 * np.pi * np.cumsum(f) / sr) + 0.3 * np.sin(4 * np.pi * np.cumsum(f) / sr)).astype(np.float32)
    n_fft = chroma_n_fft(sr)
    S = _power_spectrogram(y, sr, n_fft)
    tuning = librosa.estimate_tuning(S=S, sr=sr, n_fft=n_fft)
    assert tuning == pytest.approx(0.33, abs=0.05)
    ref = librosa.feature.chroma_stft(S=S, sr=sr)
    ours = chroma_features(y, sr)
    assert ours.shape == ref.shape == (12, 1 + y.size // (n_fft // 4))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=2e-6)


@pytest.mark.filterwarnings("ignore:n_fft=4095 is too large:UserWarning")  # librosa, on the reference
@pytest.mark.parametrize("n_fft, n", [(1001, 5000), (1001, 5250), (1000, 5250), (4095, 3 * 1023 + 1), (7, 40)])
def test_chroma_features_frames_and_values_for_any_n_fft(n_fft, n):
    """Odd FFT sizes and lengths on a hop boundary: librosa's frame count and values."""
    import librosa

    y = chord_song(3, seconds=(2.0, 3.0))[:n]
    S = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=n_fft // 4)) ** 2
    # librosa infers an even n_fft from S's bins inside chroma_stft and its tuning
    # estimate: an odd one must be passed to both
    tuning = librosa.estimate_tuning(S=S, sr=SR, n_fft=n_fft, bins_per_octave=12)
    ref = librosa.feature.chroma_stft(S=S, sr=SR, n_fft=n_fft, tuning=tuning)
    ours = chroma_features(y, SR, n_fft=n_fft)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=2e-6)


def test_chroma_features_in_two_passes_equals_one(monkeypatch):
    """Songs whose spectrogram exceeds 64 MB compute it twice instead of keeping it.

    Bit equality is what the design promises, on any processor: both paths take
    the same FFT of the same 64-frame blocks and multiply each block by the
    chroma bank in a product of the same shape (same BLAS kernel, same
    reduction order).  One product over all frames differed from the blocked
    one in the last bits on AMD EPYC (issue 24)."""
    from viral_sklearn.chorus import _chroma

    y = chord_song(7, seconds=(30.0, 35.0))
    once = chroma_features(y, SR)
    monkeypatch.setattr(_chroma, "_KEEP_SPECTROGRAM_ELEMENTS", 0)
    np.testing.assert_array_equal(chroma_features(y, SR), once)


def test_chroma_n_fft_keeps_pychorus_window_in_seconds():
    assert chroma_n_fft(22050) == 2**14  # pychorus's N_FFT
    assert [chroma_n_fft(r) for r in (8000, 11025, 16000, 44100, 48000, 96000)] == [
        2**13, 2**13, 2**14, 2**15, 2**15, 2**16]
    for r in (8000, 11025, 16000, 22050, 44100, 96000):  # window within sqrt(2) of 0.743 s
        assert 2**14 / 22050 / 2**0.5 <= chroma_n_fft(r) / r <= 2**14 / 22050 * 2**0.5
    assert chroma_n_fft(1) == 16
    for bad in (0, -1, 1.5, True, "22050"):
        with pytest.raises(ValueError, match="sr must be a positive integer"):
            chroma_n_fft(bad)


def test_chroma_at_11025_is_the_chroma_at_22050_without_its_top_octave():
    """Same frames, and nearly the same values: the 5.5-11 kHz band it lacks
    weighs little (the test songs have harmonics up to ~3 kHz, and noise)."""
    import soxr

    y = chord_song(11, seconds=(30.0, 35.0))
    full = chroma_features(y, SR)
    half = chroma_features(soxr.resample(y, SR, 11025).astype(np.float32), 11025)
    assert half.shape == full.shape
    assert np.abs(half - full).max() < 0.02
    assert np.corrcoef(half.ravel(), full.ravel())[0, 1] > 0.999


def test_chroma_features_of_silence_is_zero_and_quiet():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chroma = chroma_features(np.zeros(5 * SR, dtype=np.float32), SR)
    assert not [w for w in caught if "tuning" in str(w.message)]
    assert chroma.shape == (12, 1 + 5 * SR // 4096)
    assert np.all(chroma == 0)


# ----------------------------------------------------------------------
# (3) intermediate matrices and steps
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "n, smoothing",
    [(120, 13), (97, 14), (64, 7), (40, 13), (10, 13), (60, 1), (3, 2), (1, 1), (150, 30)],
)
def test_time_lag_and_denoised_matrices_match_pychorus(n, smoothing):
    chroma = repeated_chroma(n, n)
    with quiet():
        lag = TimeLagSimilarityMatrix(chroma, SR)
        tt = TimeTimeSimilarityMatrix(chroma, SR)
    ours = _time_lag_similarity(chroma)
    assert ours.shape == (n, n) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, lag.matrix, rtol=0, atol=1e-6)
    with quiet():
        lag.denoise(tt.matrix, smoothing)
    denoised, row_sums = _denoise(ours, smoothing)
    assert denoised.dtype == np.float32
    np.testing.assert_allclose(denoised, lag.matrix, rtol=0, atol=2e-6)
    np.testing.assert_allclose(row_sums, lag.matrix.sum(axis=1), rtol=0, atol=1e-5)
    assert np.all(denoised >= 0) and np.all(denoised[:5] == 0)


def test_candidate_rows_match_pychorus(songs):
    """The local-maximum rows of our denoised matrix are pychorus's: many rows
    are exactly zero there, and FFT round-off must not break those ties."""
    for seed, length, chroma, clip in songs[:6]:
        n = chroma.shape[1]
        smoothing = int(2.5 * n / length)
        with quiet():
            lag = TimeLagSimilarityMatrix(chroma, SR)
            lag.denoise(TimeTimeSimilarityMatrix(chroma, SR).matrix, smoothing)
            ref_rows = ph.local_maxima_rows(lag.matrix)
        denoised, row_sums = _denoise(_time_lag_similarity(chroma), smoothing)
        assert np.count_nonzero(row_sums == 0) == np.count_nonzero(lag.matrix.sum(axis=1) == 0), seed
        np.testing.assert_array_equal(_local_maxima_rows(row_sums), ref_rows, err_msg=f"seed {seed}")


def test_time_lag_matrix_wraps_like_pychorus():
    chroma = repeated_chroma(7, 50)
    L = _time_lag_similarity(chroma)
    for lag, t in [(0, 0), (3, 10), (10, 3), (49, 0), (25, 24), (1, 49)]:
        expected = 1 - np.linalg.norm(chroma[:, t] - chroma[:, (t - lag) % 50]) / np.sqrt(12)
        assert L[lag, t] == pytest.approx(expected, abs=1e-6)


def test_steps_match_pychorus_on_its_own_denoised_matrix(songs):
    """Local maxima, line detection (threshold loop) and scoring, fed pychorus's
    own denoised matrix, reproduce pychorus exactly."""
    seed, length, chroma, clip = songs[0]
    n = chroma.shape[1]
    frame_rate = n / length
    with quiet():
        lag = TimeLagSimilarityMatrix(chroma, SR)
        lag.denoise(TimeTimeSimilarityMatrix(chroma, SR).matrix, int(2.5 * frame_rate))
    matrix = lag.matrix
    rows = _local_maxima_rows(matrix.sum(axis=1))
    np.testing.assert_array_equal(rows, argrelextrema(matrix.sum(axis=1) / np.arange(n, 0, -1), np.greater)[0])
    min_length = clip * frame_rate
    stream = _scan_stream(matrix, rows, min_length)
    for threshold in (0.15, 0.1, 0.05):
        ref = ph.detect_lines_helper(matrix, rows, threshold, min_length)
        got = _lines_above(stream, threshold, min_length)
        assert [(x.start, x.end, x.lag) for x in ref] == list(zip(*(a.tolist() for a in got)))
    ref_lines = ph.detect_lines(matrix, rows, min_length)
    assert len(ref_lines) > 1
    ref_scores = ph.count_overlapping_lines(ref_lines, 0.2 * min_length, min_length)
    starts, ends, lags = (np.array([getattr(x, a) for x in ref_lines]) for a in ("start", "end", "lag"))
    scores = _overlap_scores(starts, ends, lags, 0.2 * min_length, min_length)
    assert scores.tolist() == [ref_scores[x] for x in ref_lines]


def test_open_segment_carries_into_next_row_like_pychorus():
    """pychorus never resets its segment start between rows: a run reaching the
    end of one row continues, or closes, at the start of the next scanned row."""
    n = 40
    m = np.zeros((n, n))
    m[2, 2:] = 1.0  # row 2 < min_length: skipped, nothing carried
    m[4, 10:] = 1.0  # open at the end of row 4 ...
    m[9, 9:16] = 1.0  # ... row 9 starts above: the run goes on, Line(10, 16, 9)
    m[12, 30:] = 1.0  # open at the end of row 12 ...
    m[14, 20:25] = 1.0  # ... row 14 starts below: closes with 14 - 30 < 0, no line; then Line(20, 25, 14)
    m[16, 3:] = 1.0  # open from column 16 (the row's first scanned column) ...
    m[20, 25:] = 1.0  # ... row 20 starts below: Line(16, 20, 20); open at the end: no line
    rows = np.array([2, 4, 9, 12, 14, 16, 20])
    min_length = 2.5
    ref = [(x.start, x.end, x.lag) for x in ph.detect_lines_helper(m, rows, 0.5, min_length)]
    assert ref == [(10, 16, 9), (20, 25, 14), (16, 20, 20)]
    got = _lines_above(_scan_stream(m.astype(np.float32), rows, min_length), 0.5, min_length)
    assert list(zip(*(a.tolist() for a in got))) == ref


def test_overlap_scores_and_ties_match_pychorus():
    rng = np.random.default_rng(3)
    for trial in range(20):
        k = int(rng.integers(1, 30))
        starts = rng.integers(0, 200, k)
        ends = starts + rng.integers(20, 120, k)
        lags = rng.integers(5, 150, k)
        if trial % 3 == 0:  # duplicates and equal lengths: ties
            starts[k // 2 :] = starts[: k - k // 2]
            ends[k // 2 :] = ends[: k - k // 2]
        lines = [Line(int(s), int(e), int(g)) for s, e, g in zip(starts, ends, lags)]
        ref = ph.count_overlapping_lines(lines, 9.0, 30.0)
        scores = _overlap_scores(starts, ends, lags, 9.0, 30.0)
        assert scores.tolist() == [ref[x] for x in lines]
        best = ph.best_segment(ref)
        top = np.flatnonzero(scores == scores.max())
        ours = int(top[np.argmax((ends - starts)[top])])
        assert lines[ours] is best


# ----------------------------------------------------------------------
# (4) edge cases and validation
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "n, length, clip",
    [(1, 0.2, 0.01), (2, 0.4, 0.01), (3, 0.5, 0.01), (8, 1.4, 0.3), (30, 1.5, 0.2), (60, 11.0, 2.0), (90, 4.0, 0.5)],
)
def test_tiny_chroma_agrees_with_pychorus(n, length, clip):
    """n below the smoothing size (s = int(2.5 * n / length)) and n < 3 included."""
    chroma = repeated_chroma(n + 1000, n)
    with quiet():
        ref = ph.find_chorus(chroma, SR, length, clip)
    assert find_chorus(chroma, length, clip) == ref


def test_clip_longer_than_song_is_none(songs):
    seed, length, chroma, _ = songs[1]
    assert find_chorus(chroma, length, length) is None
    assert find_chorus(chroma, length, 10 * length) is None
    cand = find_chorus_candidates(chroma, length, length)
    assert cand.best is None and cand.n_lines == 0 and cand.start_sec is None
    with quiet():
        assert ph.find_chorus(chroma, SR, length, length) is None


@pytest.mark.parametrize("kind", ["silence", "constant"])
def test_silence_and_constant_chroma(kind):
    if kind == "silence":
        chroma = chroma_features(np.zeros(30 * SR, dtype=np.float32), SR)  # librosa: all zeros
    else:
        chroma = np.ones((12, 162), dtype=np.float32)
    length = 30.0
    ours = find_chorus(chroma, length, 5.0)
    with quiet():
        ref = ph.find_chorus(chroma, SR, length, 5.0)
    assert ours == ref
    assert ours is None or (np.isfinite(ours) and 0 <= ours < length)


def test_array_likes_and_dtypes_accepted(songs):
    seed, length, chroma, clip = songs[2]
    expected = find_chorus(chroma, length, clip)
    assert find_chorus(chroma.astype(np.float64), length, clip) == expected
    assert find_chorus(chroma.tolist(), np.float32(length), int(clip)) == expected
    assert find_chorus(np.asfortranarray(chroma), length, clip) == expected


@pytest.mark.parametrize(
    "chroma, match",
    [
        (np.zeros(12), "2-D array of shape \\(12, n_frames\\)"),
        (np.zeros((12, 5, 1)), "2-D array"),
        (np.zeros((11, 50)), "12 rows"),
        (np.zeros((50, 12)), "12 rows"),
        (np.zeros((12, 0)), "no frames"),
        (np.full((12, 50), np.nan), "non-finite"),
        (np.full((12, 50), np.inf), "non-finite"),
        (np.zeros((12, 50), dtype=complex), "real numbers"),
        (np.full((12, 50), "a"), "real numbers"),
    ],
)
def test_invalid_chroma_raises(chroma, match):
    with pytest.raises(ValueError, match=match):
        find_chorus(chroma, 10.0, 2.0)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "10", None])
def test_invalid_lengths_raise(bad):
    chroma = np.zeros((12, 50), dtype=np.float32)
    with pytest.raises(ValueError, match="song_length_sec must be a positive finite number"):
        find_chorus(chroma, bad, 2.0)
    with pytest.raises(ValueError, match="clip_length must be a positive finite number"):
        find_chorus(chroma, 10.0, bad)


def test_inconsistent_length_raises():
    # 5 frames over 100 s: 0.05 frames/s, the 2.5 s smoothing window holds no frame
    with pytest.raises(ValueError, match="smoothing window holds no frame"):
        find_chorus(np.zeros((12, 5), dtype=np.float32), 100.0, 1.0)


@pytest.mark.parametrize(
    "y, sr, kwargs, match",
    [
        (np.zeros((2, 1000)), SR, {}, "mono audio of shape \\(n_samples,\\)"),
        (np.zeros(0), SR, {}, "no samples"),
        (np.full(1000, np.nan), SR, {}, "non-finite"),
        (np.zeros(1000, dtype=complex), SR, {}, "real numbers"),
        (np.zeros(1000), 0, {}, "sr must be a positive integer"),
        (np.zeros(1000), 22050.0, {}, "sr must be a positive integer"),
        (np.zeros(1000), SR, {"n_fft": 0}, "n_fft must be a positive integer"),
        (np.zeros(1000), SR, {"n_fft": 3}, "n_fft must be a positive integer >= 4, got 3"),
    ],
)
def test_chroma_features_validation(y, sr, kwargs, match):
    with pytest.raises(ValueError, match=match):
        chroma_features(y, sr, **kwargs)


def test_memory_stays_near_two_matrices():
    """Peak: the time-lag and denoised matrices (n x n float32 each) plus
    block buffers of bounded size (a few MiB whatever n)."""
    n = 1200
    chroma = repeated_chroma(5, n)
    find_chorus(chroma, n / 5.38, 10.0)  # warm-up: imports, FFT plans
    tracemalloc.start()
    try:
        find_chorus(chroma, n / 5.38, 10.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    matrix = 4 * n * n
    assert peak < 2 * matrix + 12 * 2**20, f"peak {peak / 2**20:.1f} MiB = {peak / matrix:.2f} n^2 float32"


# ----------------------------------------------------------------------
# (5) silent
# ----------------------------------------------------------------------
def test_never_prints(capsys, songs):
    seed, length, chroma, clip = songs[3]
    find_chorus(chroma, length, clip)
    assert find_chorus(chroma, length, 2 * length) is None  # pychorus prints here
    find_chorus(np.zeros((12, 100), dtype=np.float32), 18.5, 5.0)
    find_chorus_candidates(chroma, length, clip)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
