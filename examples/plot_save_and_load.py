"""
Saving and loading a model
==========================

Two formats: ``joblib`` keeps everything (training history, callbacks) but loading
a file runs code from it, so only load your own; ``save_pipeline`` writes weights as
safetensors plus a JSON description and ``load_pipeline`` rebuilds the pipeline
without unpickling anything: the format to share models in.
"""

# %%
import os
import tempfile

import joblib
import numpy as np

from viral_sklearn import make_viral_pipeline
from viral_sklearn.datasets import make_songs
from viral_sklearn.persistence import load_pipeline, save_pipeline

TINY = os.environ.get("VIRAL_SKLEARN_EXAMPLES_TINY") == "1"
OUT = os.environ.get("VIRAL_SKLEARN_EXAMPLES_OUT") or tempfile.mkdtemp()
songs = make_songs(10 if TINY else 40, os.path.join(OUT, "songs"), duration=(16, 20), chorus_length=4,
                   sample_rates=(22050,), random_state=2)
pipe = make_viral_pipeline(clip_length=4, max_epochs=2 if TINY else 10).set_params(mel__hop_length=441)
pipe.fit(songs.paths[2:], songs.labels[2:])

# %%
# joblib: the whole object.
joblib.dump(pipe, os.path.join(OUT, "model.joblib"))
same = joblib.load(os.path.join(OUT, "model.joblib"))

# %%
# The safe format: one .safetensors file.
save_pipeline(pipe, os.path.join(OUT, "model.safetensors"))
safe = load_pipeline(os.path.join(OUT, "model.safetensors"))

# %%
proba = pipe.predict_proba(songs.paths[:2])
print("original :", proba.round(4).tolist())
print("joblib   :", same.predict_proba(songs.paths[:2]).round(4).tolist())
print("safe     :", safe.predict_proba(songs.paths[:2]).round(4).tolist())
assert np.array_equal(proba, safe.predict_proba(songs.paths[:2]))
