"""The ``viral-sklearn`` command: songs in folders to models, predictions and reports.

Subcommands (``viral-sklearn SUBCOMMAND --help`` for each):

* ``chorus FILE...``: each song's chorus window;
* ``train --metadata CSV --audio-dir DIR --out MODEL``: fit and save the pipeline;
* ``predict MODEL FILE...``: the probability that each song goes viral, as CSV;
* ``evaluate MODEL --metadata CSV --audio-dir DIR``: scores on labelled songs;
* ``demo``: the main job on a built-in synthetic corpus (what ``make demo`` runs).

Exit codes: 0 success, 1 bad songs or data, 2 wrong usage, 130 interrupted
(:mod:`viral_sklearn.cli._errors`).  Results go to stdout (or ``--out``); progress
bars and messages to stderr, silenced by ``--quiet`` except errors.

Examples
--------
>>> from viral_sklearn.cli import build_parser
>>> args = build_parser().parse_args(["chorus", "song.mp3", "--csv"])
>>> args.command, args.files, args.csv
('chorus', ['song.mp3'], True)
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from . import chorus, demo, evaluate, predict, train
from ._errors import EXIT_DATA, EXIT_INTERRUPTED, EXIT_USAGE, UsageError, data_errors
from ._output import Console
from .demo import run_demo

__all__ = ["main", "build_parser", "run_demo"]

#: subcommand modules, in the order ``--help`` lists them
COMMANDS = (chorus, train, predict, evaluate, demo)


def build_parser() -> argparse.ArgumentParser:
    """The ``viral-sklearn`` argument parser, with one subparser per subcommand."""
    from .. import __version__
    from ._args import common_parent

    parser = argparse.ArgumentParser(
        prog="viral-sklearn",
        description="Will these songs go viral?  Find choruses, train, predict and evaluate on folders of songs.",
        epilog="exit codes: 0 success, 1 bad songs or data, 2 wrong usage, 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"viral-sklearn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    parents = [common_parent()]
    for module in COMMANDS:
        subparser = module.add_parser(sub, parents)
        subparser.set_defaults(parser=subparser)
    return parser


@contextlib.contextmanager
def _terminate_cleanly():
    """SIGTERM (``kill``, a job scheduler's timeout) ends the run as an exception, so that
    what the run made for itself (the temporary ``viral-sklearn-cache-*`` folder) is
    removed on the way out; the exit code is 143 (128 + SIGTERM), as when killed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None) -> int:
    """Run the command; returns its exit code (argparse exits with 2 on a bad command line)."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # the subcommand's usage, not the top level's: that is where the option is missing
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    console = Console(quiet=args.quiet)
    try:
        with _terminate_cleanly():
            return args.run(args, console)
    except UsageError as exc:
        args.parser.print_usage(sys.stderr)
        console.error(f"{args.parser.prog}: error: {exc}")
        return EXIT_USAGE
    except data_errors() as exc:
        console.error(f"error: {exc}")
        return EXIT_DATA
    except KeyboardInterrupt:
        console.error("interrupted; with --cache, a rerun with the same folder skips the songs already done")
        return EXIT_INTERRUPTED
