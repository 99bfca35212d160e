"""Run every benchmark with small defaults and print their outputs in sequence.

Each script runs in its own process (``sys.executable``), one after the other
(the machine is shared: nothing runs in parallel).  ``--quick`` shrinks every
benchmark further (a smoke test of a few minutes in all); ``--only`` picks some.

Example::

    python benchmarks/run_all.py                 # all of them, default sizes
    python benchmarks/run_all.py --quick
    python benchmarks/run_all.py --only extraction memory
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

#: name -> (script, default args, --quick args)
BENCHMARKS = {
    "chorus": ("bench_chorus.py", [], ["--n-songs", "2", "--repeat", "1", "--memory-minutes", "5"]),
    "extraction": ("bench_extraction.py", [], ["--n-songs", "2", "--repeat", "2"]),
    "memory": ("bench_memory.py", [], ["--minutes", "5", "--no-stages"]),
    "decodes": ("bench_decodes.py", [], ["--n-songs", "12", "--max-epochs", "1"]),
    "training": ("bench_training.py", [], ["--n", "128", "--repeat", "3"]),
    "startup": ("bench_startup.py", [], ["--repeat", "3"]),
    # chorus quality needs the evaluation corpus (build_chorus_corpus.py, a download):
    # bench_chorus_quality.py is run on its own; the codec check generates its songs
    "chorus-codecs": ("bench_chorus_codecs.py", [], ["--n-songs", "2", "--seeds", "5", "--quiet"]),
    # scaling out (docs/user_guide/scaling.md); bench_scale's own default (100 vs 1,000
    # three-minute songs) takes ~20 min, so the suite runs a smaller pair
    "dask": ("bench_dask.py", [], ["--n-songs", "8", "--epochs", "1", "--cv", "2"]),
    "contention": ("bench_contention.py", [], ["--n", "16", "--frames", "100", "--epochs", "1"]),
    "scale": ("bench_scale.py", ["--sizes", "50", "200"], ["--sizes", "4", "12", "--minutes", "1", "--unique", "3"]),
    # songs per minute (issue 22); its full default (1,000 songs and the notebook on 100)
    # takes ~8 minutes, and is best run on real recordings (--real DIR)
    "throughput": ("bench_throughput.py", ["--sizes", "40", "--big", "200", "--notebook", "20"],
                   ["--sizes", "8", "--big", "16", "--notebook", "2"]),
    "gpu": ("bench_gpu.py", [], ["--n", "32", "--epochs", "1", "--clips", "4", "--frames", "200"]),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes everywhere")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    failed = []
    total = time.perf_counter()
    for name in names:
        script, default, quick = BENCHMARKS[name]
        cmd = [sys.executable, os.path.join(HERE, script), *(quick if args.quick else default)]
        print("=" * 100)
        print(f"$ {' '.join(os.path.relpath(c) if c.endswith('.py') else c for c in cmd[1:])}")
        print("=" * 100, flush=True)
        start = time.perf_counter()
        rc = subprocess.call(cmd, cwd=os.path.dirname(HERE))
        print(f"[{name}: exit {rc}, {time.perf_counter() - start:.0f} s]\n", flush=True)
        if rc != 0:
            failed.append(name)
    print(f"all done in {time.perf_counter() - total:.0f} s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
