"""Threads per task: how many a task may use, and a scoped limit on the thread pools.

Songs and fits run side by side in joblib workers (processes or threads) and
in Dask workers.  Each one must use only its share of the cores, or torch's
and the BLAS libraries' thread pools oversubscribe them (a busy 2-core machine
made a mel spectrogram 30x slower, docs/performance.md).

* :func:`threads_per_task` says how many threads one task may use where it
  runs;
* :func:`limit_threads` applies that limit to torch's intra-op pool and to the
  BLAS/OpenMP pools (threadpoolctl) while inside, and restores them after;
* :func:`thread_allowance` tells code of ours that could use a helper thread
  (the decoder's read-ahead) the limit it runs under.

Nothing here imports Dask: a Dask worker is recognised only when
``distributed`` is already imported (it always is inside one).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading

__all__ = ["available_cores", "dask_worker", "threads_per_task", "limit_threads", "thread_allowance"]


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def dask_worker():
    """The ``distributed.Worker`` running the current task, or None outside one."""
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return None


def _env_threads() -> int | None:
    """The thread allowance the environment sets, as torch reads it at start:
    ``MKL_NUM_THREADS``, else ``OMP_NUM_THREADS``; None when neither is a positive int."""
    for name in ("MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def threads_per_task(n_side_by_side: int | None = None) -> int | None:
    """Threads one task may use where it runs, or None to leave the pools alone.

    Parameters
    ----------
    n_side_by_side : int or None
        How many tasks the caller runs at once in a local joblib pool (its
        ``n_jobs``), when it knows.

    Returns
    -------
    threads : int or None
        * In a Dask worker: the worker's CPU allowance divided by its threads,
          which run tasks side by side in one process.  The allowance is what
          its environment says, read as torch reads it at start
          (``MKL_NUM_THREADS``, else ``OMP_NUM_THREADS``; Dask's nanny sets
          both to 1 for every worker process by default, see
          ``distributed.nanny.pre-spawn-environ``), else its cores.
        * Elsewhere, with ``n_side_by_side``: ``cores // n_side_by_side``, at
          least 1.
        * Otherwise None: a plain process, or a joblib worker process, whose
          pools joblib already limited (loky starts its workers with
          ``OMP_NUM_THREADS = cores // n_jobs``, which torch reads at start).

    Examples
    --------
    >>> threads_per_task(None) is None
    True
    >>> threads_per_task(available_cores()) == 1
    True
    """
    worker = dask_worker()
    if worker is not None:
        allowance = _env_threads() or available_cores()
        nthreads = getattr(getattr(worker, "state", None), "nthreads", None) or getattr(worker, "nthreads", 1)
        return max(1, allowance // max(1, int(nthreads)))
    if n_side_by_side is None:
        return None
    return max(1, available_cores() // max(1, int(n_side_by_side)))


_LOCK = threading.Lock()
_blas: dict = {"depth": 0, "limiter": None}
_limits = threading.local()  # this thread's limit_threads values, innermost last
_found: dict = {"modules": -1, "controller": None}


def _controller():
    """threadpoolctl's view of the loaded thread pools, found again only when
    modules were imported since (finding them walks every loaded library: ~4 ms,
    once per song and step before).  Called under ``_LOCK``."""
    from threadpoolctl import ThreadpoolController

    if _found["modules"] != len(sys.modules):
        _found["controller"] = ThreadpoolController()
        _found["modules"] = len(sys.modules)
    return _found["controller"]


def thread_allowance() -> int:
    """Threads the current task may use: the innermost :func:`limit_threads` of
    this thread, else the cores this process may run on.

    Examples
    --------
    >>> with limit_threads(1):
    ...     thread_allowance()
    1
    >>> thread_allowance() == available_cores()
    True
    """
    stack = getattr(_limits, "stack", None)
    return stack[-1] if stack else available_cores()


@contextlib.contextmanager
def limit_threads(n: int | None):
    """Limit torch's intra-op threads and the BLAS pools to ``n`` while inside.

    ``None`` changes nothing.  torch's count is per thread (its OpenMP
    build keeps one count per thread that computes, taken from the last
    ``torch.set_num_threads`` when the thread first computes), so each call
    restores its own thread's count, which nesting within a thread keeps
    right.  The BLAS pools (threadpoolctl) are per process: overlapping uses
    from several threads are counted, the first one in records the settings
    and the last one out restores them (restoring per call would let two
    threads leaving in the other order keep a limit for good).

    Parameters
    ----------
    n : int or None

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with limit_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n is None:
        yield
        return
    import torch

    n = max(1, int(n))
    # torch's count first and last: setting MKL's threads also sets the calling
    # thread's OpenMP count, which is torch's
    previous = torch.get_num_threads()
    with _LOCK:
        if _blas["depth"] == 0:
            _blas["limiter"] = _controller().limit(limits=n, user_api="blas")
        else:
            _controller().limit(limits=n, user_api="blas")  # the first one restores the originals
        _blas["depth"] += 1
    torch.set_num_threads(n)
    stack = _limits.__dict__.setdefault("stack", [])
    stack.append(n)
    try:
        yield
    finally:
        stack.pop()
        with _LOCK:
            _blas["depth"] -= 1
            if _blas["depth"] == 0:
                _blas["limiter"].restore_original_limits()
                _blas["limiter"] = None
        torch.set_num_threads(previous)
