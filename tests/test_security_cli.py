"""The command against hostile paths, tables and model files (issue 21, points 3, 5, 6, 7).

* a model path that is a FIFO is refused, never opened (no hang: a guard fails the
  test instead of hanging it);
* bad output paths are refused before any work, with exit code 2, leaving nothing;
* ``predict --metadata`` reports every bad row in the table's own numbering, and
  predicts the rest with ``--skip-outside``;
* labels and paths from files reach the CSV spreadsheet-safe and the terminal
  without control characters.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from viral_sklearn.cli import main
from viral_sklearn.cli import predict as predict_mod
from viral_sklearn.cli._model import is_safetensors
from viral_sklearn.cli._output import emit, Console

from ._model_files import write_raw
from .test_security_model_files import _make_model, _parts


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return _make_model(tmp_path_factory.mktemp("model"))


@contextlib.contextmanager
def no_hang(seconds: int = 60):
    """Fail (TimeoutError) instead of blocking forever, e.g. on opening a FIFO."""
    def fail(*_):
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _tree(folder: Path) -> list[str]:
    return sorted(os.fspath(p.relative_to(folder)) for p in folder.rglob("*"))


# ----------------------------------------------------------------------
# point 3: a FIFO as the model
# ----------------------------------------------------------------------
@pytest.mark.parametrize("extra", [[], ["--trust-pickle"]], ids=["safe", "trust_pickle"])
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_fifo_as_the_model_is_refused_without_hanging(command, extra, model, tmp_path, capsys):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    songs = [model.song] if command == "predict" else ["--metadata", str(tmp_path / "t.csv"), "--audio-dir",
                                                       str(tmp_path)]
    with no_hang():
        code = main([command, str(fifo), *songs, "-q", *extra])
    assert code == 1
    err = capsys.readouterr().err
    assert f"error: model file {str(fifo)!r} is not a regular file (a FIFO, socket or device)" in err


def test_sniffing_a_fifo_does_not_block(tmp_path):
    fifo = tmp_path / "m"
    os.mkfifo(fifo)
    with no_hang():
        assert is_safetensors(os.fspath(fifo)) is False


# ----------------------------------------------------------------------
# point 5: output paths checked first
# ----------------------------------------------------------------------
def _bad_paths(tmp_path: Path) -> dict:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    return {
        "folder": (os.fspath(tmp_path / "folder"), "is a folder; give a file name"),
        "empty": ("", "an empty path names no file"),
        "proc": ("/proc/viral-sklearn-out", "cannot write in '/proc'"),
        "below_a_file": (os.fspath(tmp_path / "file" / "x"), f"{str(tmp_path / 'file')!r} is not a folder"),
    }


def _command(name: str, model, tmp_path: Path, option: str, value: str) -> list[str]:
    table = os.fspath(tmp_path / "no-such-table.csv")  # never read: the paths are checked first
    return {
        "predict": ["predict", model.path, model.song, option, value],
        "chorus": ["chorus", model.song, option, value],
        "train": ["train", "--metadata", table, "--audio-dir", os.fspath(tmp_path), option, value],
        "evaluate": ["evaluate", model.path, "--metadata", table, "--audio-dir", os.fspath(tmp_path), option, value],
        "demo": ["demo", option, value],
    }[name]


FILE_OPTIONS = [("predict", "--out"), ("chorus", "--out"), ("train", "--out")]
FOLDER_OPTIONS = [("predict", "--cache"), ("chorus", "--cache"), ("chorus", "--plot"), ("train", "--cache"),
                  ("evaluate", "--cache"), ("evaluate", "--plots"), ("demo", "--out")]


@pytest.mark.parametrize("kind", ["folder", "empty", "proc", "below_a_file"])
@pytest.mark.parametrize("command,option", FILE_OPTIONS)
def test_a_bad_output_file_is_refused_before_any_work(command, option, kind, model, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path, reason = _bad_paths(tmp_path)[kind]
    if command == "train":
        monkeypatch.setattr("viral_sklearn.cli.train.labelled_songs", lambda *a, **k: pytest.fail("work was done"))
    before = _tree(tmp_path)
    assert main([*_command(command, model, tmp_path, option, path), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"error: {option} {path!r}" in err and reason in err, err
    assert _tree(tmp_path) == before  # no .part file, no probe left


@pytest.mark.parametrize("command,option", FOLDER_OPTIONS)
def test_a_bad_output_folder_is_refused_before_any_work(command, option, model, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("x")
    monkeypatch.setattr("viral_sklearn.cli.demo.run_demo", lambda *a, **k: pytest.fail("work was done"))
    before = _tree(tmp_path)
    args = _command(command, model, tmp_path, option, os.fspath(tmp_path / "file"))
    if command == "train":
        args += ["--out", "m.safetensors"]
    assert main([*args, "-q"]) == 2
    err = capsys.readouterr().err
    assert f"error: {option} {str(tmp_path / 'file')!r} is a file, not a folder" in err, err
    assert _tree(tmp_path) == before


def test_a_failed_write_leaves_no_part_file(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(OSError):
        emit("a,b\n", os.fspath(tmp_path / "taken"), Console(quiet=True))  # bypassing the checks
    assert _tree(tmp_path) == ["taken"]


def test_good_output_paths_still_work_and_missing_folders_are_made(model, tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "p.csv"
    assert main(["predict", model.path, model.song, "--out", str(out), "--cache", str(tmp_path / "c"), "-q"]) == 0
    assert out.read_text().startswith("path,p_viral,predicted,chorus_start,chorus_found\n")
    assert not list(out.parent.glob(".viral-sklearn-probe-*"))


# ----------------------------------------------------------------------
# point 6: predict --metadata with bad rows
# ----------------------------------------------------------------------
@pytest.fixture
def table_with_bad_rows(model, tmp_path):
    """audio/ with two songs; a table whose row 1 leads outside and row 3 names no file."""
    audio = tmp_path / "audio"
    audio.mkdir()
    for name in ("one", "two"):
        shutil.copy(model.song, audio / f"{name}.wav")
    shutil.copy(model.song, tmp_path / "outside.wav")
    table = tmp_path / "songs.csv"
    table.write_text("id\none\n../outside\ntwo\nmissing\n")
    return table, audio


def test_predict_metadata_lists_every_bad_row_and_names_the_flag(model, table_with_bad_rows, capsys):
    table, audio = table_with_bad_rows
    code = main(["predict", model.path, "--metadata", str(table), "--audio-dir", str(audio), "--extension", "wav",
                 "-q"])
    assert code == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"error: 1 of 4 rows of {str(table)!r} names a file outside audio_dir" in err
    assert "row 1, id '../outside': '..' leads outside audio_dir" in err
    assert "and 1 other row has no usable audio file:\n  row 3, id 'missing':" in err  # the table's own row number
    assert "pass --skip-outside to predict the other rows" in err and "--allow-outside" in err
    assert "on_error" not in err and "allow_outside=" not in err


def test_predict_metadata_with_skip_outside_predicts_the_rest(model, table_with_bad_rows, tmp_path, capsys):
    table, audio = table_with_bad_rows
    out = tmp_path / "p.csv"
    code = main(["predict", model.path, "--metadata", str(table), "--audio-dir", str(audio), "--extension", "wav",
                 "--skip-outside", "--out", str(out), "-q"])
    assert code == 1  # some songs were not predicted
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["path"] for r in rows] == [os.path.join(audio, "one.wav"), os.path.join(audio, "two.wav")]
    err = capsys.readouterr().err
    assert "error: 2 of 4 songs could not be read (2 fine):" in err
    assert f"  {os.path.join(audio, '../outside.wav')}: '..' leads outside audio_dir" in err and "(row 1)" in err
    assert f"  {os.path.join(audio, 'missing.wav')}: file not found (row 3)" in err


# ----------------------------------------------------------------------
# point 7: untrusted strings in the outputs
# ----------------------------------------------------------------------
EVIL_LABELS = sorted(["\x1b[2J\x1b]0;pwned\x07hit", '=HYPERLINK("http://evil.example","flop")'])


@pytest.fixture
def evil_model(model, tmp_path):
    p = _parts(model.path)
    p.steps["clf"]["classes"] = {"dtype": "str", "values": EVIL_LABELS}
    return write_raw(tmp_path / "evil.safetensors", p.index, p.description, p.data)


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_labels_and_paths_reach_the_csv_spreadsheet_safe(evil_model, model, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    names = ["=1+1.wav", "+2+3.wav", "@SUM(A1).wav"]
    for name in names:
        shutil.copy(model.song, tmp_path / name)
    out = tmp_path / "p.csv"
    assert main(["predict", evil_model, *names, "--out", str(out), "-q"]) == 0
    cells = _cells(out.read_text())
    assert all("'" + name in cells for name in names), cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not c[1:2].isdigit())], cells
    assert not [c for c in cells if any(ord(ch) < 32 for ch in c)], cells
    predicted = {row["predicted"] for row in csv.DictReader(io.StringIO(out.read_text()))}
    assert predicted <= {"'" + EVIL_LABELS[1], "\\x1b[2J\\x1b]0;pwned\\x07hit"}, predicted


def test_no_control_character_reaches_the_terminal(evil_model, model, tmp_path, capsys):
    bad_song = tmp_path / "song\x1b[31m\nerror: fake line.wav"  # missing: its name is in the failure list
    assert main(["predict", evil_model, model.song, str(bad_song), "-q"]) == 1
    out, err = capsys.readouterr()
    for text in (out, err):
        assert not [ch for ch in text if (ord(ch) < 32 and ch not in "\n\r") or 0x7f <= ord(ch) < 0xa0], repr(text)
    assert "song\\x1b[31m\\nerror: fake line.wav: file not found" in err
    assert "\nerror: fake line" not in err


# ----------------------------------------------------------------------
# point 9: the temporary cache folder goes away, also on SIGTERM
# ----------------------------------------------------------------------
@pytest.mark.parametrize("how", ["finished", "sigterm"])
def test_the_temporary_cache_folder_is_removed(how, model, tmp_path, monkeypatch):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", os.fspath(tmp))
    seen = []
    real = predict_mod.predict_songs

    def predict_songs(pipeline, songs):
        seen.extend(p.name for p in tmp.iterdir() if p.name.startswith("viral-sklearn-cache-"))
        if how == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` from outside
            time.sleep(60)  # the signal ends the run here
        return real(pipeline, songs)

    monkeypatch.setattr(predict_mod, "predict_songs", predict_songs)
    with no_hang(120):
        if how == "sigterm":
            with pytest.raises(SystemExit) as info:
                main(["predict", model.path, model.song, "-q"])
            assert info.value.code == 128 + signal.SIGTERM
        else:
            assert main(["predict", model.path, model.song, "-q"]) == 0
    assert len(seen) == 1  # the folder existed while the songs were predicted
    assert not [p for p in tmp.iterdir() if p.name.startswith("viral-sklearn-cache-")]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the command's handler is gone
