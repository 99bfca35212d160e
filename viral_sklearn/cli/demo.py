"""``viral-sklearn demo``: the main job, on a built-in synthetic corpus.

The demo needs no data from anywhere: it writes a synthetic corpus on which the task is
hard (a weak, noisy chorus cue, decoy verses, 10% label noise, 30% positives, 20
artists who share a sound and a hit rate), compares the LSTM, pooled-mel logistic
regression, pooled-mel gradient boosting and a dummy, on chorus, fixed-offset and
loudest clips, under cross-validation grouped by artist; then evaluates the best
model on held-out artists, saves and reloads it, scores chorus detection against
the known choruses, and draws figures.  ``make demo`` runs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from ._args import jobs, positive_float, positive_int

__all__ = ["add_parser", "run", "run_demo", "demo_candidates", "verdict"]

#: the corpus of the demo, besides its size, clip length and seed
CORPUS = dict(duration=(24.0, 30.0), sample_rates=(22050,), positive_fraction=0.3, verse_hook_rate=0.5)
#: start (s) of the fixed-offset clips of the ablation: past the intro and into
#: the first verse or chorus of the 24-30 s songs, without knowing where the chorus is
OFFSET = 8.0
#: mel hop at 22050 Hz: 25 frames per second keeps the LSTM sequences short on a CPU
HOP = 882


def demo_candidates(*, clip_length: float = 6.0, max_epochs: int = 30, n_jobs=None, memory=None,
                    random_state: int = 0) -> dict:
    """The candidates the demo compares: name -> pipeline (songs in).

    Every candidate has the same song steps but for the chorus ``method``;
    all classifiers weigh the classes ``"balanced"``.  The LSTM is
    :func:`~viral_sklearn.make_viral_pipeline`'s default classifier: 80% of
    its fold's training songs choose the number of epochs, then it trains
    that many on all of them (``early_stopping="refit"``).

    Returns
    -------
    dict of str -> sklearn.pipeline.Pipeline
        ``"LSTM"``, ``"pooled-mel logistic"``, ``"pooled-mel boosting"`` on
        the chorus (``method="structure"``); ``"LSTM, offset clip"``,
        ``"pooled-mel logistic, offset clip"`` (``method="offset"``,
        ``offset=8``); ``"pooled-mel logistic, loudest clip"``
        (``method="loudest"``).
    """
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from .. import PooledMelTransformer, SongPipeline, make_viral_pipeline

    def lstm(method):
        pipe = make_viral_pipeline(
            clip_length=clip_length, max_epochs=max_epochs, random_state=random_state, n_jobs=n_jobs,
            memory=memory, class_weight="balanced",
        )
        return pipe.set_params(mel__hop_length=HOP, chorus__method=method, chorus__offset=OFFSET)

    def pooled(method, classifier):
        songs = clone(lstm(method)[:-1]).steps
        return SongPipeline(songs + [("pool", PooledMelTransformer()), ("scale", StandardScaler()), ("clf", classifier)])

    def logistic():
        return LogisticRegression(C=0.05, class_weight="balanced", max_iter=2000)

    boosting = HistGradientBoostingClassifier(class_weight="balanced", random_state=random_state)
    return {
        "LSTM": lstm("structure"),
        "pooled-mel logistic": pooled("structure", logistic()),
        "pooled-mel boosting": pooled("structure", boosting),
        "LSTM, offset clip": lstm("offset"),
        "pooled-mel logistic, offset clip": pooled("offset", logistic()),
        "pooled-mel logistic, loudest clip": pooled("loudest", logistic()),
    }


@contextlib.contextmanager
def _one_torch_thread():
    """Small LSTMs train fastest on one thread; on a busy 2-core machine torch's
    thread pool made a fit ~20x slower (2.3 s against 45 s for 2 epochs)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_demo(
    out: str = "demo_output",
    *,
    n_songs: int = 200,
    clip_length: float = 6.0,
    max_epochs: int = 30,
    n_jobs: int = 2,
    random_state: int = 0,
    difficulty: str = "hard",
    progress: bool = True,
) -> dict:
    """Run the main job and return its summary (also written to ``summary.json``).

    Parameters
    ----------
    out : str
        Output folder: songs, cache, model, figures, summary.
    n_songs : int
        Size of the synthetic corpus; its songs are shared among
        ``max(2 * folds, n_songs // 10)`` artists.
    clip_length : float
        Chorus window (and chorus length of the songs) in seconds.
    max_epochs : int
        Epochs of the LSTM's first pass (the library's default, 30).
    n_jobs : int
        Parallel songs while writing and extracting.
    random_state : int
        Seeds the corpus, the folds and the models.
    difficulty : {"easy", "medium", "hard"}
        The corpus's difficulty (:func:`~viral_sklearn.datasets.make_songs`);
        "easy" is solved perfectly by every model that hears the chorus.
    progress : bool
        Print what is being done.

    Returns
    -------
    dict
        ``comparison`` (one dict per candidate: scores' mean and std over the
        folds, fit time), ``best_model``, ``held_out`` (scores of the best
        model on held-out artists), chorus detection figures, timings.
    """
    import numpy as np

    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        confusion_matrix,
        f1_score,
        roc_auc_score,
    )
    from sklearn.model_selection import StratifiedGroupKFold

    from .. import MonoMixer, __version__, load_audio
    from ..datasets import load_dataset, make_songs, score_chorus_detection
    from ..model_selection import compare_pipelines
    from ..persistence import load_pipeline, save_pipeline

    t0 = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    say = print if progress else (lambda *a, **k: None)
    folds = 5 if n_songs >= 100 else 3
    n_artists = max(2 * folds, n_songs // 10)

    say(f"viral-sklearn {__version__} demo: writing {n_songs} synthetic songs by {n_artists} artists "
        f"(difficulty {difficulty!r}) to {out}/songs ...")
    songs = make_songs(n_songs, os.path.join(out, "songs"), chorus_length=clip_length, difficulty=difficulty,
                       n_artists=n_artists, random_state=random_state, n_jobs=n_jobs, **CORPUS)
    paths, y, artists = load_dataset(songs.metadata_csv, songs.out_dir, group_column="artist")
    paths = np.array(paths, dtype=object)
    t_songs = time.perf_counter() - t0

    cache = os.path.join(out, "cache")
    candidates = demo_candidates(clip_length=clip_length, max_epochs=max_epochs, n_jobs=n_jobs, memory=cache,
                                 random_state=random_state)
    cv = StratifiedGroupKFold(folds, shuffle=True, random_state=random_state)
    t = time.perf_counter()
    say(f"comparing {len(candidates)} candidates and a dummy, {folds} folds grouped by artist ...")
    with _one_torch_thread():
        table = compare_pipelines(candidates, paths, y, groups=artists, cv=cv, memory=cache, verbose=progress)
    t_compare = time.perf_counter() - t
    t_features = float(table["features_time"].sum())

    # chorus detection of each clip rule, against the known choruses (from the cache)
    clips = MonoMixer().transform(paths)
    true_times = list(songs.truth["chorus_times"])
    detection = {}
    for name in ("LSTM", "LSTM, offset clip", "pooled-mel logistic, loudest clip"):
        step = candidates[name].named_steps["chorus"]
        windows = step.find_choruses(clips)
        scores = score_chorus_detection([(s, s + d) for s, d, _, _ in windows], true_times, tolerance=2.5)
        detection[step.method] = {"windows": windows, "hit_rate": float(scores["hit_rate"]),
                                  "mean_overlap": float(scores["mean_overlap"])}

    # the best candidate, refitted on the songs of 3/4 of the artists, scored on the others
    models = table[table["model"] != "dummy"]
    best_name = str(models.loc[models["roc_auc_mean"].idxmax(), "model"])
    train, test = next(StratifiedGroupKFold(4, shuffle=True, random_state=random_state + 1).split(paths, y, artists))
    best = candidates[best_name]
    t = time.perf_counter()
    say(f"refitting the best candidate ({best_name}) on {len(train)} songs, scoring {len(test)} songs "
        f"of other artists ...")
    with _one_torch_thread():
        best.fit(paths[train], y[train])
        proba = best.predict_proba(paths[test])[:, 1]
        pred = best.predict(paths[test])
    t_held_out = time.perf_counter() - t
    held_out = {
        "model": best_name,
        "roc_auc": float(roc_auc_score(y[test], proba)),
        "pr_auc": float(average_precision_score(y[test], proba)),
        "f1_macro": float(f1_score(y[test], pred, average="macro")),
        "accuracy": float(accuracy_score(y[test], pred)),
        "positive_rate": float(np.mean(y[test])),
        "confusion_matrix": confusion_matrix(y[test], pred).tolist(),
        "shared_artists": int(len(set(artists[train]) & set(artists[test]))),
    }

    # the safe format (no pickle): our steps in JSON, the network's weights as safetensors, the
    # scikit-learn steps as a skops payload checked against an allow-list; saved without this
    # machine's settings (cache folder, n_jobs), which the loader passes
    model_path = os.path.join(out, "model.safetensors")
    save_pipeline(best, model_path)
    reloaded = load_pipeline(model_path, memory=cache, n_jobs=n_jobs)
    same = bool(np.array_equal(reloaded.predict_proba(paths[test])[:, 1], proba))

    # figures
    figures = {}
    try:
        from .. import plotting
    except ImportError:  # pragma: no cover - matplotlib is installed with the dev extra
        plotting = None
    if plotting is not None:
        import matplotlib

        matplotlib.use("Agg")
        song = int(test[0])
        y_song, sr = load_audio(paths[song], sr=22050)
        start, dur, found, _ = detection["structure"]["windows"][song]
        front = candidates["LSTM"][:-1]
        mel = front.named_steps["mel"]
        draws = {
            "comparison.png": lambda: plotting.plot_comparison(
                table, metrics=("roc_auc", "average_precision", "f1_macro"),
                title=f"{folds}-fold cross-validation grouped by artist ({n_songs} songs, {difficulty})"),
            "chorus.png": lambda: plotting.plot_chorus(
                y_song, sr, chorus_start=start, clip_length=dur, true_choruses=songs.truth["chorus_times"][song],
                title=f"{os.path.basename(paths[song])} (label {y[song]}, chorus {'found' if found else 'fallback'})",
            ),
            "mel.png": lambda: plotting.plot_mel(front.transform(paths[[song]])[0], sr=mel.sample_rate,
                                                 hop_length=mel.hop_length,
                                                 title="mel spectrogram of the detected chorus (dB)"),
            "roc.png": lambda: plotting.plot_roc(y[test], proba, name=best_name,
                                                 title=f"{best_name} on {len(test)} held-out songs"),
            "confusion.png": lambda: plotting.plot_confusion_matrix(
                y[test], pred, labels=[0, 1], display_labels=["not viral", "viral"],
                title=f"{best_name} on {len(test)} held-out songs"),
        }
        if hasattr(best[-1], "history_"):
            draws["history.png"] = lambda: plotting.plot_history(best[-1].history_)
        for name, draw in draws.items():
            ax = draw()
            fig = ax.figure if hasattr(ax, "figure") else ax
            path = os.path.join(out, name)
            fig.savefig(path, dpi=110, bbox_inches="tight")
            figures[name] = path

    summary = {
        "n_songs": int(len(y)),
        "n_artists": int(n_artists),
        "difficulty": difficulty,
        "positive_rate": float(np.mean(y)),
        "label_agrees_with_audio": float(np.mean(songs.truth["audio_label"].to_numpy() == y)),
        "cv": f"StratifiedGroupKFold({folds}) by artist",
        "comparison": table.to_dict(orient="records"),
        "best_model": best_name,
        "verdict": verdict(table.to_dict(orient="records")),
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "held_out": held_out,
        "chorus_detection": {m: {k: v for k, v in d.items() if k != "windows"} for m, d in detection.items()},
        "chorus_detected_fraction": float(np.mean(detection["structure"]["windows"][:, 2])),
        "reloaded_model_identical": same,
        "seconds": {
            "songs": round(t_songs, 1), "features": round(t_features, 1), "comparison": round(t_compare, 1),
            "held_out": round(t_held_out, 1), "total": round(time.perf_counter() - t0, 1),
        },
        "model": model_path,
        "figures": figures,
    }
    with open(os.path.join(out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    return summary


def verdict(rows: list) -> str:
    """Which model won the comparison and why, in plain words.

    ``rows``: the comparison's records (``model``, ``roc_auc_mean``,
    ``roc_auc_std``, ``fit_time_mean``), a ``"dummy"`` row among them.  A gap
    smaller than the larger of the two spreads over the folds is called a tie.

    Examples
    --------
    >>> rows = [{"model": "LSTM", "roc_auc_mean": 0.70, "roc_auc_std": 0.05, "fit_time_mean": 3.0},
    ...         {"model": "pooled-mel logistic", "roc_auc_mean": 0.78, "roc_auc_std": 0.04, "fit_time_mean": 0.1},
    ...         {"model": "dummy", "roc_auc_mean": 0.5, "roc_auc_std": 0.0, "fit_time_mean": 0.0}]
    >>> print(verdict(rows))  # doctest: +NORMALIZE_WHITESPACE
    Winner: pooled-mel logistic (ROC-AUC 0.780). The best LSTM (LSTM, 0.700) is 0.080 behind, more than the
    folds' spread (0.050): here the label is the presence of a sound in the chorus, which the mel bands'
    statistics pooled over time capture without reading the order of the frames, and the pooled model fits
    30x faster. A sequence model earns its place where the order matters (see docs/performance.md).
    """
    models = [r for r in rows if r["model"] != "dummy"]
    best = max(models, key=lambda r: r["roc_auc_mean"])
    lstms = [r for r in models if r["model"].startswith("LSTM")]
    pooled = [r for r in models if not r["model"].startswith("LSTM")]
    text = f"Winner: {best['model']} (ROC-AUC {best['roc_auc_mean']:.3f})."
    if not lstms or not pooled:
        return text
    lstm = max(lstms, key=lambda r: r["roc_auc_mean"])
    base = max(pooled, key=lambda r: r["roc_auc_mean"])
    gap = lstm["roc_auc_mean"] - base["roc_auc_mean"]
    spread = max(lstm["roc_auc_std"], base["roc_auc_std"])
    speed = lstm["fit_time_mean"] / max(base["fit_time_mean"], 1e-9)
    if abs(gap) < spread:
        return (f"{text} The best LSTM ({lstm['model']}, {lstm['roc_auc_mean']:.3f}) and the best pooled model "
                f"({base['model']}, {base['roc_auc_mean']:.3f}) are tied: {abs(gap):.3f} apart, less than the "
                f"folds' spread ({spread:.3f}). The label here is the presence of a sound in the chorus, which "
                "statistics pooled over time capture as well as a model that reads the frames in order; the "
                f"pooled model fits {speed:.0f}x faster.")
    if gap > 0:
        return (f"{text} The LSTM is {gap:.3f} ahead of the best pooled model ({base['model']}, "
                f"{base['roc_auc_mean']:.3f}), more than the folds' spread ({spread:.3f}): reading the frames "
                "in order finds what statistics pooled over time lose.")
    return (f"{text} The best LSTM ({lstm['model']}, {lstm['roc_auc_mean']:.3f}) is {-gap:.3f} behind, more "
            f"than the folds' spread ({spread:.3f}): here the label is the presence of a sound in the chorus, "
            "which the mel bands' statistics pooled over time capture without reading the order of the frames, "
            f"and the pooled model fits {speed:.0f}x faster. A sequence model earns its place where the order "
            "matters (see docs/performance.md).")


def comparison_text(rows: list) -> str:
    """The comparison as an aligned table: mean +- std of each score, fit time."""
    from ._output import format_table

    def cell(row, score):
        return f"{row[score + '_mean']:.3f} +- {row[score + '_std']:.3f}"

    lines = [
        {"model": r["model"], "ROC-AUC": cell(r, "roc_auc"), "PR-AUC": cell(r, "average_precision"),
         "macro-F1": cell(r, "f1_macro"), "accuracy": cell(r, "accuracy"), "fit s": f"{r['fit_time_mean']:.1f}"}
        for r in rows
    ]
    return format_table(lines, ["model", "ROC-AUC", "PR-AUC", "macro-F1", "accuracy", "fit s"])


def _print_summary(s: dict, out: str) -> None:
    h = s["held_out"]
    print()
    print(f"songs: {s['n_songs']} by {s['n_artists']} artists, difficulty {s['difficulty']!r}: "
          f"{s['positive_rate']:.0%} positive, labels agree with the audio for {s['label_agrees_with_audio']:.0%}")
    print(f"{s['cv']}, every candidate on the same folds (mean +- std over the folds):")
    print(comparison_text(s["comparison"]))
    print(verdict(s["comparison"]))
    det = s["chorus_detection"]
    print("clip vs true choruses (hit: start within 2.5 s; overlap: share of the clip inside a chorus): "
          + "; ".join(f"{m} hit {d['hit_rate']:.2f}, overlap {d['mean_overlap']:.2f}" for m, d in det.items()))
    print(f"best by ROC-AUC: {s['best_model']}; refitted on {s['n_train']} songs, held-out artists "
          f"({s['n_test']} songs, {h['positive_rate']:.0%} positive, {h['shared_artists']} artists shared):")
    print(f"held-out: accuracy {h['accuracy']:.3f}, ROC-AUC {h['roc_auc']:.3f}, PR-AUC {h['pr_auc']:.3f}, "
          f"macro-F1 {h['f1_macro']:.3f}, confusion matrix {h['confusion_matrix']}")
    print(f"model saved in the safe format and reloaded: {s['model']} (identical predictions: "
          f"{s['reloaded_model_identical']})")
    print(f"load it with: from viral_sklearn.persistence import load_pipeline; "
          f"model = load_pipeline({s['model']!r})  (or: viral-sklearn predict {s['model']} SONG...)")
    print(f"timing (s): {s['seconds']}")
    print(f"outputs in {os.path.abspath(out)}: summary.json, model.safetensors, " + ", ".join(s["figures"]))


def _plain(text: str) -> str:
    """A docstring paragraph as ``--help`` prints it: one line, no reStructuredText markup."""
    return " ".join(text.replace("``", "'").split())


def add_parser(subparsers, parents):
    p = subparsers.add_parser("demo", parents=parents, help="run the main job on a built-in synthetic corpus",
                              description=_plain(__doc__.split("\n\n")[1]))
    p.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    p.add_argument("--n-songs", type=positive_int, default=200, help="synthetic songs (default: 200)")
    p.add_argument("--clip-length", type=positive_float, default=6.0, help="chorus window in seconds (default: 6)")
    p.add_argument("--max-epochs", type=positive_int, default=30,
                   help="epochs of the LSTM's first pass, which chooses how many to train on all songs (default: 30)")
    p.add_argument("--n-jobs", type=jobs, default=2, help="parallel songs (-1: all cores; default: 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--difficulty", choices=("easy", "medium", "hard"), default="hard",
                   help="the corpus's difficulty (default: hard; easy is solved perfectly)")
    p.set_defaults(run=run)
    return p


def run(args, console) -> int:
    from ._paths import check_output_folder

    check_output_folder(args.out, "--out")
    summary = run_demo(
        args.out, n_songs=args.n_songs, clip_length=args.clip_length, max_epochs=args.max_epochs,
        n_jobs=args.n_jobs, random_state=args.seed, difficulty=args.difficulty, progress=console.progress,
    )
    _print_summary(summary, args.out)
    return 0
