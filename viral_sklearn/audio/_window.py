"""One decode per song: a decode's samples kept to cut a window from.

The chorus step decodes a whole song to analyse it; the mel step then needs
one window of it at another rate.  Decoding that window again cost about a
sixth of the first decode.  Instead, the chorus step keeps what the decoder
gave (mono, at the file's own rate, before resampling) while it decodes
(:class:`NativeKeeper`, up to a byte limit: long songs are not kept), cuts the
window from it once the chorus is placed (:meth:`NativeKeeper.window`), and
the clip it returns carries that window (:class:`~._clip.DecodedWindow`).
:func:`replay_blocks` feeds those samples to the resampler in exactly the
blocks a decode of the window would: the result is what decoding the window
from the file gives, exactly for WAV and FLAC; an MP3 or OGG decoder restarted at
the window (a seek, 8 frames early for MP3) may round the last bit of some samples
differently (1.2e-7 on half the MP3s of the tests), the kept samples being those
of the uninterrupted decode.
"""

from __future__ import annotations

import threading

import numpy as np

from ._clip import AudioClip, DecodedWindow

__all__ = ["NativeKeeper", "read_in_blocks", "replay_blocks", "window_frames"]


def window_frames(clip: AudioClip, rate: int) -> tuple[int, int | None]:
    """First frame and frame count of ``clip``'s window at ``rate`` (None: to the end),
    as the decoders count them."""
    start = int(round(clip.offset * rate))
    want = None if clip.duration is None else max(int(round(clip.duration * rate)), 0)
    return start, want


_buffers = threading.local()  # per thread: the samples of the last song kept


def _thread_buffer(frames: int) -> np.ndarray:
    """This thread's buffer of at least ``frames`` float32 samples.  Reused from
    song to song: touching fresh memory for every song (page faults) cost more
    than a third of what keeping the samples saves."""
    buf = getattr(_buffers, "samples", None)
    if buf is None or buf.size < frames:
        buf = np.empty(frames, dtype=np.float32)
        _buffers.samples = buf
    return buf


class NativeKeeper:
    """The mono samples of one decode at the native rate, if they fit in ``limit`` bytes.

    The decoder writes each mixed block into :meth:`slot` (this thread's
    reusable buffer, sized from the file's header), so keeping costs no copy.

    Parameters
    ----------
    limit : int
        Bytes kept at most; a longer decode keeps nothing (:attr:`kept` False)
        and goes on as if nothing were kept.
    on_block : callable or None
        Called with each block of the decode's output (resampled, float32) as
        it is made: the chorus step's features are computed while the decoder
        reads ahead (``chorus._features.FeatureStream``).
    """

    def __init__(self, limit: int, on_block=None):
        self.limit = int(limit)
        self.on_block = on_block  # called with each resampled block, as it is decoded
        self.buffer: np.ndarray | None = None
        self.frames = 0
        self.rate = 0
        self.start = 0  # first frame of the decode in the file
        self.eof = False  # the decode ended at the end of the file

    @property
    def kept(self) -> bool:
        return self.buffer is not None

    def begin(self, rate: int, start: int, expected: int) -> None:
        """A decode at ``rate`` from frame ``start`` of about ``expected`` frames starts."""
        self.rate, self.start, self.frames = int(rate), int(start), 0
        if 0 < expected and 4 * expected <= self.limit:
            self.buffer = _thread_buffer(expected + (expected >> 6))  # MP3 headers may undercount
        else:
            self.buffer = None

    def slot(self, n: int) -> np.ndarray | None:
        """Where the next ``n`` mono samples go (None: keeping nothing)."""
        if self.buffer is None:
            return None
        if self.frames + n > self.buffer.size:
            if 4 * (self.frames + n) > self.limit:
                self.drop()
                return None
            grown = np.empty(self.frames + n + (n >> 2), dtype=np.float32)
            grown[: self.frames] = self.buffer[: self.frames]
            self.buffer = _buffers.samples = grown
        out = self.buffer[self.frames : self.frames + n]
        self.frames += n
        return out

    def drop(self) -> None:
        self.buffer = None

    def end(self, eof: bool) -> None:
        self.eof = bool(eof)

    def window(self, clip: AudioClip) -> DecodedWindow | None:
        """The samples a decode of ``clip``'s window would give (a copy), or None
        when the kept decode does not hold all of them (or nothing was kept)."""
        if self.buffer is None:
            return None
        start, want = window_frames(clip, self.rate)
        first = start - self.start
        last = self.frames if want is None else first + want
        if first < 0 or (last > self.frames and not self.eof):
            return None  # a decode of the window would read frames this one did not
        last = min(last, self.frames)
        if last <= first:
            return None
        return DecodedWindow(samples=self.buffer[first:last].copy(), sample_rate=self.rate, mix=clip.mix,
                             offset=clip.offset, duration=clip.duration)


def read_in_blocks(read, start: int, want: int | None, block_frames: int):
    """``(block, last)`` pairs of ``read(pos, n)`` over the frames ``[start, start + want)``
    (``want`` None: until a read returns fewer frames than asked), ``block_frames`` at a
    time; ``last`` marks the final block.  The one loop of the decoder and of the replay
    of a kept window, so both cut their blocks at the same frames.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(10.0)
    >>> [(b.tolist(), last) for b, last in read_in_blocks(lambda p, n: x[p : p + n], 2, 5, 3)]
    [([2.0, 3.0, 4.0], False), ([5.0, 6.0], True)]
    >>> [len(b) for b, _ in read_in_blocks(lambda p, n: x[p : p + n], 0, None, 4)]
    [4, 4, 2]
    """
    pos, remaining = start, want
    while remaining is None or remaining > 0:
        n = block_frames if remaining is None else min(block_frames, remaining)
        block = read(pos, n)
        got = block.shape[0]
        pos += got
        if remaining is not None:
            remaining -= got
        done = got < n or remaining == 0
        yield block, done
        if done:
            return


def replay_blocks(window: DecodedWindow, clip: AudioClip, block_frames: int):
    """``(mono block, last)`` pairs of the kept window, cut where a decode of the
    window from the file cuts its blocks (the resampler then sees the same calls)."""
    samples = window.samples
    _, want = window_frames(clip, window.sample_rate)
    return read_in_blocks(lambda pos, n: samples[pos : pos + n], 0, want, block_frames)
