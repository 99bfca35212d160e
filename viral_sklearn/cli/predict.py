"""``viral-sklearn predict``: the probability that each song goes viral, as CSV."""

from __future__ import annotations

from ._args import add_metadata_args, add_model_loading_args, add_song_args, resolve_device
from ._errors import EXIT_DATA, EXIT_OK, UsageError
from ._model import check_model_file, load_model
from ._output import csv_text, emit
from ._paths import check_output_file, check_output_folder
from ._songs import SongSet, cache_folder, map_keeping_failures, precheck_files, unlabelled_songs

__all__ = ["add_parser", "run", "predict_songs", "probability_columns"]

DESCRIPTION = """\
Predict whether songs go viral with a trained model.  Writes one CSV row per
readable song: path, p_viral (the probability of the model's second class, e.g.
1 or True), predicted (the predicted label), chorus_start (seconds) and
chorus_found (false when the fallback rule chose the window).  Songs that cannot
be read are listed on stderr with their reasons and make the exit code 1; every
readable song is still predicted.
"""


def add_parser(subparsers, parents):
    p = subparsers.add_parser("predict", parents=parents, help="predict songs with a trained model (CSV)",
                              description=DESCRIPTION)
    p.add_argument("model", metavar="MODEL", help="a model written by 'viral-sklearn train'")
    p.add_argument("files", nargs="*", metavar="FILE", help="audio files (or give --metadata and --audio-dir)")
    add_metadata_args(p, required=False, labels=False)
    p.add_argument("--skip-outside", action="store_true",
                   help="with --metadata: predict the other rows when some lead outside --audio-dir (those are "
                        "listed as failures, never opened; without it such a table is refused)")
    p.add_argument("--out", metavar="CSV", help="write the CSV here instead of stdout")
    add_model_loading_args(p)
    add_song_args(p)
    p.set_defaults(run=run)
    return p


def song_paths(args) -> tuple[list[str], list[tuple[str, str]]]:
    """The songs of FILE arguments or of ``--metadata``/``--audio-dir`` (not both)."""
    from_table = args.metadata is not None or args.audio_dir is not None
    if from_table and args.files:
        raise UsageError("give either FILE arguments or --metadata with --audio-dir, not both")
    if from_table:
        if args.metadata is None or args.audio_dir is None:
            raise UsageError("--metadata and --audio-dir go together")
        return unlabelled_songs(args)
    if not args.files:
        raise UsageError("no songs: give FILE arguments, or --metadata with --audio-dir")
    return list(args.files), []


def predict_songs(pipeline, songs: SongSet):
    """Run a fitted pipeline on every song it can read.

    Returns
    -------
    proba : np.ndarray [shape=(len(songs.alive), n_classes)] or None
        For the songs in ``songs.alive`` (in that order) after the run; None if
        no song could be read.
    chorus : dict
        Song index -> ``(chorus_start, chorus_found)``.
    """
    import numpy as np

    from ..chorus import ChorusExtractor

    precheck_files(songs)
    items = [songs.paths[i] for i in songs.alive]
    chorus = {}
    for _, step in pipeline.steps[:-1]:
        result, items = map_keeping_failures(lambda batch, step=step: step.transform(batch), items, songs)
        if result is None:
            return None, chorus
        if isinstance(step, ChorusExtractor):
            for i, clip in zip(songs.alive, result):
                chorus[i] = (float(clip.offset), bool(clip.chorus_found))
        items = list(result)
    return pipeline.steps[-1][1].predict_proba(np.asarray(items)), chorus


def probability_columns(classes) -> list[str]:
    """``p_viral`` for a binary model; ``p_<label>`` per class otherwise."""
    return ["p_viral"] if len(classes) == 2 else [f"p_{c}" for c in classes]


def rows_for(songs: SongSet, proba, chorus, classes) -> list[dict]:
    import numpy as np

    columns = probability_columns(classes)
    rows = []
    for k, i in enumerate(songs.alive):
        p = proba[k]
        row = {"path": songs.paths[i], "predicted": classes[int(np.argmax(p))]}
        if len(classes) == 2:
            row["p_viral"] = float(p[1])
        else:
            row.update({c: float(v) for c, v in zip(columns, p)})
        start, found = chorus.get(i, (None, None))
        row["chorus_start"], row["chorus_found"] = start, found
        rows.append(row)
    return rows


def run(args, console) -> int:
    check_output_file(args.out, "--out")
    check_output_folder(args.cache, "--cache")
    paths, failures = song_paths(args)  # usage errors first
    check_model_file(args.model)
    songs = SongSet([p for p, _ in failures] + paths)
    for i, (_, reason) in enumerate(failures):
        songs.fail(i, reason)
    device = resolve_device(args.device)
    with cache_folder(args.cache) as cache:
        pipeline = load_model(args.model, trust_pickle=args.trust_pickle, memory=cache, n_jobs=args.n_jobs,
                              device=device, verbose=console.progress)
        classes = pipeline.steps[-1][1].classes_
        console.note(f"predicting {len(songs.paths)} songs with {args.model} ...")
        proba, chorus = predict_songs(pipeline, songs) if songs.alive else (None, {})
    rows = rows_for(songs, proba, chorus, classes) if proba is not None else []
    columns = ["path", *probability_columns(classes), "predicted", "chorus_start", "chorus_found"]
    emit(csv_text(rows, columns), args.out, console)
    console.failures(songs.failure_list(), len(songs.paths))
    return EXIT_DATA if songs.failures else EXIT_OK
