"""
Cross-validation over songs
===========================

``cross_val_score`` splits the *songs*; each fold's pipeline finds choruses, makes
mel spectrograms and trains the LSTM on its own training songs only.
"""

# %%
import os
import tempfile

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score

from viral_sklearn import make_viral_pipeline
from viral_sklearn.datasets import make_songs

TINY = os.environ.get("VIRAL_SKLEARN_EXAMPLES_TINY") == "1"
OUT = os.environ.get("VIRAL_SKLEARN_EXAMPLES_OUT") or tempfile.mkdtemp()
songs = make_songs(12 if TINY else 90, os.path.join(OUT, "songs"), duration=(16, 20), chorus_length=4,
                   sample_rates=(22050,), random_state=1)

# %%
# ``train_split=None``: inside cross-validation we don't need the monitoring split.
pipe = make_viral_pipeline(clip_length=4, hidden_size=32, lr=1e-2, max_epochs=2 if TINY else 15,
                           train_split=None, memory=os.path.join(OUT, "cache"))
pipe.set_params(mel__hop_length=441)
scores = cross_val_score(pipe, songs.paths, songs.labels, cv=StratifiedKFold(3, shuffle=True, random_state=0))
print(f"accuracy per fold: {np.round(scores, 3)}, mean {scores.mean():.3f} (chance 0.5)")
