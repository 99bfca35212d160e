"""Folder throughput: songs per minute with n_jobs=1 and n_jobs=2, beside the notebook's recipe.

Every case runs in its own Python process, started once and warmed up on 2 songs
(imports, joblib's worker processes; this first call is timed, each case alone), which
then extracts the chorus mel of a folder of songs each time the driver asks, with the
library's defaults (``make_viral_pipeline(n_jobs=..., verbose=True)[:-1]``: MonoMixer,
ChorusExtractor, MelSpectrogramTransformer; a progress bar on stderr), while a thread
samples the RSS of the process and of its workers (psutil):

* ``n_jobs=1, 1 thread``: one process inside ``limit_threads(1)``: one core, the
  reference for the parallel speed-up;
* ``n_jobs=1``: one process as it runs by default; it may use a second core for the
  decoder's helper threads and the features computed while decoding;
* ``n_jobs=2``: two loky worker processes, one thread each (torch and BLAS
  limited to one thread per worker, no read-ahead);
* ``2 processes x half, 1 thread``: the reference process and a twin side by side,
  each on half the songs: the machine's own scaling, what ``n_jobs=2`` could reach;
* ``arithmetic: 2 processes x half``: the same two processes running a pure Python
  loop (no memory traffic, no library) for about ``--spin`` seconds on one, then half
  of it each side by side: the scaling of the machine's two cores themselves;
* ``notebook``: the notebook's recipe (``bench_extraction.notebook``), song after
  song in one process (it has no parallelism).

The 100-song cases run in ``--repeat`` rounds, the cases of a round one right after
the other (their order turned by one each round), and each round's speed-up is the
reference's time over ``n_jobs=2``'s *in that round*: the machine's speed drifts
(5-12% over minutes in a VM), and cases minutes apart would measure the drift.  The
median over the rounds is judged.

Songs: the first 8 real recordings of 3-4 minutes under ``--real DIR``, encoded to
MP3 once (``_common.real_songs``), or synthetic 3-minute songs without it,
linked under N names (every song is decoded and analysed for real; the page
cache holds the files, so the figures are CPU-bound, not disk-bound).

Example::

    python benchmarks/bench_throughput.py --real ~/chorus-corpus/sources/unpacked --repeat 5
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
ONE = "n_jobs=1, 1 thread"
#: the machine's own scaling: two independent one-thread processes, half the songs each
PAIR = "2 processes x half, 1 thread"
SPIN = "arithmetic: 2 processes x half"
#: the second of the pair: a one-thread process like the reference
TWIN = "twin, 1 thread"
#: a server's answer to one job starts with this (the notebook's pychorus prints on stdout)
RESULT = "RESULT "


def spin(iterations: int) -> int:
    """A pure Python loop: CPU only, no memory traffic beyond the interpreter's own."""
    total = 0
    for i in range(iterations):
        total += i * i
    return total


def serve(case: str) -> None:
    """Run jobs for ``case`` until stdin closes: each line names a JSON listing of paths
    (or ``spin N``); one ``RESULT {json}`` line answers it."""
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

        steps = make_viral_pipeline(n_jobs=2 if case == "n_jobs=2" else 1, memory=None, verbose=True)[:-1]

        def run(ps):
            with limit_threads(1) if case in (ONE, TWIN) else contextlib.nullcontext():
                return steps.transform(ps)
    me = psutil.Process()

    def rss() -> int:
        return me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))

    warm = None  # the RSS after the first job (the warm-up): the baseline of every later one
    print(RESULT + json.dumps({"ready": True}), flush=True)  # imported: the driver may time jobs
    for line in sys.stdin:
        job = line.strip()
        if job.startswith("spin "):
            start = time.perf_counter()
            spin(int(job.split()[1]))
            answer = {"seconds": time.perf_counter() - start}
        else:
            with open(job) as fh:
                paths = json.load(fh)
            sampler = ProcessTreeSampler()
            sampler.start()
            start = time.perf_counter()
            out = run(paths)
            seconds = time.perf_counter() - start
            sampler.stop()
            warm = rss() if warm is None else warm
            answer = {"seconds": seconds, "base": warm, "peak": sampler.peak,
                      "array": 0 if out is None else int(out.nbytes), "load": os.getloadavg()[0]}
        print(RESULT + json.dumps(answer), flush=True)


class Server:
    """One case's process: :meth:`send` a job, :meth:`receive` its answer."""

    def __init__(self, case: str):
        self.case = case
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--_serve", case],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(self, job: str) -> None:
        self.proc.stdin.write(job + "\n")
        self.proc.stdin.flush()

    def receive(self) -> dict:
        for line in self.proc.stdout:
            if line.startswith(RESULT):
                return json.loads(line[len(RESULT):])
        raise SystemExit(f"the {self.case} process ended (exit code {self.proc.wait()})")

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def listing(paths: list[str], folder: str, name: str) -> str:
    path = os.path.join(folder, f"list-{name}.json")
    with open(path, "w") as fh:
        json.dump(paths, fh)
    return path


def run_together(jobs: list[tuple[Server, str]], case: str, n: int) -> dict:
    """The jobs side by side: the time of the slowest, the memory of all."""
    print(f"[{case}: {n} songs, load average {os.getloadavg()[0]:.2f}]", file=sys.stderr, flush=True)
    for server, job in jobs:
        server.send(job)
    runs = [server.receive() for server, _ in jobs]
    result = {"case": case, "n": n, "seconds": max(r["seconds"] for r in runs)}
    if "peak" in runs[0]:
        result.update({key: sum(r[key] for r in runs) for key in ("base", "peak", "array")},
                      load=max(r["load"] for r in runs))
    return result


def spin_iterations(seconds: float) -> int:
    """Iterations of :func:`spin` that take about ``seconds`` here."""
    start = time.perf_counter()
    spin(2_000_000)
    return int(2_000_000 * seconds / max(time.perf_counter() - start, 1e-6))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", metavar="DIR", default=None, help="real recordings under DIR (see above)")
    parser.add_argument("--sizes", type=int, default=100, help="songs for the n_jobs comparison (default 100)")
    parser.add_argument("--big", type=int, default=1000, help="songs for the n_jobs=2 throughput (default 1000)")
    parser.add_argument("--notebook", type=int, default=100, help="songs for the notebook's recipe (default 100)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of the --sizes cases; the speed-up is given for each round and their "
                             "median is judged (default 3)")
    parser.add_argument("--spin", type=float, default=4.0,
                        help="seconds of the pure-arithmetic reference on one core, per round (0: none)")
    parser.add_argument("--_serve", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._serve:
        serve(args._serve)
        return 0

    if args.real:
        unique = real_songs(8, args.real)["paths"]
        kind = f"8 real 3-4 minute recordings (MP3, from {args.real})"
    else:
        unique = cached_songs(8, duration=180.0, chorus_length=20.0, sample_rates=(44100,), seed=0)["paths"]
        kind = "8 synthetic 3-minute songs (MP3)"
    folder = os.path.join(CACHE_ROOT, f"throughput-{os.path.basename(os.path.dirname(unique[0]))}")
    print(f"Folder throughput, file to chorus mel (library defaults); {kind} linked under N names; "
          "one warm process per case, the cases of a round back to back")
    print(f"machine: {machine()}")
    small = linked_corpus(args.sizes, unique, folder)
    warm = listing(unique[:2], folder, "warm")
    servers = {case: Server(case) for case in (ONE, TWIN, "n_jobs=1", "n_jobs=2")}
    if args.notebook > 0:
        servers["notebook"] = Server("notebook")
    for server in servers.values():  # each process imports what it needs ...
        server.receive()
    first_calls = {}  # ... then makes its first call alone: imports done, joblib's workers started
    for case, server in servers.items():
        server.send(warm)
        first_calls[case] = server.receive()["seconds"]
    one, twin = servers[ONE], servers[TWIN]
    whole = listing(small, folder, f"{args.sizes}")
    halves = [listing(small[: args.sizes // 2], folder, f"{args.sizes}-a"),
              listing(small[args.sizes // 2 :], folder, f"{args.sizes}-b")]
    iterations = spin_iterations(args.spin) if args.spin > 0 else 0
    cases = {ONE: lambda: [(one, whole)], "n_jobs=1": lambda: [(servers["n_jobs=1"], whole)],
             "n_jobs=2": lambda: [(servers["n_jobs=2"], whole)], PAIR: lambda: [(one, halves[0]), (twin, halves[1])]}
    order = list(cases)
    results, spins = [], []
    for k in range(max(args.repeat, 1)):
        turned = order[k % len(order):] + order[: k % len(order)]
        for case in turned:
            results.append(dict(run_together(cases[case](), case, args.sizes), round=k))
        if iterations:
            alone = run_together([(one, f"spin {iterations}")], "arithmetic, 1 process", 0)["seconds"]
            both = run_together([(one, f"spin {iterations // 2}"), (twin, f"spin {iterations - iterations // 2}")],
                                SPIN, 0)["seconds"]
            spins.append(alone / both)
    if args.big > 0:
        big_list = listing(linked_corpus(args.big, unique, folder), folder, f"{args.big}")
        results.append(dict(run_together([(servers["n_jobs=2"], big_list)], "n_jobs=2", args.big), round=0))
    if args.notebook > 0:
        nb_list = listing(small[: args.notebook] if args.notebook <= args.sizes
                          else linked_corpus(args.notebook, unique, folder), folder, f"notebook-{args.notebook}")
        results.append(dict(run_together([(servers["notebook"], nb_list)], "notebook", args.notebook), round=0))
    for server in servers.values():
        server.close()

    by = {(r["case"], r["n"], r["round"]): r for r in results}
    rows = []
    for r in results:
        ref = by[(ONE, args.sizes, r["round"] if r["n"] == args.sizes else 0)]
        rate = r["n"] / r["seconds"] * 60.0
        label = r["case"] + (f" #{r['round'] + 1}" if args.repeat > 1 and r["n"] == args.sizes
                             and r["case"] in cases else "")
        rows.append([label, r["n"], f"{r['seconds']:.1f}", f"{rate:.0f}",
                     f"{ref['seconds'] / ref['n'] / (r['seconds'] / r['n']):.2f}x",
                     f"{(r['peak'] - r['base']) / MB:.0f}", f"{r['array'] / MB:.0f}", f"{r['load']:.2f}"])
    print()
    table(["case", "songs", "time s", "songs/min", "vs 1 thread (same round)", "peak-base MB (all processes)",
           "array MB", "load after"], rows)
    rounds = [[by[(c, args.sizes, k)]["seconds"] for c in order] for k in range(max(args.repeat, 1))]
    speedups = [t1 / t2 for t1, _, t2, _ in rounds]
    median = statistics.median(speedups)
    ok = "MET" if median >= TARGET_SPEEDUP else "MISSED"
    print(f"\nn_jobs=2 vs n_jobs=1 on one core, each round: {', '.join(f'{s:.2f}x' for s in speedups)}; "
          f"median {median:.2f}x (target >= {TARGET_SPEEDUP}x: {ok})")
    print("vs n_jobs=1 with its helper threads: " + ", ".join(f"{t1 / t2:.2f}x" for _, t1, t2, _ in rounds))
    pair = [t1 / tp for t1, _, _, tp in rounds]
    print(f"the machine's own scaling (two one-thread processes on half the songs each vs one on all): "
          f"{', '.join(f'{s:.2f}x' for s in pair)} (median {statistics.median(pair):.2f}x); n_jobs=2 reaches "
          + ", ".join(f"{tp / t2:.0%}" for _, _, t2, tp in rounds) + " of it")
    if spins:
        print(f"the cores themselves (a pure Python loop, {args.spin:.0f} s on one vs half each on two): "
              f"{', '.join(f'{s:.2f}x' for s in spins)} (median {statistics.median(spins):.2f}x)")
    print("first call, on 2 songs, in a process that has imported the library (n_jobs=2: starting its "
          "workers included): " + ", ".join(f"{case} {first_calls[case]:.1f} s" for case in (ONE, "n_jobs=1", "n_jobs=2")))
    big = by.get(("n_jobs=2", args.big, 0))
    nb = next((r for r in results if r["case"] == "notebook"), None)
    if big and nb:
        ours, theirs = big["n"] / big["seconds"] * 60, nb["n"] / nb["seconds"] * 60
        print(f"songs per minute: ours (n_jobs=2, {big['n']} songs) {ours:.0f}; the notebook's recipe "
              f"({nb['n']} songs, one process) {theirs:.0f}: {ours / theirs:.1f}x")
    first = by[("n_jobs=2", args.sizes, 0)]
    if big:
        print(f"memory, all processes, above their RSS after the warm-up: {(first['peak'] - first['base']) / MB:.0f} MB "
              f"for {args.sizes} songs (array {first['array'] / MB:.0f} MB), "
              f"{(big['peak'] - big['base']) / MB:.0f} MB for {args.big} (array {big['array'] / MB:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
