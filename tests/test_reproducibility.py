"""Reproducibility on CPU: the same ``random_state`` gives the same bytes.

* two fits in one process, and fits in two separate processes (different hash
  seeds, fresh global random state), give bit-identical ``predict_proba``;
* predictions do not depend on the batch size used to predict, nor on the
  order or company of the songs;
* the song features, hence the probabilities, do not depend on the ``n_jobs``
  of the transformers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from viral_sklearn import make_viral_pipeline
from viral_sklearn.datasets import make_songs

ROOT = Path(__file__).resolve().parents[1]


def small_pipeline(random_state=0):
    pipe = make_viral_pipeline(clip_length=4, max_epochs=2, hidden_size=8, random_state=random_state)
    return pipe.set_params(mel__hop_length=441)  # 40 frames/s keeps the LSTM quick


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Six short synthetic MP3 songs (stereo, 22050 Hz), both labels."""
    songs = make_songs(
        6, tmp_path_factory.mktemp("songs"), duration=(16, 20), chorus_length=4, sample_rates=(22050,), random_state=0
    )
    assert set(songs.labels) == {0, 1}
    return songs


@pytest.fixture(scope="module")
def fitted(corpus):
    """The reference: one fit, its probabilities, the features it saw."""
    pipe = small_pipeline().fit(corpus.paths, corpus.labels)
    return pipe, pipe.predict_proba(corpus.paths)


def test_two_fits_in_one_process_are_bit_identical(corpus, fitted):
    pipe, proba = fitted
    again = small_pipeline().fit(corpus.paths, corpus.labels)
    assert proba.dtype == np.float32
    assert again.predict_proba(corpus.paths).tobytes() == proba.tobytes()
    # the same weights and the same training curve, not only the same outputs
    ref, new = pipe[-1].module_.state_dict(), again[-1].module_.state_dict()
    assert ref.keys() == new.keys()
    assert all(torch.equal(ref[k], new[k]) for k in ref)
    assert pipe[-1].history[:, "train_loss"] == again[-1].history[:, "train_loss"]
    # and the seed matters
    other = small_pipeline(random_state=1).fit(corpus.paths, corpus.labels)
    assert not np.array_equal(other.predict_proba(corpus.paths), proba)


_CHILD = """
import json, sys
import numpy as np
from viral_sklearn import make_viral_pipeline
paths, labels = json.loads(sys.argv[1])
pipe = make_viral_pipeline(clip_length=4, max_epochs=2, hidden_size=8, random_state=0)
pipe.set_params(mel__hop_length=441).fit(paths, np.array(labels))
proba = pipe.predict_proba(paths)
print(proba.dtype.str, proba.shape, proba.tobytes().hex())
"""


def test_two_processes_give_the_same_bytes(corpus, fitted):
    _, proba = fitted
    arg = json.dumps([list(corpus.paths), [int(v) for v in corpus.labels]])
    outputs = []
    for hash_seed in ("0", "12345"):  # a fresh interpreter each, different hash seeds
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, arg], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outputs.append(done.stdout.strip().splitlines()[-1])
    assert outputs[0] == outputs[1]
    dtype, _, hexed = outputs[0].partition(" ")
    assert dtype == proba.dtype.str
    assert hexed.endswith(proba.tobytes().hex())  # and equal to this process's fit


@pytest.mark.parametrize("batch_size", [1, 4, 64])
def test_predictions_do_not_depend_on_batch_size(corpus, fitted, batch_size):
    pipe, proba = fitted
    clf = pipe[-1]
    before = clf.batch_size
    try:
        clf.set_params(batch_size=batch_size)
        np.testing.assert_allclose(pipe.predict_proba(corpus.paths), proba, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(pipe.predict(corpus.paths), clf.classes_[np.argmax(proba, axis=1)])
    finally:
        clf.set_params(batch_size=before)


def test_predictions_do_not_depend_on_order_or_company(corpus, fitted):
    pipe, proba = fitted
    order = np.array([4, 1, 5, 0, 3, 2])
    shuffled = pipe.predict_proba([corpus.paths[i] for i in order])
    np.testing.assert_allclose(shuffled, proba[order], rtol=0, atol=1e-6)
    alone = np.concatenate([pipe.predict_proba([p]) for p in corpus.paths])
    np.testing.assert_allclose(alone, proba, rtol=0, atol=1e-6)


def test_features_do_not_depend_on_n_jobs(corpus, fitted):
    pipe, proba = fitted
    steps = pipe[:-1]
    serial = steps.set_params(chorus__n_jobs=1, mel__n_jobs=1).transform(corpus.paths)
    windows = steps[:2].transform(corpus.paths)
    try:
        parallel = steps.set_params(chorus__n_jobs=2, mel__n_jobs=2).transform(corpus.paths)
        parallel_windows = steps[:2].transform(corpus.paths)
        parallel_proba = pipe.predict_proba(corpus.paths)
    finally:
        steps.set_params(chorus__n_jobs=None, mel__n_jobs=None)
    assert serial.dtype == parallel.dtype == np.float32
    # exact: a song's features come from the same code on the same shapes in any
    # worker; the thread pools only split independent rows and frames
    assert serial.tobytes() == parallel.tobytes()
    assert [(c.offset, c.duration, c.chorus_found) for c in windows] == [
        (c.offset, c.duration, c.chorus_found) for c in parallel_windows
    ]
    assert parallel_proba.tobytes() == proba.tobytes()
