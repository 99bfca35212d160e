"""The vocal-pop chorus-evaluation corpus: sung songs whose sections and choruses are known.

Two kinds of songs, each in two splits:

* **pop909**: real pop songs of POP909 (MIDI) with the phrase labels of Dai,
  Zhang and Dannenberg (2020), the chorus chosen by the rule of
  :mod:`.labels`, rendered with FluidSynth and sung by :mod:`.voice`
  (:mod:`.pop909`);
* **generated**: scores made from a seed (:mod:`.generated`), rendered the same way.

A song's split is fixed by its id (:func:`split_of`, a hash), never by the
order of building: **dev** songs may be used to develop and tune methods,
**heldout** songs only to report them.  A held-out set that has been reported
has been seen: after issue 18's first round (2026-12-07) its figures steered
the next changes, so a third split, **heldout2**, is the held-out half's songs
*after* the first ``RESERVED`` usable ones of each kind (the builder's default
counts: no earlier build can have used them).  ``heldout2`` is the one to report
on; ``dev`` and ``heldout`` may both be used to develop.  Nothing here is committed as audio:
:func:`build` writes the songs and a ``truth.json`` (every section's start, end
and label, every chorus occurrence, the split) into a folder of the caller's.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time

__all__ = ["SPLITS", "KINDS", "split_of", "build", "load_truth"]

SPLITS = ("dev", "heldout", "heldout2")
KINDS = ("pop909", "generated")
#: usable held-out songs of each kind that ``heldout2`` skips (the most any build of
#: ``heldout`` can have taken with the builder's default counts)
RESERVED = {"pop909": 60, "generated": 40}
#: seeds of the generated songs start here (the song's number is added)
GENERATED_SEED = 18_000


def split_of(song_id: str) -> str:
    """``"dev"`` or ``"heldout"``, by the first byte of the id's BLAKE2b digest (half each).

    ``heldout2`` is a part of the ``"heldout"`` half (module notes).

    >>> split_of("pop909_001"), split_of("pop909_001") == split_of("pop909_001")
    ('heldout', True)
    """
    return SPLITS[hashlib.blake2b(song_id.encode(), digest_size=8).digest()[0] >> 7]


def _in_split(kind: str, split: str):
    """``accept(song_id) -> bool`` for the usable songs of ``split``, called in song order."""
    half = "heldout" if split == "heldout2" else split
    skip = [RESERVED[kind] if split == "heldout2" else 0]

    def accept(song_id: str) -> bool:
        if split_of(song_id) != half:
            return False
        if skip[0]:
            skip[0] -= 1
            return False
        return True

    return accept


def _log(msg: str, verbose: bool) -> None:
    if verbose:
        print(f"[vocal corpus] {msg}", file=sys.stderr, flush=True)


def _scores(kind: str, split: str, n_songs: int, pop_dir: str | None, label_dir: str | None, log):
    """Yield ``(song id, score)`` of the split's first ``n_songs`` usable songs."""
    made = 0
    if kind == "pop909":
        from .pop909 import SkipSong, load_song, song_ids

        accept = _in_split(kind, split)
        for number in song_ids(pop_dir):
            song_id = f"pop909_{number}"
            if split_of(song_id) != ("heldout" if split == "heldout2" else split):
                continue
            try:
                score = load_song(pop_dir, label_dir, number)
            except SkipSong as exc:
                log(f"skip {song_id}: {exc}")
                continue
            if not accept(song_id):
                continue
            yield song_id, score
            made += 1
            if made == n_songs:
                return
        log(f"only {made} usable POP909 songs in {split} (asked for {n_songs})")
    else:
        from .generated import make_score

        k, accept = 0, _in_split(kind, split)
        while made < n_songs:
            song_id = f"generated_{k:04d}"
            k += 1
            if accept(song_id):
                yield song_id, make_score(GENERATED_SEED + k - 1, song_id)
                made += 1


def build(out_dir: str, kind: str, split: str, *, n_songs: int, pop_dir: str | None = None,
          label_dir: str | None = None, verbose: bool = True) -> list[dict]:
    """Write one kind and split under ``out_dir/kind/split/`` and return its truth rows.

    A finished folder (its ``truth.json`` exists) is read, not rebuilt; delete it
    to rebuild.  ``pop_dir`` and ``label_dir`` are clones of
    music-x-lab/POP909-Dataset and Dsqvival/hierarchical-structure-analysis
    (``kind="pop909"`` only).
    """
    import numpy as np

    from .render import check_tools, render_score
    from .voice import syllable_bank

    if split not in SPLITS or kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} and split one of {SPLITS}, got {kind!r}, {split!r}")
    folder = os.path.join(out_dir, kind, split)
    index = os.path.join(folder, "truth.json")
    if os.path.exists(index):
        return load_truth(index)
    if kind == "pop909" and not (pop_dir and label_dir):
        raise ValueError("kind='pop909' needs pop_dir and label_dir (clones of the two repositories)")
    check_tools()
    os.makedirs(folder, exist_ok=True)
    bank = syllable_bank(os.path.join(out_dir, "syllables"))
    rows, start = [], time.perf_counter()
    for song_id, score in _scores(kind, split, n_songs, pop_dir, label_dir, lambda m: _log(m, verbose)):
        path = os.path.join(folder, f"{song_id}.flac")
        seed = int.from_bytes(hashlib.blake2b(song_id.encode(), digest_size=4).digest(), "little")
        rng = np.random.default_rng(seed)
        duration = render_score(score, path, bank, rng, voice_db=float(rng.uniform(-3.0, 2.0)))
        rows.append({"id": song_id, "path": path, "split": split, "kind": kind, "duration": duration,
                     **score["truth"]})
        _log(f"{len(rows):4d} {song_id}: {len(score['truth']['chorus_times'])} choruses, {duration:.0f} s "
             f"({time.perf_counter() - start:.0f} s)", verbose)
    with open(index + ".tmp", "w") as fh:
        json.dump(rows, fh, indent=1)
    os.replace(index + ".tmp", index)
    _log(f"{kind}/{split}: {len(rows)} songs in {time.perf_counter() - start:.0f} s -> {folder}", verbose)
    return rows


def load_truth(path: str) -> list[dict]:
    """The rows of a split's ``truth.json``."""
    with open(path) as fh:
        return json.load(fh)
