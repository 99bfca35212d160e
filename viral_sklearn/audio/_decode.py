"""The one loader of the library: :func:`load_audio` and :func:`audio_info`.

Samples of an :class:`~viral_sklearn.audio.AudioClip` are decoded only here,
and only the window a step needs, streamed in blocks through a streaming
resampler.

Back-ends: ``soundfile`` (libsndfile: WAV, FLAC, OGG, MP3 and more, no system
library needed) first; ``torchcodec`` (FFmpeg: M4A/AAC and any other container)
when it and FFmpeg's shared libraries are installed.  This module imports only
:mod:`._clip` of the package.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import threading

import numpy as np

from ._clip import AudioClip, AudioLoadError
from ._mpeg_length import samples_without_length_header
from ._prefetch import read_ahead, read_in_parallel
from ._window import NativeKeeper, read_in_blocks, replay_blocks, window_frames

__all__ = ["load_audio", "audio_info", "load_audio_keeping"]

#: frames read per block when streaming a file (bounded memory on long tracks:
#: 8 MB of float32 stereo; MP3 pays a seek per block, so not much smaller)
_BLOCK_FRAMES = 1 << 20
#: libsndfile's MPEG formats, decoded with care (see _decode_soundfile)
_MPEG_FORMATS = frozenset({"MPEG", "MP3"})
#: samples decoded before a seek target in MP3 and dropped: 8 frames of 1152
_MPEG_PREROLL = 8 * 1152
#: most helper threads decoding one MP3 at once (each holds a block of 8 MB)
_MAX_DECODER_THREADS = 4
#: where a decode keeps its native-rate samples (load_audio_keeping), if anywhere
_KEEPER: contextvars.ContextVar = contextvars.ContextVar("viral_sklearn_keeper", default=None)


_STDERR_LOCK = threading.Lock()
_stderr_state = {"depth": 0, "saved": None}


@contextlib.contextmanager
def _quiet_stderr():
    """Silence C libraries writing to file descriptor 2 (mpg123's seek notices).

    Thread-safe: the first thread in redirects fd 2 to /dev/null and the last
    one out restores it, so overlapping uses never leave stderr closed or
    pointing at /dev/null (which saving and restoring per call would, when two
    threads exit in the other order).  While any thread is inside, C-level
    stderr writes of the whole process are dropped; Python's own
    ``sys.stderr`` is not affected unless it writes to fd 2 directly.
    """
    with _STDERR_LOCK:
        if _stderr_state["depth"] == 0:
            try:
                saved = os.dup(2)
            except OSError:  # no usable stderr: nothing to silence
                saved = None
            if saved is not None:
                with open(os.devnull, "wb") as devnull:
                    os.dup2(devnull.fileno(), 2)
            _stderr_state["saved"] = saved
        _stderr_state["depth"] += 1
    try:
        yield
    finally:
        with _STDERR_LOCK:
            _stderr_state["depth"] -= 1
            saved = _stderr_state["saved"]
            if _stderr_state["depth"] == 0 and saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
                _stderr_state["saved"] = None


# ----------------------------------------------------------------------
# Back-ends
# ----------------------------------------------------------------------
def _check_file(path: str) -> None:
    if not os.path.exists(path):
        raise AudioLoadError(path, "file not found")
    if os.path.isdir(path):
        raise AudioLoadError(path, "is a directory, not an audio file")
    if os.path.getsize(path) == 0:
        raise AudioLoadError(path, "file is empty (0 bytes)")


def _torchcodec_available() -> bool:
    try:
        from torchcodec.decoders import AudioDecoder  # noqa: F401
    except Exception:  # ImportError, or FFmpeg's libraries missing (RuntimeError/OSError)
        return False
    return True


def _ffmpeg_source(path: str):
    """``path`` opened for FFmpeg, if its first bytes are a known audio container's
    (never a concat script or a playlist, whatever its name: see ``_containers``).

    FFmpeg reads the file object it is given, so it decodes the file checked.
    """
    from ._containers import HEAD_SIZE, container_of

    fh = open(path, "rb")
    try:
        container_of(fh.read(HEAD_SIZE))  # ValueError: the reason, which the caller lists as FFmpeg's
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    return fh


def _exc_text(exc: BaseException) -> str:
    """A back-end's error in words: its message, or its type when it has none."""
    return str(exc).strip() or type(exc).__name__


def audio_info(path: str | os.PathLike) -> dict:
    """Sample rate, channels, frame count and duration of a file, from its header.

    Raises
    ------
    AudioLoadError
        When no back-end can open the file; the message names the file.
    """
    path = os.fspath(path)
    _check_file(path)
    import soundfile as sf

    try:
        with _quiet_stderr():  # mpg123's notices on truncated MP3s
            info = sf.info(path)
        frames, backend = int(info.frames), "soundfile"
        cut = _mpeg_cut_short(path, frames, int(info.samplerate)) if info.format in _MPEG_FORMATS else None
        if cut is not None:  # what the decoder does: FFmpeg, to the end, or the reason
            if not _torchcodec_available():
                raise ValueError(cut[1])
            frames, backend = cut[0], "torchcodec"
        if frames > 0 and info.samplerate > 0:
            return {
                "sample_rate": int(info.samplerate),
                "channels": int(info.channels),
                "frames": frames,
                "duration": frames / info.samplerate,
                "backend": backend,
            }
        sf_reason = "no audio frames"
    except Exception as exc:  # libsndfile's errors are not one class across versions
        sf_reason = _exc_text(exc)
    if _torchcodec_available():
        try:
            from torchcodec.decoders import AudioDecoder

            with _ffmpeg_source(path) as fh:
                meta = AudioDecoder(fh).metadata
            duration = meta.duration_seconds_from_header or meta.duration_seconds
            if duration:
                sr = int(meta.sample_rate)
                return {
                    "sample_rate": sr,
                    "channels": int(meta.num_channels),
                    "frames": int(round(duration * sr)),
                    "duration": float(duration),
                    "backend": "torchcodec",
                }
        except Exception as exc:
            sf_reason += f"; FFmpeg: {_exc_text(exc).splitlines()[0]}"
    raise AudioLoadError(path, f"cannot decode audio ({sf_reason})")


def _mix_block(block: np.ndarray, mix: str | int | None, label: str, out: np.ndarray | None = None) -> np.ndarray:
    """(frames, channels) -> (frames,) float32, into ``out`` when given."""
    if isinstance(mix, (int, np.integer)) and not isinstance(mix, bool):
        if not -block.shape[1] <= mix < block.shape[1]:
            raise AudioLoadError(label, f"channel {mix} requested but the audio has {block.shape[1]} channel(s)")
        column = block[:, mix]
    elif block.shape[1] == 1:
        column = block[:, 0]
    else:
        column = None
    if column is not None:
        if out is None:
            return column.astype(np.float32, copy=False)
        out[:] = column
        return out
    channels = block.shape[1]
    if channels >= 8:  # numpy's pairwise summation kicks in: keep its exact mean
        return block.mean(axis=1, dtype=np.float32, out=out)
    # column sums: the same numbers as mean(axis=1) for < 8 channels, ~10x faster
    # on the (frames, channels) layout soundfile returns
    out = np.add(block[:, 0], block[:, 1], dtype=np.float32, out=out)
    for k in range(2, channels):
        out += block[:, k]
    out /= np.float32(channels)
    return out


class _Resampler:
    """Streaming resampler (soxr), identity when the rates match."""

    def __init__(self, in_rate: int, out_rate: int):
        self.identity = in_rate == out_rate
        if not self.identity:
            import soxr

            self._stream = soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality="HQ")

    def __call__(self, block: np.ndarray, last: bool) -> np.ndarray:
        if self.identity:
            return block
        return self._stream.resample_chunk(block, last=last)


def _mpeg_read(f):
    """``read(pos, n)``: the ``(n, channels)`` float32 frames from ``pos`` of an open
    MPEG ``SoundFile`` (fewer at the end of the file), the same whatever was read
    before, so blocks may be read in any order and by several handles.

    libsndfile 1.2's MPEG decoding (i) corrupts the first samples of every read
    that continues a previous one (zeros, then garbage) on tonal material, and
    (ii) decodes the first frames after a seek wrongly (the bit reservoir lives in
    earlier frames).  So every read is its own seek, a few frames early, and those
    frames are dropped: exact, in bounded memory, for ~1% more decoding.  mpg123
    reports (ii) on stderr.
    """
    def read(pos: int, n: int) -> np.ndarray:
        preroll = min(pos, _MPEG_PREROLL)
        f.seek(min(pos - preroll, max(f.frames, 0)))
        return f.read(n + preroll, dtype="float32", always_2d=True)[preroll:]

    return read


@contextlib.contextmanager
def _mpeg_handle(path: str):
    """A reader (:func:`_mpeg_read`) on a handle of its own, for a decoder thread."""
    import soundfile as sf

    with sf.SoundFile(path) as f:
        yield _mpeg_read(f)


def _soundfile_blocks(f, path: str, start: int, want: int | None):
    """``(block, last)`` pairs: the ``(frames, channels)`` float32 blocks of the
    frames ``[start, start + want)`` of the open ``SoundFile`` ``f`` of ``path``
    (``want`` None: to the end), and whether each is the last (``last`` with fewer
    frames than asked: the end of the file).  Read ahead of the caller in helper
    threads where the task may use more than one core: MPEG blocks by one thread per
    core at once (each its own seek: :func:`_mpeg_read`), other formats one block
    ahead in order."""
    threads = _decoder_threads(want)
    if f.format in _MPEG_FORMATS:
        if threads:
            readers = [contextlib.nullcontext(_mpeg_read(f))] + [_mpeg_handle(path) for _ in range(threads - 1)]
            return read_in_parallel(readers, start, want, _BLOCK_FRAMES)
        return read_in_blocks(_mpeg_read(f), start, want, _BLOCK_FRAMES)
    if start > 0:
        f.seek(min(start, max(f.frames, 0)))
    blocks = read_in_blocks(lambda pos, n: f.read(n, dtype="float32", always_2d=True), start, want, _BLOCK_FRAMES)
    return read_ahead(blocks) if threads else blocks


def _decoder_threads(want: int | None) -> int:
    """Helper threads decoding ahead of the caller: none when there is one block
    (nothing to overlap) or when the task has one core (an ``n_jobs`` worker), else
    one per core (the caller's own work on each block is a third of the decode's)."""
    from .._runtime import thread_allowance

    if want is not None and want <= _BLOCK_FRAMES:
        return 0
    cores = thread_allowance()
    return 0 if cores < 2 else min(cores, _MAX_DECODER_THREADS)


def _decode_soundfile(path: str, sr: int | None, mix, offset: float, duration: float | None,
                      keeper: NativeKeeper | None = None):
    import soundfile as sf

    # mpg123 reports on stderr what _mpeg_read describes, and truncated
    # files ("Xing stream size off") when they are opened
    with _quiet_stderr(), sf.SoundFile(path) as f:
        native = int(f.samplerate)
        cut = _mpeg_cut_short(path, int(f.frames), native) if f.format in _MPEG_FORMATS else None
        if cut is not None:
            raise ValueError(cut[1])  # _decode goes on to FFmpeg
        start, want = window_frames(AudioClip(path=path, offset=offset, duration=duration), native)
        out_sr = sr or native
        resampler = _Resampler(native, out_sr)
        if keeper is not None:
            total = max(int(f.frames), 0) - start
            keeper.begin(native, start, total if want is None else min(want, total))
        blocks = _soundfile_blocks(f, path, start, want)
        pieces, frames = [], 0
        with contextlib.closing(blocks):  # the helper threads end before the file closes
            for block, done in blocks:
                mono = _mix_block(block, mix, path, None if keeper is None else keeper.slot(block.shape[0]))
                frames += mono.shape[0]
                if keeper is not None and done:
                    keeper.end(eof=want is None or frames < want)
                pieces.append(resampler(mono, last=done))
                if keeper is not None and keeper.on_block is not None:
                    keeper.on_block(pieces[-1])
        y = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
    return np.ascontiguousarray(y, dtype=np.float32), out_sr


def _mpeg_cut_short(path: str, frames: int, rate: int) -> tuple[int, str] | None:
    """``(samples, reason)`` when libsndfile would stop decoding the MPEG file ``path``
    short of its end (``frames``, its length for libsndfile, is an estimate from the
    first frame when the file has no length header: see ``_mpeg_length``), else None.
    The decoder then hands the file to FFmpeg, which reads to the end, or names the reason."""
    counted = samples_without_length_header(path)
    if counted is None or counted <= frames * 1.01 + 2 * 1152:
        return None
    return counted, (f"an MP3 without a length header (Xing/Info/VBRI): libsndfile would stop at "
                     f"{frames / rate:.1f} s of its {counted / rate:.1f} s")


def _decode_kept(clip: AudioClip, sr: int | None):
    """The clip's window from the samples a previous decode kept (see ``_window``):
    the same resampler calls on the same samples as decoding the window."""
    native = clip.decoded.sample_rate
    out_sr = sr or native
    resampler = _Resampler(native, out_sr)
    samples = clip.decoded.samples
    if not samples.flags.writeable or type(samples) is not np.ndarray:  # joblib hands workers read-only memmaps
        samples = np.array(samples, dtype=np.float32)  # soxr takes writable arrays only
    window = dataclasses.replace(clip.decoded, samples=samples)
    pieces = [resampler(block, last=done) for block, done in replay_blocks(window, clip, _BLOCK_FRAMES)]
    y = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
    return np.ascontiguousarray(y, dtype=np.float32), out_sr


def _decode_torchcodec(path: str, sr: int | None, mix, offset: float, duration: float | None):
    from torchcodec.decoders import AudioDecoder

    with _ffmpeg_source(path) as fh:
        dec = AudioDecoder(fh)
        stop = None if duration is None else offset + duration
        samples = dec.get_samples_played_in_range(start_seconds=offset, stop_seconds=stop)
    data = samples.data.numpy().T  # (frames, channels)
    native = int(samples.sample_rate)
    mono = _mix_block(np.ascontiguousarray(data, dtype=np.float32), mix, path)
    out_sr = sr or native
    return _Resampler(native, out_sr)(mono, last=True), out_sr


def _pcm_to_float(samples: np.ndarray) -> np.ndarray:
    """Samples as float32; integers are PCM, scaled to [-1, 1) as soundfile reads
    them: signed by ``2 ** (bits - 1)`` (int16 / 32768), unsigned as offset binary
    (8-bit WAV: ``(x - 128) / 128``)."""
    if not np.issubdtype(samples.dtype, np.integer):
        return np.asarray(samples, dtype=np.float32)
    half = 2.0 ** (8 * samples.dtype.itemsize - 1)
    x = samples.astype(np.float64)
    if np.issubdtype(samples.dtype, np.unsignedinteger):
        x -= half
    x /= half
    return x.astype(np.float32)


def _decode_array(clip: AudioClip, sr: int | None):
    native = clip.sample_rate
    start = int(round(clip.offset * native))
    stop = None if clip.duration is None else start + int(round(clip.duration * native))
    block = _pcm_to_float(clip.samples[:, start:stop]).T
    mono = _mix_block(block, clip.mix, clip.label)
    out_sr = sr or native
    return _Resampler(native, out_sr)(np.ascontiguousarray(mono), last=True), out_sr


def _decode(clip: AudioClip, sr: int | None) -> tuple[np.ndarray, int]:
    """Decode a clip's window to mono float32 (the only place that decodes)."""
    if clip.samples is not None:
        return _decode_array(clip, sr)
    path = clip.path
    _check_file(path)
    errors = []
    keeper = _KEEPER.get()
    try:
        return _decode_soundfile(path, sr, clip.mix, clip.offset, clip.duration, keeper)
    except AudioLoadError:
        raise
    except Exception as exc:
        errors.append(f"soundfile: {_exc_text(exc)}")
        if keeper is not None:
            keeper.drop()  # a partial decode: keep nothing
    if _torchcodec_available():
        try:
            return _decode_torchcodec(path, sr, clip.mix, clip.offset, clip.duration)
        except AudioLoadError:
            raise
        except Exception as exc:
            errors.append(f"FFmpeg: {_exc_text(exc).splitlines()[0]}")
    else:
        errors.append("FFmpeg back-end unavailable (install torchcodec and FFmpeg for M4A/AAC)")
    raise AudioLoadError(path, "cannot decode audio (" + "; ".join(errors) + ")")


def load_audio(
    source: str | os.PathLike | AudioClip,
    *,
    sr: int | None = None,
    offset: float | None = None,
    duration: float | None = None,
) -> tuple[np.ndarray, int]:
    """Decode a song (or a window of it) to mono float32.

    Parameters
    ----------
    source : str, os.PathLike or AudioClip
        A file, or a clip (whose ``mix``, ``offset`` and ``duration`` apply).
    sr : int or None, default=None
        Target sample rate; ``None`` keeps the native rate.  Resampling is
        streamed (soxr, high quality), so a long track never sits in memory at
        its native rate and channel count.
    offset, duration : float or None, default=None
        Override the clip's window, in seconds.  Only the window is decoded
        where the format can seek (all libsndfile formats, MP3 included).
        A clip whose window a step has decoded already (``clip.decoded``, set
        by :class:`~viral_sklearn.ChorusExtractor`) is not decoded again: the
        same samples come from memory.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]
        Mono samples; channels are averaged unless the clip picks one.
    sr : int
        Sample rate of ``y``.

    Raises
    ------
    AudioLoadError
        Missing file, directory, empty or undecodable file, no samples, or
        non-finite samples.  The message names the file and the reason.
    """
    return _load(source, sr=sr, offset=offset, duration=duration)


def load_audio_keeping(clip: AudioClip, *, sr: int, limit: int, on_block=None) -> tuple[np.ndarray, int, NativeKeeper]:
    """:func:`load_audio` of ``clip`` at ``sr``, keeping the decoder's mono samples
    at the native rate (up to ``limit`` bytes) to cut a window from
    (:meth:`NativeKeeper.window`), and calling ``on_block`` with each block of
    the output as it is made.  Nothing is kept (and ``on_block`` is not called)
    for in-memory audio (a window of it costs nothing) nor for the FFmpeg back-end."""
    keeper = NativeKeeper(limit, on_block)
    token = _KEEPER.set(keeper)
    try:
        y, out_sr = _load(clip, sr=sr)
    finally:
        _KEEPER.reset(token)
    return y, out_sr, keeper


def _load(source, *, sr=None, offset=None, duration=None) -> tuple[np.ndarray, int]:
    clip = source if isinstance(source, AudioClip) else AudioClip.from_path(source)
    changes = {}
    if offset is not None and float(offset) != clip.offset:
        changes["offset"] = float(offset)
    if duration is not None and float(duration) != clip.duration:
        changes["duration"] = float(duration)
    if changes:  # another window: what was decoded of this clip's (``decoded``) is not it
        clip = clip.replace(**changes)
    if clip.offset < 0 or (clip.duration is not None and clip.duration < 0):
        raise AudioLoadError(clip.label, f"negative window (offset={clip.offset}, duration={clip.duration})")
    if sr is not None and (isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0):
        raise ValueError(f"sr must be a positive integer or None, got {sr!r}")
    sr = None if sr is None else int(sr)
    if clip.decoded is not None and clip.samples is None and clip.decoded.matches(clip):
        y, out_sr = _decode_kept(clip, sr)  # decoded already, by the step before
    else:
        y, out_sr = _decode(clip, sr)
    if y.size == 0 and clip.duration != 0:
        if clip.offset == 0:
            raise AudioLoadError(clip.label, "contains no audio samples")
        raise AudioLoadError(clip.label, f"no samples in the window starting at {clip.offset:.2f} s (past the end)")
    if not np.isfinite(y).all():
        raise AudioLoadError(clip.label, "contains non-finite samples (NaN or Inf)")
    return y, out_sr
