"""
Grid search on a Dask cluster
=============================

Everything parallel in viral_sklearn goes through joblib, so joblib's Dask
back-end spreads it over a ``dask.distributed`` cluster without changing a line
of the pipeline: the fits of ``GridSearchCV`` go to the workers, and so do the
songs of the chorus and mel steps.  Here the cluster is a ``LocalCluster`` of
two worker processes on this machine; on a real cluster, pass the scheduler's
address to ``Client`` instead (see the user guide's *Scaling* page).

The results equal a local search bit for bit on CPUs.  Needs the ``dask`` extra:
``pip install "viral-sklearn[dask]"``.
"""

# %%
# Dask starts its workers as fresh processes that import this script again: the
# work below runs only in the main process (``if __name__ == "__main__"``).
import os
import tempfile
import time

from dask.distributed import Client, LocalCluster
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV

from viral_sklearn import make_viral_pipeline
from viral_sklearn.datasets import make_songs

TINY = os.environ.get("VIRAL_SKLEARN_EXAMPLES_TINY") == "1"
OUT = os.environ.get("VIRAL_SKLEARN_EXAMPLES_OUT") or tempfile.mkdtemp()
GRID = {"clf__module__hidden_size": [8, 16] if TINY else [16, 32], "clf__lr": [5e-3, 1e-2]}


def search(memory: str) -> GridSearchCV:
    """The grid search of ``plot_grid_search.py``, with its own per-song cache."""
    pipe = make_viral_pipeline(clip_length=4, max_epochs=2 if TINY else 15, train_split=None, memory=memory)
    pipe.set_params(mel__hop_length=441)
    return GridSearchCV(pipe, GRID, cv=3, n_jobs=-1)


# %%
# Two workers of one thread each.  Each worker process gives torch its share of
# the cores (Dask sets ``OMP_NUM_THREADS`` for its workers; a fit inside a
# worker uses it), so two fits side by side do not fight over the cores.  The
# songs and the cache folder must be reachable from every worker: on one machine
# they are; on a cluster, put them on shared storage.
if __name__ == "__main__":
    songs = make_songs(12 if TINY else 90, os.path.join(OUT, "songs"), duration=(16, 20), chorus_length=4,
                       sample_rates=(22050,), random_state=0)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, Client(cluster) as client:
        print(f"cluster: {len(client.scheduler_info()['workers'])} workers")
        start = time.perf_counter()
        with parallel_backend("dask"):
            on_dask = search(os.path.join(OUT, "cache-dask")).fit(songs.paths, songs.labels)
        print(f"grid search on the cluster: {time.perf_counter() - start:.1f} s")

    # %%
    # The same search in this process, one fit after the other, for comparison.
    start = time.perf_counter()
    local = search(os.path.join(OUT, "cache-local")).set_params(n_jobs=1).fit(songs.paths, songs.labels)
    print(f"grid search in this process: {time.perf_counter() - start:.1f} s")
    print("best parameters:", on_dask.best_params_)
    print("mean CV accuracy per candidate:", on_dask.cv_results_["mean_test_score"].round(3))
    same = (on_dask.cv_results_["mean_test_score"] == local.cv_results_["mean_test_score"]).all()
    print("same scores as the local search:", bool(same))

    # %%
    # Each candidate's mean cross-validated accuracy from the two searches, side by
    # side: the same bars, because the same fits ran, only elsewhere.  (The gallery
    # builds this page on 12 songs and 2 epochs: with 4 songs a fold, one song moves
    # an accuracy by 0.25, so the differences between candidates say nothing there.)
    import matplotlib.pyplot as plt
    import numpy as np

    names = [f"h={p['clf__module__hidden_size']}, lr={p['clf__lr']:g}" for p in on_dask.cv_results_["params"]]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(x - 0.2, local.cv_results_["mean_test_score"], width=0.4, label="in this process")
    ax.bar(x + 0.2, on_dask.cv_results_["mean_test_score"], width=0.4, label="on the Dask cluster")
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean CV accuracy")
    ax.legend(loc="lower right")
    fig.tight_layout()
