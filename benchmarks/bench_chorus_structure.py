"""Benchmark: every chorus method on every corpus, with the standard structure scores.

Corpora (each with a dev and a held-out split; tune on dev only):

* ``instrumental``: the corpus of ``build_chorus_corpus.py`` (real game-music
  recordings stitched into song forms, and ``make_songs(form="pop")`` songs);
* ``pop909`` and ``generated``: the sung corpus of ``build_vocal_corpus.py``
  (and ``vocal``, both together, every song weighing the same).

Every song is decoded once (11025 Hz mono) and every method runs on the same
samples: the library's ``structure`` (the default), ``pychorus``, ``loudest``,
``middle`` and ``offset 30 s`` place one 20-s clip (through the extractor's
``"loudest"`` fallback when they find nothing), ``oracle`` is the best clip
there is, and ``analyze_structure`` (when ``viral_sklearn.chorus`` has it) gives
every section and every chorus.  Scores (:mod:`chorus_metrics`): the clip's
fraction inside a chorus, the median seconds from its start to the nearest
chorus start, chorus-time overlap F and chorus-onset F (+-3 s) over all
choruses (a one-clip method predicts one chorus), and, for methods that
segment, mir_eval's boundary F at 0.5 s and 3 s and pairwise frame F.

Usage::

    python benchmarks/bench_chorus_structure.py --vocal ~/vocal-corpus --instrumental ~/chorus-corpus --split dev
    python benchmarks/bench_chorus_structure.py --vocal ~/vocal-corpus --split heldout --limit 40
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from _common import machine, table
from bench_chorus_quality import RATE, oracle_start, run_methods
from chorus_metrics import (
    boundary_f,
    chorus_onset_f,
    chorus_overlap_f,
    clip_in_chorus,
    onset_error,
    pairwise_f,
)

CORPORA = ("instrumental", "pop909", "generated")
VOCAL = ("pop909", "generated")
SPLITS = ("dev", "heldout", "heldout2")
_COLUMNS = ("clip_in_chorus", "onset_error", "overlap_f", "onset_f", "boundary_f_0.5", "boundary_f_3", "pairwise_f")


def _truth_file(corpus: str, split: str, args) -> str | None:
    if corpus == "instrumental":
        return os.path.join(args.instrumental, split, "truth.json") if args.instrumental else None
    return os.path.join(args.vocal, corpus, split, "truth.json") if args.vocal else None


def _analyze():
    """``viral_sklearn.chorus.analyze_structure`` if this version has it, else None."""
    import viral_sklearn.chorus as chorus

    return getattr(chorus, "analyze_structure", None)


def score_song(row: dict, y: np.ndarray, sr: int, clip: float, analyze) -> dict:
    """``method -> {score: value}`` for one song (segmentation scores only where a method segments)."""
    truth = [tuple(c) for c in row["chorus_times"]]
    answers = {name: start for name, (start, _, _) in run_methods(y, sr, clip).items()}
    answers["oracle"] = oracle_start(truth, row["duration"], clip)
    out = {}
    for name, start in answers.items():
        predicted = [(start, start + clip)]
        out[name] = {"clip_in_chorus": clip_in_chorus(start, clip, truth), "onset_error": onset_error(start, truth),
                     "overlap_f": chorus_overlap_f(predicted, truth), "onset_f": chorus_onset_f(predicted, truth)}
    if analyze is not None:
        found = analyze(y, sr, clip_length=clip)
        start = found.clip.start if found.clip.start is not None else answers["loudest"]
        predicted = [(c.start, c.end) for c in found.choruses] or [(start, start + clip)]
        sections = [(s.label, s.start, s.end) for s in found.sections]
        reference = [tuple(s) for s in row["sections"]]
        out["analyze_structure"] = {
            "clip_in_chorus": clip_in_chorus(start, clip, truth), "onset_error": onset_error(start, truth),
            "overlap_f": chorus_overlap_f(predicted, truth), "onset_f": chorus_onset_f(predicted, truth),
            "boundary_f_0.5": boundary_f(reference, sections, row["duration"], 0.5),
            "boundary_f_3": boundary_f(reference, sections, row["duration"], 3.0),
            "pairwise_f": pairwise_f(reference, sections, row["duration"])}
    return out


def summarise(scores: list[dict]) -> dict:
    """Mean of every score over songs (the onset error: median)."""
    summary = {}
    for name in scores[0]:
        summary[name] = {}
        for col in _COLUMNS:
            values = [s[name][col] for s in scores if col in s[name]]
            if values:
                summary[name][col] = float(np.median(values) if col == "onset_error" else np.mean(values))
    return summary


def print_summary(title: str, summary: dict) -> None:
    print(f"\n{title}")
    heads = ["method", "clip in chorus", "median onset err s", "overlap F", "onset F 3s", "bound F .5s",
             "bound F 3s", "pairwise F"]
    rows = []
    for name, s in summary.items():
        rows.append([name] + [("-" if col not in s else f"{s[col]:.1f}" if col == "onset_error" else f"{s[col]:.3f}")
                              for col in _COLUMNS])
    table(heads, rows)


def main(argv=None) -> int:
    from viral_sklearn import load_audio

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vocal", help="folder of build_vocal_corpus.py")
    parser.add_argument("--instrumental", help="folder of build_chorus_corpus.py")
    parser.add_argument("--corpus", nargs="+", choices=CORPORA, default=list(CORPORA))
    parser.add_argument("--split", nargs="+", choices=SPLITS, default=list(SPLITS))
    parser.add_argument("--clip", type=float, default=20.0)
    parser.add_argument("--limit", type=int, default=None, help="first N songs of each corpus and split")
    parser.add_argument("--json", default=None, help="write the summaries (and per-song scores) here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    analyze = _analyze()
    print(machine())
    print("analyze_structure:", "scored" if analyze else "not in this version (sections not scored)")
    results, vocal_scores = {}, {}
    for split in args.split:
        for corpus in args.corpus:
            path = _truth_file(corpus, split, args)
            if path is None or not os.path.exists(path):
                print(f"\n{corpus} {split}: no corpus at {path} (build it first)")
                continue
            with open(path) as fh:
                rows = json.load(fh)[: args.limit]
            start, scores = time.perf_counter(), []
            for i, row in enumerate(rows):
                y, sr = load_audio(row["path"], sr=RATE)
                scores.append(score_song(row, y, sr, args.clip, analyze))
                if not args.quiet:
                    print(f"[{corpus} {split} {i + 1}/{len(rows)}] {row['id']}: structure "
                          f"{scores[-1]['structure']['clip_in_chorus']:.2f}", file=sys.stderr, flush=True)
            summary = summarise(scores)
            minutes = np.mean([r["duration"] for r in rows]) / 60
            print_summary(f"{corpus}, {split} split: {len(rows)} songs of {minutes:.1f} min on average "
                          f"({time.perf_counter() - start:.0f} s)", summary)
            results[f"{corpus}/{split}"] = {"summary": summary, "songs": {r["id"]: s for r, s in zip(rows, scores)}}
            vocal_scores.setdefault(split, []).extend(scores if corpus in VOCAL else [])
        if all(f"{c}/{split}" in results for c in VOCAL):
            # the "vocal set": both sung kinds together, every song weighing the same
            print_summary(f"vocal (pop909 + generated), {split} split: {len(vocal_scores[split])} songs",
                          summarise(vocal_scores[split]))
            results[f"vocal/{split}"] = {"summary": summarise(vocal_scores[split])}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
