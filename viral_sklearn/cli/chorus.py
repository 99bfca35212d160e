"""``viral-sklearn chorus``: where each song's chorus is."""

from __future__ import annotations

import os

from ._args import add_method_arg, add_song_args, check_method, positive_float
from ._defaults import CHORUS_DEFAULTS
from ._errors import EXIT_DATA, EXIT_OK
from ._output import csv_text, emit, format_table
from ._paths import check_output_file, check_output_folder
from ._songs import SongSet, cache_folder, chorus_columns, map_keeping_failures, precheck_files

__all__ = ["add_parser", "run"]

DESCRIPTION = """\
Find each song's chorus: its start and end (seconds), whether it was found or
chosen by the fallback rule (or the song is shorter than the window and kept
whole), and the method's confidence where the method gives one.  Songs that
cannot be read are listed on stderr and make the exit code 1; the others are
still reported.
"""

COLUMNS = ["path", "start", "end", "found", "confidence"]


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


def _figure_names(paths: list[str]) -> list[str]:
    """``<stem>.png`` per song; songs sharing a stem get ``-2``, ``-3`` ... appended."""
    names, seen = [], {}
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        seen[stem] = seen.get(stem, 0) + 1
        names.append(f"{stem}.png" if seen[stem] == 1 else f"{stem}-{seen[stem]}.png")
    return names


def run(args, console) -> int:
    from ..chorus import ChorusExtractor

    params = {k: v for k, v in (("clip_length", args.clip_length), ("fallback", args.fallback)) if v is not None}
    params.update(check_method(args.method))
    check_output_file(args.out, "--out")
    check_output_folder(args.plot, "--plot")
    check_output_folder(args.cache, "--cache")
    songs = SongSet(args.files)
    precheck_files(songs)
    items = [songs.paths[i] for i in songs.alive]
    with cache_folder(args.cache) as cache:
        extractor = ChorusExtractor(**params, n_jobs=args.n_jobs, memory=cache, verbose=console.progress)
        windows, _ = map_keeping_failures(extractor.find_choruses, items, songs) if items else (None, [])
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
    if args.csv:
        text = csv_text(rows, COLUMNS, digits=3)
    else:
        text = format_table(rows, COLUMNS, digits=2) + "\n"
    emit(text, args.out, console)
    if args.plot and rows:
        os.makedirs(args.plot, exist_ok=True)
        names = _figure_names([r["path"] for r in rows])
        for row, name in zip(rows, names):
            out = _plot(row["path"], row["start"], row["end"], row["found"], args.plot,
                        int(extractor.sample_rate), name)
            console.note(f"wrote {out}")
    console.failures(songs.failure_list(), len(songs.paths))
    return EXIT_DATA if songs.failures else EXIT_OK
