"""The library on a real Dask cluster: a LocalCluster of 2 worker processes, 1 thread each.

Everything parallel goes through joblib, so ``joblib.parallel_backend("dask")``
sends it to the cluster unchanged: the song steps' songs, and the fits of
``GridSearchCV`` / ``cross_val_score``.  Results must equal a local run bit for
bit (CPU), the workers must share one per-song cache, and a fit inside a
worker must use only that worker's share of the cores.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle

import numpy as np
import pytest
import torch
from dask.distributed import Client, LocalCluster, get_task_stream
from joblib import parallel_backend, parallel_config
from skorch.callbacks import Callback
from sklearn.model_selection import GridSearchCV, cross_val_score

from viral_sklearn import LSTMClassifier, make_viral_pipeline
from viral_sklearn.datasets import make_songs

#: generous: two worker processes import torch and the library on a busy machine
START_TIMEOUT = 180


def small_pipeline(**kw):
    pipe = make_viral_pipeline(clip_length=3, max_epochs=2, hidden_size=8, random_state=0, train_split=None, **kw)
    return pipe.set_params(mel__hop_length=441)  # 50 frames/s keeps the LSTM quick


@contextlib.contextmanager
def local_cluster(n_workers, threads_per_worker):
    """A client of a LocalCluster of worker processes on free ports, closed on the way out.

    Dask's nanny writes its ``pre-spawn-environ`` (``OMP_NUM_THREADS=1``,
    ``PYTHONHASHSEED`` ...) into *this* process's environment before spawning
    a worker: it is put back once the workers run, so other tests' subprocesses
    and joblib workers do not inherit it.
    """
    environ = dict(os.environ)
    cluster = None
    try:
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True, scheduler_port=0,
            dashboard_address=":0", silence_logs=logging.ERROR,
        )
        with Client(cluster, timeout=f"{START_TIMEOUT}s") as client:
            client.wait_for_workers(n_workers, timeout=START_TIMEOUT)
            os.environ.clear()
            os.environ.update(environ)
            yield client
    finally:
        if cluster is not None:
            cluster.close(timeout=60)
        os.environ.clear()
        os.environ.update(environ)


@pytest.fixture(scope="module")
def client():
    with local_cluster(2, 1) as client:
        yield client


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Eight short synthetic MP3 songs (22050 Hz stereo), both labels."""
    songs = make_songs(8, tmp_path_factory.mktemp("songs"), duration=(12, 14), chorus_length=3,
                       sample_rates=(22050,), random_state=0)
    assert sorted(set(songs.labels)) == [0, 1]
    return songs


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    """A per-song cache that the local extraction fills."""
    return str(tmp_path_factory.mktemp("warm-cache"))


@pytest.fixture(scope="module")
def local_features(corpus, warm_cache):
    return small_pipeline(memory=warm_cache)[:-1].transform(corpus.paths)


def ran_on(stream) -> set:
    """The workers that ran tasks in a recorded task stream."""
    return {task["worker"] for task in stream.data}


def test_extraction_on_the_cluster_equals_local(client, corpus, local_features):
    workers = set(client.scheduler_info()["workers"])
    with get_task_stream(client) as stream, parallel_backend("dask"):
        followed = small_pipeline()[:-1].transform(corpus.paths)  # n_jobs=None follows the back-end
        explicit = small_pipeline(n_jobs=2)[:-1].transform(corpus.paths)
    assert ran_on(stream) and ran_on(stream) <= workers
    assert followed.dtype == np.float32 and followed.shape == local_features.shape
    # exact: each song runs the same code on the same shapes on any worker
    assert followed.tobytes() == local_features.tobytes()
    assert explicit.tobytes() == local_features.tobytes()


def test_grid_search_on_the_cluster_equals_local(client, corpus, tmp_path):
    # each search has its own cache: its first candidate extracts the songs, the others read them
    grid = {"clf__module__hidden_size": [4, 8]}
    local = GridSearchCV(small_pipeline(memory=tmp_path / "local"), grid, cv=2).fit(corpus.paths, corpus.labels)
    with get_task_stream(client) as stream, parallel_backend("dask"):
        remote = GridSearchCV(small_pipeline(memory=tmp_path / "remote"), grid, cv=2, n_jobs=-1)
        remote.fit(corpus.paths, corpus.labels)
    assert len(ran_on(stream)) == 2  # the fits were spread over both workers
    for key in ("split0_test_score", "split1_test_score", "mean_test_score", "rank_test_score"):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_
    assert remote.predict_proba(corpus.paths).tobytes() == local.predict_proba(corpus.paths).tobytes()


def test_cross_val_score_on_the_cluster_equals_local(client, corpus, warm_cache, local_features):
    # songs already in the cache: the workers read it, and only fit
    pipe = small_pipeline(memory=warm_cache)
    local = cross_val_score(pipe, corpus.paths, corpus.labels, cv=2, scoring="neg_log_loss")
    with parallel_config(backend="dask"):
        remote = cross_val_score(pipe, corpus.paths, corpus.labels, cv=2, scoring="neg_log_loss", n_jobs=-1)
    assert remote.tolist() == local.tolist()


def test_workers_fill_one_cache_that_a_local_run_reads(client, corpus, local_features, tmp_path, monkeypatch,
                                                        count_decodes):
    # a relative folder: the workers started elsewhere still write where the caller reads
    monkeypatch.chdir(tmp_path)
    with parallel_backend("dask"):
        remote = small_pipeline(memory="cache")[:-1].transform(corpus.paths)
    assert count_decodes == []  # every song was decoded on the workers
    entries = [f for _, _, files in os.walk(tmp_path / "cache") for f in files]
    assert len(entries) == 2 * len(corpus.paths)  # one chorus and one mel entry per song
    assert all(f.endswith(".npy") and not f.startswith(".tmp-") for f in entries)
    cached = small_pipeline(memory=str(tmp_path / "cache"))[:-1].transform(corpus.paths)
    assert count_decodes == []  # all read back from the workers' entries
    assert cached.tobytes() == remote.tobytes() == local_features.tobytes()


def test_every_step_pickles_without_handles_or_tensors(corpus, tmp_path):
    pipe = small_pipeline(memory=tmp_path / "cache").fit(corpus.paths, corpus.labels)
    for name, step in pipe.steps:
        for key, value in step.get_params(deep=True).items():
            assert not isinstance(value, (torch.Tensor, torch.nn.Module)), (name, key)
        clone = pickle.loads(pickle.dumps(step))
        assert type(clone) is type(step)
    again = pickle.loads(pickle.dumps(pipe))
    assert again.predict_proba(corpus.paths).tobytes() == pipe.predict_proba(corpus.paths).tobytes()


class RecordThreads(Callback):
    """Remembers torch's thread count during training (runs where the fit runs)."""

    def on_train_begin(self, net, **kwargs):
        self.seen_ = torch.get_num_threads()


def fit_and_report_threads():
    """torch's threads in this thread before, during and after a fit."""
    before = torch.get_num_threads()
    X = np.random.RandomState(0).randn(16, 20, 4).astype(np.float32)
    y = np.arange(16) % 2
    clf = LSTMClassifier(max_epochs=1, random_state=0, callbacks=[("threads", RecordThreads())]).fit(X, y)
    return before, dict(clf.callbacks_)["threads"].seen_, torch.get_num_threads()


def test_a_fit_in_a_worker_uses_the_workers_allowance(client):
    # Dask's nanny allows each worker process 1 thread by default
    assert client.submit(fit_and_report_threads, pure=False).result()[1] == 1


def test_fits_side_by_side_in_a_worker_share_its_allowance_and_restore_torch(monkeypatch):
    # one worker process running 2 tasks at once, allowed 4 threads: each fit gets 4 // 2
    # (the nanny passes this environment on: it takes precedence over its own defaults)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.setenv("MKL_NUM_THREADS", "4")
    with local_cluster(1, 2) as client:
        results = client.gather([client.submit(fit_and_report_threads, pure=False) for _ in range(6)])
    assert [during for _, during, _ in results] == [2] * 6
    assert all(after == before for before, _, after in results)  # each worker thread is as it was


def test_fits_in_joblib_worker_processes_share_the_cores():
    """GridSearchCV(n_jobs=2): joblib's worker processes give torch cores // 2 threads."""
    from sklearn.model_selection import cross_validate

    X = np.random.RandomState(0).randn(16, 20, 4).astype(np.float32)
    y = np.arange(16) % 2
    clf = LSTMClassifier(max_epochs=1, random_state=0, callbacks=[("threads", RecordThreads())])
    done = cross_validate(clf, X, y, cv=2, n_jobs=2, return_estimator=True)
    cores = len(os.sched_getaffinity(0))
    assert [dict(est.callbacks_)["threads"].seen_ for est in done["estimator"]] == [max(1, cores // 2)] * 2
