"""Exit codes and the errors the command turns into them.

Scripts can rely on the exit code of every subcommand:

* ``0`` (:data:`EXIT_OK`): everything asked for was done;
* ``1`` (:data:`EXIT_DATA`): bad songs or data: a song that cannot be decoded, a
  missing audio or metadata file, a metadata table without the needed columns, a
  model file that cannot be read.  ``predict`` and ``chorus`` still report every
  readable song, then exit 1;
* ``2`` (:data:`EXIT_USAGE`): the command line itself is wrong (an unknown option,
  a value out of range, options that do not go together, a pickle model without
  ``--trust-pickle``);
* ``130`` (:data:`EXIT_INTERRUPTED`): interrupted with Ctrl-C; a rerun with the
  same ``--cache`` resumes from the songs already done.
"""

from __future__ import annotations

__all__ = [
    "EXIT_OK",
    "EXIT_DATA",
    "EXIT_USAGE",
    "EXIT_INTERRUPTED",
    "CLIError",
    "DataError",
    "UsageError",
    "data_errors",
]

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CLIError(Exception):
    """An error the command reports in one message, with its exit code."""

    exit_code = EXIT_DATA


class DataError(CLIError):
    """Bad songs, metadata or model files (exit code 1)."""

    exit_code = EXIT_DATA


class UsageError(CLIError):
    """A wrong command line (exit code 2)."""

    exit_code = EXIT_USAGE


def data_errors() -> tuple[type[BaseException], ...]:
    """The library's exception types that mean bad songs or data (exit code 1)."""
    from ..audio import AudioLoadError, SongErrors
    from ..chorus import ChorusNotFoundError
    from ..datasets import DatasetError
    from ..persistence import ModelFormatError

    return (AudioLoadError, ChorusNotFoundError, SongErrors, DatasetError, ModelFormatError, DataError)
