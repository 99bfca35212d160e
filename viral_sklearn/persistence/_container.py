"""A safetensors file read within bounds: the index first, tensor data only once checked.

Our own reader of the (small, documented) safetensors layout, so that every
size is checked before anything is allocated:

1. the file is a regular file of at most ``max_file_size`` bytes;
2. its first 8 bytes give the header's length: at most
   :data:`~viral_sklearn.persistence._format.MAX_HEADER_SIZE`, and inside the file;
3. the header is strict JSON (no NaN, no duplicate keys) mapping each tensor's
   name to its dtype, shape and byte range; the byte ranges must tile the data
   section exactly (no gap, no overlap, no truncation, nothing after it);
4. only then, and only for the tensors asked for, data is read, into arrays of
   the sizes just checked.

Nothing here interprets what the tensors mean; :mod:`._network` does.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import struct
import sys
from dataclasses import dataclass

import numpy as np

from ._errors import ModelFormatError
from ._format import MAX_HEADER_SIZE

__all__ = ["Container", "TensorEntry", "open_regular", "read_container", "read_tensors", "sniff", "strict_json"]

#: safetensors dtype -> (numpy dtype or None when numpy has none, bytes per item)
_DTYPES = {
    "BOOL": ("|b1", 1),
    "U8": ("|u1", 1),
    "I8": ("|i1", 1),
    "F8_E4M3": (None, 1),
    "F8_E5M2": (None, 1),
    "I16": ("<i2", 2),
    "U16": ("<u2", 2),
    "F16": ("<f2", 2),
    "BF16": (None, 2),
    "I32": ("<i4", 4),
    "U32": ("<u4", 4),
    "F32": ("<f4", 4),
    "F64": ("<f8", 8),
    "I64": ("<i8", 8),
    "U64": ("<u8", 8),
}
_MAX_NDIM = 8
_PICKLE_MAGIC = (
    b"\x80",  # pickle protocol 2+ (joblib writes 3+)
    b"\x1f\x8b",  # gzip (joblib compress)
    b"x",  # zlib (joblib compress)
    b"BZh",  # bz2
    b"\xfd7zXZ\x00",  # xz
    b"\x5d\x00\x00",  # lzma
    b"\x04\x22\x4d\x18",  # lz4
)


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the index: its dtype, shape and byte range in the data section."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(frozen=True)
class Container:
    """A checked safetensors index: the string metadata and the tensors' entries."""

    path: str
    metadata: dict
    tensors: dict
    data_start: int
    file_size: int


def _error(path: str, reason: str) -> ModelFormatError:
    return ModelFormatError(f"{path!r}: {reason}")


def _refuse_constant(name):
    raise ValueError(f"{name} is not allowed")


def _unique_keys(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


#: the longest integer literal read (a 64-bit integer has at most 20 digits)
_MAX_DIGITS = 40


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 and -1e999 overflow to infinity
        raise ValueError(f"the number {text[:40]} is not finite")
    return value


def strict_json(text: str):
    """``json.loads`` refusing NaN/Infinity (also written as ``1e999``), integers of
    more than 40 digits and duplicate keys (all ambiguous, or costly to handle)."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int,
                      object_pairs_hook=_unique_keys)


def open_regular(path: str):
    """Open ``path`` for reading if it is a regular file (a FIFO or a device is refused
    without blocking on it); returns the file and its size.

    A missing file raises FileNotFoundError; any other failure to open (a socket,
    a loop of symbolic links, no permission) a ModelFormatError naming the file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _error(path, f"cannot be opened ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _error(path, "not a regular file")
        return os.fdopen(fd, "rb"), info.st_size
    except BaseException:
        os.close(fd)
        raise


@contextlib.contextmanager
def _read_errors(path: str):
    """A failing read (``/proc/self/mem`` is a regular file that cannot be read) as a ModelFormatError."""
    try:
        yield
    except OSError as exc:
        raise _error(path, f"cannot be read ({exc.strerror or exc})") from None


def sniff(path: str) -> str:
    """``"safetensors"``, ``"pickle"`` (a pickle or a joblib file, maybe compressed) or ``"unknown"``.

    Reads the first 16 bytes only.
    """
    fh, _ = open_regular(path)
    with fh, _read_errors(path):
        head = fh.read(16)
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"
    if any(head.startswith(magic) for magic in _PICKLE_MAGIC):
        return "pickle"
    return "unknown"


def _not_safetensors(path: str, head: bytes) -> ModelFormatError:
    if any(head.startswith(magic) for magic in _PICKLE_MAGIC):
        return _error(
            path,
            "is not a safetensors model file: it looks like a pickle or joblib file, which is never "
            "unpickled here (unpickling runs code from the file); load it with joblib.load only if you "
            "trust its author",
        )
    return _error(path, "is not a safetensors model file")


def _entry(path: str, name: str, raw) -> TensorEntry:
    where = f"tensor {name!r} in the safetensors header"
    if not isinstance(raw, dict) or set(raw) != {"dtype", "shape", "data_offsets"}:
        raise _error(path, f"{where}: expected exactly dtype, shape and data_offsets, got {raw!r}"[:400])
    dtype, shape, offsets = raw["dtype"], raw["shape"], raw["data_offsets"]
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise _error(path, f"{where}: unknown dtype {dtype!r}"[:400])
    if (
        not isinstance(shape, list)
        or len(shape) > _MAX_NDIM
        or not all(type(d) is int and 0 <= d < 2**63 for d in shape)
    ):
        raise _error(path, f"{where}: shape must be a list of at most {_MAX_NDIM} non-negative ints, "
                           f"got {shape!r}"[:400])
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int and 0 <= o < 2**63 for o in offsets):
        raise _error(path, f"{where}: data_offsets must be two non-negative ints, got {offsets!r}"[:400])
    begin, end = offsets
    numel = 1
    for d in shape:
        numel *= d  # Python ints: no overflow
    nbytes = numel * _DTYPES[dtype][1]
    if end < begin or end - begin != nbytes:
        raise _error(
            path,
            f"{where}: shape {tuple(shape)} of {dtype} is {nbytes} bytes but data_offsets {offsets} "
            f"span {end - begin}",
        )
    return TensorEntry(name, dtype, tuple(shape), begin, end)


def read_container(path: str, *, max_file_size: int) -> Container:
    """Read and check a safetensors file's header; no tensor data is read.

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFormatError
        Not a regular file, too large, not safetensors (a pickle is named as
        such), a header too large or not strict JSON, tensor entries that are
        malformed, overlap, leave gaps, or describe more (truncated file) or
        fewer (trailing bytes) bytes than the file holds.
    """
    fh, size = open_regular(path)
    with fh, _read_errors(path):
        if size > max_file_size:
            raise _error(
                path,
                f"the file is {size} bytes, more than the {max_file_size} bytes a model file may have "
                "(pass a larger max_file_size= to load a bigger model you trust)",
            )
        head = fh.read(9)
        if len(head) < 9 or head[8:9] != b"{":
            raise _not_safetensors(path, head)
        (n,) = struct.unpack("<Q", head[:8])
        if n > MAX_HEADER_SIZE:
            raise _error(path, f"the safetensors header is {n} bytes, more than the {MAX_HEADER_SIZE} bytes a "
                               "model's header may have")
        if n + 8 > size:
            raise _error(path, f"truncated file: its header is {n} bytes long, the file has {size - 8} after "
                               "the length")
        fh.seek(8)
        raw = fh.read(n)
    try:
        index = strict_json(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _error(path, f"the safetensors header is not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(index, dict):
        raise _error(path, "the safetensors header is not a JSON object")
    metadata = index.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _error(path, "the safetensors __metadata__ must map names to strings")
    entries = {name: _entry(path, name, raw_entry) for name, raw_entry in index.items()}

    data_start, data_size = 8 + n, size - 8 - n
    position = 0
    for entry in sorted(entries.values(), key=lambda e: (e.begin, e.end)):
        if entry.begin != position:
            what = "overlaps the one before it" if entry.begin < position else "leaves a gap before it"
            raise _error(path, f"tensor {entry.name!r} {what} in the data section (starts at byte {entry.begin}, "
                        f"expected {position})")
        position = entry.end
    if position > data_size:
        raise _error(path, f"truncated file: its header describes {position} bytes of tensor data, the file "
                           f"holds {data_size}")
    if position < data_size:
        raise _error(path, f"{data_size - position} unexpected bytes after the tensor data")
    return Container(path, metadata, entries, data_start, size)


def read_tensors(container: Container, names) -> dict:
    """The data of the named tensors as numpy arrays (native byte order), sizes as checked.

    Only numeric dtypes numpy knows are read; the caller checks dtypes first.
    """
    out = {}
    fh, _ = open_regular(container.path)
    with fh, _read_errors(container.path):
        for name in names:
            entry = container.tensors[name]
            np_dtype = _DTYPES[entry.dtype][0]
            if np_dtype is None:
                raise _error(container.path, f"tensor {name!r}: dtype {entry.dtype} cannot be read")
            array = np.empty(entry.shape, dtype=np.dtype(np_dtype))
            if array.nbytes:
                fh.seek(container.data_start + entry.begin)
                if fh.readinto(memoryview(array.reshape(-1)).cast("B")) != array.nbytes:
                    raise _error(container.path, f"truncated file while reading tensor {name!r}")
            if sys.byteorder != "little":
                array = array.astype(array.dtype.newbyteorder("="))
            out[name] = array
    return out
