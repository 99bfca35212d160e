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
