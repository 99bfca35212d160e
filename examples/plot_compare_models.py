"""
Honest comparison: baselines, artists, class imbalance and the chorus
=====================================================================

Audio-only hit prediction is easy to fool ourselves about.  This example compares
the LSTM with two baselines on pooled mel statistics and a dummy, all on the same
cross-validation folds, grouped by artist so that no artist has songs on both
sides of a split; then it asks whether the chorus matters (the same classifier on
fixed-offset and loudest clips), what ignoring the artists would have claimed,
and what weighing the classes changes.

The songs are synthetic and hard (``difficulty="hard"``): the chorus's hook is weak
and varies from song to song, some verses carry it as a decoy, 10% of the labels
disagree with the audio, 30% of the songs are positive, and the artists share a
sound and a hit rate.

.. note::

   The gallery builds this page with 24 songs by 6 artists, 3 folds and 2 LSTM
   epochs, so that it renders in seconds: the numbers printed below are noise
   (at that size the LSTM can score below the dummy, and the folds that ignore
   the artists can score below the grouped ones).  The full-size run,
   ``python examples/plot_compare_models.py`` (160 songs by 16 artists, 4 folds,
   the LSTM's default 30 epochs; 70 s and 1.4 GB on 2 cores), prints:

   ==================================  =======  ============  ========
   model                               ROC-AUC  ROC-AUC s.d.  macro-F1
   ==================================  =======  ============  ========
   LSTM                                0.720    0.150         0.609
   pooled-mel logistic                 0.730    0.185         0.675
   pooled-mel boosting                 0.697    0.127         0.610
   pooled-mel logistic, offset clip    0.746    0.114         0.682
   pooled-mel logistic, loudest clip   0.748    0.139         0.695
   dummy                               0.500    0.000         0.410
   ==================================  =======  ============  ========

   Ignoring the artists, the two baselines claim 0.816 and 0.790 ROC-AUC
   (grouped: 0.730 and 0.697).  The loudest and offset clips score as well as
   the default's chorus: in these songs the chorus is the loudest part (96% of
   the loudest clip lies in a chorus, 94% of the default's, 69% of the offset
   clip's).  Every difference between the trained models is inside one fold's
   spread; all of them beat the dummy.  ``benchmarks/bench_models.py``
   repeats such comparisons over several seeds.
"""

# %%
# A hard corpus, by artist
# ------------------------
import os
import tempfile

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from viral_sklearn import PooledMelTransformer, make_viral_pipeline
from viral_sklearn.datasets import load_dataset, make_songs
from viral_sklearn.model_selection import compare_pipelines

TINY = os.environ.get("VIRAL_SKLEARN_EXAMPLES_TINY") == "1"
OUT = os.environ.get("VIRAL_SKLEARN_EXAMPLES_OUT") or tempfile.mkdtemp()
N_SONGS, N_ARTISTS, FOLDS = (24, 6, 3) if TINY else (160, 16, 4)
CLIP = 6.0

songs = make_songs(N_SONGS, os.path.join(OUT, "songs"), duration=(24, 30), chorus_length=CLIP,
                   sample_rates=(22050,), difficulty="hard", n_artists=N_ARTISTS, positive_fraction=0.3,
                   verse_hook_rate=0.5, random_state=0)
paths, y, artists = load_dataset(songs.metadata_csv, songs.out_dir, group_column="artist")
print(f"{len(paths)} songs by {len(set(artists))} artists, {y.mean():.0%} positive")

# %%
# The candidates
# --------------
# Every candidate starts with the same song steps (mono, chorus, mel in dB): only
# the chorus ``method`` changes.  :class:`~viral_sklearn.PooledMelTransformer`
# turns each (frames x mel) spectrogram into the mean and standard deviation of
# each band, so that any scikit-learn classifier can take the LSTM's place.
# Every classifier weighs the classes ``"balanced"`` (30% positives).
CACHE = os.path.join(OUT, "cache")


def lstm(method="structure"):
    # the library's default classifier (its epoch count chosen on a validation split,
    # then trained again on every song), but for the class weights every candidate shares
    pipe = make_viral_pipeline(clip_length=CLIP, class_weight="balanced", memory=CACHE, random_state=0,
                               **({"max_epochs": 2} if TINY else {}))
    return pipe.set_params(mel__hop_length=882, chorus__method=method, chorus__offset=8.0)


def pooled(classifier, method="structure"):
    return Pipeline(lstm(method).steps[:-1] + [
        ("pool", PooledMelTransformer()), ("scale", StandardScaler()), ("clf", classifier)])


def logistic(**kw):
    return LogisticRegression(C=0.05, max_iter=2000, **{"class_weight": "balanced", **kw})


candidates = {
    "LSTM": lstm(),
    "pooled-mel logistic": pooled(logistic()),
    "pooled-mel boosting": pooled(HistGradientBoostingClassifier(class_weight="balanced", random_state=0)),
    # the ablation: the same classifier on other clips
    "pooled-mel logistic, offset clip": pooled(logistic(), "offset"),
    "pooled-mel logistic, loudest clip": pooled(logistic(), "loudest"),
}

# %%
# Cross-validation grouped by artist
# ----------------------------------
# :func:`~viral_sklearn.model_selection.compare_pipelines` draws the folds once and
# runs every candidate on them.  The song steps learn nothing, so it extracts each
# song's features once per set of song steps (here three: chorus, offset and
# loudest clips), whatever the number of folds and candidates, and adds a
# ``DummyClassifier`` row: what a model that ignores the songs scores.
grouped = StratifiedGroupKFold(FOLDS, shuffle=True, random_state=0)
table = compare_pipelines(candidates, paths, y, groups=artists, cv=grouped, memory=CACHE)
columns = ["model", "roc_auc_mean", "roc_auc_std", "average_precision_mean", "f1_macro_mean", "accuracy_mean"]
print(table[columns].round(3).to_string(index=False))

# %%
# The dummy's ROC-AUC is 0.5 and its PR-AUC is the positive rate: a model is worth
# what it adds to those.  Accuracy flatters the dummy (it predicts "not viral" for
# every song and is right 70% of the time); macro-F1 does not.
import matplotlib

matplotlib.use("Agg")
from viral_sklearn.plotting import plot_comparison  # noqa: E402

ax = plot_comparison(table, metrics=("roc_auc", "average_precision", "f1_macro"),
                     title=f"{FOLDS}-fold cross-validation grouped by artist")
ax.figure.savefig(os.path.join(OUT, "comparison.png"), bbox_inches="tight")

# %%
# The ablation: does the chorus matter?
# -------------------------------------
# The last rows give the same classifier fixed-offset clips (8 s in) and the loudest
# clips instead of the chorus.  Read their differences against the spread over the
# folds (``roc_auc_std``): with a few dozen songs per test fold, differences of a few
# hundredths are noise.  How often each clip lies in a chorus explains part of it: in
# these short songs the choruses fill about half of the song, and they are its loudest
# part.
from viral_sklearn import MonoMixer  # noqa: E402
from viral_sklearn.datasets import score_chorus_detection  # noqa: E402

clips = MonoMixer().transform(paths)  # the clips as the pipelines see them: their chorus windows are cached
for name in ("pooled-mel logistic", "pooled-mel logistic, offset clip", "pooled-mel logistic, loudest clip"):
    step = candidates[name].named_steps["chorus"]
    windows = step.find_choruses(clips)
    overlap = score_chorus_detection([(s, s + d) for s, d, _, _ in windows], list(songs.truth["chorus_times"]))
    print(f"{step.method:9s} clips: {overlap['mean_overlap']:.0%} of the clip inside a chorus on average")

# %%
# What ignoring the artists claims
# --------------------------------
# The same two baselines on folds that ignore the artists: an artist's songs then
# sit on both sides of a split, and a model can score by recognising the artist's
# sound (artists have their own hit rates) rather than by hearing the hook.  The
# difference between the two tables is what the artists leak; the grouped one is
# what to expect from a new artist.
baselines = {name: candidates[name] for name in ("pooled-mel logistic", "pooled-mel boosting")}
ungrouped = compare_pipelines(baselines, paths, y, cv=StratifiedKFold(FOLDS, shuffle=True, random_state=0),
                              memory=CACHE, dummy=None)
both = table.set_index("model").loc[list(baselines), ["roc_auc_mean"]].rename(columns={"roc_auc_mean": "grouped"})
both["ignoring artists"] = ungrouped.set_index("model")["roc_auc_mean"]
print("ROC-AUC\n", both.round(3))

# %%
# What weighing the classes changes
# ---------------------------------
# ``class_weight="balanced"`` weighs each class by the inverse of its frequency in the
# training songs (for the LSTM: in its ``CrossEntropyLoss``).  Without it a model
# leans towards "not viral"; ROC-AUC, which ranks the songs, barely moves, the
# decisions (macro-F1) do.
weights = compare_pipelines({"balanced": pooled(logistic()), "unweighted": pooled(logistic(class_weight=None))},
                            paths, y, groups=artists, cv=grouped, memory=CACHE, dummy=None)
print(weights[["model", "roc_auc_mean", "f1_macro_mean", "accuracy_mean"]].round(3).to_string(index=False))
