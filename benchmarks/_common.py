"""Helpers shared by the benchmark scripts (not part of the library).

* :func:`cached_songs` writes synthetic songs with :func:`viral_sklearn.datasets.make_songs`
  once and reuses them from a temporary folder on later runs;
* :func:`real_songs` encodes real recordings of a given length (any format libsndfile
  reads) to MP3 once, into the same cache;
* :func:`machine` describes the machine in one line;
* :func:`table` prints rows as an aligned text table;
* :func:`quiet` silences Python's stdout (pychorus prints) and C libraries' stderr.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import platform
import statistics
import sys
import shutil
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, ROOT)

#: where generated songs are kept between runs
CACHE_ROOT = os.environ.get("VIRAL_BENCH_CACHE", os.path.join(tempfile.gettempdir(), "viral_sklearn_bench"))


def cached_songs(n_songs: int, *, duration, chorus_length: float, sample_rates=(44100,), seed: int = 0,
                 n_jobs: int | None = None, verbose: bool = True) -> dict:
    """Paths, labels and true chorus times of synthetic MP3 songs, made once.

    The songs live in ``CACHE_ROOT/<hash of the arguments>/`` (``$VIRAL_BENCH_CACHE``
    overrides the root); a ``songs.json`` written last marks a finished folder.

    Returns
    -------
    dict with ``paths`` (list of str), ``labels`` (list of int), ``chorus_times``
    (list of lists of ``[start, end]``), ``durations`` (list of float).
    """
    spec = {"n": int(n_songs), "duration": duration, "chorus_length": float(chorus_length),
            "sample_rates": [int(r) for r in sample_rates], "seed": int(seed)}
    tag = hashlib.blake2b(json.dumps(spec, sort_keys=True).encode(), digest_size=6).hexdigest()
    folder = os.path.join(CACHE_ROOT, f"songs-{tag}")
    index = os.path.join(folder, "songs.json")
    if os.path.exists(index):
        with open(index) as fh:
            data = json.load(fh)
        if all(os.path.exists(p) for p in data["paths"]):
            return data
    from viral_sklearn.datasets import make_songs

    if verbose:
        print(f"[setup] writing {n_songs} synthetic song(s) to {folder} (once; reused later) ...",
              file=sys.stderr, flush=True)
    start = time.perf_counter()
    corpus = make_songs(n_songs, folder, duration=duration, chorus_length=chorus_length,
                        sample_rates=tuple(sample_rates), random_state=seed, n_jobs=n_jobs)
    data = {
        "spec": spec,
        "paths": list(corpus.paths),
        "labels": [int(v) for v in corpus.labels],
        "chorus_times": [[list(map(float, t)) for t in times] for times in corpus.truth["chorus_times"]],
        "durations": [float(d) for d in corpus.truth["duration"]],
    }
    with open(index + ".tmp", "w") as fh:
        json.dump(data, fh)
    os.replace(index + ".tmp", index)
    if verbose:
        print(f"[setup] done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return data


#: audio files :func:`real_songs` looks at
_REAL_EXTENSIONS = (".ogg", ".flac", ".wav", ".mp3")


def real_songs(n_songs: int, source: str, *, duration=(180.0, 240.0), verbose: bool = True) -> dict:
    """Paths of real recordings encoded to MP3 (stereo, their native rate), made once.

    The files under ``source`` (recursively, sorted by path) whose length is
    within ``duration`` are taken in order, skipping copies (the same file name
    and frame count: packages ship one track per language), until ``n_songs``
    are found; each is encoded to MP3 by libsndfile (its default VBR quality)
    into ``CACHE_ROOT/real-<hash>/``.  Nothing is committed: the recordings stay
    where they are (for example the Debian game-music packages that
    ``build_chorus_corpus.py`` downloads into ``<corpus>/sources``).

    Returns
    -------
    dict with ``paths`` (the MP3s), ``sources`` (the recordings) and ``durations``.
    """
    import soundfile as sf

    found, seen = [], set()
    for folder, _, files in sorted(os.walk(source)):
        for name in sorted(files):
            if not name.lower().endswith(_REAL_EXTENSIONS):
                continue
            path = os.path.join(folder, name)
            try:
                info = sf.info(path)
            except Exception:
                continue
            seconds = info.frames / info.samplerate
            if not duration[0] <= seconds <= duration[1] or (name, info.frames) in seen:
                continue
            seen.add((name, info.frames))
            found.append((path, seconds))
    found = sorted(found)[:n_songs]
    if len(found) < n_songs:
        raise SystemExit(f"only {len(found)} recordings of {duration[0]:g}-{duration[1]:g} s under {source}")
    spec = {"sources": [p for p, _ in found], "sizes": [os.path.getsize(p) for p, _ in found]}
    tag = hashlib.blake2b(json.dumps(spec, sort_keys=True).encode(), digest_size=6).hexdigest()
    folder = os.path.join(CACHE_ROOT, f"real-{tag}")
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, (src, _) in enumerate(found):
        stem = os.path.splitext(os.path.basename(src))[0].replace(" ", "_")
        out = os.path.join(folder, f"real_{i:02d}_{stem}.mp3")
        if not os.path.exists(out):
            if verbose:
                print(f"[setup] encoding {src} -> {out} (once)", file=sys.stderr, flush=True)
            with sf.SoundFile(src) as fin, sf.SoundFile(out + ".tmp", "w", fin.samplerate, fin.channels,
                                                        format="MP3", subtype="MPEG_LAYER_III") as fout:
                for block in fin.blocks(blocksize=1 << 16, dtype="float32", always_2d=True):
                    fout.write(block)
            os.replace(out + ".tmp", out)
        paths.append(out)
    return {"paths": paths, "sources": [p for p, _ in found], "durations": [d for _, d in found]}


def machine() -> str:
    """One line: CPU model, cores, Python, numpy/torch versions and torch threads."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    parts = [f"{cpu}, {os.cpu_count()} logical cores", f"Python {platform.python_version()}"]
    try:
        import numpy

        parts.append(f"numpy {numpy.__version__}")
    except ImportError:
        pass
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    parts.append(f"load average {os.getloadavg()[0]:.2f}")
    parts.append(tree_state())
    return "; ".join(parts)


def tree_state() -> str:
    """The commit measured, and which library files differ from it (read-only git)."""
    import subprocess

    def git(*args):
        try:
            out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.rstrip("\n") if out.returncode == 0 else None

    head = git("rev-parse", "--short", "HEAD")
    head = head.strip() if head else head
    if head is None:
        return "not a git checkout"
    changed = git("status", "--porcelain", "--", "viral_sklearn")
    files = [line[3:] for line in (changed or "").splitlines() if line.strip()]
    return f"HEAD {head}" + (f" + uncommitted changes in {', '.join(files)}" if files else " (clean library)")


def table(headers, rows, *, out=None) -> None:
    """Print ``rows`` (lists of already formatted cells) under ``headers``, right-aligned."""
    out = out or sys.stdout
    cells = [list(map(str, headers))] + [list(map(str, r)) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    print("  ".join(h.rjust(w) for h, w in zip(cells[0], widths)), file=out)
    print(line, file=out)
    for r in cells[1:]:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)), file=out)


def verdict(value: float, target: float, *, higher_is_better: bool) -> str:
    """``"MET"`` / ``"MISSED"`` with the margin, e.g. ``MISSED (3.1x vs >= 5x)``."""
    ok = value >= target if higher_is_better else value <= target
    return "MET" if ok else "MISSED"


def median(values) -> float:
    return float(statistics.median(values))


@contextlib.contextmanager
def quiet():
    """Silence ``print`` (pychorus) and file descriptor 2 (mpg123's notices)."""
    from viral_sklearn.audio._decode import _quiet_stderr

    sys.stderr.flush()
    with contextlib.redirect_stdout(io.StringIO()), _quiet_stderr():
        yield


def rss_bytes(field: str = "VmRSS") -> int | None:
    """``VmRSS`` / ``VmHWM`` of this process from ``/proc/self/status`` (Linux), in bytes."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class ProcessTreeSampler(threading.Thread):
    """Resident memory of this process's children (joblib's workers), sampled
    every ``interval`` seconds until :meth:`stop`: each child's first and peak
    RSS (``first``, ``peaks``, by pid), the peak of their sum (``peak_sum``), and
    the peak of this process's RSS plus theirs (``peak``)."""

    def __init__(self, interval: float = 0.1):
        super().__init__(daemon=True)
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self.first: dict[int, int] = {}
        self.peak_sum = 0
        self.peak = 0
        self._done = threading.Event()

    def run(self):
        import psutil

        me = psutil.Process()
        while not self._done.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    rss = child.memory_info().rss
                except psutil.Error:
                    continue
                self.first.setdefault(child.pid, rss)
                self.peaks[child.pid] = max(self.peaks.get(child.pid, 0), rss)
                total += rss
            self.peak_sum = max(self.peak_sum, total)
            self.peak = max(self.peak, me.memory_info().rss + total)
            self._done.wait(self.interval)

    def stop(self):
        self._done.set()
        self.join()


def linked_corpus(n: int, unique: list[str], folder: str) -> list[str]:
    """``n`` names in ``folder`` for the ``unique`` songs, in turn: hard links (copies
    where links are refused), ``song0000`` on, with the songs' extension."""
    os.makedirs(folder, exist_ok=True)
    ext = os.path.splitext(unique[0])[1]
    paths = []
    for i in range(n):
        path = os.path.join(folder, f"song{i:04d}{ext}")
        if not os.path.exists(path):
            try:
                os.link(unique[i % len(unique)], path)
            except OSError:
                shutil.copyfile(unique[i % len(unique)], path)
        paths.append(path)
    return paths
