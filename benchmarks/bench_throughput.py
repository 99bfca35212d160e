"""Folder throughput: songs per minute with n_jobs=1 and n_jobs=2, beside the notebook's recipe.

Each case runs in a fresh Python process, which warms up on 2 songs (imports,
joblib's worker processes) and then extracts the chorus mel of a folder of
songs with the library's defaults (``make_viral_pipeline(n_jobs=..., verbose=True)[:-1]``:
MonoMixer, ChorusExtractor, MelSpectrogramTransformer; a progress bar on stderr),
while a thread samples the RSS of the process and of its workers (psutil):

* ``n_jobs=1``: one process; it may use a second core for the decoder's read-ahead
  and the features computed while decoding;
* ``n_jobs=1, 1 thread``: the same inside ``limit_threads(1)``: one core, the
  reference for the parallel speed-up;
* ``n_jobs=2``: two loky worker processes, one thread each (torch and BLAS
  limited to one thread per worker, no read-ahead);
* ``2 processes x half, 1 thread``: two independent one-thread processes side by side,
  each on half the songs: the machine's own scaling, what ``n_jobs=2`` could reach;
* ``notebook``: the notebook's recipe (``bench_extraction.notebook``), song after
  song in one process (it has no parallelism).

Songs: the first 8 real recordings of 3-4 minutes under ``--real DIR``, encoded to
MP3 once (``_common.real_songs``), or synthetic 3-minute songs without it,
linked under N names (every song is decoded and analysed for real; the page
cache holds the files, so the figures are CPU-bound, not disk-bound).

Example::

    python benchmarks/bench_throughput.py --real ~/chorus-corpus/sources/unpacked
    python benchmarks/bench_throughput.py --real DIR --repeat 3   # the speed-up from 3 rounds
    python benchmarks/bench_throughput.py --real DIR --sizes 20 --big 40 --notebook 5   # a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from _common import CACHE_ROOT, ProcessTreeSampler, cached_songs, linked_corpus, machine, real_songs, table

MB = 1e6
TARGET_SPEEDUP = 1.8  # n_jobs=2 vs n_jobs=1, at least
#: the machine's own scaling: two independent one-thread processes, half the songs each
PAIR = "2 processes x half, 1 thread"


def child(paths: list[str], case: str) -> None:
    import contextlib
    import warnings

    import psutil

    warnings.filterwarnings("ignore")
    if case == "notebook":
        from bench_extraction import notebook

        def run(ps):
            for p in ps:
                notebook(p)
            return None
    else:
        from viral_sklearn import make_viral_pipeline
        from viral_sklearn._runtime import limit_threads

        n_jobs = 2 if case == "n_jobs=2" else 1
        steps = make_viral_pipeline(n_jobs=n_jobs, memory=None, verbose=True)[:-1]
        one_thread = case == "n_jobs=1, 1 thread"

        def run(ps):
            with limit_threads(1) if one_thread else contextlib.nullcontext():
                return steps.transform(ps)
    run(paths[:2])  # warm-up: imports, workers
    me = psutil.Process()
    base = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
    sampler = ProcessTreeSampler()
    sampler.start()
    start, cpu = time.perf_counter(), time.process_time()
    out = run(paths)
    seconds = time.perf_counter() - start
    sampler.stop()
    print(json.dumps({"case": case, "n": len(paths), "seconds": seconds, "cpu_parent": time.process_time() - cpu,
                      "base": base, "peak": sampler.peak, "array": 0 if out is None else int(out.nbytes),
                      "load": os.getloadavg()[0]}))


def run_case(paths, case, folder) -> dict:
    """One case in fresh processes: ``PAIR`` runs two one-thread processes side by side on
    the two halves of ``paths`` (the time of the slower one, the memory of both)."""
    halves = [paths[: len(paths) // 2], paths[len(paths) // 2 :]] if case == PAIR else [paths]
    print(f"[{case}: {len(paths)} songs, load average {os.getloadavg()[0]:.2f}]", file=sys.stderr, flush=True)
    procs = []
    for k, part in enumerate(halves):
        listing = os.path.join(folder, f"list-{len(part)}-{k}.json")
        with open(listing, "w") as fh:
            json.dump(part, fh)
        child_case = "n_jobs=1, 1 thread" if case == PAIR else case
        procs.append(subprocess.Popen([sys.executable, os.path.abspath(__file__), "--_child", listing, child_case],
                                      stdout=subprocess.PIPE, text=True))
    outs = [proc.communicate()[0] for proc in procs]
    if any(proc.returncode != 0 for proc in procs):
        raise SystemExit(f"{case} on {len(paths)} songs failed")
    runs = [json.loads(out.strip().splitlines()[-1]) for out in outs]
    return {"case": case, "n": len(paths), "seconds": max(r["seconds"] for r in runs),
            "cpu_parent": sum(r["cpu_parent"] for r in runs), "base": sum(r["base"] for r in runs),
            "peak": sum(r["peak"] for r in runs), "array": sum(r["array"] for r in runs),
            "load": max(r["load"] for r in runs)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", metavar="DIR", default=None, help="real recordings under DIR (see above)")
    parser.add_argument("--sizes", type=int, default=100, help="songs for the n_jobs comparison (default 100)")
    parser.add_argument("--big", type=int, default=1000, help="songs for the n_jobs=2 throughput (default 1000)")
    parser.add_argument("--notebook", type=int, default=100, help="songs for the notebook's recipe (default 100)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of the three --sizes cases, one after the other; the speed-up is given for "
                             "each round and their median is judged (default 1)")
    parser.add_argument("--_child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child:
        listing, case = args._child
        with open(listing) as fh:
            child(json.load(fh), case)
        return 0

    if args.real:
        unique = real_songs(8, args.real)["paths"]
        kind = f"8 real 3-4 minute recordings (MP3, from {args.real})"
    else:
        unique = cached_songs(8, duration=180.0, chorus_length=20.0, sample_rates=(44100,), seed=0)["paths"]
        kind = "8 synthetic 3-minute songs (MP3)"
    folder = os.path.join(CACHE_ROOT, f"throughput-{os.path.basename(os.path.dirname(unique[0]))}")
    print(f"Folder throughput, file to chorus mel (library defaults); {kind} linked under N names; "
          "fresh process per case")
    print(f"machine: {machine()}")
    compared = ("n_jobs=1, 1 thread", "n_jobs=1", "n_jobs=2", PAIR)
    cases = [(args.sizes, case, k) for k in range(max(args.repeat, 1)) for case in compared]
    cases += [(args.big, "n_jobs=2", 0), (args.notebook, "notebook", 0)]
    results = [dict(run_case(linked_corpus(n, unique, folder), case, folder), round=k)
               for n, case, k in cases if n > 0]
    rows = []
    one = next(r for r in results if r["case"] == "n_jobs=1, 1 thread")
    for r in results:
        rate = r["n"] / r["seconds"] * 60.0
        label = r["case"] + (f" #{r['round'] + 1}" if args.repeat > 1 and r["case"] in compared
                             and r["n"] == args.sizes else "")
        rows.append([label, r["n"], f"{r['seconds']:.1f}", f"{rate:.0f}",
                     f"{one['seconds'] / one['n'] / (r['seconds'] / r['n']):.2f}x",
                     f"{(r['peak'] - r['base']) / MB:.0f}", f"{r['array'] / MB:.0f}", f"{r['load']:.2f}"])
    print()
    table(["case", "songs", "time s", "songs/min", "vs 1 thread (first)", "peak-base MB (all processes)",
           "array MB", "load after"], rows)
    by = {(r["case"], r["n"], r["round"]): r for r in results}
    rounds = [[by.get((c, args.sizes, k)) for c in compared] for k in range(max(args.repeat, 1))]
    rounds = [[r["seconds"] for r in small] for small in rounds if all(small)]
    if rounds:
        median = statistics.median(t1t / t2 for t1t, _, t2, _ in rounds)
        ok = "MET" if median >= TARGET_SPEEDUP else "MISSED"
        each = ", ".join(f"{t1t / t2:.2f}x" for t1t, _, t2, _ in rounds)
        print(f"\nn_jobs=2 vs n_jobs=1 on one core, each round: {each}; median {median:.2f}x "
              f"(target >= {TARGET_SPEEDUP}x: {ok})")
        print("vs n_jobs=1 with its helper threads: " + ", ".join(f"{t1 / t2:.2f}x" for _, t1, t2, _ in rounds))
        print("the machine's own scaling (two one-thread processes on half the songs each vs one on all): "
              + ", ".join(f"{t1t / tp:.2f}x" for t1t, _, _, tp in rounds)
              + "; n_jobs=2 reaches " + ", ".join(f"{tp / t2:.0%}" for _, _, t2, tp in rounds) + " of it")
    small = [by.get((c, args.sizes, 0)) for c in compared]
    big = by.get(("n_jobs=2", args.big, 0))
    nb = next((r for r in results if r["case"] == "notebook"), None)
    if big and nb:
        ours, theirs = big["n"] / big["seconds"] * 60, nb["n"] / nb["seconds"] * 60
        print(f"songs per minute: ours (n_jobs=2, {big['n']} songs) {ours:.0f}; the notebook's recipe "
              f"({nb['n']} songs, one process) {theirs:.0f}: {ours / theirs:.1f}x")
    if big and small[2]:
        print(f"memory, all processes, above the warm baseline: {(small[2]['peak'] - small[2]['base']) / MB:.0f} MB "
              f"for {args.sizes} songs (array {small[2]['array'] / MB:.0f} MB), "
              f"{(big['peak'] - big['base']) / MB:.0f} MB for {args.big} (array {big['array'] / MB:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
