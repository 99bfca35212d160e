"""Write ``viral-sklearn [SUBCOMMAND] --help`` into text files for the CLI page."""

from __future__ import annotations

import os
from pathlib import Path


def write_cli_help(folder: Path) -> list[Path]:
    from viral_sklearn.cli import build_parser

    os.environ["COLUMNS"] = "88"  # argparse wraps at the terminal width
    folder.mkdir(parents=True, exist_ok=True)
    parser = build_parser()
    texts = {"viral-sklearn": parser.format_help()}
    sub = next(a for a in parser._actions if a.dest == "command")
    texts.update({name: p.format_help() for name, p in sub.choices.items()})
    written = []
    for name, text in texts.items():
        path = folder / f"{name}.txt"
        if not path.exists() or path.read_text() != text:  # unchanged files keep their mtime: no rebuild
            path.write_text(text)
        written.append(path)
    return written
