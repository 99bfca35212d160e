"""``viral-sklearn train --model``: the pooled models, saved safely, read by predict and evaluate."""

from __future__ import annotations

import csv
import io
import json
import os

import numpy as np
import pytest

from viral_sklearn.cli import main
from viral_sklearn.datasets import make_songs
from viral_sklearn.persistence import load_pipeline


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    return make_songs(8, folder, duration=(15, 16), chorus_length=3, sample_rates=(22050,), random_state=0)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


def _table(corpus):
    folder = os.path.dirname(corpus.paths[0])
    return ["--metadata", os.path.join(folder, "metadata.csv"), "--audio-dir", folder]


@pytest.mark.parametrize("model, classifier", [("pooled-logistic", "LogisticRegression"),
                                               ("pooled-boosting", "HistGradientBoostingClassifier")])
def test_train_a_pooled_model_then_predict_and_evaluate_read_it(corpus, cache, model, classifier, tmp_path, capsys):
    out = tmp_path / "model.safetensors"
    code = main(["train", *_table(corpus), "--out", str(out), "--model", model, "--clip-length", "3", "--seed", "0",
                 "--cv", "2", "--cache", cache, "-q"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"trained on 8 songs (4 of class 0, 4 of class 1): {model} "
                        f"(PooledMelTransformer + StandardScaler + {classifier}), chorus window 3 s")
    assert lines[1].startswith("cross-validation (2 folds, accuracy): ")
    assert lines[-1] == f"model saved: {out} (safetensors)"
    assert out.read_bytes()[:1] != b"\x80"  # not a pickle
    pipe = load_pipeline(out)
    assert [name for name, _ in pipe.steps] == ["mono", "chorus", "mel", "pool", "scale", "clf"]
    assert type(pipe.named_steps["clf"]).__name__ == classifier
    assert pipe.named_steps["mel"].memory is None  # the cache folder is this machine's, not the model's
    proba = pipe.predict_proba(corpus.paths)[:, 1]

    assert main(["predict", str(out), *corpus.paths, "--cache", cache, "-q"]) == 0
    got = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["path"] for r in got] == list(corpus.paths)
    np.testing.assert_allclose([float(r["p_viral"]) for r in got], proba, rtol=1e-5)

    assert main(["evaluate", str(out), *_table(corpus), "--json", "--cache", cache, "-q"]) == 0
    from sklearn.metrics import roc_auc_score

    scores = json.loads(capsys.readouterr().out)
    assert scores["n_songs"] == 8
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(corpus.labels, proba))


def test_lstm_options_are_refused_with_a_pooled_model(corpus, tmp_path, capsys):
    base = ["train", *_table(corpus), "--out", str(tmp_path / "m.safetensors"), "--model", "pooled-logistic"]
    assert main(base + ["--epochs", "3", "--hidden-size", "8"]) == 2
    assert "--epochs, --hidden-size configure(s) the LSTM: not with --model pooled-logistic" in capsys.readouterr().err
    assert main(base + ["--grid"]) == 2
    assert "--grid configure(s) the LSTM" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "m.safetensors")


def test_the_default_model_is_the_lstm(corpus, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "{lstm,pooled-logistic,pooled-boosting}" in text and "(default: lstm," in text
    assert "bench_models.py" in " ".join(text.split())  # the help says what chose it
