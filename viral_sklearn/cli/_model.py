"""Model files for the command: the safe format by default, pickles only when trusted.

A ``.safetensors`` model (:func:`viral_sklearn.persistence.save_pipeline`) is read
without executing anything from the file.  A joblib/pickle model runs code from its
file when loaded, so the command refuses it unless ``--trust-pickle`` is given.
A file is read as safetensors when its name ends in ``.safetensors`` or its
content has the safetensors layout; only other files are taken for pickles.  So
a pickle renamed ``model.safetensors`` is refused as a bad safetensors file,
never unpickled.
"""

from __future__ import annotations

import os
import stat
import struct

from ._errors import DataError, UsageError

__all__ = ["FORMATS", "check_model_file", "is_safetensors", "model_format_for", "load_model", "save_model", "apply_machine_settings"]

FORMATS = ("safetensors", "joblib")
_PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")


def is_safetensors(path: str) -> bool:
    """Whether a file has the safetensors layout (8-byte header size, then a JSON header)."""
    from ..persistence._container import open_regular

    try:
        fh, size = open_regular(path)  # a FIFO or a device is not opened for reading, so no hang
        with fh:
            head = fh.read(9)
    except (OSError, ValueError):  # ModelFormatError is a ValueError
        return False
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return head[8:9] == b"{" and 8 + n <= size


def check_model_file(path: str) -> None:
    """A model path must name a regular file: checked before anything opens it.

    Raises
    ------
    DataError
        Missing, a directory, or not a regular file (a FIFO would block the
        command forever, a device or socket cannot hold a model).
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"model file {path!r} not found") from None
    except (OSError, ValueError) as exc:  # a loop of links, a NUL byte
        raise DataError(f"model file {path!r} cannot be opened ({getattr(exc, 'strerror', None) or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"model file {path!r} is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"model file {path!r} is not a regular file (a FIFO, socket or device); a model is a file")


def model_format_for(path: str, requested: str | None) -> str:
    """The format to save ``path`` in: the one asked for, else from its extension."""
    if requested is not None:
        return requested
    return "joblib" if path.lower().endswith(_PICKLE_SUFFIXES) else "safetensors"


def apply_machine_settings(pipeline, *, memory=None, n_jobs=None, verbose=False, device=None):
    """Set this machine's settings (cache, parallel songs, progress, device) on every step.

    These are not properties of a model: the command sets them after loading,
    and clears them before saving, whatever the file keeps.
    """
    for _, step in pipeline.steps:
        params = step.get_params(deep=False)
        if "memory" in params:  # a song step (the classifier's verbose is skorch's epoch table: left alone)
            song_settings = {"memory": memory, "n_jobs": n_jobs, "verbose": bool(verbose)}
            step.set_params(**{k: v for k, v in song_settings.items() if k in params})
        if device is not None and "device" in params and hasattr(step, "module_"):
            step.set_params(device=device)
            step.module_.to(device)
    return pipeline


def load_model(path: str, *, trust_pickle: bool = False, memory=None, n_jobs=None, device="cpu", verbose=False):
    """Load a model file for ``predict`` / ``evaluate``.

    :func:`viral_sklearn.persistence.load_model`, with the command's rule on
    top: a file named ``.safetensors`` is only ever read as safetensors.

    Raises
    ------
    DataError
        The file is missing, or cannot be read as a model.
    UsageError
        It is a pickle (joblib) file and ``trust_pickle`` is false.
    """
    from sklearn.pipeline import Pipeline

    from ..persistence import UntrustedPickleError, load_pipeline
    from ..persistence import load_model as library_load_model

    check_model_file(path)
    settings = {"memory": memory, "n_jobs": n_jobs, "device": device or "cpu", "verbose": verbose}
    try:
        if path.lower().endswith(".safetensors") or is_safetensors(path):
            return load_pipeline(path, **settings)
        pipeline = library_load_model(path, trust_pickle=trust_pickle, **settings)
    except UntrustedPickleError:
        raise UsageError(
            f"refusing to load {path!r}: it is not a safetensors model, so it would be unpickled, and "
            "unpickling runs code from the file. Pass --trust-pickle only if you made this file or trust "
            "whoever did; share models in the safe format (train --out MODEL.safetensors)."
        ) from None
    except (ValueError, TypeError, KeyError) as exc:  # ModelFormatError is a ValueError
        raise DataError(f"cannot read model {path!r}: {exc}") from None
    except Exception as exc:  # any unpickling failure: the file is not a model
        raise DataError(f"cannot read model {path!r} with joblib: {type(exc).__name__}: {exc}") from None
    if not isinstance(pipeline, Pipeline):
        raise DataError(f"{path!r} holds a {type(pipeline).__name__}, not a scikit-learn Pipeline")
    return pipeline


def save_model(pipeline, path: str, fmt: str) -> str:
    """Save a fitted pipeline in ``fmt`` without this machine's settings."""
    from ..persistence import save_pipeline

    apply_machine_settings(pipeline, memory=None, n_jobs=None, verbose=False)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    if fmt == "safetensors":
        return save_pipeline(pipeline, path)
    import joblib

    joblib.dump(pipeline, path)
    return path
