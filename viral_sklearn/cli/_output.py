"""What the command prints: results on stdout, messages and progress on stderr.

Results (tables, CSV, summaries) go to stdout, or to the file of ``--out``, so they
can be piped; progress bars, notes and the list of songs that failed go to stderr.
``--quiet`` silences the progress bars and notes, never the errors.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import re
import sys
from typing import Iterable, Sequence, TextIO

__all__ = ["Console", "format_table", "write_csv", "csv_text", "emit", "format_value", "count_files", "printable",
           "spreadsheet_safe"]

#: control characters (C0 but tab and newline, DEL, C1) and the bidirectional
#: overrides that reorder what a terminal shows
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: what makes a spreadsheet read a cell as a formula (OWASP's list)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str, *, newlines: bool = True) -> str:
    r"""``text`` with every control character written as an escape (``\x1b``), so that
    labels, paths and messages from files cannot drive the terminal; newlines are kept
    unless ``newlines=False`` (a cell or a name must stay on its line).

    Examples
    --------
    >>> printable("hit\x1b[2J")
    'hit\\x1b[2J'
    >>> printable("a\nb", newlines=False)
    'a\\nb'
    """
    def escape(match):
        char = match.group()
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    text = _UNPRINTABLE.sub(escape, text)
    return text if newlines else text.replace("\n", "\\n")


def spreadsheet_safe(text: str) -> str:
    r"""A text cell a spreadsheet shows as text: one starting like a formula
    (``=HYPERLINK(...)``, ``+``, ``-``, ``@``) gets a leading ``'``.

    Examples
    --------
    >>> spreadsheet_safe('=HYPERLINK("http://x","hit")')
    '\'=HYPERLINK("http://x","hit")'
    >>> spreadsheet_safe("hit")
    'hit'
    """
    return "'" + text if text.startswith(_FORMULA_START) else text


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
            print(printable(message), file=self.stream, flush=True)

    def error(self, message: str) -> None:
        """An error or warning: always shown."""
        print(printable(message), file=self.stream, flush=True)

    def failures(self, failures: Sequence[tuple[str, str]], n_total: int, what: str = "songs") -> None:
        """List every ``(song, reason)`` that failed, with how many did not."""
        if not failures:
            return
        n_ok = n_total - len(failures)
        self.error(f"error: {len(failures)} of {n_total} {what} could not be read ({n_ok} fine):")
        for song, reason in failures:
            self.error(f"  {printable(str(song), newlines=False)}: {reason}")


def format_value(value, digits: int = 3) -> str:
    """Text for one cell: floats rounded, None and NaN empty, control characters escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) or hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f":
        value = float(value)
        return "" if math.isnan(value) else f"{value:.{digits}f}"
    return printable(str(value), newlines=False)


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
    """Rows as CSV with a header line (floats with ``digits`` decimals).

    Text cells (paths, labels: they come from files other people made) have
    their control characters escaped, and a leading ``'`` when they start like
    a spreadsheet formula; numbers are written as they are.
    """
    def cell(value):
        text = format_value(value, digits)
        return spreadsheet_safe(text) if isinstance(value, str) else text

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spreadsheet_safe(printable(str(c), newlines=False)) for c in columns])
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])


def emit(text: str, out_path: str | None, console: Console) -> None:
    """Write ``text`` to ``out_path`` (atomically), or to stdout."""
    if out_path is None:
        sys.stdout.write(printable(text))
        sys.stdout.flush()
        return
    directory = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(directory, exist_ok=True)
    tmp = out_path + ".part"
    try:
        with open(tmp, "w", newline="") as fh:
            fh.write(text)
        os.replace(tmp, out_path)
    except BaseException:  # nothing half-written stays behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
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
