"""Threads per task, and the scoped limit on torch's and the BLAS pools."""

from __future__ import annotations

import threading
import types

import numpy as np
import pytest
import torch
from joblib import parallel_config
from threadpoolctl import threadpool_info

import viral_sklearn._runtime._threads as threads_mod
from viral_sklearn import AudioClip, MelSpectrogramTransformer
from viral_sklearn._runtime._threads import available_cores, limit_threads, threads_per_task
from .conftest import tone


def blas_limits():
    return [(pool["internal_api"], pool["num_threads"]) for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_threads_per_task_outside_a_dask_worker():
    assert threads_per_task() is None  # a plain process: torch's own setting stays
    assert threads_per_task(2) == max(1, available_cores() // 2)
    assert threads_per_task(10 * available_cores()) == 1


@pytest.mark.parametrize(
    "env, nthreads, expected",
    [({"OMP_NUM_THREADS": "6"}, 2, 3), ({"MKL_NUM_THREADS": "4", "OMP_NUM_THREADS": "8"}, 2, 2),
     ({"OMP_NUM_THREADS": "1"}, 4, 1), ({"OMP_NUM_THREADS": "x"}, 1, None)],
)
def test_threads_per_task_in_a_dask_worker_divides_its_allowance(monkeypatch, env, nthreads, expected):
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    worker = types.SimpleNamespace(state=types.SimpleNamespace(nthreads=nthreads))
    monkeypatch.setattr(threads_mod, "dask_worker", lambda: worker)
    # a value that is not a number is ignored: the cores are the allowance
    assert threads_per_task(7) == (expected if expected is not None else available_cores() // nthreads or 1)


def test_limit_threads_restores_and_nests():
    before_torch, before_blas = torch.get_num_threads(), blas_limits()
    with limit_threads(1):
        assert torch.get_num_threads() == 1
        assert all(n == 1 for _, n in blas_limits())
        with limit_threads(2):
            assert torch.get_num_threads() == 2
        assert torch.get_num_threads() == 1  # the inner call restored the outer's
    assert torch.get_num_threads() == before_torch and blas_limits() == before_blas
    with limit_threads(None):
        assert torch.get_num_threads() == before_torch


def test_threads_leaving_in_the_other_order_restore_the_pools():
    """A enters, B enters, A leaves, B leaves: nothing stays limited.

    (What OpenBLAS reports inside a thread is its own affair: 0.3.31 ignores a
    limit set from a non-main thread once the main thread has changed one.)
    """
    before_blas = blas_limits()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        seen["a_before"] = torch.get_num_threads()
        with limit_threads(1):
            a_in.set()
            b_in.wait(30)
        a_out.set()
        seen["a_after"] = torch.get_num_threads()

    def b():
        a_in.wait(30)
        seen["b_before"] = torch.get_num_threads()
        with limit_threads(1):
            b_in.set()
            a_out.wait(30)
            seen["b_inside_after_a"] = threads_mod._blas["depth"]
        seen["b_after"] = torch.get_num_threads()

    workers = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(60)
    assert seen["a_after"] == seen["a_before"] and seen["b_after"] == seen["b_before"]
    assert seen["b_inside_after_a"] == 1  # A's leaving did not lift the BLAS limit B still holds
    assert blas_limits() == before_blas and threads_mod._blas == {"depth": 0, "limiter": None}


def test_song_steps_on_joblib_threads_leave_the_pools_as_they_were():
    songs = [AudioClip.from_array(tone(1.0, 8000, freq=300 + 50 * k)[:, 0], 8000) for k in range(6)]
    before_torch, before_blas = torch.get_num_threads(), blas_limits()
    step = MelSpectrogramTransformer(sample_rate=8000, duration=1.0, n_mels=16)
    with parallel_config(backend="threading"):
        threaded = step.set_params(n_jobs=2).transform(songs)
    # exact: one song's mel is the same computation on the same shapes in any thread
    assert threaded.tobytes() == step.set_params(n_jobs=1).transform(songs).tobytes()
    assert torch.get_num_threads() == before_torch and blas_limits() == before_blas
    assert np.isfinite(threaded).all()
