"""Build the vocal-pop chorus-evaluation corpus (sung songs with known sections) into a folder.

Needs ``fluidsynth``, a General MIDI SoundFont and ``espeak-ng``
(``apt-get install fluidsynth fluid-soundfont-gm espeak-ng``), ``mido``
(``pip install viral-sklearn[bench]``) and, for the POP909 songs, clones of two
MIT-licensed repositories::

    git clone https://github.com/music-x-lab/POP909-Dataset            # d83e6ed
    git clone https://github.com/Dsqvival/hierarchical-structure-analysis  # 3a8d0d0

Nothing is committed: the songs (FLAC, 22050 Hz mono) and a ``truth.json`` per
kind and split live where ``--out`` says.  Deterministic: the same command gives
the same songs (for the same repositories, SoundFont and espeak-ng).

Usage::

    python benchmarks/build_vocal_corpus.py --out ~/vocal-corpus \\
        --pop909 POP909-Dataset --labels hierarchical-structure-analysis
    python benchmarks/build_vocal_corpus.py --out ~/vocal-corpus --kind generated --split dev --n-generated 10
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

from vocal_corpus import KINDS, SPLITS, build  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--pop909", help="a clone of music-x-lab/POP909-Dataset")
    parser.add_argument("--labels", help="a clone of Dsqvival/hierarchical-structure-analysis")
    parser.add_argument("--kind", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--split", nargs="+", choices=SPLITS, default=list(SPLITS))
    parser.add_argument("--n-pop909", type=int, default=60, help="POP909 songs per split")
    parser.add_argument("--n-generated", type=int, default=40, help="generated songs per split")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    for kind in args.kind:
        for split in args.split:
            rows = build(args.out, kind, split, n_songs=args.n_pop909 if kind == "pop909" else args.n_generated,
                         pop_dir=args.pop909, label_dir=args.labels, verbose=not args.quiet)
            print(f"{kind}/{split}: {len(rows)} songs in {os.path.join(args.out, kind, split)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
