"""Datasets: the synthetic song generator, the metadata loader and the chorus scorer."""

from __future__ import annotations

import os
import re
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from viral_sklearn import load_audio
from viral_sklearn.datasets import DatasetError, SongCorpus, load_dataset, make_songs, score_chorus_detection

SHORT = dict(duration=(20.0, 25.0), chorus_length=5.0)
RATES = (22050, 24000, 32000)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> SongCorpus:
    """12 short MP3 songs, 6 of each class."""
    return make_songs(12, tmp_path_factory.mktemp("songs"), sample_rates=RATES, random_state=0, **SHORT)


@pytest.fixture(scope="module")
def decoded(corpus):
    """Each song of the corpus decoded once (mono float32, native rate)."""
    return [load_audio(p) for p in corpus.paths]


def window(y, sr, start, end):
    return y[int(round(start * sr)) : int(round(end * sr))]


def high_band_db(y, sr, lo=4500.0, hi=9000.0):
    """Share of the energy between lo and hi Hz, in dB."""
    power = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(y.size, 1.0 / sr)
    return 10 * np.log10(power[(freqs >= lo) & (freqs < hi)].sum() / power.sum())


def auc(scores, labels):
    pos, neg = scores[labels == 1], scores[labels == 0]
    return float(np.mean([(p > q) + 0.5 * (p == q) for p in pos for q in neg]))


# ======================================================================
# make_songs: files, layout, truth
# ======================================================================
def test_files_exist_decode_and_are_stereo_mp3(corpus, decoded):
    assert len(corpus) == 12 and len(corpus.paths) == 12
    for path, (y, sr), row in zip(corpus.paths, decoded, corpus.truth.itertuples()):
        assert os.path.isfile(path) and path.endswith(".mp3")
        assert os.path.dirname(path) == corpus.out_dir
        info = sf.info(path)
        assert info.channels == 2 and info.format == "MP3"
        assert sr == info.samplerate == row.sample_rate and sr in RATES
        assert y.dtype == np.float32 and abs(y.size - round(row.duration * sr)) <= 1
        assert 20.0 <= row.duration <= 25.0
        assert 0.3 < np.abs(y).max() <= 1.0  # peak-normalized, no clipping
    left_right = sf.read(corpus.paths[0], dtype="float32")[0]
    assert not np.allclose(left_right[:, 0], left_right[:, 1], atol=1e-3)  # real stereo


def test_metadata_csv_has_the_notebook_layout(corpus):
    meta = pd.read_csv(corpus.metadata_csv, dtype={"id": str})
    assert corpus.metadata_csv == os.path.join(corpus.out_dir, "metadata.csv")
    assert list(meta.columns) == ["id", "label"]
    assert meta["id"].tolist() == [os.path.splitext(os.path.basename(p))[0] for p in corpus.paths]
    assert meta["id"].tolist() == [f"song_{i:03d}" for i in range(12)]
    np.testing.assert_array_equal(meta["label"].to_numpy(), corpus.labels)
    assert corpus.labels.dtype.kind == "i" and set(corpus.labels) == {0, 1}
    assert corpus.labels.sum() == 6  # positive_fraction=0.5
    truth = corpus.truth
    for col in ("id", "path", "label", "duration", "sample_rate", "chorus_times"):
        assert col in truth.columns
    assert truth["path"].tolist() == corpus.paths
    np.testing.assert_array_equal(truth["label"].to_numpy(), corpus.labels)


def test_chorus_times_are_sorted_inside_the_song_and_repeated(corpus):
    for row in corpus.truth.itertuples():
        times = row.chorus_times
        assert 2 <= len(times) <= 4 and row.n_choruses == len(times)
        starts = [a for a, _ in times]
        assert starts == sorted(starts)
        for (a, b), (c, _) in zip(times, times[1:]):
            assert b <= c + 1e-9  # no overlap
        for a, b in times:
            assert 0.0 < a < b <= row.duration + 1e-9
            assert abs((b - a) - 5.0) <= 0.5 * 60 / 90 + 1e-6  # whole beats nearest chorus_length
        durations = {round(b - a, 6) for a, b in times}
        assert len(durations) == 1  # the same chorus every time
        # the sections tile the song, and the chorus sections are the chorus times
        sections = row.sections
        assert sections[0][1] == 0.0 and sections[-1][2] == pytest.approx(row.duration)
        assert all(s[2] == pytest.approx(t[1]) for s, t in zip(sections, sections[1:]))
        assert [(a, b) for name, a, b in sections if name == "chorus"] == times
        names = [name for name, _, _ in sections]
        assert names[0] == "intro" and names[-1] == "outro" and "bridge" in names
        assert 2 <= sum(n.startswith("verse") for n in names) <= 3
        assert names.index("chorus") > names.index("verse1")


def test_chorus_occurrences_are_the_same_audio_and_verses_are_not(corpus, decoded):
    for row, (y, sr) in zip(corpus.truth.itertuples(), decoded):
        choruses = [window(y, sr, a, b) for a, b in row.chorus_times]
        n = min(c.size for c in choruses)
        first = choruses[0][:n]
        for other in choruses[1:]:
            assert np.corrcoef(first, other[:n])[0, 1] > 0.98, row.id
        for name, a, _ in row.sections:
            if name.startswith("verse"):
                verse = window(y, sr, a, a + n / sr)
                m = min(verse.size, n)
                assert abs(np.corrcoef(first[:m], verse[:m])[0, 1]) < 0.6, (row.id, name)


def test_the_class_is_in_the_chorus_not_in_the_opening_seconds(corpus, decoded):
    labels = corpus.labels
    chorus, opening = [], []
    for row, (y, sr) in zip(corpus.truth.itertuples(), decoded):
        a, b = row.chorus_times[0]
        chorus.append(high_band_db(window(y, sr, a, b), sr))
        opening.append(high_band_db(window(y, sr, 0.0, min(5.0, a)), sr))  # before the first chorus
    chorus, opening = np.array(chorus), np.array(opening)
    # the hook's shaker and bright lead: every label-1 chorus is brighter than every label-0 one
    assert chorus[labels == 1].min() > chorus[labels == 0].max() + 3.0
    assert auc(chorus, labels) == 1.0
    # the opening seconds do not tell the classes apart
    assert 0.2 < auc(opening, labels) < 0.8
    assert opening[labels == 1].min() < opening[labels == 0].max()


def test_songs_of_the_two_classes_differ_only_in_their_choruses(tmp_path):
    kw = dict(format="wav", sample_rates=(22050,), random_state=5, duration=(18.0, 20.0), chorus_length=4.0)
    plain = make_songs(2, tmp_path / "plain", positive_fraction=0.0, **kw)
    hooked = make_songs(2, tmp_path / "hooked", positive_fraction=1.0, **kw)
    assert plain.truth["chorus_times"].tolist() == hooked.truth["chorus_times"].tolist()
    for p0, p1, times in zip(plain.paths, hooked.paths, plain.truth["chorus_times"]):
        y0, sr = load_audio(p0)
        y1, _ = load_audio(p1)
        in_chorus = np.zeros(y0.size, dtype=bool)
        for a, b in times:
            in_chorus[int(round(a * sr)) : int(round(b * sr))] = True
        np.testing.assert_array_equal(y0[~in_chorus], y1[~in_chorus])  # same gain too
        assert np.abs(y0[in_chorus] - y1[in_chorus]).max() > 0.05


def test_same_seed_same_songs_other_seed_other_songs(tmp_path):
    kw = dict(sample_rates=(22050,), duration=(18.0, 20.0), chorus_length=4.0)
    a = make_songs(2, tmp_path / "a", random_state=7, n_jobs=1, **kw)
    b = make_songs(2, tmp_path / "b", random_state=7, n_jobs=2, **kw)
    c = make_songs(2, tmp_path / "c", random_state=8, **kw)
    pd.testing.assert_frame_equal(a.truth.drop(columns="path"), b.truth.drop(columns="path"))
    for pa, pb in zip(a.paths, b.paths):
        with open(pa, "rb") as fa, open(pb, "rb") as fb:
            assert fa.read() == fb.read()  # bit-identical files, whatever n_jobs
        np.testing.assert_array_equal(load_audio(pa)[0], load_audio(pb)[0])
    assert a.truth["chorus_times"].tolist() != c.truth["chorus_times"].tolist()
    ya, yc = load_audio(a.paths[0])[0], load_audio(c.paths[0])[0]
    assert ya.size != yc.size or not np.array_equal(ya, yc)


def test_positive_fraction_sets_the_number_of_positives(tmp_path):
    songs = make_songs(4, tmp_path, format="wav", positive_fraction=0.25, random_state=1,
                       sample_rates=(22050,), duration=(14.0, 15.0), chorus_length=3.0)
    assert songs.labels.tolist().count(1) == 1 and len(songs.labels) == 4


@pytest.mark.parametrize("fmt, sf_format", [("wav", "WAV"), ("flac", "FLAC"), ("ogg", "OGG")])
def test_other_formats(tmp_path, fmt, sf_format):
    songs = make_songs(1, tmp_path, format=fmt, random_state=2, sample_rates=(44100,),
                       duration=(14.0, 15.0), chorus_length=3.0)
    path = songs.paths[0]
    assert path.endswith("." + fmt) and sf.info(path).format == sf_format and sf.info(path).channels == 2
    y, sr = load_audio(path)
    assert sr == 44100 and y.size == pytest.approx(songs.truth["duration"][0] * sr, abs=1)


def test_out_dir_none_makes_a_temporary_folder():
    songs = make_songs(1, format="wav", random_state=0, sample_rates=(22050,), duration=(14.0, 15.0),
                       chorus_length=3.0)
    try:
        assert os.path.isdir(songs.out_dir) and os.path.isfile(songs.metadata_csv)
        assert os.path.dirname(songs.paths[0]) == songs.out_dir
    finally:
        shutil.rmtree(songs.out_dir)


def test_out_dir_is_created(tmp_path):
    out = tmp_path / "deep" / "er"
    songs = make_songs(1, out, format="wav", random_state=0, sample_rates=(22050,), duration=(14.0, 15.0),
                       chorus_length=3.0)
    assert songs.out_dir == str(out) and os.path.isfile(out / "song_000.wav")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(duration=(20.0, 25.0), chorus_length=8.0), "songs of 20 s are too short for two choruses of 8 s"),
        (dict(duration=(25.0, 20.0)), "duration must satisfy 0 < min <= max"),
        (dict(format="aac"), "format must be one of ['flac', 'mp3', 'ogg', 'wav'], got 'aac'"),
        (dict(sample_rates=(96000,)), "MP3 cannot store sample rates [96000]"),
        (dict(sample_rates=(16000,), format="wav"), "sample_rates must be integers of at least 22050 Hz"),
        (dict(positive_fraction=1.5), "positive_fraction must be in [0, 1], got 1.5"),
        (dict(n_songs=0), "n_songs must be a positive integer, got 0"),
        (dict(random_state=-1), "random_state must be None, a non-negative int"),
    ],
)
def test_make_songs_rejects_bad_parameters(tmp_path, kwargs, message):
    kwargs = {"n_songs": 1, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        make_songs(out_dir=tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())  # validated before anything is written


# ======================================================================
# load_dataset
# ======================================================================
def test_load_dataset_from_the_generated_csv(corpus):
    paths, labels = load_dataset(corpus.metadata_csv, corpus.out_dir, check_audio=True)
    assert paths == corpus.paths
    np.testing.assert_array_equal(labels, corpus.labels)
    assert labels.dtype.kind == "i"


def touch(folder, *names):
    for name in names:
        (folder / name).write_bytes(b"not empty")


def test_load_dataset_from_a_dataframe_keeps_label_types(tmp_path):
    touch(tmp_path, "a.mp3", "b.mp3", "c.mp3")
    df = pd.DataFrame({"id": ["a", "b", "c"], "label": [True, False, True]})
    paths, labels = load_dataset(df, tmp_path)
    assert paths == [os.path.join(str(tmp_path), f"{s}.mp3") for s in "abc"]
    assert labels.dtype == bool and labels.tolist() == [True, False, True]
    _, labels = load_dataset(df.assign(label=["viral", "flop", "viral"]), tmp_path)
    assert labels.tolist() == ["viral", "flop", "viral"] and labels.dtype.kind == "U"
    _, labels = load_dataset(df.assign(label=[1, 0, 1]), tmp_path)
    assert labels.dtype.kind == "i" and labels.tolist() == [1, 0, 1]


def test_load_dataset_csv_bool_and_string_labels_and_text_ids(tmp_path):
    touch(tmp_path, "007.mp3", "010.mp3")
    csv = tmp_path / "meta.csv"
    csv.write_text("id,label,viral\n007,yes,True\n010,no,False\n")
    paths, labels = load_dataset(csv, tmp_path)
    assert [os.path.basename(p) for p in paths] == ["007.mp3", "010.mp3"]  # not 7.mp3
    assert labels.tolist() == ["yes", "no"]
    _, labels = load_dataset(str(csv), tmp_path, label_column="viral")
    assert labels.dtype == bool and labels.tolist() == [True, False]


@pytest.mark.parametrize("extension", [".mp3", "mp3", "  .mp3 "])
def test_extension_with_or_without_dot(tmp_path, extension):
    touch(tmp_path, "a.mp3", "b.mp3")
    df = pd.DataFrame({"id": ["a", "b.mp3"], "label": [0, 1]})  # "b.mp3" already names its file
    paths, _ = load_dataset(df, tmp_path, extension=extension)
    assert paths == [os.path.join(str(tmp_path), "a.mp3"), os.path.join(str(tmp_path), "b.mp3")]


def test_ids_with_another_audio_extension_and_no_extension(tmp_path):
    touch(tmp_path, "a.wav", "b.FLAC", "c")
    df = pd.DataFrame({"id": ["a.wav", "b.FLAC", "c"], "label": [0, 1, 0]})
    c_mp3 = os.path.join(str(tmp_path), "c.mp3")
    with pytest.raises(DatasetError, match=re.escape(f"row 2, id 'c': {c_mp3!r}: file not found")):
        load_dataset(df, tmp_path)
    paths, _ = load_dataset(df, tmp_path, extension=None)
    assert [os.path.basename(p) for p in paths] == ["a.wav", "b.FLAC", "c"]


def test_missing_file(tmp_path):
    touch(tmp_path, "a.mp3", "c.mp3")
    df = pd.DataFrame({"id": ["a", "b", "c"], "label": [0, 1, 0]})
    missing = os.path.join(str(tmp_path), "b.mp3")
    expected = (
        "1 of 3 rows of the metadata table has no usable audio file (2 rows are fine); fix or remove them, "
        f'or pass on_error="skip" to drop them:\n  row 1, id \'b\': {missing!r}: file not found'
    )
    with pytest.raises(DatasetError, match=f"^{re.escape(expected)}$") as info:
        load_dataset(df, tmp_path)
    assert isinstance(info.value, ValueError)
    assert info.value.rows == [{"row": 1, "id": "b", "path": missing, "reason": "file not found", "outside": False}]


def test_duplicate_ids_are_all_named(tmp_path):
    csv = tmp_path / "metadata.csv"
    csv.write_text("id,label\na,0\nb,1\nb,1\na,0\nc,1\n")
    expected = (
        f"{str(csv)!r}: 2 files are named by several rows; each song must appear once:\n"
        f"  rows 0, 3 (id 'a', 'a') name one file, {str(tmp_path / 'a.mp3')!r}\n"
        f"  rows 1, 2 (id 'b', 'b') name one file, {str(tmp_path / 'b.mp3')!r}"
    )
    with pytest.raises(DatasetError, match=f"^{re.escape(expected)}$"):
        load_dataset(csv, tmp_path)


def test_empty_labels_are_named(tmp_path):
    csv = tmp_path / "metadata.csv"
    csv.write_text("id,label\na,0\nb,\nc,1\nd,  \n")
    touch(tmp_path, "a.mp3", "b.mp3", "c.mp3", "d.mp3")
    expected = f"{str(csv)!r}: empty 'label' cells in rows 1, 3; every song needs a label"
    with pytest.raises(DatasetError, match=f"^{re.escape(expected)}$"):
        load_dataset(csv, tmp_path)
    df = pd.DataFrame({"id": ["a", "b"], "label": [1, None]})
    with pytest.raises(DatasetError, match=re.escape("the metadata table: empty 'label' cell in row 1;")):
        load_dataset(df, tmp_path)
    with pytest.raises(DatasetError, match=re.escape("the metadata table: empty 'id' cell in row 0")):
        load_dataset(pd.DataFrame({"id": [np.nan, "b"], "label": [1, 0]}), tmp_path)


def test_wrong_column_names_list_the_available_ones(tmp_path):
    csv = tmp_path / "metadata.csv"
    csv.write_text("song,viral\na,0\n")
    expected = (
        f"{str(csv)!r} has no id column 'id' and no label column 'label'; its columns are: 'song', 'viral' "
        "(pass id_column= / label_column= to name them)"
    )
    with pytest.raises(DatasetError, match=f"^{re.escape(expected)}$"):
        load_dataset(csv, tmp_path)
    df = pd.DataFrame({"id": ["a"], "viral": [0]})
    with pytest.raises(DatasetError, match=re.escape("the metadata table has no label column 'label'; its "
                                                     "columns are: 'id', 'viral'")):
        load_dataset(df, tmp_path)
    touch(tmp_path, "a.mp3")
    assert load_dataset(csv, tmp_path, id_column="song", label_column="viral")[1].tolist() == [0]


def test_undecodable_file_is_caught_with_check_audio(corpus, tmp_path):
    shutil.copy(corpus.paths[0], tmp_path / "good.mp3")
    (tmp_path / "fake.mp3").write_text("this is not audio, just text named .mp3\n" * 20)
    df = pd.DataFrame({"id": ["good", "fake"], "label": [1, 0]})
    assert len(load_dataset(df, tmp_path)[0]) == 2  # only existence is checked by default
    fake = os.path.join(str(tmp_path), "fake.mp3")
    expected = (
        "1 of 2 rows of the metadata table has no usable audio file (1 row is fine); fix or remove them, "
        f"or pass on_error=\"skip\" to drop them:\n  row 1, id 'fake': {fake!r}: cannot decode audio ("
    )
    with pytest.raises(DatasetError, match=f"^{re.escape(expected)}") as info:
        load_dataset(df, tmp_path, check_audio=True)
    assert info.value.rows[0]["reason"].startswith("cannot decode audio (")


def several_bad_rows(folder):
    touch(folder, "ok1.mp3", "ok2.mp3")
    (folder / "empty.mp3").write_bytes(b"")
    os.mkdir(folder / "folder.mp3")
    df = pd.DataFrame({"id": ["ok1", "gone", "empty", "ok2", "folder"], "label": [0, 1, 0, 1, 1]})
    p = {name: os.path.join(str(folder), f"{name}.mp3") for name in ("gone", "empty", "folder")}
    listing = (
        f"  row 1, id 'gone': {p['gone']!r}: file not found\n"
        f"  row 2, id 'empty': {p['empty']!r}: file is empty (0 bytes)\n"
        f"  row 4, id 'folder': {p['folder']!r}: is a directory, not an audio file"
    )
    return df, listing


def test_several_bad_rows_are_reported_together(tmp_path):
    df, listing = several_bad_rows(tmp_path)
    expected = (
        "3 of 5 rows of the metadata table have no usable audio file (2 rows are fine); fix or remove them, "
        f'or pass on_error="skip" to drop them:\n{listing}'
    )
    with pytest.raises(DatasetError, match=f"^{re.escape(expected)}$") as info:
        load_dataset(df, tmp_path)
    assert [r["row"] for r in info.value.rows] == [1, 2, 4]


def test_on_error_skip_drops_bad_rows_with_one_warning(tmp_path):
    df, listing = several_bad_rows(tmp_path)
    expected = f"skipped 3 of 5 rows of the metadata table with no usable audio file (2 rows kept):\n{listing}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths, labels = load_dataset(df, tmp_path, on_error="skip")
    assert len(caught) == 1 and caught[0].category is UserWarning
    assert str(caught[0].message) == expected
    assert [os.path.basename(p) for p in paths] == ["ok1.mp3", "ok2.mp3"]
    assert labels.tolist() == [0, 1]


def test_on_error_skip_with_no_row_left_raises(tmp_path):
    df = pd.DataFrame({"id": ["x", "y"], "label": [0, 1]})
    with pytest.raises(DatasetError, match=re.escape("2 of 2 rows of the metadata table have no usable audio file "
                                                     "(0 rows are fine); no row is left:")):
        load_dataset(df, tmp_path, on_error="skip")


def test_load_dataset_argument_errors(tmp_path):
    df = pd.DataFrame({"id": ["a"], "label": [0]})
    with pytest.raises(ValueError, match=re.escape("on_error must be 'raise' or 'skip', got 'ignore'")):
        load_dataset(df, tmp_path, on_error="ignore")
    missing = str(tmp_path / "nope.csv")
    with pytest.raises(DatasetError, match=re.escape(f"metadata file {missing!r} not found")):
        load_dataset(missing, tmp_path)
    with pytest.raises(TypeError, match="metadata must be a CSV path or a pandas DataFrame, got list"):
        load_dataset([("a", 0)], tmp_path)
    with pytest.raises(DatasetError, match=re.escape("the metadata table has no rows")):
        load_dataset(df.iloc[:0], tmp_path)


# ======================================================================
# score_chorus_detection
# ======================================================================
TRUTH = [[(10.0, 14.0), (20.0, 24.0)], [(5.0, 9.0), (9.0, 13.0)], [(30.0, 34.0)]]


def test_scorer_hits_misses_and_overlap():
    detected = [(20.0, 24.0), (7.0, 11.0), (26.0, 30.0)]
    r = score_chorus_detection(detected, TRUTH)
    assert r["hits"].tolist() == [True, True, False]
    np.testing.assert_allclose(r["overlaps"], [1.0, 1.0, 0.0])  # back-to-back choruses count as one
    assert r["hit_rate"] == pytest.approx(2 / 3) and r["mean_overlap"] == pytest.approx(2 / 3)
    assert r["n_songs"] == 3
    np.testing.assert_allclose(r["start_errors"], [0.0, 2.0, -4.0])


def test_scorer_tolerance_counts_early_starts_only():
    truth = [[(10.0, 14.0)]] * 4
    detected = [9.6, 9.4, 13.9, 14.1]  # starts only: windows of clip_length
    r = score_chorus_detection(detected, truth, clip_length=4.0)
    assert r["hits"].tolist() == [True, False, True, False]
    np.testing.assert_allclose(r["overlaps"], [0.9, 0.85, 0.025, 0.0])
    r = score_chorus_detection(detected, truth, clip_length=4.0, tolerance=1.0)
    assert r["hits"].tolist() == [True, True, True, False]
    r = score_chorus_detection(detected, truth, clip_length=4.0, tolerance=0.0)
    assert r["hits"].tolist() == [False, False, True, False]


def test_scorer_partial_overlap_and_no_detection():
    truth = [[(10.0, 14.0)], [(10.0, 14.0)], [(10.0, 14.0)]]
    r = score_chorus_detection([(12.0, 20.0), None, float("nan")], truth)
    assert r["hits"].tolist() == [True, False, False]
    np.testing.assert_allclose(r["overlaps"], [0.25, 0.0, 0.0])
    assert np.isnan(r["start_errors"][1:]).all()


def test_scorer_first_clip_baseline_misses_the_generated_choruses(corpus):
    truth = corpus.truth["chorus_times"]
    r = score_chorus_detection([0.0] * len(truth), truth, clip_length=5.0)
    assert r["hit_rate"] == 0.0
    first = [times[0] for times in truth]
    assert score_chorus_detection(first, truth)["hit_rate"] == 1.0


@pytest.mark.parametrize(
    "detected, truth, kwargs, error, message",
    [
        ([1.0, 2.0], [[(0.0, 4.0)]], {}, ValueError, "detected has 2 songs but truth_chorus_times has 1"),
        ([1.0], [[(0.0, 4.0)]], {}, ValueError, "detected gives chorus starts only: pass clip_length="),
        ([(5.0, 3.0)], [[(0.0, 4.0)]], {}, ValueError, "detected[0]: expected 0 <= start < end, got (5.0, 3.0)"),
        ([(1.0, 2.0, 3.0)], [[(0.0, 4.0)]], {}, ValueError, "detected[0]: expected a start or a (start, end) pair"),
        ([(1.0, 2.0)], [[(4.0, 1.0)]], {}, ValueError, "truth_chorus_times[0]: expected start < end, got (4.0, 1.0)"),
        ([], [], {}, ValueError, "no songs to score"),
        ([1.0], [[(0.0, 4.0)]], {"clip_length": -1}, ValueError, "clip_length must be a positive number"),
        ([(1.0, 2.0)], [[(0.0, 4.0)]], {"tolerance": -0.1}, ValueError, "tolerance must be a non-negative"),
        (5.0, [[(0.0, 4.0)]], {}, TypeError, "detected must be a sequence with one item per song"),
    ],
)
def test_scorer_validates_its_inputs(detected, truth, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        score_chorus_detection(detected, truth, **kwargs)
