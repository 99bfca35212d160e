"""Benchmark: how much of each method's clip lies inside a true chorus.

On the chorus-evaluation corpus (:mod:`chorus_corpus`: real recordings stitched
into song forms, and full-length synthetic pop songs; a dev split that methods
were tuned on and a held-out split that they were not), every song is decoded
once at the chorus step's rate (11025 Hz, mono) and every method places a
``--clip`` second clip on the same samples:

* ``structure`` (the default), ``pychorus`` (our exact implementation of
  pychorus's algorithm), ``loudest``, ``middle``, ``offset 30 s``: the methods
  of :class:`viral_sklearn.ChorusExtractor`, through the same fallback rule
  (``"loudest"``) when a method finds nothing;
* ``pychorus (package)``: pychorus 0.1 itself, ``find_and_output_chorus`` on
  the file (its own decode at 22050 Hz), with the same fallback;
* ``oracle``: the best clip position there is (an upper bound: a chorus
  shorter than the clip caps it below 1).

Per method: the mean fraction of the clip inside a true chorus, the share of
songs with at least half the clip inside, the share whose clip starts inside a
chorus, how often the method found a chorus itself, and its seconds per song
(the analysis alone; the decode, shared by all, is printed apart).

Usage::

    python benchmarks/build_chorus_corpus.py --out ~/chorus-corpus      # once (downloads ~400 MB)
    python benchmarks/bench_chorus_quality.py --corpus ~/chorus-corpus
    python benchmarks/bench_chorus_quality.py --corpus ~/chorus-corpus --split heldout --no-package
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
import warnings

import numpy as np
from _common import machine, table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from chorus_corpus import SPLITS, build  # noqa: E402

RATE = 11025
METHODS = ("structure", "pychorus", "loudest", "middle", "offset 30 s")


def clip_fraction(start: float, clip: float, choruses) -> float:
    """Fraction of ``[start, start + clip)`` inside the union of ``choruses``."""
    covered, cursor = 0.0, start
    for a, b in sorted(choruses):
        a, b = max(a, cursor), min(b, start + clip)
        if b > a:
            covered += b - a
            cursor = b
    return covered / clip


def oracle_start(choruses, duration: float, clip: float) -> float:
    """The start (on a 0.1 s grid) that puts the most of the clip inside a chorus."""
    grid = np.arange(0.0, max(duration - clip, 0.0) + 1e-9, 0.1)
    return float(grid[int(np.argmax([clip_fraction(s, clip, choruses) for s in grid]))])


def run_methods(y: np.ndarray, sr: int, clip: float) -> dict:
    """``name -> (start, found, seconds)`` for the library's methods on one song."""
    from viral_sklearn.chorus import (
        find_chorus_loudest,
        find_chorus_offset,
        find_chorus_pychorus,
        find_chorus_structure,
    )
    from viral_sklearn.chorus._extractor import _fallback_start

    calls = {
        "structure": lambda: find_chorus_structure(y, sr, clip),
        "pychorus": lambda: find_chorus_pychorus(y, sr, clip),
        "loudest": lambda: find_chorus_loudest(y, sr, clip),
        "middle": lambda: find_chorus_offset(y, sr, clip, "middle"),
        "offset 30 s": lambda: find_chorus_offset(y, sr, clip, 30.0),
    }
    out = {}
    for name, call in calls.items():
        t = time.perf_counter()
        estimate = call()
        seconds = time.perf_counter() - t
        found = estimate.start is not None
        start = estimate.start if found else _fallback_start(y, sr, clip, "loudest")
        out[name] = (float(start), found, seconds)
    return out


def run_package(path: str, y: np.ndarray, sr: int, clip: float):
    """pychorus 0.1 on the file, as a user would call it."""
    from pychorus.helpers import find_and_output_chorus

    from viral_sklearn.chorus._extractor import _fallback_start

    t = time.perf_counter()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        start = find_and_output_chorus(path, None, clip)
    seconds = time.perf_counter() - t
    found = start is not None
    return (float(start) if found else _fallback_start(y, sr, clip, "loudest")), found, seconds


def evaluate(rows, clip: float, *, package: bool, verbose: bool) -> list[dict]:
    from viral_sklearn import load_audio

    results = []
    for i, row in enumerate(rows):
        t = time.perf_counter()
        y, sr = load_audio(row["path"], sr=RATE)
        decode = time.perf_counter() - t
        answers = run_methods(y, sr, clip)
        if package:
            answers["pychorus (package)"] = run_package(row["path"], y, sr, clip)
        answers["oracle"] = (oracle_start(row["chorus_times"], row["duration"], clip), True, 0.0)
        results.append({"row": row, "decode": decode, "answers": answers})
        if verbose:
            s = answers["structure"][0]
            print(f"[{i + 1}/{len(rows)}] {os.path.basename(row['path'])}: structure {s:.1f} s -> "
                  f"{clip_fraction(s, clip, row['chorus_times']):.2f}", file=sys.stderr, flush=True)
    return results


def summarise(results, clip: float) -> dict:
    names = list(results[0]["answers"])
    summary = {}
    for name in names:
        frac = np.array([clip_fraction(r["answers"][name][0], clip, r["row"]["chorus_times"]) for r in results])
        inside = np.array([any(a <= r["answers"][name][0] < b for a, b in r["row"]["chorus_times"])
                           for r in results])
        summary[name] = {
            "mean_clip_in_chorus": float(frac.mean()),
            "share_at_least_half": float((frac >= 0.5).mean()),
            "start_inside": float(inside.mean()),
            "found": float(np.mean([r["answers"][name][1] for r in results])),
            "seconds_per_song": float(np.mean([r["answers"][name][2] for r in results])),
        }
    summary["_decode_seconds_per_song"] = float(np.mean([r["decode"] for r in results]))
    summary["_n_songs"] = len(results)
    summary["_minutes_per_song"] = float(np.mean([r["row"]["duration"] for r in results]) / 60)
    return summary


def print_summary(title: str, summary: dict) -> None:
    print(f"\n{title}: {summary['_n_songs']} songs of {summary['_minutes_per_song']:.1f} min on average; "
          f"decode (11025 Hz mono, shared by all methods) {summary['_decode_seconds_per_song'] * 1000:.0f} ms/song")
    rows = []
    for name, s in summary.items():
        if name.startswith("_"):
            continue
        ms = "-" if name == "oracle" else f"{s['seconds_per_song'] * 1000:.0f}"
        rows.append([name, f"{s['mean_clip_in_chorus']:.3f}", f"{s['share_at_least_half']:.2f}",
                     f"{s['start_inside']:.2f}", f"{s['found']:.2f}", ms])
    table(["method", "clip in chorus", ">= half inside", "start inside", "found", "ms/song"], rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True, help="corpus folder (built there if missing)")
    parser.add_argument("--cache", default=None, help="where the Debian packages go (default: CORPUS/sources)")
    parser.add_argument("--split", nargs="+", choices=SPLITS, default=list(SPLITS))
    parser.add_argument("--clip", type=float, default=20.0)
    parser.add_argument("--no-package", action="store_true", help="skip pychorus 0.1 itself (slow)")
    parser.add_argument("--limit", type=int, default=None, help="first N songs of each split (a smoke test)")
    parser.add_argument("--json", default=None, help="write the summaries here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    cache = args.cache or os.path.join(args.corpus, "sources")
    print(machine())
    summaries = {}
    for split in args.split:
        rows = build(args.corpus, split, cache_dir=cache, verbose=not args.quiet)
        if args.limit:
            rows = rows[: args.limit]
        results = evaluate(rows, args.clip, package=not args.no_package, verbose=not args.quiet)
        for kind in ("stitched", "synthetic"):
            part = [r for r in results if r["row"]["kind"] == kind]
            if part:
                summaries[f"{split}/{kind}"] = summarise(part, args.clip)
                print_summary(f"{split} split, {kind} songs", summaries[f"{split}/{kind}"])
        summaries[f"{split}/all"] = summarise(results, args.clip)
        print_summary(f"{split} split, all songs", summaries[f"{split}/all"])
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(summaries, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
