"""Benchmark: does the chorus start depend on how a recording was encoded?

Full-length synthetic pop songs (``make_songs(form="pop")``, WAV at 44.1 kHz,
``--n-songs`` per seed of ``--seeds``) are each written again as MP3, FLAC, Ogg
Vorbis, M4A (AAC, through FFmpeg when it is installed), WAV at 48 kHz and mono
WAV at 16 kHz.  Every method of ``--methods`` finds the chorus of every version
through :class:`viral_sklearn.ChorusExtractor` (the files decoded as a user's
would be), and for each song the benchmark prints the spread of the starts
(largest minus smallest, over the versions) and the smallest fraction of the
clip inside a true chorus over the versions.

Summary per method: songs whose start agrees within ``--tolerance`` seconds in
every version, the largest spread, and the mean of the smallest clip-in-chorus.

Usage::

    python benchmarks/bench_chorus_codecs.py                    # 3 seeds x 10 songs
    python benchmarks/bench_chorus_codecs.py --n-songs 2 --seeds 5   # a smoke test
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

import numpy as np

from _common import CACHE_ROOT, machine, table

from viral_sklearn.datasets._testing import ENCODINGS as VERSIONS
from viral_sklearn.datasets._testing import write_encodings as write_versions


def clip_in_chorus(start: float, clip: float, choruses) -> float:
    return sum(max(0.0, min(b, start + clip) - max(a, start)) for a, b in choruses) / clip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-songs", type=int, default=10, help="songs per seed (default 10)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[4242, 11, 777])
    parser.add_argument("--duration", type=float, nargs=2, default=(150.0, 200.0), metavar=("MIN", "MAX"))
    parser.add_argument("--clip", type=float, default=20.0)
    parser.add_argument("--methods", nargs="+", default=["structure", "pychorus"])
    parser.add_argument("--tolerance", type=float, default=1.0, help="seconds (default 1)")
    parser.add_argument("--quiet", action="store_true", help="only the summary")
    args = parser.parse_args(argv)

    from viral_sklearn import ChorusExtractor
    from viral_sklearn.datasets import make_songs

    if shutil.which("ffmpeg") is None:
        print("note: no ffmpeg on PATH: the M4A version is left out")
    print(f"Chorus start across encodings: {args.n_songs} pop songs x seeds {args.seeds}, clip {args.clip:g} s")
    print(f"machine: {machine()}")
    songs = []  # (name, versions, true choruses)
    t0 = time.perf_counter()
    for seed in args.seeds:
        folder = os.path.join(CACHE_ROOT, f"codec-pop-{seed}-{args.n_songs}-{args.duration[0]:g}-{args.duration[1]:g}")
        corpus = make_songs(args.n_songs, os.path.join(folder, "songs"), form="pop", format="wav",
                            sample_rates=(44100,), duration=tuple(args.duration), random_state=seed)
        os.makedirs(os.path.join(folder, "versions"), exist_ok=True)
        for path, choruses in zip(corpus.paths, corpus.truth["chorus_times"]):
            versions = write_versions(path, os.path.join(folder, "versions"))
            songs.append((f"{seed}/{os.path.basename(path)}", versions, list(choruses)))
    print(f"[setup] {len(songs)} songs in every version in {time.perf_counter() - t0:.0f} s "
          f"(cached under {CACHE_ROOT})\n")

    summary = []
    for method in args.methods:
        extractor = ChorusExtractor(clip_length=args.clip, method=method)
        rows, spreads, worst = [], [], []
        for name, versions, choruses in songs:
            windows = extractor.find_choruses(list(versions.values()))
            starts = dict(zip(versions, windows[:, 0]))
            spread = float(windows[:, 0].max() - windows[:, 0].min())
            low = min(clip_in_chorus(s, args.clip, choruses) for s in windows[:, 0])
            spreads.append(spread)
            worst.append(low)
            rows.append([name, f"{spread:.1f}", f"{low:.2f}"] + [f"{starts.get(v, np.nan):.1f}" for v in VERSIONS])
        if not args.quiet:
            print(f"method={method!r}: start (s) in every version")
            table(["song", "spread s", "min in chorus", *VERSIONS], rows)
            print()
        spreads = np.array(spreads)
        summary.append([method, f"{int(np.sum(spreads <= args.tolerance))}/{len(spreads)}", f"{spreads.max():.1f}",
                        f"{np.median(spreads):.2f}", f"{np.mean(worst):.3f}"])
    table(["method", f"same start within {args.tolerance:g} s", "largest spread s", "median spread s",
           "mean of min clip-in-chorus"], summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
