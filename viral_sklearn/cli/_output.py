"""What the command prints: results on stdout, messages and progress on stderr.

Results (tables, CSV, summaries) go to stdout, or to the file of ``--out``, so they
can be piped; progress bars, notes and the list of songs that failed go to stderr.
``--quiet`` silences the progress bars and notes, never the errors.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
from typing import Iterable, Sequence, TextIO

__all__ = ["Console", "format_table", "write_csv", "csv_text", "emit", "format_value", "count_files"]


class Console:
    """Notes and errors on stderr; ``quiet`` silences the notes.

    Parameters
    ----------
    quiet : bool
        No progress bars, no notes.
    stream : file-like or None
        Where messages go (``sys.stderr`` when None, looked up at each write so
        that tests capturing stderr see them).
    """

    def __init__(self, quiet: bool = False, stream: TextIO | None = None):
        self.quiet = quiet
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stderr

    @property
    def progress(self) -> bool:
        """Whether to show progress bars."""
        return not self.quiet

    def note(self, message: str) -> None:
        """A progress note (silenced by ``--quiet``)."""
        if not self.quiet:
            print(message, file=self.stream, flush=True)

    def error(self, message: str) -> None:
        """An error or warning: always shown."""
        print(message, file=self.stream, flush=True)

    def failures(self, failures: Sequence[tuple[str, str]], n_total: int, what: str = "songs") -> None:
        """List every ``(song, reason)`` that failed, with how many did not."""
        if not failures:
            return
        n_ok = n_total - len(failures)
        self.error(f"error: {len(failures)} of {n_total} {what} could not be read ({n_ok} fine):")
        for song, reason in failures:
            self.error(f"  {song}: {reason}")


def format_value(value, digits: int = 3) -> str:
    """Text for one cell: floats rounded, None and NaN empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) or hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f":
        value = float(value)
        return "" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def format_table(rows: Iterable[dict], columns: Sequence[str], *, digits: int = 3) -> str:
    """An aligned plain-text table (numbers right-aligned), with a header line.

    Examples
    --------
    >>> print(format_table([{"song": "a.mp3", "start": 1.5}], ["song", "start"]))
    song   start
    a.mp3  1.500
    """
    cells = [[format_value(row.get(c), digits) for c in columns] for row in rows]
    numeric = [all(_is_number(r[i]) for r in cells) and bool(cells) for i in range(len(columns))]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values):
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(columns)] + [line(r) for r in cells])


def _is_number(text: str) -> bool:
    if text == "":
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_csv(rows: Iterable[dict], columns: Sequence[str], out: TextIO, *, digits: int = 6) -> None:
    """Rows as CSV with a header line (floats with ``digits`` decimals)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([format_value(row.get(c), digits) for c in columns])


def emit(text: str, out_path: str | None, console: Console) -> None:
    """Write ``text`` to ``out_path`` (atomically), or to stdout."""
    if out_path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    directory = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(directory, exist_ok=True)
    tmp = out_path + ".part"
    with open(tmp, "w", newline="") as fh:
        fh.write(text)
    os.replace(tmp, out_path)
    console.note(f"wrote {out_path}")


def csv_text(rows: Iterable[dict], columns: Sequence[str], *, digits: int = 6) -> str:
    buf = io.StringIO()
    write_csv(rows, columns, buf, digits=digits)
    return buf.getvalue()


def count_files(folder: str | None, suffix: str = ".npy") -> int:
    """How many ``suffix`` files lie under ``folder`` (0 when it does not exist)."""
    if not folder or not os.path.isdir(folder):
        return 0
    return sum(1 for _, _, files in os.walk(folder) for f in files if f.endswith(suffix) and not f.startswith("."))
