"""How a song travels between the steps: :class:`AudioClip`, a light reference.

An :class:`AudioClip` says where a song's samples live (a file path, or an
in-memory array with its sample rate) plus what has been decided about it
(channel mix, start offset, duration, whether a chorus was found).  Samples are
decoded only by :func:`~viral_sklearn.audio.load_audio`, and only the window a
step needs.  :func:`as_clips` turns what users have (paths, clips, arrays) into
clips; :class:`AudioLoadError` is the one error a song's samples raise.  This
module imports nothing else of the package.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Iterable

import numpy as np

__all__ = ["AudioClip", "AudioLoadError", "DecodedWindow", "as_clips"]


class AudioLoadError(ValueError):
    """A song could not be decoded or its samples are unusable.

    Parameters
    ----------
    source : str
        The file path, or a description of the in-memory clip.
    reason : str
        What went wrong, in words.
    """

    def __init__(self, source: str, reason: str):
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{self.source!r}: {reason}")

    def __reduce__(self):  # picklable across joblib workers
        return (type(self), (self.source, self.reason))


@dataclasses.dataclass(frozen=True, eq=False)
class DecodedWindow:
    """A clip's window already decoded: mono samples at the file's own rate.

    :class:`~viral_sklearn.ChorusExtractor` attaches one to the clips it
    returns (``AudioClip.decoded``), cut from the decode it analysed, so that the
    next step does not decode the song a second time.  :func:`load_audio` uses
    it only for the clip it was cut for (the same ``mix``, ``offset`` and
    ``duration``), and gives what decoding that window of the file gives: the
    samples are the decoder's, mixed, before any resampling (exactly for WAV and
    FLAC; a lossy decoder restarted at the window may differ in the last bit).

    Attributes
    ----------
    samples : np.ndarray [shape=(n,), dtype=float32]
    sample_rate : int
        The file's native rate.
    mix, offset, duration
        The window the samples are: those of the clip they were cut for.
    """

    samples: np.ndarray
    sample_rate: int
    mix: str | int | None
    offset: float
    duration: float | None

    def matches(self, clip: "AudioClip") -> bool:
        """Whether these are the samples of ``clip``'s window."""
        return (self.mix, self.offset, self.duration) == (clip.mix, clip.offset, clip.duration)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class AudioClip:
    """A light reference to (part of) a song.

    Parameters
    ----------
    path : str or None
        The audio file.  Exactly one of ``path`` and ``samples`` is set.
    samples : np.ndarray [shape=(n,) or (channels, n)] or None
        In-memory audio with its ``sample_rate``: floating point (full scale
        is 1.0), or integer PCM, scaled to [-1, 1) when decoded as soundfile
        reads files (int16 / 32768; unsigned integers are offset binary).
    sample_rate : int or None
        Sample rate of ``samples`` in Hz (unused for files).
    mix : {"mean"} or int or None
        How channels become one: ``"mean"`` averages them, an int picks that
        channel, ``None`` means not decided yet (steps that need mono use the mean).
    offset : float
        Start of the window, in seconds from the start of the song.
    duration : float or None
        Length of the window in seconds; ``None`` means to the end.
    chorus_found : bool or None
        Set by :class:`~viral_sklearn.ChorusExtractor`: whether the window is a
        detected chorus (``True``) or the fallback rule's choice (``False``).
    name : str or None
        Name used in error messages for in-memory clips.
    decoded : DecodedWindow or None
        The window's samples when a step has already decoded them (set by
        :class:`~viral_sklearn.ChorusExtractor`; see :class:`DecodedWindow`).
        Not part of the clip's identity (cache keys), nor of its ``repr``.

    Examples
    --------
    >>> import numpy as np
    >>> clip = AudioClip.from_array(np.zeros(22050, dtype=np.float32), 22050)
    >>> clip.total_duration
    1.0
    """

    path: str | None = None
    samples: np.ndarray | None = None
    sample_rate: int | None = None
    mix: str | int | None = None
    offset: float = 0.0
    duration: float | None = None
    chorus_found: bool | None = None
    name: str | None = None
    decoded: DecodedWindow | None = None

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> "AudioClip":
        """Reference a file without opening it."""
        return cls(path=os.fspath(path))

    @classmethod
    def from_array(cls, samples: Any, sample_rate: int, *, name: str | None = None) -> "AudioClip":
        """Reference in-memory audio of shape ``(n,)`` or ``(channels, n)``.

        Floating-point samples are taken as they are (full scale 1.0); integer
        samples are PCM and are scaled to [-1, 1) when decoded, as soundfile
        reads files: ``int16`` by 1/32768, ``int32`` by 2**-31, ``uint8`` as
        ``(x - 128) / 128``.  So ``(scipy.io.wavfile.read(f)[1].T, rate)``
        and ``soundfile.read(f)`` give the same features.
        """
        label = name or "<in-memory audio>"
        arr = np.asarray(samples)
        if arr.ndim not in (1, 2):
            raise AudioLoadError(label, f"expected samples of shape (n,) or (channels, n), got shape {arr.shape}")
        if arr.ndim == 2 and arr.shape[0] == 0:  # else the mix is a mean of nothing: NaN
            raise AudioLoadError(label, f"expected at least one channel, got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise AudioLoadError(label, f"expected real numeric samples, got dtype {arr.dtype}")
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
            raise AudioLoadError(label, f"sample_rate must be a positive integer, got {sample_rate!r}")
        if arr.ndim == 1:
            arr = arr[np.newaxis, :]
        return cls(samples=arr, sample_rate=int(sample_rate), name=name)

    # ------------------------------------------------------------------
    @property
    def label(self) -> str:
        """What error messages call this clip (the path, or the name)."""
        if self.path is not None:
            return self.path
        return self.name or "<in-memory audio>"

    @property
    def total_duration(self) -> float:
        """Duration of the whole song in seconds (reads the file header only)."""
        if self.samples is not None:
            return self.samples.shape[-1] / self.sample_rate
        from ._decode import audio_info

        return audio_info(self.path)["duration"]

    def replace(self, **changes) -> "AudioClip":
        """A copy with some fields changed.

        Decoded samples (``decoded``) are kept only while the window they are
        stays the same (a change of ``chorus_found`` or ``name``), or when
        ``decoded`` is among the changes.
        """
        if "decoded" not in changes and not set(changes) <= {"chorus_found", "name"}:
            changes["decoded"] = None
        return dataclasses.replace(self, **changes)

    def load(self, *, sr: int | None = None) -> tuple[np.ndarray, int]:
        """Decode this clip's window, mixed to mono: see :func:`load_audio`."""
        from ._decode import load_audio

        return load_audio(self, sr=sr)

    def identity(self) -> tuple:
        """What identifies the samples this clip refers to (for cache keys).

        For a file: absolute path, size and modification time; for in-memory
        audio: a digest of the samples.  The window and mix are added.
        """
        if self.path is not None:
            try:
                st = os.stat(self.path)
                src = ("file", os.path.abspath(self.path), st.st_size, st.st_mtime_ns)
            except OSError:
                src = ("file", os.path.abspath(self.path), None, None)
        else:
            import hashlib

            arr = np.ascontiguousarray(self.samples)
            digest = hashlib.blake2b(arr.view(np.uint8).reshape(-1), digest_size=16).hexdigest()
            src = ("array", str(arr.dtype), arr.shape, self.sample_rate, digest)
        return src + (self.mix, float(self.offset), self.duration)

    def __repr__(self) -> str:
        where = repr(self.path) if self.path is not None else f"<array {self.samples.shape} @ {self.sample_rate} Hz>"
        parts = [where]
        if self.mix is not None:
            parts.append(f"mix={self.mix!r}")
        if self.offset or self.duration is not None:
            parts.append(f"offset={self.offset:.3f}")
            parts.append(f"duration={self.duration}")
        if self.chorus_found is not None:
            parts.append(f"chorus_found={self.chorus_found}")
        return f"AudioClip({', '.join(parts)})"


# ----------------------------------------------------------------------
# Turning user input into clips
# ----------------------------------------------------------------------
def _as_clip(item: Any, index: int) -> AudioClip:
    if isinstance(item, AudioClip):
        return item
    if isinstance(item, (str, os.PathLike)):
        return AudioClip.from_path(item)
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], np.ndarray):
        return AudioClip.from_array(item[0], item[1], name=f"<in-memory song #{index}>")
    raise TypeError(
        f"song #{index}: expected a file path (str or os.PathLike), an AudioClip or a "
        f"(samples, sample_rate) tuple, got {type(item).__name__}"
    )


def as_clips(X: Any) -> list[AudioClip]:
    """Validate a collection of songs and return one :class:`AudioClip` each.

    ``X`` is a list, tuple, 1-D array or pandas Series of file paths
    (``str`` / ``os.PathLike``), :class:`AudioClip` objects or
    ``(samples, sample_rate)`` tuples.  Order and length are kept.
    """
    if isinstance(X, (str, os.PathLike, AudioClip)):
        raise TypeError(
            "expected a collection of songs (list, array or Series of paths), got a single "
            f"{type(X).__name__}; wrap it in a list"
        )
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):  # pandas Series / Index
        if getattr(X, "ndim", 1) != 1:
            raise ValueError(f"expected a 1-D collection of songs, got an object with shape {X.shape}")
        X = X.to_numpy()
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1 and X.dtype == object:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(
                f"expected a 1-D collection of songs (file paths or AudioClip), got an array of shape {X.shape}"
            )
    elif not isinstance(X, Iterable):
        raise TypeError(f"expected a collection of songs, got {type(X).__name__}")
    return [_as_clip(item, i) for i, item in enumerate(X)]
