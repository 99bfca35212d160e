"""Output paths of the command, checked before any work is done.

A run that decodes and trains for an hour must not end in a traceback because
``--out`` names a folder, an empty string, a place no one can write (``/proc``),
or a path below a file.  Every subcommand checks its output paths first:
:func:`check_output_file` (``--out`` of ``predict``, ``chorus`` and ``train``)
and :func:`check_output_folder` (``--cache``, ``--plot``, ``--plots``, ``demo
--out``) raise a :class:`~viral_sklearn.cli._errors.UsageError` (exit code 2)
saying what is wrong.  A check writes nothing that stays: it creates one empty
probe file where the output will go (the nearest existing folder), and removes it.
"""

from __future__ import annotations

import os
import stat
import tempfile

from ._errors import UsageError

__all__ = ["check_output_file", "check_output_folder"]


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _existing_ancestor(option: str, path: str) -> str:
    """The nearest folder above ``path`` that exists; it must be a folder we can write in."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.lexists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path!r}: {folder!r} is not a folder")
    _probe(option, path, folder)
    return folder


def _probe(option: str, path: str, folder: str) -> None:
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".viral-sklearn-probe-")
    except OSError as exc:
        raise UsageError(f"{option} {path!r}: cannot write in {folder!r} ({_reason(exc)})") from None
    os.close(fd)
    os.unlink(probe)


def _stat(option: str, path: str):
    """``os.stat(path)``, None when nothing is there; a path that cannot be looked up is refused."""
    if path == "":
        raise UsageError(f"{option} '': an empty path names no file")
    try:
        return os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise UsageError(f"{option} {path!r} is a symbolic link to nothing") from None
        return None
    except NotADirectoryError:
        _existing_ancestor(option, path)  # names the file that is in the way
        raise UsageError(f"{option} {path!r}: a file is in the way of this path") from None
    except (OSError, ValueError) as exc:  # a loop of links, a name too long, a NUL byte
        raise UsageError(f"{option} {path!r}: {getattr(exc, 'strerror', None) or exc}") from None


def check_output_file(path: str | None, option: str) -> None:
    """``path`` can be written as a file: nothing there or a regular file, in a folder we can write.

    ``None`` (no such option given) passes.

    Raises
    ------
    UsageError
        An empty path, a folder, something that is not a regular file (a FIFO,
        a device), a path below a file, or a folder that cannot be written.
    """
    if path is None:
        return
    info = _stat(option, path)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{option} {path!r} is a folder; give a file name (e.g. {os.path.join(path, 'out.csv')!r})")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{option} {path!r} exists and is not a regular file (a FIFO, socket or device)")
    _existing_ancestor(option, path)


def check_output_folder(path: str | None, option: str) -> None:
    """``path`` is a folder we can write in, or can be made one.

    Raises
    ------
    UsageError
        An empty path, a file, a path below a file, or a folder that cannot be written.
    """
    if path is None:
        return
    info = _stat(option, path)
    if info is None:
        _existing_ancestor(option, path)
        return
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{option} {path!r} is a file, not a folder")
    _probe(option, path, path)
