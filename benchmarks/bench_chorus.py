"""Benchmark: our vectorized chorus finder against pychorus 0.1.

For each synthetic song (chord progressions, a chorus repeated 2-4 times among
distinct verses, plus noise) the chroma is computed once, then
``pychorus.helpers.find_chorus`` and ``viral_sklearn.chorus._pychorus.find_chorus``
are timed on the same chroma (best of ``--repeat`` runs each, ``time.perf_counter``).
Prints a table per song, the overall speed-up and the agreement rate (same start
within 0.5 s, or both None), then the peak memory of each on a long track
(``--memory-minutes``), each measured in a fresh subprocess with ``tracemalloc``
(numpy's buffers are traced) and the growth of the peak RSS (``/proc``).

Usage::

    python benchmarks/bench_chorus.py --n-songs 5 --seconds 180
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from _common import rss_bytes

from viral_sklearn.datasets._testing import chord_song

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

SR = 22050
AGREE_SEC = 0.5


def pychorus_find(chroma, length, clip):
    import pychorus.helpers

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", DeprecationWarning)  # scipy.ndimage.filters
        return pychorus.helpers.find_chorus(chroma, SR, length, clip)


def ours_find(chroma, length, clip):
    from viral_sklearn.chorus._pychorus import find_chorus

    return find_chorus(chroma, length, clip)


def best_time(fn, repeat):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= AGREE_SEC


def fmt(x) -> str:
    return "None" if x is None else f"{x:.2f}"


def memory_child(which: str, path: str, length: float, clip: float) -> None:
    """Run one finder on a saved chroma; print its peaks as JSON.

    ``tracemalloc`` traces numpy's buffers: its peak is what the call itself
    allocated.  The RSS growth is the process's peak RSS during the call (after
    resetting the high-water mark) minus its RSS before; ``ru_maxrss`` is not
    used because Linux carries the parent's peak into a forked child.
    """
    import tracemalloc

    chroma = np.load(path)
    fn = {"ours": ours_find, "pychorus": pychorus_find}[which]
    fn(chroma[:, :64], 64 * length / chroma.shape[1], 1.0)  # imports and warm-up, not measured
    try:  # reset VmHWM to the current RSS (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    rss_before = rss_bytes("VmRSS")
    tracemalloc.start()
    start = time.perf_counter()
    result = fn(chroma, length, clip)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = rss_bytes("VmHWM") if reset else None
    print(json.dumps({
        "which": which, "result": result, "seconds": seconds, "traced_peak": peak,
        "rss_growth": None if rss_peak is None or rss_before is None else rss_peak - rss_before,
    }))


def measure_memory(minutes: float, clip: float, seed: int) -> None:
    from viral_sklearn.chorus import chroma_features

    y = chord_song(seed, seconds=(60 * minutes, 60 * minutes))
    length = y.shape[0] / SR
    chroma = chroma_features(y, SR)
    n = chroma.shape[1]
    print(f"\nPeak memory on a {length / 60:.1f}-minute track ({n} chroma frames; "
          f"one {n}x{n} float32 matrix = {n * n * 4 / 2**20:.1f} MiB), fresh process each:")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "chroma.npy")
        np.save(path, chroma)
        rows = {}
        for which in ("ours", "pychorus"):
            proc = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--_memory-child", which, path, str(length), str(clip)],
                capture_output=True, text=True,
            )
            if proc.returncode != 0:
                print(f"  {which}: failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
                continue
            rows[which] = json.loads(proc.stdout.strip().splitlines()[-1])
    mib = 2**20
    print(f"  {'':9s} {'traced peak':>12s} {'x n^2 f32':>10s} {'peak RSS growth':>16s} {'time':>8s}  start")
    for which, r in rows.items():
        growth = "n/a" if r["rss_growth"] is None else f"{r['rss_growth'] / mib:.1f} MiB"
        print(f"  {which:9s} {r['traced_peak'] / mib:8.1f} MiB {r['traced_peak'] / (4 * n * n):10.2f} "
              f"{growth:>16s} {r['seconds']:7.2f}s  {fmt(r['result'])}")
    if len(rows) == 2:
        o, p = rows["ours"], rows["pychorus"]
        print(f"  pychorus / ours: traced peak {p['traced_peak'] / o['traced_peak']:.1f}x, "
              f"time {p['seconds'] / o['seconds']:.1f}x, same start: {same(o['result'], p['result'])}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-songs", type=int, default=5, help="number of synthetic songs (default 5)")
    parser.add_argument("--seconds", type=float, default=180.0, help="length of each song (default 180)")
    parser.add_argument("--clip-length", type=float, default=15.0, help="minimum chorus length, s (default 15)")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per finder, best kept (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-minutes", type=float, default=10.0,
                        help="length of the memory-test track in minutes; 0 skips it (default 10)")
    parser.add_argument("--_memory-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._memory_child:
        which, path, length, clip = args._memory_child
        memory_child(which, path, float(length), float(clip))
        return 0

    from viral_sklearn.chorus import chroma_features

    ours_find(np.zeros((12, 64), np.float32), 12.0, 1.0)  # imports, not timed
    pychorus_find(np.zeros((12, 64), np.float32), 12.0, 1.0)
    print(f"{args.n_songs} songs of {args.seconds:g} s at {SR} Hz, clip {args.clip_length:g} s, "
          f"best of {args.repeat}; numpy {np.__version__}, {os.cpu_count()} CPUs")
    header = f"{'song':>4s} {'frames':>6s} {'pychorus ms':>12s} {'ours ms':>9s} {'speed-up':>9s} " \
             f"{'pychorus s':>11s} {'ours s':>8s}  agree"
    print(header)
    print("-" * len(header))
    total_p = total_o = 0.0
    agree = 0
    ratios = []
    for i in range(args.n_songs):
        y = chord_song(args.seed + i, seconds=(args.seconds, args.seconds))
        length = y.shape[0] / SR
        chroma = chroma_features(y, SR)
        tp, rp = best_time(lambda: pychorus_find(chroma, length, args.clip_length), args.repeat)
        to, ro = best_time(lambda: ours_find(chroma, length, args.clip_length), args.repeat)
        ok = same(rp, ro)
        agree += ok
        total_p += tp
        total_o += to
        ratios.append(tp / to)
        print(f"{i:4d} {chroma.shape[1]:6d} {tp * 1e3:12.1f} {to * 1e3:9.1f} {tp / to:8.1f}x "
              f"{fmt(rp):>11s} {fmt(ro):>8s}  {'yes' if ok else 'NO'}")
    print("-" * len(header))
    print(f"overall speed-up (total pychorus / total ours): {total_p / total_o:.1f}x "
          f"(per song: median {np.median(ratios):.1f}x, min {min(ratios):.1f}x)")
    print(f"agreement (|start difference| <= {AGREE_SEC} s or both None): "
          f"{agree}/{args.n_songs} = {100 * agree / args.n_songs:.0f}%")
    if args.memory_minutes > 0:
        measure_memory(args.memory_minutes, args.clip_length, args.seed + 10_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
