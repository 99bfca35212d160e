"""
Finding the chorus
==================

The chorus is the most repeated part of a song.  ``ChorusExtractor`` finds it with
the pychorus algorithm and keeps only that window; here we check it against songs
whose choruses we know, and draw one.
"""

# %%
# A few synthetic songs with known chorus positions.
import os
import tempfile

import numpy as np

from viral_sklearn import ChorusExtractor, load_audio
from viral_sklearn.datasets import make_songs, score_chorus_detection

TINY = os.environ.get("VIRAL_SKLEARN_EXAMPLES_TINY") == "1"
OUT = os.environ.get("VIRAL_SKLEARN_EXAMPLES_OUT") or tempfile.mkdtemp()
CLIP = 6.0
songs = make_songs(4 if TINY else 20, os.path.join(OUT, "songs"), duration=(28, 34), chorus_length=CLIP,
                   sample_rates=(22050,), random_state=0)
print(songs)

# %%
# Detect the choruses: ``find_choruses`` gives (start, duration, found, confidence) per song.
windows = ChorusExtractor(clip_length=CLIP).find_choruses(songs.paths)
scores = score_chorus_detection([(s, s + d) for s, d, _, _ in windows], list(songs.truth["chorus_times"]),
                                tolerance=2.5)
baseline = score_chorus_detection([(0.0, CLIP)] * len(songs), list(songs.truth["chorus_times"]), tolerance=2.5)
print(f"chorus hit rate {scores['hit_rate']:.2f}, first-{CLIP:g}-seconds baseline {baseline['hit_rate']:.2f}")

# %%
# Draw the first song with its detected and true choruses.
import matplotlib

matplotlib.use("Agg")
from viral_sklearn.plotting import plot_chorus  # noqa: E402

y, sr = load_audio(songs.paths[0], sr=22050)
start, duration, found, confidence = windows[0]
ax = plot_chorus(y, sr, chorus_start=start, clip_length=duration, true_choruses=songs.truth["chorus_times"][0])
ax.figure.savefig(os.path.join(OUT, "chorus.png"))
print("figure:", os.path.join(OUT, "chorus.png"))
