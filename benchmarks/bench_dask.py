"""Grid search on 1 vs 2 Dask workers (LocalCluster, 1 thread each) on the same songs: times and ratio.

The same ``GridSearchCV`` over ``make_viral_pipeline`` (``--n-songs`` synthetic
MP3s, a grid of hidden sizes x learning rates, ``--cv`` folds) runs

* in this process, one fit after the other (``n_jobs=1``, torch's own thread
  count; a reference);
* under ``joblib.parallel_backend("dask")`` on a ``LocalCluster`` of 1 worker
  process, then of 2 worker processes, each with 1 thread (Dask's nanny gives
  each worker's torch 1 thread).

Cluster start-up and each worker's imports (a tiny fit on every worker) are
not timed.  By default (``--cache warm``) the songs' chorus
windows and mel spectrograms are computed once into a per-song cache before
any timing, and every search reads them: what is measured is the search
itself (fits and scoring), as in a search over classifier parameters after its
first candidate.  ``--cache cold`` gives each search its own empty cache: its
first candidate also extracts the songs (on the workers).

The three searches must give the same ``cv_results_`` (printed).  Ideal ratio
1 -> 2 workers: 2x on 2 free cores.

Example::

    python benchmarks/bench_dask.py                          # 24 songs, 4 candidates x 3 folds
    python benchmarks/bench_dask.py --n-songs 8 --epochs 1 --cv 2   # a smoke test
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time

from _common import cached_songs, machine, table


def search(args, memory: str, n_jobs):
    from sklearn.model_selection import GridSearchCV

    from viral_sklearn import make_viral_pipeline

    pipe = make_viral_pipeline(clip_length=args.clip, max_epochs=args.epochs, train_split=None, memory=memory)
    pipe.set_params(mel__hop_length=441)  # 50 frames/s, as the examples
    grid = {"clf__module__hidden_size": args.hidden, "clf__lr": args.lr}
    return GridSearchCV(pipe, grid, cv=args.cv, n_jobs=n_jobs)


def _warm_up() -> bool:
    """Imports and a tiny fit in a worker: one-off costs kept out of the timing."""
    import numpy as np

    from viral_sklearn import LSTMClassifier

    X = np.zeros((8, 10, 4), dtype=np.float32)
    LSTMClassifier(max_epochs=1, random_state=0).fit(X, np.arange(8) % 2)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-songs", type=int, default=24)
    parser.add_argument("--clip", type=float, default=4.0, help="chorus window in seconds (default 4)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--hidden", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--lr", type=float, nargs="+", default=[5e-3, 1e-2])
    parser.add_argument("--cache", choices=["warm", "cold"], default="warm")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="cluster sizes (default 1 2)")
    args = parser.parse_args(argv)

    import numpy as np
    from dask.distributed import Client, LocalCluster
    from joblib import parallel_backend

    from viral_sklearn import make_viral_pipeline

    songs = cached_songs(args.n_songs, duration=(16, 20), chorus_length=args.clip, sample_rates=(22050,), seed=0)
    paths, labels = songs["paths"], np.array(songs["labels"])
    root = tempfile.mkdtemp(prefix="bench_dask-")
    warm = os.path.join(root, "warm")
    if args.cache == "warm":
        start = time.perf_counter()
        pipe = make_viral_pipeline(clip_length=args.clip, memory=warm).set_params(mel__hop_length=441)
        pipe[:-1].transform(paths)
        print(f"[setup] {len(paths)} songs extracted into the cache in {time.perf_counter() - start:.0f} s",
              file=sys.stderr)

    def memory(name):
        return warm if args.cache == "warm" else os.path.join(root, name)

    n_fits = len(args.hidden) * len(args.lr) * args.cv
    print(f"GridSearchCV: {len(args.hidden) * len(args.lr)} candidates x {args.cv} folds = {n_fits} fits + refit, "
          f"{len(paths)} songs, {args.epochs} epochs, {args.clip:g}-s clips, cache {args.cache}")
    print(f"machine: {machine()}")

    rows, results = [], {}
    _warm_up()
    start = time.perf_counter()
    results["local"] = search(args, memory("local"), 1).fit(paths, labels)
    rows.append(["this process, n_jobs=1", "-", time.perf_counter() - start])
    environ = dict(os.environ)
    for n in args.workers:
        with LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=":0",
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            client.wait_for_workers(n, timeout=300)
            client.run(_warm_up)
            os.environ.clear()
            os.environ.update(environ)  # the nanny wrote its worker settings into ours
            start = time.perf_counter()
            with parallel_backend("dask"):
                results[n] = search(args, memory(f"dask{n}"), -1).fit(paths, labels)
            rows.append([f"LocalCluster, {n} worker(s) x 1 thread", n, time.perf_counter() - start])
    base = next((r[2] for r in rows if r[1] == args.workers[0]), None)
    print()
    table(["where", "workers", "time s", f"speed-up vs {args.workers[0]} worker"],
          [[w, n, f"{t:.1f}", "-" if n == "-" else f"{base / t:.2f}x"] for w, n, t in rows])
    ref = results["local"].cv_results_
    same = all(
        np.array_equal(r.cv_results_[k], ref[k])
        for r in results.values() for k in ref if k.startswith(("split", "mean_test", "rank"))
    )
    print(f"\nsame cv_results_ (split/mean test scores, ranks) everywhere: {same}")
    if len(args.workers) >= 2:
        times = {r[1]: r[2] for r in rows}
        lo, hi = args.workers[0], args.workers[-1]
        print(f"ratio {lo} -> {hi} workers: {times[lo] / times[hi]:.2f}x (ideal {hi / lo:.0f}x with "
              f"{hi} free cores)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
