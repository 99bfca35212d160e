"""
Saving and loading a model
==========================

Two formats: ``joblib`` keeps everything (training history, callbacks) but loading
a file runs code from it, so only load your own; ``save_pipeline`` writes weights as
safetensors plus a JSON description and ``load_pipeline`` rebuilds the pipeline
without unpickling anything: the format to share models in.  It also holds the
pooled-mel baselines: their scikit-learn steps travel as a skops payload that the
loader checks against a fixed allow-list of types before building anything.
"""

# %%
import os
import tempfile

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from viral_sklearn import PooledMelTransformer, make_viral_pipeline
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

# %%
# A pooled-mel baseline (the song steps, then mean/std pooling, scaling and a
# logistic regression) goes into the same format: our steps as JSON, the
# scikit-learn steps as an allow-listed skops payload.
pooled = Pipeline([(name, clone(step)) for name, step in pipe.steps[:-1]]
                  + [("pool", PooledMelTransformer()), ("scale", StandardScaler()),
                     ("clf", LogisticRegression(C=0.05, max_iter=2000))])
pooled.fit(songs.paths[2:], songs.labels[2:])
save_pipeline(pooled, os.path.join(OUT, "pooled.safetensors"))
pooled_again = load_pipeline(os.path.join(OUT, "pooled.safetensors"))
print("pooled   :", pooled_again.predict_proba(songs.paths[:2]).round(4).tolist())
assert np.array_equal(pooled.predict_proba(songs.paths[:2]), pooled_again.predict_proba(songs.paths[:2]))

# %%
# Every song's probability from the loaded models against the original ones: on
# the diagonal, because the safe format restores the same numbers.
import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(4, 4))
for model, loaded, name in ((pipe, safe, "LSTM"), (pooled, pooled_again, "pooled-mel logistic")):
    ax.scatter(model.predict_proba(songs.paths)[:, 1], loaded.predict_proba(songs.paths)[:, 1], label=name,
               alpha=0.7)
ax.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=1)
ax.set_xlabel("P(viral), original model")
ax.set_ylabel("P(viral), loaded from the safe format")
ax.legend(loc="upper left")
fig.tight_layout()
