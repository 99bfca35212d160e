"""load_dataset: song paths and labels from a metadata table and an audio folder."""

from __future__ import annotations

import os
import warnings
import numpy as np

from ..audio import AudioLoadError, audio_info
from ..audio._decode import _check_file
from ._table import MAX_ID_LENGTH, label_problems, missing_columns_text, read_csv_columns, rows_text, summary

__all__ = ["DatasetError", "load_dataset"]


class DatasetError(ValueError):
    """The metadata table or its audio files cannot make a dataset.

    Attributes
    ----------
    rows : list of dict
        For errors about files: one ``{"row", "id", "path", "reason", "outside"}``
        per bad row, all of them (rows numbered from 0 in the table given, as
        ``DataFrame.iloc``; ``outside`` is True for a row refused because it
        leads outside ``audio_dir``, whose file was not looked at); empty
        otherwise.  The message lists the first 20 and counts the rest.
    """

    def __init__(self, message: str, rows: list | None = None):
        super().__init__(message)
        self.rows = list(rows or [])

    def __reduce__(self):
        return (type(self), (self.args[0], self.rows))


#: extensions that mark an id as already naming its file
_AUDIO_EXTENSIONS = frozenset(
    ".mp3 .wav .flac .ogg .oga .opus .m4a .mp4 .aac .aif .aiff .aifc .wma .webm .mka .caf .au .w64".split()
)


def _is_empty(value) -> bool:
    """None, NaN, NA, NaT or a blank string."""
    import pandas as pd

    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like cells
        return False


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def _labels_array(values: list) -> np.ndarray:
    """Labels as a numpy array, keeping their values (bools stay bool)."""
    kinds = set()
    for v in values:
        if isinstance(v, (bool, np.bool_)):
            kinds.add("bool")
        elif isinstance(v, (int, np.integer)):
            kinds.add("int")
        elif isinstance(v, (float, np.floating)):
            kinds.add("float")
        elif isinstance(v, str):
            kinds.add("str")
        else:
            kinds.add("other")
    if len(kinds) == 1 and kinds != {"other"}:
        return np.asarray(values)
    if kinds <= {"int", "float"}:
        return np.asarray(values, dtype=float)
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _resolve(path: str) -> str | Exception:
    """``os.path.realpath(path)``, or the exception that prevents it (a NUL byte)."""
    try:
        return os.path.realpath(path)
    except (ValueError, OSError) as exc:
        return exc


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _outside_reason(song_id: str, path: str, folder: str, root: str) -> tuple[str | None, str | Exception | None]:
    """Why ``path`` (``audio_dir`` joined with the id's file name) lies outside
    ``folder`` (``audio_dir`` made absolute; ``root``: resolved), or None when it
    stays inside; and the path resolved (None when it is refused on its text
    alone: ``..`` or an absolute path, whose links are never followed)."""
    if "\0" in path:
        return "cannot be resolved inside audio_dir (a NUL character)", None
    lexical = os.path.normpath(os.path.abspath(path))
    if not _within(lexical, folder):
        if os.path.isabs(song_id):
            return f"an absolute path, outside audio_dir (resolves to {lexical!r})", None
        return f"'..' leads outside audio_dir (resolves to {lexical!r})", None
    real = _resolve(path)
    if isinstance(real, Exception):
        return f"cannot be resolved inside audio_dir ({real})", real
    if not _within(real, root):
        return f"a symbolic link leads outside audio_dir (to {real!r})", real
    return None, real


def _refuse_duplicates(source, id_column, ids, labels, paths, real, skip) -> None:
    """Rows naming one file (``a``, ``a.mp3``, ``./a``, ``sub/../a``, a link to it) are
    refused; rows in ``skip`` (refused as outside) are left out."""
    seen: dict[str, list[int]] = {}
    for i, (path, resolved) in enumerate(zip(paths, real)):
        if i in skip:
            continue
        key = resolved if isinstance(resolved, str) else os.path.normpath(os.path.abspath(path))
        seen.setdefault(key, []).append(i)
    dups = [rows for rows in seen.values() if len(rows) > 1]
    if not dups:
        return
    lines = []
    for rows in dups:
        names = ", ".join(repr(ids[i]) for i in rows[:5]) + (", ..." if len(rows) > 5 else "")
        distinct = list(dict.fromkeys(repr(labels[i]) for i in rows))
        conflict = f", with conflicting labels {', '.join(distinct[:5])}" if len(distinct) > 1 else ""
        lines.append(f"  {rows_text(rows)} ({id_column} {names}) name one file, {paths[rows[0]]!r}{conflict}")
    raise DatasetError(f"{source}: {_count(len(dups), 'file is', 'files are')} named by several rows; each song "
                       f"must appear once:\n{summary(lines, what='files')}")


def load_dataset(
    metadata,
    audio_dir: str | os.PathLike,
    *,
    id_column: str = "id",
    label_column: str = "label",
    extension: str | None = ".mp3",
    check_audio: bool = False,
    on_error: str = "raise",
    allow_outside: bool = False,
    group_column: str | None = None,
) -> tuple[list[str], np.ndarray] | tuple[list[str], np.ndarray, np.ndarray]:
    """Song paths and labels (and groups) from a metadata table, ready for ``Pipeline.fit``.

    Parameters
    ----------
    metadata : str, os.PathLike or pandas.DataFrame
        A CSV file (ids are read as text, so ``007`` stays ``007``) or a table,
        with one row per song.
    audio_dir : str or os.PathLike
        The folder holding the audio files.
    id_column, label_column : str, default="id", "label"
        Columns naming each song's file (its stem, or its full name) and its class.
    extension : str or None, default=".mp3"
        Appended to each id to name its file, with or without the dot; ``None``
        or ``""`` appends nothing.  Ids that already end with an audio extension
        (``.mp3``, ``.wav``, ``.flac``, ``.ogg``, ``.m4a``, ...) get none added.
    check_audio : bool, default=False
        Also open every file's header (:func:`~viral_sklearn.audio_info`) so that
        files which cannot be decoded are caught now rather than during ``fit``.
        Without it, a file only has to exist and be non-empty.
    on_error : {"raise", "skip"}, default="raise"
        What to do with rows whose file is missing, empty or undecodable:
        ``"raise"`` one :class:`DatasetError` listing all of them; ``"skip"``
        drop them with one ``UserWarning`` listing all of them.
    allow_outside : bool, default=False
        Accept ids that name files outside ``audio_dir``: absolute paths, ids
        with ``..`` that climb out of it, and symbolic links in it that lead
        out.  By default such a table, which could make a fit read any file
        of the machine, is refused (one :class:`DatasetError` listing every
        such row, whatever ``on_error``), and those files are not even looked
        at.  Pass ``True`` only for a table you wrote or trust.
    group_column : str or None, default=None
        A column naming each song's group, for example ``"artist"``: then a
        third array is returned, for grouped cross-validation
        (``GroupKFold``, ``StratifiedGroupKFold``), so that no artist has
        songs on both sides of a split.  Read as text from a CSV file (``007``
        stays ``007``).  Every row needs a group.  ``None`` (the default)
        returns the ``(paths, labels)`` pair alone.

    Returns
    -------
    paths : list of str
        ``os.path.join(audio_dir, id + extension)`` for each kept row, in order.
    labels : np.ndarray, shape (len(paths),)
        The label column's values, type kept: ints, bools (dtype bool) or
        strings.  Any number of classes: every distinct value is one
        (:class:`~viral_sklearn.LSTMClassifier` learns them all).  For two
        classes, the sorted order decides which is "positive" (the second:
        ``1``, ``True``, or the later string, e.g. ``"miss"`` after ``"hit"``),
        the one whose probability ``predict_proba[:, 1]`` and the command's
        ``p_viral`` give.  Infinite numbers and a mix of kinds (numbers with
        text, from a DataFrame) are refused.
    groups : np.ndarray, shape (len(paths),)
        Only with ``group_column``: the group of each kept row.

    Raises
    ------
    DatasetError
        Always (whatever ``on_error``): a missing id or label column, an empty
        table, empty id or label cells, ids longer than 4096 characters,
        infinite or mixed labels, several rows naming one file (compared
        resolved: ``a``, ``a.mp3``, ``./a`` and ``sub/../a`` are one file),
        ids resolving outside ``audio_dir`` (unless ``allow_outside=True``;
        then the rows without a usable file are listed too).  With ``on_error="raise"``:
        any row without a usable file; with ``"skip"``: when no row is left.
        With ``group_column``: a missing group column or empty group cells.
        Rows are numbered from 0 in table order (``DataFrame.iloc``; in a CSV
        file, row 0 is the line after the header).
    """
    import pandas as pd

    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    roles = {id_column: "id", label_column: "label"}
    if group_column is not None:
        roles.setdefault(group_column, "group")
    if isinstance(metadata, pd.DataFrame):
        df = metadata
        source = "the metadata table"
        message = missing_columns_text(source, roles, df.columns)
        if message is not None:
            raise DatasetError(message)
    elif isinstance(metadata, (str, os.PathLike)):
        path = os.fspath(metadata)
        source = repr(path)
        # only the columns used are read; ids (and groups) stay text: '007' is not 7
        df = read_csv_columns(path, roles, [id_column, group_column], DatasetError)
    else:
        raise TypeError(f"metadata must be a CSV path or a pandas DataFrame, got {type(metadata).__name__}")
    audio_dir = os.fspath(audio_dir)

    if len(df) == 0:
        raise DatasetError(f"{source} has no rows")

    ids_raw = df[id_column].tolist()
    labels_raw = df[label_column].tolist()

    # ---- empty cells and duplicates (never skipped: the table itself is wrong) ----
    long_ids = [i for i, v in enumerate(ids_raw) if len(str(v)) > MAX_ID_LENGTH]
    if long_ids:  # refused before anything copies or resolves them
        raise DatasetError(f"{source}: the {id_column!r} of {rows_text(long_ids)} is longer than {MAX_ID_LENGTH} "
                           "characters, longer than any file path")
    empty_ids = [i for i, v in enumerate(ids_raw) if _is_empty(v)]
    if empty_ids:
        raise DatasetError(
            f"{source}: empty {id_column!r} {'cell' if len(empty_ids) == 1 else 'cells'} in {rows_text(empty_ids)}"
        )
    ids = [str(v).strip() for v in ids_raw]
    empty_labels = [i for i, v in enumerate(labels_raw) if _is_empty(v)]
    if empty_labels:
        raise DatasetError(
            f"{source}: empty {label_column!r} {'cell' if len(empty_labels) == 1 else 'cells'} in "
            f"{rows_text(empty_labels)}; every song needs a label"
        )
    problems = label_problems(labels_raw)
    if problems:
        raise DatasetError(f"{source}: unusable {label_column!r} values:\n" + summary(["  " + p for p in problems]))
    groups_raw = df[group_column].tolist() if group_column is not None else None
    if groups_raw is not None:
        empty_groups = [i for i, v in enumerate(groups_raw) if _is_empty(v)]
        if empty_groups:
            raise DatasetError(
                f"{source}: empty {group_column!r} {'cell' if len(empty_groups) == 1 else 'cells'} in "
                f"{rows_text(empty_groups)}; with group_column every song needs a group"
            )

    # ---- files ---------------------------------------------------------------------
    ext = (extension or "").strip()
    if ext and not ext.startswith("."):
        ext = "." + ext
    paths = []
    for song_id in ids:
        has_ext = os.path.splitext(song_id)[1].lower() in _AUDIO_EXTENSIONS
        paths.append(os.path.join(audio_dir, song_id if has_ext or not ext else song_id + ext))
    outside = []
    if allow_outside:
        real = [_resolve(path) for path in paths]
    else:  # before any file is looked at
        real = []
        folder, root = os.path.normpath(os.path.abspath(audio_dir)), os.path.realpath(audio_dir)
        for i, (song_id, path) in enumerate(zip(ids, paths)):
            reason, resolved = _outside_reason(song_id, path, folder, root)
            real.append(resolved)
            if reason is not None:
                outside.append({"row": i, "id": song_id, "path": path, "reason": reason, "outside": True})
    refused = {b["row"] for b in outside}
    _refuse_duplicates(source, id_column, ids, labels_raw, paths, real, skip=refused)

    bad = []
    for i, (song_id, path) in enumerate(zip(ids, paths)):
        if i in refused:  # never opened, nor looked at
            continue
        try:
            _check_file(path)
            if check_audio:
                audio_info(path)
        except AudioLoadError as exc:
            bad.append({"row": i, "id": song_id, "path": path, "reason": exc.reason, "outside": False})

    def file_listing(rows):
        return summary([f"  row {b['row']}, id {b['id']!r}: {b['path']!r}: {b['reason']}" for b in rows])

    if outside:
        listing = summary([f"  row {b['row']}, id {b['id']!r}: {b['reason']}" for b in outside])
        also = ""
        if bad:
            also = (f"\nand {_count(len(bad), 'other row has', 'other rows have')} no usable audio file:\n"
                    f"{file_listing(bad)}")
        raise DatasetError(
            f"{len(outside)} of {_count(len(ids), 'row', 'rows')} of {source} "
            f"{'names a file' if len(outside) == 1 else 'name files'} outside audio_dir {audio_dir!r}; "
            "a table may only name files in its audio folder (pass allow_outside=True if you trust it):\n"
            f"{listing}{also}",
            rows=sorted(outside + bad, key=lambda b: b["row"]),
        )
    if bad:
        n, n_ok = len(ids), len(ids) - len(bad)
        listing = file_listing(bad)
        if on_error == "raise" or n_ok == 0:
            hint = (
                'fix or remove them, or pass on_error="skip" to drop them'
                if on_error == "raise"
                else "no row is left"
            )
            raise DatasetError(
                f"{len(bad)} of {_count(n, 'row', 'rows')} of {source} "
                f"{'has' if len(bad) == 1 else 'have'} no usable audio file "
                f"({_count(n_ok, 'row is', 'rows are')} fine); {hint}:\n{listing}",
                rows=bad,
            )
        warnings.warn(
            f"skipped {len(bad)} of {_count(n, 'row', 'rows')} of {source} with no usable audio file "
            f"({_count(n_ok, 'row', 'rows')} kept):\n{listing}",
            UserWarning,
            stacklevel=2,
        )
        drop = {b["row"] for b in bad}
        keep = [i for i in range(n) if i not in drop]
        paths = [paths[i] for i in keep]
        labels_raw = [labels_raw[i] for i in keep]
        if groups_raw is not None:
            groups_raw = [groups_raw[i] for i in keep]
    if groups_raw is None:
        return paths, _labels_array(labels_raw)
    return paths, _labels_array(labels_raw), _labels_array(groups_raw)
