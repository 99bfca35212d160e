"""Songs streamed through consecutive song steps: each song through every step in one task.

A scikit-learn :class:`~sklearn.pipeline.Pipeline` runs its steps one after
the other over the whole batch, so what one song step hands the next exists for
every song at once.  For the chorus step that is each song's decoded chorus
window (3.5 MB at 44.1 kHz): holding them all grows with the folder, and
sending them back from ``n_jobs`` workers and out again costs the parent
process as much as a decode.

Inside a :class:`~viral_sklearn.SongPipeline` call, a song step whose output
goes straight into another song step hands on a :class:`PendingSongs` instead
(the songs and the work still to do on them, :class:`SongStage`), and the step
that makes an array runs the whole chain per song (:func:`map_song_chain`): one
task per song decodes it, places its chorus and computes its mel spectrogram,
and only the mel comes back.  Each song is decoded once, in the worker that
analyses it; memory is the final array plus the songs in flight, whatever the
number of songs.

The results are those of running the steps one after the other: the same
functions on the same clips, with the same per-step cache entries and the same
error report (the first step with failing songs raises :class:`SongErrors`
listing them).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from typing import Any, Callable, Sequence

import numpy as np

from ._clip import AudioClip
from ._per_song import SongCache, SongErrors, fill_row, run_song, run_tasks

__all__ = ["SongStage", "PendingSongs", "streaming", "streams_on", "map_song_chain"]

#: ids of the song steps whose output the current SongPipeline call streams into the next step
_STREAMING: contextvars.ContextVar = contextvars.ContextVar("viral_sklearn_streaming", default=frozenset())


@dataclasses.dataclass(frozen=True)
class SongStage:
    """One song step's work on one song.

    Attributes
    ----------
    step : str
        The step's name (error reports, cache keys).
    func : callable
        ``func(clip)``: the cached value (an array); with ``finish``, it may
        return ``(value, extra)``, ``extra`` handed to ``finish`` but not cached.
    params : tuple
        Every parameter that changes ``func``'s value (the cache key).
    n_jobs, memory, verbose
        The step's.
    finish : callable or None
        ``finish(clip, value, extra)``: the clip handed to the next stage
        (``extra`` None when ``value`` came from the cache).  None: ``value``
        is the song's row of the step's array.
    """

    step: str
    func: Callable
    params: tuple
    n_jobs: Any = None
    memory: Any = None
    verbose: bool = False
    finish: Callable | None = None


class PendingSongs:
    """Songs and the stages still to run on them: what a song step hands the next
    one inside a :class:`~viral_sklearn.SongPipeline` call.

    Examples
    --------
    >>> from viral_sklearn import AudioClip
    >>> pending = PendingSongs([AudioClip.from_path("a.mp3")], [SongStage("Step", str, ())])
    >>> len(pending), pending
    (1, PendingSongs(1 songs, stages=['Step']))
    """

    def __init__(self, clips: Sequence[AudioClip], stages: Sequence[SongStage]):
        self.clips = list(clips)
        self.stages = tuple(stages)

    def then(self, stage: SongStage) -> "PendingSongs":
        """These songs with one more stage."""
        return PendingSongs(self.clips, self.stages + (stage,))

    def __len__(self) -> int:
        return len(self.clips)

    def __repr__(self) -> str:
        return f"PendingSongs({len(self.clips)} songs, stages={[s.step for s in self.stages]})"


@contextlib.contextmanager
def streaming(steps: Sequence[Any]):
    """While inside, each of ``steps`` hands :class:`PendingSongs` to the step after it."""
    token = _STREAMING.set(frozenset(id(step) for step in steps))
    try:
        yield
    finally:
        _STREAMING.reset(token)


def streams_on(step: Any) -> bool:
    """Whether ``step``'s output goes into the next song step (see :func:`streaming`)."""
    return id(step) in _STREAMING.get()


def _lookup(stages, caches, clip: AudioClip, first: int):
    """Follow the cached stages from ``first`` on: ``(stage, clip)`` of the first stage
    to compute (``stage == len(stages)``: none), or ``(None, row)`` when the caches
    hold the song's row."""
    s = first
    while s < len(stages) and caches[s] is not None:
        value = caches[s].get(caches[s].key(stages[s].step, stages[s].params, clip))
        if value is None:
            break
        if stages[s].finish is None:
            return None, value
        clip = stages[s].finish(clip, value, None)
        s += 1
    return s, clip


def _chain_one(threads: int | None, stages, caches, clip: AudioClip, first: int):
    """The stages from ``first`` (which the parent found not cached) on, on one song,
    where the worker runs: ``(True, row or clip)``, or ``(False, (stage, reason))`` for a
    failing song.  Each stage's value is cached as the step alone would cache it."""
    s = first
    while True:
        stage, cache = stages[s], caches[s]
        ok, out = run_song(stage.func, clip, threads)
        if not ok:
            return False, (s, out)
        value, extra = out if stage.finish is not None and isinstance(out, tuple) else (out, None)
        if cache is not None:
            cache.put(cache.key(stage.step, stage.params, clip), value)
        if stage.finish is None:
            return True, value
        s, found = _lookup(stages, caches, stage.finish(clip, value, extra), s + 1)
        if s is None or s == len(stages):  # the row from a cache, or every stage done
            return True, found
        clip = found


def map_song_chain(stages: Sequence[SongStage], clips: Sequence[AudioClip], *, out: np.ndarray | None = None):
    """Every stage on every song, one task per song; one result per song, in order.

    Parameters
    ----------
    stages : sequence of SongStage
        The steps in pipeline order; all but the last hand a clip on (``finish``).
    clips : sequence of AudioClip
    out : np.ndarray or None
        Where the last stage's rows go (``out[i]`` for song ``i``), when it makes
        rows; otherwise a list of the results (clips, when every stage hands one on).

    The caches are read here as far as they hold each song (a song whose row is
    cached is not sent anywhere); the rest runs on ``max(n_jobs)`` of the stages'
    workers, behind one progress bar when any stage is verbose.

    Raises
    ------
    SongErrors
        The first stage where songs failed, listing each of them.
    ValueError
        A row does not fit ``out[i]``.
    """
    from joblib import effective_n_jobs

    stages = tuple(stages)
    caches = [SongCache.from_memory(stage.memory) for stage in stages]
    results: list[Any] = [None] * len(clips) if out is None else []

    def store(i: int, value) -> None:
        if out is None:
            results[i] = value
        else:
            fill_row(out, i, value, stages[-1].step, clips[i])

    todo = []
    for i, clip in enumerate(clips):
        first, found = _lookup(stages, caches, clip, 0)
        if first is None or first == len(stages):
            store(i, found)
        else:
            todo.append((i, first, found))
    failures: list[tuple[int, int, str, str]] = []
    if todo:
        n_jobs = max((effective_n_jobs(stage.n_jobs) for stage in stages), default=1)
        outputs = run_tasks(_chain_one, [(stages, caches, clip, first) for _, first, clip in todo],
                            n_jobs=n_jobs, verbose=any(stage.verbose for stage in stages),
                            desc=" + ".join(stage.step for stage in stages))
        for (ok, value), (i, _, _) in zip(outputs, todo):
            if ok:
                store(i, value)
            else:
                s, reason = value
                failures.append((s, i, clips[i].label, reason))
    if failures:
        first_failing = min(s for s, *_ in failures)
        raise SongErrors(stages[first_failing].step, [(i, song, reason) for s, i, song, reason in failures
                                                      if s == first_failing], len(clips))
    return results if out is None else out
