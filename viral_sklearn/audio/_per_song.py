"""The one per-song map the transformers share: error report, cache, ``n_jobs``.

Every step that does real work on songs calls :func:`map_songs`, which

* runs a function on each song, in parallel through joblib when ``n_jobs`` asks
  (or the active joblib back-end says so: under ``joblib.parallel_config("dask")``
  the songs go to a Dask cluster), with the BLAS/torch threads of each worker
  bounded so workers do not oversubscribe the cores (:mod:`._threads`);
* never stops at the first bad song: it collects every failure and raises one
  :class:`SongErrors` listing each failing song, its reason, and how many
  songs succeeded;
* optionally keeps each song's result in an on-disk cache (``memory=``) whose
  keys cover the song's identity (path, size, modification time, or a digest of
  in-memory samples), the window, every parameter that changes the output, and
  the library version.  Entries are written atomically and carry a checksum, so
  a half-written or corrupted entry is never used: it is recomputed.  Each
  entry is written by the worker that computed the song, as soon as it is
  done, so an extraction killed half way keeps every finished song, and
  worker processes (on several machines, with a shared folder) fill one cache.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from typing import Any, Callable, Sequence

import numpy as np

from .._runtime import limit_threads, threads_per_task
from ._clip import AudioClip, AudioLoadError

__all__ = ["SongErrors", "SongCache", "map_songs", "run_tasks", "run_song", "fill_row", "check_songs"]

_MAGIC = b"VSKCACHE1\n"
_DIGEST = 32


class SongErrors(ValueError):
    """Several songs failed in one step; lists every one of them.

    Attributes
    ----------
    failures : list of (int, str, str)
        ``(index, song, reason)`` for each failing song, in input order.
    n_succeeded : int
        How many songs of the batch succeeded.
    """

    def __init__(self, step: str, failures: list[tuple[int, str, str]], n_total: int):
        self.step = step
        self.failures = list(failures)
        self.n_total = n_total
        self.n_succeeded = n_total - len(self.failures)
        lines = [
            f"{step}: {len(self.failures)} of {n_total} songs failed "
            f"({self.n_succeeded} succeeded):"
        ]
        lines += [f"  [{i}] {song}: {reason}" for i, song, reason in self.failures]
        super().__init__("\n".join(lines))

    def __reduce__(self):
        return (type(self), (self.step, self.failures, self.n_total))


# ----------------------------------------------------------------------
# Cache
# ----------------------------------------------------------------------
class SongCache:
    """A directory of per-song results, one checksummed ``.npy`` payload each.

    Parameters
    ----------
    location : str or os.PathLike
        Folder of the cache (created on first write).  Entries live under
        ``<location>/viral_sklearn/``.  A relative path is made absolute here,
        so worker processes that run elsewhere (another working directory, a
        Dask worker) write where the caller reads.
    """

    def __init__(self, location: str | os.PathLike):
        self.root = os.path.join(os.path.abspath(os.fspath(location)), "viral_sklearn")

    @classmethod
    def from_memory(cls, memory: Any) -> "SongCache | None":
        """``None`` (no cache), a folder, or a :class:`joblib.Memory`."""
        if memory is None:
            return None
        if isinstance(memory, (str, os.PathLike)):
            return cls(memory)
        location = getattr(memory, "location", None)
        if location is None and hasattr(memory, "store_backend"):  # joblib.Memory(None)
            return None
        if location is None:
            raise TypeError(
                "memory must be None, a folder path or a joblib.Memory, got "
                f"{type(memory).__name__}"
            )
        return cls(location)

    @staticmethod
    def key(step: str, params: tuple, clip: AudioClip) -> str:
        from .. import __version__

        raw = repr((step, params, clip.identity(), __version__)).encode()
        return hashlib.blake2b(raw, digest_size=20).hexdigest()

    def _path(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key + ".npy")

    def get(self, key: str) -> np.ndarray | None:
        """The stored array, or None when absent or damaged (then it is removed)."""
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
        except OSError:
            return None
        head = len(_MAGIC) + _DIGEST
        if (
            len(blob) < head
            or not blob.startswith(_MAGIC)
            or hashlib.blake2b(blob[head:], digest_size=_DIGEST).digest() != blob[len(_MAGIC):head]
        ):
            self._discard(path)
            return None
        try:
            return np.load(io.BytesIO(blob[head:]), allow_pickle=False)
        except Exception:
            self._discard(path)
            return None

    def put(self, key: str, value: np.ndarray) -> None:
        """Write atomically: a temporary file in the same folder, then rename."""
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        buf = io.BytesIO()
        np.save(buf, np.asarray(value), allow_pickle=False)
        payload = buf.getvalue()
        digest = hashlib.blake2b(payload, digest_size=_DIGEST).digest()
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + digest + payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            self._discard(tmp)
            raise

    @staticmethod
    def _discard(path: str) -> None:
        try:
            os.remove(path)
        except OSError:
            pass


# ----------------------------------------------------------------------
# The map
# ----------------------------------------------------------------------
def run_tasks(task: Callable, args: list[tuple], *, n_jobs: Any, verbose: bool, desc: str):
    """``task(threads, *a)`` for each ``a`` of ``args``, in order, as a generator: in
    this process (``threads`` None) or on ``min(effective_n_jobs(n_jobs), len(args))``
    joblib workers (``threads``: their number, to bound each one's thread pools),
    behind a progress bar when ``verbose``."""
    from joblib import Parallel, delayed, effective_n_jobs

    n_workers = min(effective_n_jobs(n_jobs), len(args))
    if n_workers <= 1:
        outputs = (task(None, *a) for a in args)
    else:
        outputs = Parallel(n_jobs=n_workers, return_as="generator")(delayed(task)(n_workers, *a) for a in args)
    if verbose:
        from tqdm.auto import tqdm

        outputs = tqdm(outputs, total=len(args), desc=desc, unit="song")
    return outputs


def _call_one(threads: int | None, func: Callable, clip: AudioClip, cache: SongCache | None, key: str | None,
              extras: bool = False):
    """Run func on one clip, where the worker runs, and store the result in the cache.

    A failing song never raises: its error comes back as text.  A failing
    cache write does raise (a full disk is not the song's fault).  With
    ``extras``, func returns ``(value, extra)`` and only ``value`` is cached.
    """
    ok, value = run_song(func, clip, threads)
    if ok and cache is not None:
        cache.put(key, value[0] if extras else value)
    return ok, value


def run_song(func: Callable, clip: AudioClip, threads: int | None):
    """``(True, func(clip))``, with the thread pools bounded for ``threads`` tasks side
    by side, or ``(False, reason)``: a failing song never raises, its error comes back
    as text (an :class:`AudioLoadError`'s reason, any other error with its type)."""
    try:
        with limit_threads(threads_per_task(threads)):
            return True, func(clip)
    except AudioLoadError as exc:
        return False, exc.reason
    except Exception as exc:  # reported with its type, never swallowed
        return False, f"{type(exc).__name__}: {exc}"


def fill_row(out: np.ndarray, i: int, value: Any, step: str, clip: AudioClip) -> None:
    """``out[i] = value``, or a ValueError naming the step and the song when it does not fit."""
    value = np.asarray(value)
    if value.shape != out.shape[1:]:
        raise ValueError(f"{step}: song {clip.label} gave shape {value.shape}, expected {out.shape[1:]}")
    out[i] = value


def _extra_bytes(extra: Any) -> int:
    return int(getattr(getattr(extra, "samples", extra), "nbytes", 0))


def map_songs(
    func: Callable[[AudioClip], np.ndarray],
    clips: Sequence[AudioClip],
    *,
    step: str,
    params: tuple = (),
    n_jobs: int | None = None,
    memory: Any = None,
    verbose: bool = False,
    out: np.ndarray | None = None,
    extras: int | None = None,
) -> list[np.ndarray] | np.ndarray:
    """Apply ``func`` to every clip; one result per clip, in order.

    Parameters
    ----------
    func : callable
        ``func(clip) -> np.ndarray``; must be picklable for ``n_jobs != 1``.
    clips : sequence of AudioClip
    step : str
        Name of the step, used in error messages and cache keys.
    params : tuple
        Every parameter that changes ``func``'s output (part of the cache key).
    n_jobs : int or None
        joblib's meaning: None is 1 unless a ``joblib.parallel_config``
        says otherwise (under ``parallel_config("dask")``: every thread of
        the cluster), -1 is all cores.
    memory : None, str, os.PathLike or joblib.Memory
        Where to cache per-song results.
    verbose : bool
        Show a progress bar.
    out : np.ndarray or None
        Where to write the results, ``out[i]`` for clip ``i`` (its shape
        ``(len(clips), *result_shape)``): results then never pile up in a list
        next to the final array, so the peak memory is that array plus a few
        songs in flight.
    extras : int or None
        With a byte budget, ``func`` returns ``(value, extra)``: ``value`` is the
        result (cached), ``extra`` something worth keeping that is not (the
        chorus step's decoded window, :class:`~._clip.DecodedWindow`).  Extras
        are kept, in the order the songs finish, while their bytes (their
        ``samples``' or their own ``nbytes``) add up to at most ``extras``; later
        ones, and those of songs read from the cache, are None.  Not with ``out``.

    Returns
    -------
    results : list of np.ndarray (of ``(value, extra)`` with ``extras``), or ``out`` when given

    Raises
    ------
    SongErrors
        When any song fails: lists every failing song and its reason.
    ValueError
        ``out`` has the wrong length, or a result does not fit ``out[i]``.
    """
    if out is not None and len(out) != len(clips):
        raise ValueError(f"{step}: out has {len(out)} rows for {len(clips)} songs")
    if out is not None and extras is not None:
        raise ValueError(f"{step}: extras are not stored in out")
    budget = [extras]

    def store(i: int, value: np.ndarray) -> None:
        if extras is not None:
            value, extra = value if isinstance(value, tuple) else (value, None)
            size = _extra_bytes(extra)
            if extra is not None and size > budget[0]:
                extra = None
            budget[0] -= size if extra is not None else 0
            results[i] = (value, extra)
            return
        if out is None:
            results[i] = value
        else:
            fill_row(out, i, value, step, clips[i])

    cache = SongCache.from_memory(memory)
    results: list[Any] = [None] * len(clips) if out is None else []
    keys: list[str | None] = [None] * len(clips)
    todo = []
    for i, clip in enumerate(clips):
        if cache is not None:
            keys[i] = cache.key(step, params, clip)
            hit = cache.get(keys[i])
            if hit is not None:
                store(i, hit)
                continue
        todo.append(i)

    failures = []
    if todo:
        outputs = run_tasks(_call_one, [(func, clips[i], cache, keys[i], extras is not None) for i in todo],
                            n_jobs=n_jobs, verbose=verbose, desc=step)
        # outputs first: zip then exhausts it, so a progress bar closes at its total
        for (ok, value), i in zip(outputs, todo):
            if ok:
                store(i, value)
            else:
                failures.append((i, clips[i].label, value))
    if failures:
        raise SongErrors(step, failures, len(clips))
    return results if out is None else out


def check_songs(X: Any, *, sr: int | None = None, n_jobs: int | None = None, verbose: bool = False):
    """Decode every song once and report the problems as a table.

    Use it to clean a folder before a long fit: it decodes each song (at
    ``sr`` when given) and checks what the pipeline checks.

    Parameters
    ----------
    X : list, array or Series of paths / AudioClip
    sr : int or None
        Decode at this rate (None keeps the native rate).

    Returns
    -------
    problems : pandas.DataFrame
        One row per failing song with columns ``index``, ``song``, ``reason``;
        empty when every song decodes.
    """
    import pandas as pd

    from ._clip import as_clips
    from ._decode import load_audio

    clips = as_clips(X)

    def _probe(clip):
        y, rate = load_audio(clip, sr=sr)
        return np.array([y.size / rate], dtype=np.float64)

    try:
        map_songs(_probe, clips, step="check_songs", n_jobs=n_jobs, verbose=verbose)
        rows = []
    except SongErrors as err:
        rows = err.failures
    return pd.DataFrame(rows, columns=["index", "song", "reason"])
