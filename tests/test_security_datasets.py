"""A shared metadata table cannot make a fit read files outside its audio folder."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from viral_sklearn.datasets import DatasetError, load_dataset

from .conftest import tone, write_audio


@pytest.fixture
def folder(tmp_path):
    """audio/ with a.wav, b.wav, d.wav, sub/c.wav, a link inside (inner.wav -> b.wav) and one
    leading out (link.wav -> ../secret.wav); secret.wav, secret2.wav and secret3.wav lie next to audio/."""
    audio = tmp_path / "audio"
    (audio / "sub").mkdir(parents=True)
    for path in (audio / "a.wav", audio / "b.wav", audio / "d.wav", audio / "sub" / "c.wav", tmp_path / "secret.wav",
                 tmp_path / "secret2.wav", tmp_path / "secret3.wav"):
        write_audio(path, tone(0.2, 8000)[:, 0], 8000)
    os.symlink(audio / "b.wav", audio / "inner.wav")
    os.symlink(tmp_path / "secret.wav", audio / "link.wav")
    return tmp_path


def _table(folder):
    """Every row names its own file (rows naming one file are refused)."""
    secret, secret2, secret3 = (os.fspath(folder / f"secret{k}.wav") for k in ("", "2", "3"))
    ids = ["a", "../secret2", secret3, "link", "inner", "sub/../sub/c", os.fspath(folder / "audio" / "d.wav"),
           "../" * 20 + "etc/passwd"]
    return pd.DataFrame({"id": ids, "label": [0, 1, 0, 1, 0, 1, 0, 1]}), secret, secret2, secret3


def test_ids_resolving_outside_the_folder_are_refused_all_in_one_error(folder):
    table, secret, secret2, secret3 = _table(folder)
    audio = os.fspath(folder / "audio")
    for on_error in ("raise", "skip"):  # never skipped: the table itself is wrong
        with pytest.raises(DatasetError) as info:
            load_dataset(table, audio, extension=".wav", on_error=on_error)
        message = str(info.value)
        assert message.startswith(f"4 of 8 rows of the metadata table name files outside audio_dir {audio!r}; a "
                                  "table may only name files in its audio folder (pass allow_outside=True if you "
                                  "trust it):\n")
        assert [r["row"] for r in info.value.rows] == [1, 2, 3, 7]
        reasons = {r["id"]: r["reason"] for r in info.value.rows}
        assert reasons == {
            "../secret2": f"'..' leads outside audio_dir (resolves to {secret2!r})",
            secret3: f"an absolute path, outside audio_dir (resolves to {secret3!r})",
            "link": f"a symbolic link leads outside audio_dir (to {secret!r})",
            "../" * 20 + "etc/passwd": "'..' leads outside audio_dir (resolves to '/etc/passwd.wav')",
        }
        assert f"  row 3, id 'link': a symbolic link leads outside audio_dir (to {secret!r})" in message


def test_outside_ids_are_accepted_with_allow_outside(folder):
    table, secret, secret2, secret3 = _table(folder)
    table = table.iloc[:7]  # /etc/passwd.wav does not exist: that would be a missing file
    audio = os.fspath(folder / "audio")
    paths, labels = load_dataset(table, audio, extension=".wav", allow_outside=True)
    assert paths[1:4] == [os.path.join(audio, "../secret2.wav"), secret3, os.path.join(audio, "link.wav")]
    assert [os.path.realpath(p) for p in paths[1:4]] == [secret2, secret3, secret]
    np.testing.assert_array_equal(labels, [0, 1, 0, 1, 0, 1, 0])


def test_ids_that_stay_inside_are_accepted(folder):
    """A link to a file inside, '..' that comes back, an absolute path into the folder."""
    table = _table(folder)[0]
    audio = os.fspath(folder / "audio")
    inside = table.iloc[[0, 4, 5, 6]]
    paths, labels = load_dataset(inside, audio, extension=".wav")
    assert [os.path.relpath(os.path.realpath(p), os.path.realpath(audio)) for p in paths] == [
        "a.wav", "b.wav", os.path.join("sub", "c.wav"), "d.wav"]
    np.testing.assert_array_equal(labels, [0, 0, 1, 0])


def test_a_csv_naming_files_outside_is_refused_before_any_file_is_looked_at(folder):
    csv = folder / "audio" / "metadata.csv"
    csv.write_text("id,label\n../missing,1\na,0\n")
    with pytest.raises(DatasetError, match=r"1 of 2 rows of '.*metadata\.csv' names a file outside audio_dir .*\n"
                                           r"  row 0, id '\.\./missing': '\.\.' leads outside audio_dir"):
        load_dataset(csv, folder / "audio", extension=".wav")  # not "file not found": it was never opened
    with pytest.raises(DatasetError, match=r"row 0, id '\.\./missing': '[^']*missing\.wav': file not found"):
        load_dataset(csv, folder / "audio", extension=".wav", allow_outside=True)


def test_audio_dir_that_is_itself_a_link_is_its_own_folder(folder):
    os.symlink(folder / "audio", folder / "alias")
    paths, _ = load_dataset(pd.DataFrame({"id": ["a", "inner"], "label": [0, 1]}), folder / "alias", extension="wav")
    assert paths == [os.path.join(folder / "alias", "a.wav"), os.path.join(folder / "alias", "inner.wav")]
