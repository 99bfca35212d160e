"""Start-up time of the command: ``viral-sklearn --help`` beside ``python -c pass``.

Each case is a fresh process of the same interpreter, started ``--repeat`` times
in rotating order (so a busy moment of the machine falls on every case alike):

* ``python -c pass``: the interpreter alone, the floor;
* ``import viral_sklearn``: the lazy top-level namespace;
* ``viral-sklearn --help``, ``train --help``, ``chorus --help``: the console
  script's entry point (``viral_sklearn.cli:main``) with those arguments;
* ``import viral_sklearn.models``: what the first use of the LSTM costs
  (torch, skorch, scikit-learn), for scale; the command pays it only in the
  subcommands that train or predict.

Printed: median and best seconds per case, and each median as a ratio to
``python -c pass``.  Target: ``viral-sklearn --help`` under 1 s.

Example::

    python benchmarks/bench_startup.py                # 7 rounds
    python benchmarks/bench_startup.py --repeat 15
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from _common import ROOT, machine, median, table, verdict

#: case name -> the Python code its process runs
CASES = {
    "python -c pass": "pass",
    "import viral_sklearn": "import viral_sklearn",
    "viral-sklearn --help": "import sys; from viral_sklearn.cli import main; sys.argv = ['viral-sklearn', '--help']; main()",
    "viral-sklearn train --help": (
        "import sys; from viral_sklearn.cli import main; sys.argv = ['viral-sklearn', 'train', '--help']; main()"
    ),
    "viral-sklearn chorus --help": (
        "import sys; from viral_sklearn.cli import main; sys.argv = ['viral-sklearn', 'chorus', '--help']; main()"
    ),
    "import viral_sklearn.models": "import viral_sklearn.models",
}
TARGET_S = 1.0


def run_once(code: str) -> float:
    """Wall seconds of one fresh interpreter running ``code`` (its output discarded)."""
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"case failed ({done.returncode}): {code}\n{done.stderr}")
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="processes per case (default 7)")
    args = parser.parse_args(argv)

    times = {name: [] for name in CASES}
    names = list(CASES)
    for name in names:  # one warm-up each: the file cache, not the interpreter, is then what is warm
        run_once(CASES[name])
    for round_ in range(args.repeat):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            times[name].append(run_once(CASES[name]))

    floor = median(times["python -c pass"])
    print(f"Start-up of fresh processes, median of {args.repeat} (interleaved)")
    print(f"machine: {machine()}")
    rows = [[name, f"{median(t):.3f}", f"{min(t):.3f}", f"{median(t) / floor:.1f}x"] for name, t in times.items()]
    table(["case", "median s", "best s", "/ python -c pass"], rows)
    help_s = median(times["viral-sklearn --help"])
    print(f"\nviral-sklearn --help: {help_s:.3f} s, {help_s / floor:.1f}x python -c pass "
          f"(target < {TARGET_S:g} s: {verdict(help_s, TARGET_S, higher_is_better=False)})")
    print(f"import viral_sklearn.models (torch, skorch, scikit-learn): {median(times['import viral_sklearn.models']):.3f} s, "
          f"which --help no longer pays")
    return 0


if __name__ == "__main__":
    sys.exit(main())
