"""
Finding the chorus
==================

The pipeline keeps a 20-s clip of each song, meant to be its chorus.
``ChorusExtractor`` places it; ``method=`` says how.  Here every method meets
songs whose choruses we know (full-length synthetic pop songs: verses that
repeat, pre-choruses, loud verses in some songs, key changes), and we draw one.
"""

# %%
# A few full-length songs with known chorus positions.
import os
import tempfile

import numpy as np

from viral_sklearn import ChorusExtractor, load_audio
from viral_sklearn.datasets import make_songs, score_chorus_detection

TINY = os.environ.get("VIRAL_SKLEARN_EXAMPLES_TINY") == "1"
OUT = os.environ.get("VIRAL_SKLEARN_EXAMPLES_OUT") or tempfile.mkdtemp()
songs = make_songs(3 if TINY else 12, os.path.join(OUT, "songs"), form="pop", sample_rates=(22050,),
                   random_state=0)
print(f"{len(songs.paths)} songs of {np.mean([d for d in songs.truth['duration']]):.0f} s on average")
truth = list(songs.truth["chorus_times"])

# %%
# Every method on the same songs.  ``find_choruses`` gives (start, duration,
# found, confidence) per song; ``mean_overlap`` is the fraction of the clip
# that lies inside a true chorus.
windows = {}
for method in ("structure", "pychorus", "loudest", "offset"):
    windows[method] = ChorusExtractor(method=method).find_choruses(songs.paths)
    scores = score_chorus_detection([(s, s + d) for s, d, _, _ in windows[method]], truth, tolerance=0.0)
    print(f"{method:>9}: {scores['mean_overlap']:.2f} of the clip inside a chorus; "
          f"start inside a chorus in {scores['hit_rate']:.0%} of the songs")

# %%
# Three songs are too few to rank the methods: here one song can move a score by a
# third.  On the benchmark's 132 held-out instrumental songs
# (``benchmarks/bench_chorus_quality.py``, docs/performance.md section 6) the default
# puts 0.95 of its clip inside a chorus, the loudest 20 s 0.76, pychorus 0.66, a fixed
# offset 0.52; on 60 held-out sung pop songs (section 9) 0.80, the loudest 20 s 0.63.

# %%
# The default's confidence: how many times, on average, the clip's music comes
# back elsewhere in the song (1 - exp(-m)).
print("structure confidence per song:", np.round(windows["structure"][:, 3], 2).tolist())

# %%
# Draw the first song with the default's clip and the true choruses.
import matplotlib

matplotlib.use("Agg")
from viral_sklearn.plotting import plot_chorus  # noqa: E402

y, sr = load_audio(songs.paths[0], sr=11025)
start, duration, found, confidence = windows["structure"][0]
print("sections of the first song:",
      ", ".join(f"{name} {a:.0f}-{b:.0f} s" for name, a, b in songs.truth["sections"][0]))
ax = plot_chorus(y, sr, chorus_start=start, clip_length=duration, true_choruses=truth[0],
                 title=f"first song: the default's clip at {start:.1f} s (confidence {confidence:.2f})")
ax.figure.savefig(os.path.join(OUT, "chorus.png"))
