"""Helpers for tests that edit model files by hand and measure what loading them costs.

* :func:`read_raw` / :func:`write_raw` take a safetensors file apart and put it
  back together byte by byte, so a test can write headers no library would;
* :func:`measure` runs a call and reports the peak Python/numpy heap it used
  (``tracemalloc``: numpy reports its buffers to it) and every byte of tensor
  storage PyTorch created (a ``TorchDispatchMode`` sees each ATen op, factory
  functions included; ``meta`` tensors, which allocate nothing, are not
  counted), plus any op that failed (an allocation refused by the allocator is
  still an allocation asked for);
* :func:`sandbox_dirs` / :func:`written_files`: a fresh working directory, HOME
  and temporary directory, and what appeared in them.
"""

from __future__ import annotations

import gc
import json
import os
import struct
import tempfile
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

MB = 1 << 20


def read_raw(path) -> tuple[dict, dict, bytes]:
    """``(tensor index, description, data section)`` of a safe model file."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    index = json.loads(raw[8 : 8 + n])
    description = json.loads(index.pop("__metadata__")["viral_sklearn"])
    return index, description, raw[8 + n :]


def write_raw(path, index: dict, description, data: bytes, *, metadata: dict | None = None) -> str:
    """Write a safetensors file from its parts (``description`` may be any JSON value or a raw string)."""
    header = dict(index)
    text = description if isinstance(description, str) else json.dumps(description)
    header["__metadata__"] = {"viral_sklearn": text, **(metadata or {})}
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(blob)) + blob + data)
    return os.fspath(path)


class _TorchAllocations(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.nbytes = 0
        self.largest = 0
        self.failed: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        try:
            out = func(*args, **(kwargs or {}))
        except Exception as exc:
            self.failed.append(f"{func}: {type(exc).__name__}: {str(exc)[:200]}")
            raise
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor) and t.device.type != "meta":
                size = t.untyped_storage().nbytes()
                self.nbytes += size
                self.largest = max(self.largest, size)
        return out


@dataclass
class Measure:
    error: BaseException | None
    python_peak: int  # bytes, tracemalloc's peak (Python objects and numpy buffers)
    torch_bytes: int  # bytes of tensor storage created, all ops together
    torch_failed: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.python_peak + self.torch_bytes

    def __str__(self):
        return (f"python peak {self.python_peak / MB:.3f} MB, torch {self.torch_bytes / MB:.3f} MB, "
                f"failed torch ops {self.torch_failed}")


def measure(fn) -> Measure:
    """Run ``fn()``, catching any exception, and report its allocations."""
    gc.collect()
    tracemalloc.start()
    error = None
    try:
        with _TorchAllocations() as allocations:
            try:
                fn()
            except Exception as exc:  # the caller asserts which
                error = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Measure(error, peak, allocations.nbytes, allocations.failed)


def sandbox_dirs(tmp_path: Path, monkeypatch) -> dict[str, Path]:
    """A fresh cwd, HOME (with XDG caches) and temporary directory for the test."""
    dirs = {name: tmp_path / f"sandbox-{name}" for name in ("cwd", "home", "tmp")}
    for d in dirs.values():
        d.mkdir()
    monkeypatch.chdir(dirs["cwd"])
    monkeypatch.setenv("HOME", os.fspath(dirs["home"]))
    monkeypatch.setenv("XDG_CACHE_HOME", os.fspath(dirs["home"] / ".cache"))
    monkeypatch.setenv("TMPDIR", os.fspath(dirs["tmp"]))
    monkeypatch.setattr(tempfile, "tempdir", os.fspath(dirs["tmp"]))
    return dirs


def written_files(dirs: dict[str, Path], *, torch_cache_ok: bool = False) -> list[str]:
    """Everything that appeared under the sandbox's folders.

    ``torch_cache_ok``: leave out the empty ``torchinductor_<user>`` folder that
    PyTorch itself makes in the temporary directory the first time a process
    imports ``torch._dynamo`` (its optimizers do, so any training does).
    """
    found = sorted(os.fspath(p) for d in dirs.values() for p in d.rglob("*"))
    if torch_cache_ok:
        found = [p for p in found if not (Path(p).parent == dirs["tmp"] and Path(p).name.startswith("torchinductor_")
                                          and Path(p).is_dir() and not any(Path(p).iterdir()))]
    return found


def tiny_songs(folder) -> tuple[list[str], list[str]]:
    """Twelve 3-s tones at 8 kHz, every other one noisy and labelled "hit" (the rest "flop")."""
    import numpy as np

    from .conftest import tone, write_audio

    rng = np.random.default_rng(0)
    paths, labels = [], []
    for k in range(12):
        y = tone(3.0, 8000, freq=200 + 40 * k)[:, 0]
        if k % 2:
            y = y + 0.2 * rng.standard_normal(y.size).astype(np.float32)
        paths.append(write_audio(folder / f"s{k}.wav", y, 8000))
        labels.append("hit" if k % 2 else "flop")
    return paths, labels


def tiny_pipeline():
    """The default pipeline at the scale of :func:`tiny_songs` (1-s clips, 16 bands, 2 epochs), unfitted."""
    from viral_sklearn import make_viral_pipeline

    pipe = make_viral_pipeline(clip_length=1.0, sample_rate=8000, n_mels=16, hidden_size=8, max_epochs=2,
                               random_state=0)
    return pipe.set_params(mel__hop_length=160)
