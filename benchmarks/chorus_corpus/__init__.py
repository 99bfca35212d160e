"""The chorus-evaluation corpus: songs whose chorus times are known.

Two kinds of songs, each in two splits:

* **stitched**: real recordings (Debian packages of freely licensed game
  soundtracks) cut on their bar grid and laid out in pop forms
  (:mod:`.stitched`);
* **synthetic**: :func:`viral_sklearn.datasets.make_songs` with ``form="pop"``
  (full-length songs, vocal-like lead, pre-choruses, key changes, loud verses).

The **dev** split (packages ``PACKAGES[...] == "dev"``, synthetic seed
``DEV_SEED``) is what methods may be developed and tuned on; the **heldout**
split (other packages, another seed) is only ever used to report them.  Nothing
here is committed as audio: :func:`build` writes the songs and a
``truth.json`` into a folder of the caller's.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from . import stitched

__all__ = ["SPLITS", "build", "load_truth"]

SPLITS = ("dev", "heldout")
#: seeds of the synthetic songs of each split
DEV_SEED, HELDOUT_SEED = 1000, 90210
#: the seed of the stitched songs (combined with the package and track)
STITCH_SEED = 2026
#: file format of the written songs: MP3 like most users' files, FLAC for some
_FORMATS = ("mp3", "mp3", "flac")


def _log(msg: str, verbose: bool) -> None:
    if verbose:
        print(f"[corpus] {msg}", file=sys.stderr, flush=True)


def build(out_dir: str, split: str, *, cache_dir: str, n_synthetic: int = 100, songs_per_track: int = 2,
          verbose: bool = True) -> list[dict]:
    """Write one split's songs under ``out_dir/split/`` and return its truth rows.

    Already written songs are kept (the folder's ``truth.json`` marks a
    finished split; delete the folder to rebuild).

    Parameters
    ----------
    out_dir : str
    split : {"dev", "heldout"}
    cache_dir : str
        Where the Debian packages are downloaded and unpacked.
    n_synthetic : int
        Synthetic pop songs in the split.
    songs_per_track : int
        Stitched songs made from each source track (different regions and forms).
    """
    from viral_sklearn.datasets import make_songs
    from viral_sklearn.datasets._music import write_audio_file

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    folder = os.path.join(out_dir, split)
    index = os.path.join(folder, "truth.json")
    if os.path.exists(index):
        return load_truth(index)
    os.makedirs(folder, exist_ok=True)
    rows = []
    start = time.perf_counter()

    # ---- stitched real recordings ------------------------------------------------
    packages = [p for p, s in stitched.PACKAGES.items() if s == split]
    sources = stitched.fetch_sources(cache_dir, packages, verbose=verbose)
    for p_index, package in enumerate(packages):
        for t_index, track in enumerate(sources[package]):
            for k in range(songs_per_track):
                seq = np.random.SeedSequence([STITCH_SEED, p_index, t_index, k, SPLITS.index(split)])
                rng = np.random.default_rng(seq)
                made = stitched.stitch_song(rng, track)
                if made is None:
                    _log(f"skipped {os.path.basename(track)} ({package}): no distinct regions", verbose)
                    continue
                audio, truth = made
                fmt = _FORMATS[int(rng.integers(len(_FORMATS)))]
                song_id = f"stitched_{package}_{t_index:02d}_{k}"
                path = os.path.join(folder, f"{song_id}.{fmt}")
                write_audio_file(path, audio, stitched.SONG_RATE, fmt.upper(),
                                 "MPEG_LAYER_III" if fmt == "mp3" else "PCM_16")
                rows.append({"id": song_id, "path": path, "split": split, "kind": "stitched", "package": package,
                             "duration": audio.shape[0] / stitched.SONG_RATE, **_jsonable(truth)})
                _log(f"{len(rows):4d} {song_id}: {truth['form']} ({time.perf_counter() - start:.0f} s)", verbose)

    # ---- synthetic pop songs -------------------------------------------------------
    if n_synthetic:
        _log(f"{n_synthetic} synthetic pop songs ...", verbose)
        corpus = make_songs(n_synthetic, os.path.join(folder, "synthetic"), form="pop", format="mp3",
                            sample_rates=(22050, 44100, 48000),
                            random_state=DEV_SEED if split == "dev" else HELDOUT_SEED)
        for _, r in corpus.truth.iterrows():
            rows.append({"id": f"synthetic_{r['id']}", "path": r["path"], "split": split, "kind": "synthetic",
                         "package": "make_songs(form='pop')", "duration": float(r["duration"]),
                         "form": r["form"], "sections": [[n, float(a), float(b)] for n, a, b in r["sections"]],
                         "chorus_times": [[float(a), float(b)] for a, b in r["chorus_times"]],
                         "chorus_db": float(r["chorus_db"]), "key_change": float(r["key_change"])})
    with open(index + ".tmp", "w") as fh:
        json.dump(rows, fh, indent=1)
    os.replace(index + ".tmp", index)
    _log(f"{split}: {len(rows)} songs in {time.perf_counter() - start:.0f} s -> {folder}", verbose)
    return rows


def _jsonable(truth: dict) -> dict:
    out = dict(truth)
    out["sections"] = [[n, float(a), float(b)] for n, a, b in truth["sections"]]
    out["chorus_times"] = [[float(a), float(b)] for a, b in truth["chorus_times"]]
    return out


def load_truth(path: str) -> list[dict]:
    """The rows of a split's ``truth.json``."""
    with open(path) as fh:
        return json.load(fh)
