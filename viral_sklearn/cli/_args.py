"""Options shared by several subcommands, and their checks.

Pipeline options default to *the library's* defaults (those of
:func:`~viral_sklearn.make_viral_pipeline`, quoted in ``--help`` from
:mod:`._defaults`, which a test keeps equal to the signature), so the command and
the Python API never disagree; an option left out is not passed at all.
"""

from __future__ import annotations

import argparse

from ._defaults import CHORUS_METHODS, PIPELINE_DEFAULTS
from ._errors import UsageError

__all__ = [
    "common_parent",
    "add_metadata_args",
    "add_song_args",
    "add_model_loading_args",
    "add_pipeline_args",
    "add_method_arg",
    "positive_int",
    "positive_float",
    "library_default",
    "chorus_methods",
    "resolve_device",
]


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number (-1: all cores), got {text!r}") from None
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, or -1 for all cores, got {value}")
    return value


def library_default(name: str):
    """The default of ``make_viral_pipeline``'s parameter ``name`` (imports nothing heavy)."""
    return PIPELINE_DEFAULTS[name]


def chorus_methods() -> list[str]:
    """The ``method=`` values :class:`~viral_sklearn.ChorusExtractor` takes, sorted."""
    return list(CHORUS_METHODS)


def common_parent() -> argparse.ArgumentParser:
    """``--quiet``, on every subcommand."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("-q", "--quiet", action="store_true", help="no progress bars or notes (errors still show)")
    return parent


def add_metadata_args(parser: argparse.ArgumentParser, *, required: bool, labels: bool = True) -> None:
    group = parser.add_argument_group("songs from a metadata table")
    group.add_argument("--metadata", metavar="CSV", required=required,
                       help="CSV with one row per song: its file stem (id) and, for training, its label")
    group.add_argument("--audio-dir", metavar="DIR", required=required, help="folder holding the audio files")
    group.add_argument("--id-column", default="id", metavar="NAME", help="column naming each file (default: id)")
    if labels:
        group.add_argument("--label-column", default="label", metavar="NAME",
                           help="column holding each song's class (default: label)")
    group.add_argument("--extension", default=".mp3", metavar="EXT",
                       help="appended to ids without an audio extension (default: .mp3; '' for none)")
    group.add_argument("--allow-outside", action="store_true",
                       help="accept ids that lead outside --audio-dir (absolute paths, '..', links leading "
                            "out); refused by default, since a shared table could point anywhere")


def add_song_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("decoding")
    group.add_argument("--n-jobs", type=jobs, default=None, metavar="N",
                       help="songs decoded in parallel (-1: all cores; default: 1)")
    group.add_argument("--cache", metavar="DIR", default=None,
                       help="per-song cache folder: a rerun (or an interrupted run restarted) with the same "
                            "folder skips the songs already done")


def add_model_loading_args(parser: argparse.ArgumentParser) -> None:
    """How a trained model is loaded: ``--trust-pickle`` and ``--device``."""
    parser.add_argument("--trust-pickle", action="store_true",
                        help="allow a joblib/pickle model: loading it runs code from the file")
    parser.add_argument("--device", default="cpu", metavar="DEV",
                        help="cpu, cuda, cuda:N or auto (default: cpu)")


def add_method_arg(parser) -> None:
    methods = chorus_methods()
    extra = f" one of {', '.join(methods)}" if methods else " (this version has one method: pychorus's)"
    parser.add_argument("--method", default=None, metavar="NAME", help="chorus-finding method:" + extra)


def add_pipeline_args(parser: argparse.ArgumentParser, *, grid: bool = False) -> None:
    group = parser.add_argument_group("model (library defaults unless given)")
    group.add_argument("--clip-length", type=positive_float, metavar="SECONDS",
                       help=f"chorus window (default: {library_default('clip_length'):g})")
    group.add_argument("--epochs", type=positive_int, metavar="N",
                       help=f"training epochs (default: {library_default('max_epochs')})")
    nargs = "+" if grid else None
    several = "; several values with --grid" if grid else ""
    group.add_argument("--hidden-size", type=positive_int, nargs=nargs, metavar="H",
                       help=f"LSTM hidden size (default: {library_default('hidden_size')}{several})")
    group.add_argument("--lr", type=positive_float, nargs=nargs, metavar="LR",
                       help=f"learning rate (default: {library_default('lr'):g}{several})")
    group.add_argument("--batch-size", type=positive_int, metavar="N",
                       help=f"songs per batch (default: {library_default('batch_size')})")
    group.add_argument("--seed", type=int, metavar="N",
                       help=f"random seed of the fit (default: {library_default('random_state')})")
    group.add_argument("--device", default=None, metavar="DEV",
                       help="where the network trains: cpu, cuda, cuda:N or auto (default: cpu)")
    add_method_arg(group)


def check_method(method: str | None) -> dict:
    """``{"method": method}`` for ChorusExtractor, or {} when not given."""
    if method is None:
        return {}
    methods = chorus_methods()
    if method not in methods:
        raise UsageError(f"--method {method!r}: choose one of {', '.join(methods)}")
    return {"method": method}


def resolve_device(device: str | None) -> str | None:
    """``auto`` becomes cuda when available; a CUDA device is checked."""
    if device is None:
        return None
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UsageError(f"--device {device}: CUDA is not available on this machine (use cpu or auto)")
        index = device.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise UsageError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return device
    raise UsageError(f"--device {device!r}: expected cpu, cuda, cuda:N or auto")
