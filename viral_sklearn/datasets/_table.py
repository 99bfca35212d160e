"""A metadata table read at the cost of the columns used, and its problems told briefly.

A shared table is input from a stranger: a 1.6 MB CSV can hold 200,000
columns, a 15 MB one a million bad ids.  :func:`read_csv_columns` reads the
header, then only the columns asked for; :func:`summary` lists the first
:data:`MAX_LISTED` problems and counts the rest, so an error message stays a
few kilobytes whatever the table (every problem stays in ``DatasetError.rows``).
"""

from __future__ import annotations

import csv
import math
import os
from typing import Sequence

import numpy as np

__all__ = ["MAX_ID_LENGTH", "MAX_LISTED", "label_problems", "missing_columns_text", "read_csv_columns", "rows_text",
           "summary"]

#: problems listed one by one in a message; the rest are counted
MAX_LISTED = 20
#: the longest id read (Linux's PATH_MAX: no longer path can be opened)
MAX_ID_LENGTH = 4096


def summary(lines: Sequence[str], *, limit: int = MAX_LISTED, what: str = "rows") -> str:
    """The first ``limit`` lines, then how many more there are.

    Examples
    --------
    >>> print(summary([f"  row {i}" for i in range(4)], limit=2))
      row 0
      row 1
      ... and 2 more rows
    """
    shown = list(lines[:limit])
    if len(lines) > limit:
        shown.append(f"  ... and {len(lines) - limit} more {what}")
    return "\n".join(shown)


def rows_text(rows: Sequence[int], *, limit: int = MAX_LISTED) -> str:
    """``row 3`` or ``rows 1, 2, 5`` (the first ``limit``, then how many more).

    Examples
    --------
    >>> rows_text([4])
    'row 4'
    >>> rows_text(range(30), limit=3)
    'rows 0, 1, 2 and 27 more'
    """
    rows = list(rows)
    text = ("row " if len(rows) == 1 else "rows ") + ", ".join(str(r) for r in rows[:limit])
    return text + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def _columns_text(columns) -> str:
    names = [repr(str(c)) for c in columns]
    if not names:
        return "none"
    more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    return ", ".join(names[:MAX_LISTED]) + more


def missing_columns_text(source: str, roles: dict, columns) -> str | None:
    """The message for a table lacking some of ``roles``' columns (``{column: role}``), or None."""
    missing = [c for c in roles if c not in columns]
    if not missing:
        return None
    what = " and ".join(f"no {roles[c]} column {c!r}" for c in missing)
    options = " / ".join(f"{roles[c]}_column=" for c in missing)
    return f"{source} has {what}; its columns are: {_columns_text(columns)} (pass {options} to name them)"


def _header(path: str, error) -> list[str]:
    """The column names of a CSV file, from its first line alone (pandas' own
    header reading costs ~1 GB and a minute for 200,000 columns)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except (csv.Error, UnicodeDecodeError, OSError) as exc:
        raise error(f"cannot read metadata file {path!r} as CSV: {str(exc)[:300]}") from None
    if not header:
        raise error(f"metadata file {path!r} is empty")
    return header


def read_csv_columns(path: str, roles: dict, text_columns: Sequence[str], error):
    """The columns of ``roles`` (``{column: role}``) of a CSV file, read alone.

    The header is read first (a table naming no such column is refused
    before its rows are read), then only those columns, ``text_columns`` as
    text (``007`` stays ``007``).  ``error(message)`` makes the exception.
    """
    import pandas as pd

    if not os.path.isfile(path):
        raise error(f"metadata file {path!r} not found")

    def read(**kwargs):
        try:
            return pd.read_csv(path, **kwargs)
        except pd.errors.EmptyDataError:
            raise error(f"metadata file {path!r} is empty") from None
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise error(f"cannot read metadata file {path!r} as CSV: {str(exc)[:300]}") from None

    message = missing_columns_text(repr(path), roles, _header(path, error))
    if message is not None:
        raise error(message)
    return read(usecols=list(roles), dtype={c: str for c in text_columns if c in roles})


def _kind(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "booleans"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "numbers"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def label_problems(labels: Sequence) -> list[str]:
    """What makes these labels unusable as classes: infinite numbers, or a mix of kinds.

    (NaN and blank cells are empty labels, refused before.)

    Examples
    --------
    >>> label_problems([0, 1, float("inf")])
    ['row 2: label inf is not a class (an infinite number)']
    >>> label_problems([0, "hit", True])
    ['labels mix booleans, numbers and text (a table reads them as one kind: all numbers, all text or all booleans)']
    """
    problems = [
        f"row {i}: label {v!r} is not a class (an infinite number)"
        for i, v in enumerate(labels)
        if isinstance(v, (float, np.floating)) and math.isinf(v)
    ]
    kinds = sorted({_kind(v) for v in labels})
    if len(kinds) > 1:
        listed = ", ".join(kinds[:-1]) + " and " + kinds[-1]
        problems.append(f"labels mix {listed} (a table reads them as one kind: all numbers, all text or all "
                        "booleans)")
    return problems
