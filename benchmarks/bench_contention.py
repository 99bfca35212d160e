"""Fit time alone vs two fits side by side: torch's threads oversubscribed, or shared out.

One fit is ``LSTMClassifier(max_epochs=--epochs, train_split=None).fit(X, y)`` on
``--n`` random sequences of ``--frames`` x 64 (a 20-s chorus at the library's
default hop is 2206 frames; fewer keep the benchmark short).  Cases:

* ``alone, C threads``: one fit, torch's default thread count (C = the cores);
* ``alone, C//2 threads``: one fit limited to half the cores;
* ``2 processes, C threads each``: two fits at once in two processes that each
  use every core, what happens without limits (2x oversubscribed);
* ``2 processes, C//2 threads each``: two fits at once, each limited to its
  share, what joblib's worker processes get (loky starts them with
  ``OMP_NUM_THREADS = cores // n_jobs``);
* ``joblib n_jobs=2``: two fits through ``joblib.Parallel(n_jobs=2)`` (the path of
  ``GridSearchCV(n_jobs=2)``);
* ``Dask, 2 workers x 1 thread``: two fits on a ``LocalCluster`` (the library
  gives each fit its worker's share); skipped without dask.

Each process imports and builds its data first, then all start together; the
time of a fit is measured inside its process (imports excluded).  The table
shows each case's wall time for its fits, the mean time per fit, and the
throughput (fits per second) relative to one fit alone with every core.

Example::

    python benchmarks/bench_contention.py                       # 64 x 600 frames, 3 epochs
    python benchmarks/bench_contention.py --n 16 --frames 50 --epochs 1   # a smoke test
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time

from _common import machine, table

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def data(n: int, frames: int):
    import numpy as np

    rng = np.random.RandomState(0)
    y = np.arange(n) % 2
    X = rng.randn(n, frames, 64).astype(np.float32) + 0.5 * y[:, None, None].astype(np.float32)
    return X, y


def one_fit(n: int, frames: int, epochs: int) -> tuple[float, int]:
    """Seconds of one fit in the calling process (or worker), and torch's threads during it."""
    import torch
    from skorch.callbacks import Callback

    from viral_sklearn import LSTMClassifier

    class Threads(Callback):
        def on_train_begin(self, net, **kwargs):
            self.seen_ = torch.get_num_threads()

    X, y = data(n, frames)
    start = time.perf_counter()
    clf = LSTMClassifier(max_epochs=epochs, random_state=0, train_split=None, callbacks=[("threads", Threads())])
    clf.fit(X, y)
    return time.perf_counter() - start, dict(clf.callbacks_)["threads"].seen_


def _child(n: int, frames: int, epochs: int) -> None:
    one_fit(8, 20, 1)  # warm-up: lazy imports, kernels
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()  # "go"
    seconds, threads = one_fit(n, frames, epochs)
    print(json.dumps({"seconds": seconds, "threads": threads}), flush=True)


def processes(count: int, threads: int | None, args) -> tuple[float, list[float], int]:
    """``count`` fits in as many processes, started together; (wall, per-fit seconds, torch threads in a fit)."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    if threads is not None:
        env.update({k: str(threads) for k in THREAD_VARS})
    cmd = [sys.executable, os.path.abspath(__file__), "--_child", str(args.n), str(args.frames), str(args.epochs)]
    procs = [subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(count)]
    for p in procs:
        json.loads(p.stdout.readline())  # ready
    start = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    done = [json.loads(p.stdout.readline()) for p in procs]
    wall = time.perf_counter() - start
    for p in procs:
        p.stdin.close()
        p.wait()
    return wall, [d["seconds"] for d in done], done[0]["threads"]


def joblib_pair(args) -> tuple[float, list[float], str]:
    from joblib import Parallel, delayed

    Parallel(n_jobs=2)(delayed(one_fit)(8, 20, 1) for _ in range(2))  # workers started, warm
    start = time.perf_counter()
    fits = Parallel(n_jobs=2)(delayed(one_fit)(args.n, args.frames, args.epochs) for _ in range(2))
    return time.perf_counter() - start, [f[0] for f in fits], fits[0][1]


def dask_pair(args):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        return None
    environ = dict(os.environ)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        os.environ.clear()
        os.environ.update(environ)  # the nanny wrote its worker settings into ours
        client.gather([client.submit(one_fit, 8, 20, 1, pure=False) for _ in range(2)])  # warm
        start = time.perf_counter()
        fits = client.gather([client.submit(one_fit, args.n, args.frames, args.epochs, pure=False) for _ in range(2)])
        return time.perf_counter() - start, [f[0] for f in fits], fits[0][1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=64, help="sequences per fit (default 64)")
    parser.add_argument("--frames", type=int, default=600, help="frames per sequence (default 600)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--_child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child:
        _child(*args._child)
        return 0

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    half = max(1, cores // 2)
    print(f"LSTMClassifier fits ({args.n} x {args.frames} frames x 64 mels, {args.epochs} epochs, batch 16) alone "
          f"and side by side; {cores} cores")
    print(f"machine: {machine()}")
    rows = []
    for label, count, threads in [(f"alone, {cores} threads", 1, None), (f"alone, {half} threads", 1, half),
                                  (f"2 processes, {cores} threads each", 2, cores),
                                  (f"2 processes, {half} threads each", 2, half)]:
        wall, fits, seen = processes(count, threads, args)
        rows.append((label, count, wall, fits, seen))
    wall, fits, seen = joblib_pair(args)
    rows.append(("joblib n_jobs=2 (loky)", 2, wall, fits, seen))
    pair = dask_pair(args)
    if pair is not None:
        rows.append(("Dask, 2 workers x 1 thread", 2, *pair))
    reference = rows[0][1] / rows[0][2]  # fits per second alone
    print()
    table(["case", "fits", "torch threads", "wall s", "s per fit", "fits/s vs alone"],
          [[label, count, seen, f"{wall:.2f}", f"{sum(fits) / len(fits):.2f}", f"{count / wall / reference:.2f}x"]
           for label, count, wall, fits, seen in rows])
    alone = rows[0][2]
    over = next(r for r in rows if r[0].startswith("2 processes") and r[4] == cores)
    shared = next(r for r in rows if r[0].startswith("2 processes") and r[4] == half)
    print(f"\ntwo fits side by side: {over[2] / alone:.2f}x the time of one alone when each uses every core, "
          f"{shared[2] / alone:.2f}x when each uses its share (ideal on {cores} free cores: about 1x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
