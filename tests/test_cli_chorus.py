"""``viral-sklearn chorus --all`` (every chorus occurrence) and ``--export`` (the clip as audio).

Run in-process on a few generated songs written as MP3, FLAC and WAV, beside a
corrupt and a missing file; the rows and the written audio are checked against
the library on the same files.
"""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import pytest
import soundfile as sf

from viral_sklearn import ChorusExtractor, load_audio
from viral_sklearn.chorus import analyze_structure
from viral_sklearn.cli import main
from viral_sklearn.datasets import make_songs
from viral_sklearn.datasets._synthetic import write_audio_file

CLIP = 6.0


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    """Three songs (MP3, the FLAC and WAV of another, ...), a corrupt file and a missing one."""
    folder = tmp_path_factory.mktemp("chorus_cli")
    corpus = make_songs(2, folder / "gen", duration=(40, 44), chorus_length=CLIP, sample_rates=(22050,),
                        random_state=3)
    data, rate = sf.read(corpus.paths[1], dtype="float32", always_2d=True)
    flac, wav = str(folder / "two.flac"), str(folder / "two.wav")
    write_audio_file(flac, data, rate, "FLAC", "PCM_16")
    write_audio_file(wav, data, rate, "WAV", "PCM_16")
    corrupt = folder / "corrupt.mp3"
    corrupt.write_bytes(b"ID3 this is not audio" * 50)
    good = [corpus.paths[0], flac, wav]
    return {"good": good, "corrupt": str(corrupt), "missing": str(folder / "missing.wav"),
            "all": [good[0], str(corrupt), good[1], str(folder / "missing.wav"), good[2]]}


def test_all_lists_every_chorus_occurrence_and_names_bad_files(songs, capsys):
    assert main(["chorus", *songs["all"], "--all", "--csv", "--clip-length", str(CLIP), "-q"]) == 1
    out, err = capsys.readouterr()
    got = _rows(out)
    assert list(got[0]) == ["path", "start", "end", "confidence"]
    expected = []
    for path in songs["good"]:
        found = analyze_structure(path, clip_length=CLIP).choruses
        assert found, path  # these songs repeat their chorus
        expected += [(path, c.start, c.end, c.confidence) for c in found]
    assert [r["path"] for r in got] == [e[0] for e in expected]
    for r, (_, start, end, confidence) in zip(got, expected):
        assert float(r["start"]) == pytest.approx(start, abs=5e-4)
        assert float(r["end"]) == pytest.approx(end, abs=5e-4)
        assert float(r["confidence"]) == pytest.approx(confidence, abs=5e-4)
        assert float(r["end"]) > float(r["start"]) and 0.0 <= float(r["confidence"]) <= 1.0
    assert "error: 2 of 5 songs could not be read (3 fine):" in err
    assert f"  {songs['corrupt']}: " in err and f"  {songs['missing']}: " in err
    # the FLAC and the WAV of one recording: the same choruses
    flac = [(r["start"], r["end"]) for r in got if r["path"] == songs["good"][1]]
    wav = [(r["start"], r["end"]) for r in got if r["path"] == songs["good"][2]]
    assert flac == wav


def test_all_as_a_table(songs, capsys):
    assert main(["chorus", songs["good"][0], "--all", "--clip-length", str(CLIP), "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["path", "start", "end", "confidence"]
    assert len(lines) - 1 == len(analyze_structure(songs["good"][0], clip_length=CLIP).choruses)


def test_a_song_without_a_chorus_gets_one_empty_row(tmp_path, capsys):
    rng = np.random.default_rng(0)
    noise = str(tmp_path / "noise.wav")
    write_audio_file(noise, 0.1 * rng.standard_normal((30 * 11025, 1)).astype(np.float32), 11025, "WAV", "PCM_16")
    assert main(["chorus", noise, "--all", "--csv", "--clip-length", str(CLIP), "-q"]) == 0
    assert _rows(capsys.readouterr().out) == [{"path": noise, "start": "", "end": "", "confidence": ""}]


@pytest.mark.parametrize("extra", [[], ["--all"]])
def test_when_every_file_fails_no_empty_table_is_printed(tmp_path, capsys, extra):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"not audio at all")
    assert main(["chorus", str(bad), *extra]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "bad.mp3" in captured.err and "no rows to show" in captured.err
    # a CSV keeps its header, so a reader still sees the columns
    assert main(["chorus", str(bad), "--csv", *extra]) == 1
    assert capsys.readouterr().out.startswith("path,start,end,")


def test_export_writes_each_chorus_clip_as_audio(songs, tmp_path, capsys):
    out_dir = tmp_path / "clips"
    assert main(["chorus", *songs["all"], "--export", str(out_dir), "--csv", "--clip-length", str(CLIP),
                 "-q"]) == 1
    out, err = capsys.readouterr()
    assert f"  {songs['corrupt']}: " in err and f"  {songs['missing']}: " in err
    windows = ChorusExtractor(clip_length=CLIP).find_choruses(songs["good"])
    stems = [os.path.splitext(os.path.basename(p))[0] for p in songs["good"]]
    names = [f"{stems[0]}.chorus.wav", "two.chorus.wav", "two-2.chorus.wav"]  # FLAC and WAV share a stem
    assert sorted(os.listdir(out_dir)) == sorted(names)
    for path, name, (start, duration, _, _) in zip(songs["good"], names, windows):
        clip, rate = sf.read(out_dir / name, dtype="float32")
        assert sf.info(str(out_dir / name)).subtype == "PCM_16"
        y, native = load_audio(path, offset=start, duration=duration)
        assert rate == native == sf.info(path).samplerate
        assert clip.shape == y.shape and abs(clip.size / rate - CLIP) < 0.01
        np.testing.assert_allclose(clip, y, atol=1.5 / 32768)  # 16-bit rounding
    assert [float(r["start"]) for r in _rows(out)] == pytest.approx(windows[:, 0], abs=5e-4)


def test_export_folder_is_checked_before_any_work(songs, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["chorus", songs["good"][0], "--export", str(blocker), "-q"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"--export {str(blocker)!r} is a file, not a folder" in err


def test_all_needs_the_structure_method(songs, capsys):
    assert main(["chorus", songs["good"][0], "--all", "--method", "pychorus", "-q"]) == 2
    assert "--all lists the structure analysis's choruses" in capsys.readouterr().err
