"""Decodes per song during a grid search, with and without the per-song cache.

``viral_sklearn.audio._decode._decode`` (the one function that decodes audio) is wrapped
with a counter, as ``tests/test_pipeline.py`` does, and the same
``GridSearchCV`` (2 hidden sizes x 2 learning rates, 3 folds, then the refit)
runs twice on the same short synthetic MP3s:

* cached: ``make_viral_pipeline(..., memory=<fresh temporary folder>)``;
* reference: the same pipeline with ``memory=None``.

Printed: max and mean decodes per song, and wall time, for both.
Target: <= 2 decodes per song with the cache (the chorus step decodes the whole
song once, the mel step its chorus window once).

Example::

    python benchmarks/bench_decodes.py                 # 24 songs of 16-20 s
    python benchmarks/bench_decodes.py --n-songs 48 --cv 5
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter

import numpy as np

from _common import cached_songs, machine, table

TARGET_MAX = 2


def run_grid(paths, labels, *, clip: float, cv: int, memory, hop_length: int | None, n_epochs: int):
    import viral_sklearn.audio._decode as audio_mod
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from viral_sklearn import make_viral_pipeline

    decodes: Counter = Counter()
    real = audio_mod._decode

    def counting(clip_, sr):
        decodes[clip_.label] += 1
        return real(clip_, sr)

    pipe = make_viral_pipeline(clip_length=clip, max_epochs=n_epochs, memory=memory)
    if hop_length is not None:
        pipe.set_params(mel__hop_length=hop_length)
    grid = GridSearchCV(pipe, {"clf__module__hidden_size": [8, 16], "clf__lr": [1e-2, 5e-3]},
                        cv=StratifiedKFold(cv))
    audio_mod._decode = counting
    try:
        start = time.perf_counter()
        grid.fit(paths, labels)
        seconds = time.perf_counter() - start
    finally:
        audio_mod._decode = real
    counts = np.array([decodes[p] for p in paths])
    return counts, seconds, grid


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-songs", type=int, default=24, help="number of songs (default 24)")
    parser.add_argument("--duration", type=float, nargs=2, default=(16.0, 20.0), metavar=("MIN", "MAX"),
                        help="song length range in seconds (default 16 20)")
    parser.add_argument("--clip", type=float, default=4.0, help="chorus / clip length in seconds (default 4)")
    parser.add_argument("--cv", type=int, default=3, help="folds (default 3)")
    parser.add_argument("--max-epochs", type=int, default=2, help="epochs per fit (default 2)")
    parser.add_argument("--hop-length", type=int, default=441,
                        help="mel hop length (default 441, 20 frames/s at 22050 Hz, as the tests; 0 keeps 200)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    songs = cached_songs(args.n_songs, duration=tuple(args.duration), chorus_length=args.clip,
                         sample_rates=(22050,), seed=args.seed)
    paths, labels = songs["paths"], np.array(songs["labels"])
    import torch  # noqa: F401  (for machine())

    hop = args.hop_length or None
    n_params = 4
    print(f"Decodes per song: GridSearchCV over {n_params} parameter sets x {args.cv} folds + refit "
          f"({n_params * args.cv + 1} fits), {len(paths)} synthetic MP3s of {args.duration[0]:g}-"
          f"{args.duration[1]:g} s, clip {args.clip:g} s, {args.max_epochs} epochs")
    print(f"machine: {machine()}")
    rows = []
    results = {}
    with tempfile.TemporaryDirectory(prefix="viral_bench_cache_") as tmp:
        for name, memory in (("cached (memory=tmpdir)", os.path.join(tmp, "cache")), ("reference (memory=None)", None)):
            counts, seconds, grid = run_grid(paths, labels, clip=args.clip, cv=args.cv, memory=memory,
                                             hop_length=hop, n_epochs=args.max_epochs)
            results[name] = (counts, seconds, grid)
            rows.append([name, str(int(counts.max())), f"{counts.mean():.2f}", str(int(counts.min())),
                         str(int(counts.sum())), f"{seconds:.1f}", f"{grid.best_score_:.3f}"])
    print()
    table(["grid search", "max/song", "mean/song", "min/song", "total", "wall s", "best score"], rows)
    (c_counts, c_s, c_grid), (r_counts, r_s, r_grid) = results.values()
    ok = c_counts.max() <= TARGET_MAX
    print(f"\ncached: max {int(c_counts.max())} decodes per song (target <= {TARGET_MAX}: {'MET' if ok else 'MISSED'})")
    print(f"reference / cached decodes: {r_counts.sum() / c_counts.sum():.1f}x fewer with the cache; "
          f"wall time {r_s / c_s:.2f}x faster with the cache")
    same = np.allclose(c_grid.cv_results_["mean_test_score"], r_grid.cv_results_["mean_test_score"])
    print(f"same cv scores with and without the cache: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
