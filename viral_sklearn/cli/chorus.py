"""``viral-sklearn chorus``: where each song's chorus is."""

from __future__ import annotations

import os

from ._args import add_method_arg, add_song_args, check_method, positive_float
from ._defaults import CHORUS_DEFAULTS
from ._errors import EXIT_DATA, EXIT_OK, UsageError
from ._output import csv_text, emit, format_table
from ._paths import check_output_file, check_output_folder
from ._songs import SongSet, cache_folder, chorus_columns, map_keeping_failures, precheck_files

__all__ = ["add_parser", "run"]

DESCRIPTION = """\
Find each song's chorus: its start and end (seconds), whether it was found or
chosen by the fallback rule (or the song is shorter than the window and kept
whole), and the method's confidence where the method gives one.  With --all,
one row per chorus occurrence instead (the structure analysis: every time the
chorus comes; a song where nothing repeats gets one row without times).  With
--export DIR, each song's chorus clip is also written as audio,
DIR/<stem>.chorus.wav (16-bit mono WAV at the song's own rate).  Songs that
cannot be read are listed on stderr and make the exit code 1; the others are
still reported.
"""

COLUMNS = ["path", "start", "end", "found", "confidence"]
ALL_COLUMNS = ["path", "start", "end", "confidence"]


def _extractor_default(name):
    return CHORUS_DEFAULTS[name]


def add_parser(subparsers, parents):
    p = subparsers.add_parser("chorus", parents=parents, help="find each song's chorus", description=DESCRIPTION)
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files")
    p.add_argument("--clip-length", type=positive_float, metavar="SECONDS",
                   help=f"chorus window (default: {_extractor_default('clip_length'):g})")
    p.add_argument("--fallback", choices=["loudest", "middle", "start", "raise"], default=None,
                   help=f"window kept when no chorus is found (default: {_extractor_default('fallback')}; "
                        "raise: such songs are errors)")
    add_method_arg(p)
    p.add_argument("--csv", action="store_true", help="CSV instead of an aligned table")
    p.add_argument("--out", metavar="FILE", help="write the table here instead of stdout")
    p.add_argument("--plot", metavar="DIR", help="write one waveform figure per song here (<stem>.png)")
    p.add_argument("--all", action="store_true", dest="all_choruses",
                   help="one row per chorus occurrence (start, end, confidence), from the structure analysis")
    p.add_argument("--export", metavar="DIR",
                   help="write each song's chorus clip here as audio (<stem>.chorus.wav, mono WAV)")
    add_song_args(p)
    p.set_defaults(run=run)
    return p


def _found_text(found: float, duration: float, clip_length: float) -> str:
    if found:
        return "found"
    return "whole song" if duration < clip_length else "fallback"


def _plot(path: str, start: float, end: float, found: str, folder: str, sample_rate: int, name: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import load_audio
    from ..plotting import plot_chorus

    y, sr = load_audio(path, sr=sample_rate)
    ax = plot_chorus(y, sr, chorus_start=start, clip_length=end - start,
                     title=f"{os.path.basename(path)}: chorus {start:.1f}-{end:.1f} s ({found})")
    out = os.path.join(folder, name)
    ax.figure.savefig(out, dpi=100, bbox_inches="tight")
    plt.close(ax.figure)
    return out


def _output_names(paths: list[str], suffix: str) -> list[str]:
    """``<stem><suffix>`` per song; songs sharing a stem get ``-2``, ``-3`` ... after the stem."""
    names, seen = [], {}
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        seen[stem] = seen.get(stem, 0) + 1
        names.append(f"{stem}{suffix}" if seen[stem] == 1 else f"{stem}-{seen[stem]}{suffix}")
    return names


def _export(path: str, start: float, end: float, out: str) -> None:
    """The window ``[start, end)`` of ``path`` as 16-bit mono WAV at its own rate (atomic)."""
    import soundfile as sf

    from .. import load_audio

    y, sr = load_audio(path, offset=start, duration=end - start)
    tmp = os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.part")
    try:
        sf.write(tmp, y, sr, format="WAV", subtype="PCM_16")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def song_occurrences(clip, *, clip_length: float, sample_rate: int):
    """Every chorus occurrence of one song: ``(k, 3)`` float64 rows ``start, end, confidence``."""
    import numpy as np

    from ..chorus import analyze_structure

    found = analyze_structure(clip, clip_length=clip_length, sample_rate=sample_rate).choruses
    return np.array([[c.start, c.end, c.confidence] for c in found], dtype=np.float64).reshape(-1, 3)


def _occurrence_rows(extractor, items, songs) -> list[dict]:
    """``--all``: one row per chorus occurrence, one empty row for a song without."""
    from functools import partial

    from ..audio import as_clips
    from ..audio._per_song import map_songs

    func = partial(song_occurrences, clip_length=float(extractor.clip_length),
                   sample_rate=int(extractor.sample_rate))

    def occurrences(paths):
        return map_songs(func, as_clips(paths), step="chorus --all",
                         params=(("clip_length", float(extractor.clip_length)),
                                 ("sample_rate", int(extractor.sample_rate))),
                         n_jobs=extractor.n_jobs, memory=extractor.memory, verbose=extractor.verbose)

    found, _ = map_keeping_failures(occurrences, items, songs)
    rows = []
    for i, found_here in zip(songs.alive, found or []):
        path = songs.paths[i]
        if not len(found_here):
            rows.append({"path": path, "start": None, "end": None, "confidence": None})
        for start, end, confidence in found_here:
            rows.append({"path": path, "start": float(start), "end": float(end), "confidence": float(confidence)})
    return rows


def run(args, console) -> int:
    from ..chorus import ChorusExtractor

    params = {k: v for k, v in (("clip_length", args.clip_length), ("fallback", args.fallback)) if v is not None}
    params.update(check_method(args.method))
    if args.all_choruses and params.get("method", "structure") != "structure":
        raise UsageError("--all lists the structure analysis's choruses: it goes with --method structure only")
    check_output_file(args.out, "--out")
    check_output_folder(args.export, "--export")
    check_output_folder(args.plot, "--plot")
    check_output_folder(args.cache, "--cache")
    for folder in (args.export, args.plot):
        if folder is not None:
            os.makedirs(folder, exist_ok=True)
    songs = SongSet(args.files)
    precheck_files(songs)
    items = [songs.paths[i] for i in songs.alive]
    all_rows = None
    with cache_folder(args.cache) as cache:
        extractor = ChorusExtractor(**params, n_jobs=args.n_jobs, memory=cache, verbose=console.progress)
        if args.all_choruses and items:
            all_rows = _occurrence_rows(extractor, items, songs)
            items = [songs.paths[i] for i in songs.alive]
        need_windows = not args.all_choruses or args.export or args.plot
        windows, _ = map_keeping_failures(extractor.find_choruses, items, songs) if items and need_windows \
            else (None, [])
    rows = []
    if windows is not None:
        cols = chorus_columns(windows)
        clip_length = float(extractor.clip_length)
        for k, i in enumerate(songs.alive):
            start, duration = float(cols["start"][k]), float(cols["duration"][k])
            confidence = cols.get("confidence")
            rows.append({
                "path": songs.paths[i], "start": start, "end": start + duration,
                "found": _found_text(cols["found"][k], duration, clip_length),
                "confidence": None if confidence is None else float(confidence[k]),
            })
    table_rows, columns = (all_rows or [], ALL_COLUMNS) if args.all_choruses else (rows, COLUMNS)
    if args.csv:  # a CSV keeps its header line with no rows: readers still see the columns
        emit(csv_text(table_rows, columns, digits=3), args.out, console)
    elif table_rows:  # a table of no rows would be a header alone
        emit(format_table(table_rows, columns, digits=2) + "\n", args.out, console)
    else:
        console.note("no rows to show" + (f": {args.out} not written" if args.out else ""))
    if args.export and rows:
        for row, name in zip(rows, _output_names([r["path"] for r in rows], ".chorus.wav")):
            out = os.path.join(args.export, name)
            _export(row["path"], row["start"], row["end"], out)
            console.note(f"wrote {out}")
    if args.plot and rows:
        names = _output_names([r["path"] for r in rows], ".png")
        for row, name in zip(rows, names):
            out = _plot(row["path"], row["start"], row["end"], row["found"], args.plot,
                        int(extractor.sample_rate), name)
            console.note(f"wrote {out}")
    console.failures(songs.failure_list(), len(songs.paths))
    return EXIT_DATA if songs.failures else EXIT_OK
