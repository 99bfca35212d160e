"""A metadata table from a stranger costs about its size, and says what it does with labels (issue 21, point 8)."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from viral_sklearn.datasets import DatasetError, load_dataset
from viral_sklearn.datasets._table import MAX_ID_LENGTH, MAX_LISTED

from .conftest import tone, write_audio


@pytest.fixture
def audio(tmp_path):
    folder = tmp_path / "audio"
    (folder / "sub").mkdir(parents=True)
    for name in ("a", "b", "c"):
        write_audio(folder / f"{name}.wav", tone(0.2, 8000)[:, 0], 8000)
    return folder


def test_a_million_bad_rows_give_a_short_message_and_every_row(tmp_path, audio):
    n = 100_000  # the 10**6, scaled down; the message does not grow with it
    table = tmp_path / "bad.csv"
    table.write_text("id,label\n" + "".join(f"../x{i},{i % 2}\n" for i in range(n)))
    with pytest.raises(DatasetError) as info:
        load_dataset(table, audio)
    message = str(info.value)
    assert len(message) < 4000, len(message)
    assert message.count("\n  row ") == MAX_LISTED
    assert message.endswith(f"  ... and {n - MAX_LISTED} more rows")
    assert len(info.value.rows) == n and info.value.rows[-1]["id"] == f"../x{n - 1}"


def test_missing_files_are_summarised_too(tmp_path, audio):
    table = pd.DataFrame({"id": [f"missing{i}" for i in range(50)], "label": [0, 1] * 25})
    with pytest.raises(DatasetError) as info:
        load_dataset(table, audio)
    assert str(info.value).endswith("  ... and 30 more rows") and len(info.value.rows) == 50


def test_only_the_columns_used_are_read(tmp_path, audio, monkeypatch):
    """200,000 columns (the issue's 1.6 MB table): the header is read by itself, then two columns."""
    n = 200_000
    table = tmp_path / "wide.csv"
    table.write_text("id,label," + ",".join(f"c{i}" for i in range(n)) + "\n"
                     + "".join(f"{s},{k}," + ",".join("1" * n) + "\n" for k, s in enumerate("ab")))
    calls = []
    real = pd.read_csv
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: calls.append(k) or real(*a, **k))
    tracemalloc.start()
    try:
        paths, labels = load_dataset(table, audio, extension=".wav")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [os.path.basename(p) for p in paths] == ["a.wav", "b.wav"] and labels.tolist() == [0, 1]
    assert [sorted(k["usecols"]) for k in calls] == [["id", "label"]], calls
    assert peak < 40 * 2**20, peak  # the 200,000 names once, as Python strings
    with pytest.raises(DatasetError) as info:
        load_dataset(table, audio, label_column="class")
    assert len(str(info.value)) < 1000 and f"and {n + 2 - MAX_LISTED} more (pass label_column=" in str(info.value)


def test_an_id_longer_than_any_path_is_refused_before_it_is_copied(tmp_path, audio):
    table = tmp_path / "long.csv"
    table.write_text("id,label\na,0\n" + "x" * 1_000_000 + ",1\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(table, audio, extension=".wav")
    assert str(info.value) == (f"{str(table)!r}: the 'id' of row 1 is longer than {MAX_ID_LENGTH} characters, longer "
                               "than any file path")


def test_rows_naming_one_file_are_refused_however_they_spell_it(tmp_path, audio):
    os.symlink(audio / "a.wav", audio / "alias.wav")
    table = pd.DataFrame({"id": ["a", "a.wav", "./a", "sub/../a", "alias", "b"], "label": [0, 1, 0, 1, 0, 1]})
    with pytest.raises(DatasetError) as info:
        load_dataset(table, audio, extension=".wav")
    assert str(info.value) == (
        "the metadata table: 1 file is named by several rows; each song must appear once:\n"
        f"  rows 0, 1, 2, 3, 4 (id 'a', 'a.wav', './a', 'sub/../a', 'alias') name one file, "
        f"{os.path.join(audio, 'a.wav')!r}, with conflicting labels 0, 1")
    with pytest.raises(DatasetError, match="name one file"):
        load_dataset(table.iloc[[0, 2]], audio, extension=".wav", allow_outside=True)  # same labels: still one song
    paths, _ = load_dataset(table.iloc[[0, 5]], audio, extension=".wav")
    assert len(paths) == 2


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity"])
def test_an_infinite_label_is_refused(tmp_path, audio, text):
    table = tmp_path / "t.csv"
    table.write_text(f"id,label\na,0\nb,{text}\nc,1\n")
    with pytest.raises(DatasetError, match=r"unusable 'label' values:\n  row 1: label -?inf is not a class "
                                           r"\(an infinite number\)$"):
        load_dataset(table, audio, extension=".wav")


def test_labels_of_mixed_kinds_are_refused(audio):
    table = pd.DataFrame({"id": ["a", "b", "c"], "label": [0, "hit", True]})
    with pytest.raises(DatasetError, match="labels mix booleans, numbers and text"):
        load_dataset(table, audio, extension=".wav")


@pytest.mark.parametrize("column,expected", [
    ("0\n1\n2", [0, 1, 2]),  # three classes: each one a class, the classifier learns them all
    ("hit\nmiss\nhit", ["hit", "miss", "hit"]),  # text: the second in sorted order ("miss") is p_viral's
    ("True\nFalse\nTrue", [True, False, True]),  # booleans stay booleans: True is the positive class
])
def test_labels_keep_their_values_and_kind(tmp_path, audio, column, expected):
    table = tmp_path / "t.csv"
    table.write_text("id,label\n" + "\n".join(f"{s},{v}" for s, v in zip("abc", column.split("\n"))) + "\n")
    _, labels = load_dataset(table, audio, extension=".wav")
    assert labels.tolist() == expected and type(labels[0].item()) is type(expected[0])
    assert np.unique(labels).size == len(set(expected))
