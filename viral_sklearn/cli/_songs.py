"""Songs for the command: from a metadata table or file arguments, with every failure kept.

``predict`` and ``chorus`` report every readable song even when some cannot be
read.  The library's song steps raise one :class:`~viral_sklearn.SongErrors`
listing all failing songs; :func:`transform_keeping_failures` drops those, runs
the step again on the rest (which a per-song cache makes free: the songs already
done are read back) and goes on.
"""

from __future__ import annotations

import contextlib
import tempfile
from typing import TYPE_CHECKING, Callable, Sequence

from ._errors import DataError

if TYPE_CHECKING:  # annotations only: the command imports numpy when it runs
    import numpy as np

__all__ = ["SongSet", "labelled_songs", "unlabelled_songs", "precheck_files", "map_keeping_failures", "cache_folder",
           "chorus_columns"]


class SongSet:
    """Songs still in play (their index in the input), and the ones that failed.

    Parameters
    ----------
    paths : sequence of str
        Every song asked for, in input order.
    """

    def __init__(self, paths: Sequence[str]):
        self.paths = list(paths)
        self.alive = list(range(len(self.paths)))
        self.failures: dict[int, str] = {}

    def fail(self, index: int, reason: str) -> None:
        self.failures[index] = reason
        self.alive = [i for i in self.alive if i != index]

    def failure_list(self) -> list[tuple[str, str]]:
        return [(self.paths[i], self.failures[i]) for i in sorted(self.failures)]


def precheck_files(songs: SongSet) -> None:
    """Missing, empty and directory paths fail now, without decoding anything."""
    from ..audio import AudioLoadError
    from ..audio._decode import _check_file

    for i in list(songs.alive):
        try:
            _check_file(songs.paths[i])
        except AudioLoadError as exc:
            songs.fail(i, exc.reason)


def map_keeping_failures(func: Callable, items: list, songs: SongSet):
    """``func(items)`` for the songs alive; failing songs are recorded and dropped.

    ``items`` are aligned with ``songs.alive``.  Returns ``(result, items)`` for the
    songs still alive; ``result`` is None when none is left.
    """
    from ..audio import SongErrors

    while items:
        try:
            return func(items), items
        except SongErrors as err:
            bad = {i for i, _, _ in err.failures}
            alive = list(songs.alive)
            for i, _, reason in err.failures:
                songs.fail(alive[i], reason)
            items = [x for j, x in enumerate(items) if j not in bad]
    return None, items


@contextlib.contextmanager
def cache_folder(cache: str | None):
    """The ``--cache`` folder, or a temporary one for this run (removed after)."""
    if cache is not None:
        yield cache
        return
    with tempfile.TemporaryDirectory(prefix="viral-sklearn-cache-") as tmp:
        yield tmp


def option_names(text: str) -> str:
    """A library message with the command's option names where it names keywords."""
    text = text.replace("pass id_column= / label_column=", "pass --id-column / --label-column")
    text = text.replace("id_column=", "--id-column").replace("label_column=", "--label-column")
    text = text.replace("group_column=", "--group-column").replace("with group_column", "with --group-column")
    return text.replace("allow_outside=True", "--allow-outside")


def labelled_songs(args, group_column: str | None = None):
    """``(paths, y)`` from ``--metadata`` and ``--audio-dir``; every row needs a usable file.

    With ``group_column``, ``(paths, y, groups)``.

    Raises
    ------
    DatasetError
        Lists every row without a usable file, or says what is wrong with the table.
    """
    from ..datasets import DatasetError, load_dataset

    try:
        return load_dataset(args.metadata, args.audio_dir, id_column=args.id_column,
                            label_column=args.label_column, extension=args.extension,
                            allow_outside=args.allow_outside, group_column=group_column)
    except DatasetError as exc:  # the library's hints name its keywords: name the options instead
        raise DatasetError(option_names(str(exc)).replace('on_error="skip"', "remove those rows"), exc.rows) from None


def unlabelled_songs(args):
    """``(paths, failures)`` from ``--metadata`` and ``--audio-dir``, no label column needed.

    Rows whose file is missing or empty are not an error here: they come back as
    ``failures``, ``(path, reason)`` each (the reason names the row, numbered in
    the table as given), and the other rows as ``paths``.  Rows that lead outside
    ``--audio-dir`` refuse the whole table (one error listing every problem of
    every row), unless ``args.skip_outside``: then they are failures too, their
    files never opened.
    """
    from ..datasets import DatasetError, load_dataset
    from ..datasets._table import read_csv_columns

    kwargs = dict(id_column=args.id_column, extension=args.extension, allow_outside=args.allow_outside)
    try:  # the id column alone is read
        df = read_csv_columns(args.metadata, {args.id_column: "id"}, [args.id_column], DataError)
    except DataError as exc:
        raise DataError(option_names(str(exc))) from None
    label_column = "__viral_sklearn_unused_label__"
    df = df.assign(**{label_column: 0})
    try:
        paths, _ = load_dataset(df, args.audio_dir, label_column=label_column, **kwargs)
        return paths, []
    except DatasetError as exc:
        text = option_names(str(exc)).replace("the metadata table", repr(args.metadata))
        if not exc.rows:  # the table itself is wrong: empty ids, rows naming one file
            raise DataError(text) from None
        if any(row["outside"] for row in exc.rows) and not getattr(args, "skip_outside", False):
            raise DataError(f"{text}\nno predictions: pass --skip-outside to predict the other rows (those "
                            "leading outside are left out, never opened)") from None
        bad = {row["row"] for row in exc.rows}
        failures = [(row["path"], f"{row['reason']} (row {row['row']})") for row in exc.rows]
    kept = df.iloc[[i for i in range(len(df)) if i not in bad]]
    paths = load_dataset(kept, args.audio_dir, label_column=label_column, **kwargs)[0] if len(kept) else []
    return paths, failures


def chorus_columns(windows) -> dict[str, np.ndarray]:
    """``find_choruses``' result as named columns: start, duration, found and, when the
    method reports one, confidence (a DataFrame's own columns are kept)."""
    import numpy as np

    if hasattr(windows, "columns"):
        return {str(c): np.asarray(windows[c]) for c in windows.columns}
    arr = np.asarray(windows, dtype=float)
    names = ["start", "duration", "found", "confidence"]
    return {names[i] if i < len(names) else f"column_{i}": arr[:, i] for i in range(arr.shape[1])}
