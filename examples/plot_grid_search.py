"""
Grid search over hidden size and learning rate
==============================================

The whole recipe is one sklearn ``Pipeline``, so ``GridSearchCV`` tunes it like any
other.  A per-song cache (``memory=``) makes every candidate after the first read
its features instead of decoding the songs again.
"""

# %%
import os
import tempfile

from sklearn.model_selection import GridSearchCV

from viral_sklearn import make_viral_pipeline
from viral_sklearn.datasets import make_songs

TINY = os.environ.get("VIRAL_SKLEARN_EXAMPLES_TINY") == "1"
OUT = os.environ.get("VIRAL_SKLEARN_EXAMPLES_OUT") or tempfile.mkdtemp()
songs = make_songs(12 if TINY else 90, os.path.join(OUT, "songs"), duration=(16, 20), chorus_length=4,
                   sample_rates=(22050,), random_state=0)

# %%
# Short chorus windows and 50 mel frames per second keep this quick on a CPU.
pipe = make_viral_pipeline(clip_length=4, max_epochs=2 if TINY else 15, memory=os.path.join(OUT, "cache"))
pipe.set_params(mel__hop_length=441)
grid = GridSearchCV(pipe, {"clf__module__hidden_size": [16, 32], "clf__lr": [5e-3, 1e-2]}, cv=3)
grid.fit(songs.paths, songs.labels)

# %%
print("best parameters:", grid.best_params_)
print("mean CV accuracy per candidate:", grid.cv_results_["mean_test_score"].round(3))

# %%
# The grid as a table of mean cross-validated accuracy.  The gallery builds this
# page on 12 songs and 2 epochs (the documentation builds in minutes), so the
# differences between cells are noise there; the script without
# ``VIRAL_SKLEARN_EXAMPLES_TINY`` trains 15 epochs on 90 songs.
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sizes, rates = [16, 32], [5e-3, 1e-2]
cells = np.empty((len(sizes), len(rates)))
for params, score in zip(grid.cv_results_["params"], grid.cv_results_["mean_test_score"]):
    cells[sizes.index(params["clf__module__hidden_size"]), rates.index(params["clf__lr"])] = score
fig, ax = plt.subplots(figsize=(4, 3))
image = ax.imshow(cells, vmin=0, vmax=1, cmap="viridis")
for (i, j), score in np.ndenumerate(cells):
    ax.text(j, i, f"{score:.2f}", ha="center", va="center", color="white" if score < 0.6 else "black")
ax.set_xticks(range(len(rates)), [f"{r:g}" for r in rates])
ax.set_yticks(range(len(sizes)), [str(s) for s in sizes])
ax.set_xlabel("learning rate")
ax.set_ylabel("hidden size")
ax.set_title("mean CV accuracy")
fig.colorbar(image, ax=ax)
fig.tight_layout()
