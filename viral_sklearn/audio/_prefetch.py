"""Decoding ahead of the caller, in helper threads.

The chorus step's caller mixes, resamples and analyses each decoded block; a
decoder in another thread meanwhile reads the next (libsndfile, mpg123 and
soxr release the GIL).  Two ways:

* :func:`read_ahead`: one helper thread runs any block generator one item
  ahead (formats read sequentially: WAV, FLAC, OGG).
* :func:`read_in_parallel`: blocks that can be read independently (MP3, whose
  every block is its own seek: see ``_decode._soundfile_blocks``) are read by
  several helper threads at once, each with its own reader, and handed over in
  order.  The blocks are the same samples as one reader's, so the result does
  not depend on the number of threads.
"""

from __future__ import annotations

import queue
import threading

__all__ = ["read_ahead", "read_in_parallel"]

_END = object()


def read_ahead(items):
    """Iterate ``items`` (a generator) in a helper thread, one item ahead.

    The producer stops at the next item when the consumer stops early; an
    exception of the producer is raised in the consumer.  Closing this
    generator waits for the helper thread, so what the producer reads (an
    open file) may be closed right after.

    Examples
    --------
    >>> list(read_ahead(x * x for x in range(5)))
    [0, 1, 4, 9, 16]
    """
    box: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer
            put((None, exc))
            return
        put(_END)

    worker = threading.Thread(target=produce, name="viral_sklearn-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is _END:
                return
            value, exc = item
            if exc is not None:
                raise exc
            yield value
    finally:
        stop.set()
        worker.join()


def read_in_parallel(readers, start: int, want: int | None, block_frames: int):
    """``(block, last)`` pairs as :func:`~._window.read_in_blocks` gives them for one
    reader, the blocks read by one helper thread per reader.

    Parameters
    ----------
    readers : list of context managers
        Entered in its helper thread, each gives a ``read(pos, n)`` whose result
        depends only on ``pos`` and ``n`` (what :func:`~._window.read_in_blocks`
        asks of one reader), and is exited when the thread stops.
    start, want, block_frames : int
        As :func:`~._window.read_in_blocks`: the frames ``[start, start + want)``
        (``want`` None: until a block comes back short), ``block_frames`` a block.

    Each thread claims the next block not yet claimed, at most ``len(readers) - 1``
    (at least 1) blocks beyond the one the caller waits for: every thread stays busy
    while the caller keeps up, and memory is bounded (a 10-minute MP3 at 2 threads:
    96 MB above the baseline, 114 MB with one more block each).  The caller gets
    the blocks in order; the error a reader raised for a block, when the caller
    reaches that block.  A block past a short one (the end of the file) is read
    and dropped.  Closing the generator stops and waits for the threads.

    Examples
    --------
    >>> import contextlib, numpy as np
    >>> x = np.arange(10.0)
    >>> readers = [contextlib.nullcontext(lambda p, n: x[p : p + n])] * 3
    >>> [(b.tolist(), last) for b, last in read_in_parallel(readers, 1, None, 4)]
    [([1.0, 2.0, 3.0, 4.0], False), ([5.0, 6.0, 7.0, 8.0], False), ([9.0], True)]
    """
    def size(k: int) -> int:
        return block_frames if want is None else min(block_frames, want - k * block_frames)

    n_blocks = None if want is None else -(-want // block_frames)
    if n_blocks == 0:
        return
    lock = threading.Condition()
    state = {"next": 0, "waiting_for": 0, "short": None, "stop": False}
    done: dict = {}
    failures: list = []
    ahead = max(len(readers) - 1, 1)

    def claim() -> int | None:
        with lock:
            while not state["stop"] and state["next"] - state["waiting_for"] > ahead:
                lock.wait()
            k = state["next"]
            if state["stop"] or (n_blocks is not None and k >= n_blocks) or (
                    state["short"] is not None and k > state["short"]):
                return None
            state["next"] = k + 1
            return k

    def work(reader):
        try:
            with reader as read:
                while (k := claim()) is not None:
                    try:
                        block, exc = read(start + k * block_frames, size(k)), None
                    except BaseException as error:  # handed to the caller at block k
                        block, exc = None, error
                    with lock:
                        done[k] = (block, exc)
                        if exc is not None or block.shape[0] < size(k):
                            state["short"] = k if state["short"] is None else min(state["short"], k)
                        lock.notify_all()
        except BaseException as error:  # the reader could not be opened: the others go on
            with lock:
                failures.append(error)
                lock.notify_all()

    threads = [threading.Thread(target=work, args=(reader,), name="viral_sklearn-decode", daemon=True)
               for reader in readers]
    for thread in threads:
        thread.start()
    try:
        k = 0
        while True:
            with lock:
                while k not in done:
                    if not any(thread.is_alive() for thread in threads):
                        raise failures[0] if failures else RuntimeError(f"no reader read block {k}")
                    lock.wait(0.05)
                block, exc = done.pop(k)
                state["waiting_for"] = k + 1
                lock.notify_all()
            if exc is not None:
                raise exc
            last = block.shape[0] < size(k) or (n_blocks is not None and k == n_blocks - 1)
            yield block, last
            if last:
                return
            k += 1
    finally:
        with lock:
            state["stop"] = True
            lock.notify_all()
        for thread in threads:
            thread.join()
