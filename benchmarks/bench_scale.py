"""Peak memory of extracting 100 and 1,000 three-minute songs (n_jobs=2): flat in the song count.

Each corpus size runs in a fresh Python process, which

1. imports everything and runs the extraction once on 2 songs (imports, numba
   compilation, filter banks, and joblib's two worker processes started: one-off
   costs that do not grow with the corpus);
2. takes its RSS (``VmRSS``) as the baseline and resets its high-water mark
   (``/proc/self/clear_refs``);
3. extracts the corpus with ``make_pipeline(MonoMixer(), ChorusExtractor(n_jobs=2),
   MelSpectrogramTransformer(n_jobs=2))`` (the library's defaults: 20-s chorus,
   64 mels, 2206 frames), while a thread samples the RSS of joblib's worker
   processes every 0.1 s (psutil);
4. reports its peak above the baseline (``VmHWM`` after the reset; ``ru_maxrss``
   only where the reset is impossible: it is a lifetime maximum, which the
   imports' own peak, ~0.4 GB above the baseline, can hide),
   the size of the final feature array, and each worker's RSS when the
   extraction starts and its peak (RSS counts the shared libraries, torch's
   ~0.5 GB included, in every process).

"Flat" means: the parent's peak above its baseline minus the final array (the
only object that must grow with the corpus) is the same for 100 and 1,000 songs,
and so is the workers' peak.

Songs: ``--unique`` distinct synthetic songs (``make_songs``: stereo MP3 at
44.1 kHz, ``--minutes`` long) are generated once and cached
(``$VIRAL_BENCH_CACHE``); the corpus of N songs is N hard links to them
(``song0000.mp3`` ... cycling over the distinct ones): every song is decoded and
analysed for real, only the synthesis is shared.  The extraction is what is
measured; the files' content does not change its memory.

Time (2 shared cores): generating the 20 three-minute MP3s took 10 min (once,
load ~6; cached for later runs), the extractions 24 s for 100 songs and 309 s
for 1,000 (load ~2): ~16 min on a first run, ~6 min after.

Example::

    python benchmarks/bench_scale.py                       # 100 vs 1,000 songs, 3 minutes each
    python benchmarks/bench_scale.py --sizes 4 12 --minutes 1 --unique 3     # a smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from _common import (
    CACHE_ROOT,
    ProcessTreeSampler,
    cached_songs,
    linked_corpus,
    machine,
    reset_peak_rss,
    rss_bytes,
    table,
)

MB = 1e6


# ----------------------------------------------------------------------
# Child side
# ----------------------------------------------------------------------
def _extraction(n_jobs: int):
    from sklearn.pipeline import make_pipeline

    from viral_sklearn import ChorusExtractor, MelSpectrogramTransformer, MonoMixer

    return make_pipeline(MonoMixer(), ChorusExtractor(n_jobs=n_jobs), MelSpectrogramTransformer(n_jobs=n_jobs))


def child(paths: list[str], n_jobs: int) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    pipe = _extraction(n_jobs)
    pipe.transform(paths[:2])  # warm-up: imports, JIT, joblib's workers
    baseline = rss_bytes("VmRSS")
    prior = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # the imports' peak, say
    reset = reset_peak_rss()
    sampler = ProcessTreeSampler()
    sampler.start()
    start = time.perf_counter()
    features = pipe.transform(paths)
    seconds = time.perf_counter() - start
    sampler.stop()
    print(json.dumps({
        "n": len(paths), "seconds": seconds, "baseline": baseline, "prior_peak": prior,
        "vmhwm": rss_bytes("VmHWM") if reset else None,
        "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "array": int(features.nbytes), "shape": list(features.shape),
        "worker_peaks": sorted(sampler.peaks.values(), reverse=True), "workers_sum": sampler.peak_sum,
        "worker_starts": sorted(sampler.first.values(), reverse=True),
    }))


# ----------------------------------------------------------------------
# Parent side
# ----------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="corpus sizes (default 100 1000)")
    parser.add_argument("--minutes", type=float, default=3.0, help="length of each song (default 3)")
    parser.add_argument("--unique", type=int, default=20, help="distinct songs generated (default 20)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--_child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child:
        listing, n_jobs = args._child
        with open(listing) as fh:
            child(json.load(fh), int(n_jobs))
        return 0

    start = time.perf_counter()
    made = cached_songs(args.unique, duration=60.0 * args.minutes, chorus_length=20.0, sample_rates=(44100,),
                        seed=args.seed, n_jobs=args.n_jobs)
    setup = time.perf_counter() - start
    folder = os.path.join(CACHE_ROOT, f"scale-{os.path.basename(os.path.dirname(made['paths'][0]))}")
    print(f"Peak memory of extraction (chorus + mel, n_jobs={args.n_jobs}) on {args.minutes:g}-minute stereo "
          f"44.1 kHz MP3s ({args.unique} distinct songs, linked under {max(args.sizes)} names); "
          f"fresh process per size; songs ready in {setup:.0f} s")
    print(f"machine: {machine()}")
    results = []
    for n in args.sizes:
        paths = linked_corpus(n, made["paths"], folder)
        listing = os.path.join(folder, f"list-{n}.json")
        with open(listing, "w") as fh:
            json.dump(paths, fh)
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--_child", listing, str(args.n_jobs)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"  {n} songs failed (exit {proc.returncode}):\n{proc.stderr.strip()[-2000:]}")
            return 1
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"  [{n} songs done in {results[-1]['seconds']:.0f} s]", flush=True)

    def peak_of(r) -> int:
        """The work's peak above the baseline: VmHWM reset at the baseline; without it,
        ru_maxrss, a lifetime maximum that an earlier, higher peak hides (then 'masked')."""
        if r["vmhwm"] is not None:
            return r["vmhwm"] - r["baseline"]
        return r["ru_maxrss"] - r["baseline"]

    rows = []
    for r in results:
        peak = peak_of(r)
        masked = r["vmhwm"] is None and r["ru_maxrss"] <= r["prior_peak"]
        workers = r["worker_peaks"][: args.n_jobs]
        rows.append([r["n"], f"{r['seconds']:.0f}", f"{r['n'] / r['seconds']:.2f}", f"{r['baseline'] / MB:.0f}",
                     f"{peak / MB:.0f}" + (" (masked)" if masked else ""), f"{r['array'] / MB:.0f}",
                     f"{(peak - r['array']) / MB:.0f}",
                     " / ".join(f"{w / MB:.0f}" for w in r["worker_starts"][: args.n_jobs]),
                     " / ".join(f"{w / MB:.0f}" for w in workers), f"{r['workers_sum'] / MB:.0f}"])
    print()
    table(["songs", "time s", "songs/s", "baseline MB", "peak-base MB", "array MB", "peak-base-array MB",
           "workers at start MB", "worker peaks MB", "workers sum MB"], rows)
    if len(results) >= 2:
        lo, hi = results[0], results[-1]
        extra = [(peak_of(r) - r["array"]) / MB for r in (lo, hi)]
        wlo, whi = max(lo["worker_peaks"][:1] or [0]) / MB, max(hi["worker_peaks"][:1] or [0]) / MB
        print(f"\nparent, beyond the final array: {extra[0]:.0f} MB for {lo['n']} songs, {extra[1]:.0f} MB for "
              f"{hi['n']} ({hi['n'] / lo['n']:.0f}x the songs; difference {extra[1] - extra[0]:+.0f} MB)")
        print(f"largest worker: {wlo:.0f} MB for {lo['n']} songs, {whi:.0f} MB for {hi['n']} "
              f"(ratio {whi / wlo:.2f})" if wlo else "")
        print(f"final array: {lo['shape']} -> {hi['shape']} float32")
    return 0


if __name__ == "__main__":
    sys.exit(main())
