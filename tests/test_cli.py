"""The ``viral-sklearn`` command, run for real as a subprocess on generated songs.

One small corpus (``make_songs``: 8 songs of 15-16 s, 3-s choruses) and one model
trained by the command itself serve every test; the figures the command prints
are checked against the library run in this process on the same songs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import pytest

from viral_sklearn.cli import main
from viral_sklearn.datasets import make_songs
from viral_sklearn.persistence import load_pipeline

TRAIN_OPTIONS = ["--clip-length", "3", "--epochs", "2", "--hidden-size", "8", "--seed", "0"]


def cli(*args, cwd=None, timeout=300):
    """Run ``python -m viral_sklearn ARGS``; the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "viral_sklearn", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def cache_entries(folder) -> dict[str, tuple[int, int]]:
    """Cache files (dot-files, i.e. temporary ones, left out) -> (inode, mtime_ns)."""
    out = {}
    for root, _, files in os.walk(folder):
        for f in files:
            if f.endswith(".npy") and not f.startswith("."):
                st = os.stat(os.path.join(root, f))
                out[os.path.join(root, f)] = (st.st_ino, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    return make_songs(8, folder, duration=(15, 16), chorus_length=3, sample_rates=(22050,), random_state=0)


@pytest.fixture(scope="module")
def folder(corpus):
    return os.path.dirname(corpus.paths[0])


@pytest.fixture(scope="module")
def trained(corpus, folder, tmp_path_factory):
    work = tmp_path_factory.mktemp("trained")
    model = work / "model.safetensors"
    done = cli("train", "--metadata", os.path.join(folder, "metadata.csv"), "--audio-dir", folder,
               "--out", model, "--cache", work / "cache", *TRAIN_OPTIONS)
    assert done.returncode == 0, done.stderr[-3000:]
    return model, done


@pytest.fixture(scope="module")
def train_cache(trained):
    """The training run's cache: predict and evaluate with the same settings read the songs from it."""
    return str(trained[0].parent / "cache")


@pytest.fixture(scope="module")
def reference(trained, corpus, tmp_path_factory):
    """The trained model's answers on every song, computed here with the library."""
    model, _ = trained
    pipe = load_pipeline(model)
    cache = tmp_path_factory.mktemp("reference-cache")
    pipe.set_params(chorus__memory=cache, mel__memory=cache)
    windows = pipe.named_steps["chorus"].find_choruses(corpus.paths)
    proba = pipe.predict_proba(corpus.paths)[:, 1]
    return {"windows": windows, "proba": proba, "pred": pipe.predict(corpus.paths)}


def test_train_saves_a_safe_model_and_prints_its_summary(trained, corpus):
    model, done = trained
    lines = done.stdout.splitlines()
    assert lines[0] == ("trained on 8 songs (4 of class 0, 4 of class 1): hidden size 8, lr 0.005, 2 epochs, "
                        "chorus window 3 s")
    # early_stopping="refit" (the default): the epochs were chosen on the validation split, then every song
    assert re.fullmatch(r"last epoch \(([12])\): train loss \d\.\d{3} \(trained on every song for \1 epochs, the "
                        r"lowest validation loss \d\.\d{3} of 2 epochs on 80%\)", lines[1]), lines[1]
    assert lines[-1] == f"model saved: {model} (safetensors)"
    assert lines[-2] == ("classes 0, 1: p_viral (predict) and the ROC/PR curves (evaluate) are for 1, the second in "
                         "sorted order")
    # progress bars and notes went to stderr, not into the summary
    assert "extracting features of 8 songs" in done.stderr and "ChorusExtractor" in done.stderr
    with open(model, "rb") as fh:
        assert fh.read(2) != b"\x80\x04"  # not a pickle
    pipe = load_pipeline(model)  # the safe loader reads it back
    assert pipe.get_params()["clf__module__hidden_size"] == 8
    assert pipe.get_params()["chorus__clip_length"] == 3.0
    assert pipe.get_params()["chorus__memory"] is None  # the cache folder is this machine's, not the model's


def test_predict_reports_readable_songs_and_lists_the_others(trained, reference, corpus, tmp_path):
    model, _ = trained
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(b"ID3 this is not audio" * 50)
    missing = tmp_path / "missing.mp3"
    songs = [corpus.paths[0], missing, corpus.paths[1], corrupt, corpus.paths[2]]
    done = cli("predict", model, *songs)
    assert done.returncode == 1, done.stderr[-3000:]
    got = rows(done.stdout)
    assert [r["path"] for r in got] == corpus.paths[:3]
    assert list(got[0]) == ["path", "p_viral", "predicted", "chorus_start", "chorus_found"]
    # the same figures as the library, in this process, on the same model
    np.testing.assert_allclose([float(r["p_viral"]) for r in got], reference["proba"][:3], atol=1e-6)
    assert [int(r["predicted"]) for r in got] == list(reference["pred"][:3])
    windows = reference["windows"][:3]
    np.testing.assert_allclose([float(r["chorus_start"]) for r in got], windows[:, 0], atol=1e-6)
    assert [r["chorus_found"] for r in got] == ["true" if f else "false" for f in windows[:, 2]]
    assert "error: 2 of 5 songs could not be read (3 fine):" in done.stderr
    assert f"  {missing}: file not found" in done.stderr
    assert f"  {corrupt}: " in done.stderr


def test_predict_from_a_metadata_table_to_a_file(trained, train_cache, corpus, folder, tmp_path):
    model, _ = trained
    table = tmp_path / "songs.csv"
    ids = [Path(p).stem for p in corpus.paths[:4]]
    table.write_text("id\n" + "\n".join(ids[:2] + ["no_such_song"] + ids[2:]) + "\n")  # no label column needed
    out = tmp_path / "out" / "predictions.csv"
    done = cli("predict", model, "--metadata", table, "--audio-dir", folder, "--out", out, "--quiet",
               "--cache", train_cache)
    assert done.returncode == 1
    assert done.stdout == ""
    got = rows(out.read_text())
    assert [r["path"] for r in got] == corpus.paths[:4]
    assert f"{os.path.join(folder, 'no_such_song.mp3')}: file not found" in done.stderr
    assert "ChorusExtractor" not in done.stderr  # --quiet: no progress bars


def test_evaluate_prints_the_scores_of_the_model(trained, train_cache, reference, corpus, folder, tmp_path):
    from sklearn.metrics import accuracy_score, average_precision_score, confusion_matrix, f1_score, roc_auc_score

    model, _ = trained
    done = cli("evaluate", model, "--metadata", os.path.join(folder, "metadata.csv"), "--audio-dir", folder,
               "--json", "--plots", tmp_path / "plots", "--cache", train_cache)
    assert done.returncode == 0, done.stderr[-3000:]
    s = json.loads(done.stdout)
    proba, pred, y = reference["proba"], reference["pred"], corpus.labels
    assert s["n_songs"] == 8 and s["classes"] == [0, 1]
    assert s["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert s["roc_auc"] == pytest.approx(roc_auc_score(y, proba))
    assert s["pr_auc"] == pytest.approx(average_precision_score(y, proba))
    assert s["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert s["confusion_matrix"] == confusion_matrix(y, pred).tolist()
    for name in ("roc.png", "precision_recall.png", "confusion.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_table_names_every_score(trained, train_cache, reference, corpus, folder, capsys):
    # in this process (the subprocess run above covers the command): main() is the console script's body
    from sklearn.metrics import accuracy_score, confusion_matrix

    model, _ = trained
    assert main(["evaluate", str(model), "--metadata", os.path.join(folder, "metadata.csv"), "--audio-dir", folder,
                 "-q", "--cache", train_cache]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    pred = reference["pred"]
    assert lines[0] == "songs: 8 (4 of class 0, 4 of class 1)"
    assert [line.split()[0] for line in lines[1:5]] == ["accuracy", "ROC-AUC", "PR-AUC", "macro-F1"]
    assert lines[1] == f"accuracy  {accuracy_score(corpus.labels, pred):.3f}"
    assert lines[5:7] == ["confusion matrix (rows: true label, columns: predicted):", "  true \\ predicted  0  1"]
    assert [[int(v) for v in line.split()] for line in lines[7:]] == [
        [label, *row] for label, row in enumerate(confusion_matrix(corpus.labels, pred).tolist())
    ]
    assert err == ""


def test_chorus_csv_and_figures_through_the_console_script(reference, corpus, tmp_path):
    script = Path(sys.executable).with_name("viral-sklearn")
    assert script.exists(), "the package's console script is not installed in this environment"
    done = subprocess.run([str(script), "chorus", *corpus.paths[:3], "--clip-length", "3", "--csv",
                           "--plot", str(tmp_path / "figs")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    got = rows(done.stdout)
    windows = reference["windows"][:3]  # the model's chorus step is ChorusExtractor(clip_length=3)
    assert [r["path"] for r in got] == corpus.paths[:3]
    np.testing.assert_allclose([float(r["start"]) for r in got], windows[:, 0], atol=5e-4)
    np.testing.assert_allclose([float(r["end"]) for r in got], windows[:, 0] + 3, atol=5e-4)
    assert [r["found"] for r in got] == ["found" if f else "fallback" for f in windows[:, 2]]
    np.testing.assert_allclose([float(r["confidence"]) for r in got], windows[:, 3], atol=5e-4)
    figures = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert figures == sorted(Path(p).stem + ".png" for p in corpus.paths[:3])


def test_an_unreadable_model_file(corpus, tmp_path):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x00" * 40)
    done = cli("predict", bad, corpus.paths[0])
    assert done.returncode == 1
    assert f"error: cannot read model '{bad}': " in done.stderr
    assert done.stdout == ""


def test_a_missing_model_file(corpus, tmp_path, capsys):
    assert main(["predict", str(tmp_path / "nothing.safetensors"), corpus.paths[0]]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: model file '{tmp_path / 'nothing.safetensors'}' not found\n"


def test_a_pickle_model_needs_trust_pickle(trained, corpus, tmp_path):
    model, _ = trained
    pickled = tmp_path / "model.joblib"
    joblib.dump(load_pipeline(model), pickled)
    refused = cli("predict", pickled, corpus.paths[0])
    assert refused.returncode == 2
    assert "refusing to load" in refused.stderr and "--trust-pickle" in refused.stderr
    assert refused.stdout == ""


def test_trust_pickle_loads_a_joblib_model(trained, train_cache, corpus, tmp_path, capsys):
    model, _ = trained
    pickled = tmp_path / "model.joblib"
    joblib.dump(load_pipeline(model), pickled)
    assert main(["predict", str(model), *corpus.paths[:2], "-q", "--cache", train_cache]) == 0
    safe = capsys.readouterr().out
    assert main(["predict", str(pickled), *corpus.paths[:2], "--trust-pickle", "-q", "--cache", train_cache]) == 0
    assert capsys.readouterr().out == safe


def test_metadata_without_a_label_column(folder, tmp_path):
    table = tmp_path / "nolabel.csv"
    table.write_text("id,genre\nsong_000,pop\nsong_001,rock\n")
    done = cli("train", "--metadata", table, "--audio-dir", folder, "--out", tmp_path / "m.safetensors")
    assert done.returncode == 1
    assert f"error: '{table}' has no label column 'label'; its columns are: 'id', 'genre'" in done.stderr
    assert not (tmp_path / "m.safetensors").exists()


def test_train_and_evaluate_list_every_bad_song(trained, corpus, tmp_path, capsys):
    audio = tmp_path / "audio"
    audio.mkdir()
    for path in corpus.paths[:3]:
        os.symlink(path, audio / Path(path).name)  # links leading out of the folder
    (audio / "broken.mp3").write_bytes(b"\xff\xfb" + b"\x00" * 2000)
    ids = [Path(p).stem for p in corpus.paths[:3]] + ["broken"]
    table = tmp_path / "t.csv"
    table.write_text("id,label\n" + "".join(f"{i},{k % 2}\n" for k, i in enumerate(ids)))
    args = ["--metadata", str(table), "--audio-dir", str(audio), "-q"]
    # a shared table cannot lead outside its folder unless asked for
    assert main(["train", *args, "--out", str(tmp_path / "m.safetensors"), *TRAIN_OPTIONS]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: 3 of 4 rows of {str(table)!r} name files outside audio_dir")
    assert "--allow-outside" in err and "a symbolic link leads outside audio_dir" in err
    args.append("--allow-outside")
    assert main(["train", *args, "--out", str(tmp_path / "m.safetensors"), *TRAIN_OPTIONS]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ChorusExtractor: 1 of 4 songs failed (3 succeeded):\n")
    assert f"[3] {audio / 'broken.mp3'}: " in err
    assert not (tmp_path / "m.safetensors").exists()
    assert main(["evaluate", str(trained[0]), *args]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: 1 of 4 songs could not be read (3 fine):\n")
    assert err.endswith("no scores: every song must be readable (fix or remove the songs above)\n")


def test_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("chorus", "train", "predict", "evaluate", "demo"):
        assert f"    {command} " in out
    assert "exit codes: 0 success, 1 bad songs or data, 2 wrong usage, 130 interrupted" in " ".join(out.split())


def test_interrupted_training_resumes_from_its_cache(corpus, folder, tmp_path):
    cache = tmp_path / "cache"
    args = ["train", "--metadata", os.path.join(folder, "metadata.csv"), "--audio-dir", folder,
            "--out", tmp_path / "model.safetensors", "--cache", cache, "--quiet", *TRAIN_OPTIONS]
    proc = subprocess.Popen([sys.executable, "-m", "viral_sklearn", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not cache_entries(cache) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)  # mid-extraction: no chance to clean up
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    before = cache_entries(cache)
    n_total = 2 * len(corpus.paths)  # one chorus and one mel entry per song
    assert 1 <= len(before) < n_total, f"killed too late: {len(before)} entries"
    assert not (tmp_path / "model.safetensors").exists()

    done = cli(*args[:-1 - len(TRAIN_OPTIONS)], *TRAIN_OPTIONS)  # the same command, with notes
    assert done.returncode == 0, done.stderr[-3000:]
    after = cache_entries(cache)
    assert len(after) == n_total
    # the entries written before the kill were read, not recomputed: same files, untouched
    assert {path: after[path] for path in before} == before
    assert f"cache folder {cache}: {len(before)} entries before, {n_total} now" in done.stderr
    assert load_pipeline(tmp_path / "model.safetensors").predict(corpus.paths).shape == (8,)


@pytest.mark.slow
def test_grid_search_with_cross_validation(trained, folder, tmp_path):
    _, first = trained
    cache = first.args[first.args.index("--cache") + 1]
    done = cli("train", "--metadata", os.path.join(folder, "metadata.csv"), "--audio-dir", folder,
               "--out", tmp_path / "best.joblib", "--cache", cache, "--clip-length", "3", "--epochs", "2",
               "--grid", "--hidden-size", "4", "8", "--lr", "0.01", "--cv", "2", "-q")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[1] == "grid search (2 candidates x 2 folds, accuracy):"
    assert lines[2].split() == ["hidden_size", "lr", "mean", "std", "rank"]
    table = [line.split() for line in lines[3:5]]
    assert [(r[0], r[1]) for r in table] == [("4", "0.01"), ("8", "0.01")]
    best = min(table, key=lambda r: (int(r[4]), table.index(r)))
    assert lines[5].startswith(f"best: hidden_size {best[0]}, lr 0.01 (mean accuracy {best[2]})")
    assert lines[-1] == f"model saved: {tmp_path / 'best.joblib'} (joblib)"
    model = joblib.load(tmp_path / "best.joblib")
    assert model.get_params()["clf__module__hidden_size"] == int(best[0])


def test_train_cross_validates_by_group_with_class_weights(corpus, folder, train_cache, tmp_path, monkeypatch):
    import pandas as pd
    import sklearn.model_selection as ms

    meta = pd.read_csv(os.path.join(folder, "metadata.csv"), dtype={"id": str})
    meta["artist"] = ["a", "a", "b", "b", "c", "c", "d", "d"]
    table = tmp_path / "by_artist.csv"
    meta.to_csv(table, index=False)
    seen = []
    real_split = ms.StratifiedGroupKFold.split

    def recording_split(self, X, y=None, groups=None):
        for train, test in real_split(self, X, y, groups):
            seen.append((set(np.asarray(groups)[train]), set(np.asarray(groups)[test])))
            yield train, test

    monkeypatch.setattr(ms.StratifiedGroupKFold, "split", recording_split)
    code = main(["train", "--metadata", str(table), "--audio-dir", folder, "--out", str(tmp_path / "m.safetensors"),
                 "--cache", train_cache, "--group-column", "artist", "--cv", "2", "--class-weight", "balanced", "-q",
                 *TRAIN_OPTIONS])
    assert code == 0
    assert len(seen) == 2 and all(not train & test for train, test in seen)
    assert load_pipeline(tmp_path / "m.safetensors").predict(corpus.paths).shape == (8,)


def test_train_group_column_errors(folder, tmp_path, capsys):
    import pandas as pd

    meta = pd.read_csv(os.path.join(folder, "metadata.csv"), dtype={"id": str})
    meta["artist"] = ["a"] * 4 + ["b"] * 4
    table = tmp_path / "two_artists.csv"
    meta.to_csv(table, index=False)
    base = ["train", "--metadata", str(table), "--audio-dir", folder, "--out", str(tmp_path / "m.safetensors"), "-q"]
    assert main(base + ["--group-column", "artist", "--cv", "3"]) == 1
    assert "3-fold cross-validation by 'artist' needs at least 3 groups; there are 2" in capsys.readouterr().err
    assert main(base + ["--group-column", "singer", "--cv", "2"]) == 1
    err = capsys.readouterr().err
    assert "has no group column 'singer'" in err and "(pass --group-column to name them)" in err
    assert main(base + ["--group-column", "artist"]) == 2
    assert "--group-column groups the cross-validation folds: it needs --cv or --grid" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_runs_its_main_job(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "viral_sklearn.cli", "demo", "--out", tmp_path / "demo", "--n-songs", "24",
         "--clip-length", "3", "--max-epochs", "1", "--n-jobs", "1", "--quiet"],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["n_songs"] == 24 and summary["n_artists"] == 6 and summary["difficulty"] == "hard"
    assert summary["cv"] == "StratifiedGroupKFold(3) by artist"
    rows = {row["model"]: row for row in summary["comparison"]}
    assert list(rows) == ["LSTM", "pooled-mel logistic", "pooled-mel boosting", "LSTM, offset clip",
                          "pooled-mel logistic, offset clip", "pooled-mel logistic, loudest clip", "dummy"]
    assert rows["dummy"]["roc_auc_mean"] == 0.5
    assert summary["best_model"] == max(list(rows)[:-1], key=lambda m: rows[m]["roc_auc_mean"])
    assert summary["held_out"]["shared_artists"] == 0
    assert summary["n_train"] + summary["n_test"] == 24
    assert set(summary["chorus_detection"]) == {"structure", "offset", "loudest"}
    assert summary["reloaded_model_identical"] is True
    assert "StratifiedGroupKFold(3) by artist, every candidate on the same folds" in done.stdout
    assert "pooled-mel logistic, loudest clip" in done.stdout and "held-out: accuracy" in done.stdout
    assert "Winner: " + summary["best_model"] in done.stdout and summary["verdict"].startswith("Winner: ")
    assert (tmp_path / "demo" / "comparison.png").exists()
    # the best model in the safe format, and no pickle anywhere in the demo's output
    assert summary["model"] == str(tmp_path / "demo" / "model.safetensors")
    assert load_pipeline(summary["model"]).steps[0][0] == "mono"
    assert f"model = load_pipeline({summary['model']!r})" in done.stdout
    written = [p for p in (tmp_path / "demo").rglob("*") if p.is_file()]
    assert not [p for p in written if p.suffix in (".joblib", ".pkl", ".pickle")]
    assert not [p for p in written if p.read_bytes()[:1] == b"\x80"]  # no pickle under another name
