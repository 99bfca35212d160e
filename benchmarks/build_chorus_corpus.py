"""Build the chorus-evaluation corpus (songs with known chorus times) into a folder.

Downloads the Debian packages of freely licensed game music listed in
``chorus_corpus.stitched.PACKAGES`` (``apt-get download``, about 400 MB; no root
needed), stitches their tracks into pop forms, writes synthetic pop songs with
``make_songs(form="pop")``, and a ``truth.json`` per split.  Nothing is committed:
the corpus lives where ``--out`` says.  Deterministic: the same command gives the
same songs (for the same package versions, recorded in ``sources/``).

Usage::

    python benchmarks/build_chorus_corpus.py --out ~/chorus-corpus
    python benchmarks/build_chorus_corpus.py --out ~/chorus-corpus --split dev --n-synthetic 20
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

from chorus_corpus import SPLITS, build  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--cache", default=None, help="where packages go (default: OUT/sources)")
    parser.add_argument("--split", nargs="+", choices=SPLITS, default=list(SPLITS))
    parser.add_argument("--n-synthetic", type=int, default=100)
    parser.add_argument("--songs-per-track", type=int, default=2)
    args = parser.parse_args(argv)
    for split in args.split:
        rows = build(args.out, split, cache_dir=args.cache or os.path.join(args.out, "sources"),
                     n_synthetic=args.n_synthetic, songs_per_track=args.songs_per_track)
        kinds = {k: sum(r["kind"] == k for r in rows) for k in ("stitched", "synthetic")}
        print(f"{split}: {len(rows)} songs ({kinds['stitched']} stitched, {kinds['synthetic']} synthetic) "
              f"in {os.path.join(args.out, split)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
