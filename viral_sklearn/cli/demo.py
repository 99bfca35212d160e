"""``viral-sklearn demo``: the main job, on a built-in synthetic corpus.

It needs no data from anywhere.  It writes a synthetic corpus, grid-searches the
pipeline, cross-validates the best one, evaluates it on held-out songs, saves and
reloads it, scores chorus detection against the known choruses, and draws figures.
``make demo`` runs it.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from ._args import jobs, positive_float, positive_int

__all__ = ["add_parser", "run", "run_demo"]


def run_demo(
    out: str = "demo_output",
    *,
    n_songs: int = 200,
    clip_length: float = 6.0,
    max_epochs: int = 12,
    n_jobs: int = 2,
    random_state: int = 0,
    progress: bool = True,
) -> dict:
    """Run the main job and return its summary (also written to ``summary.json``).

    Parameters
    ----------
    out : str
        Output folder: songs, cache, model, figures, summary.
    n_songs : int
        Size of the synthetic corpus.
    clip_length : float
        Chorus window in seconds.
    max_epochs : int
        Epochs per fit.
    n_jobs : int
        Parallel songs during extraction.
    """
    import joblib
    from sklearn.metrics import accuracy_score, average_precision_score, confusion_matrix, roc_auc_score
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score, train_test_split

    from .. import __version__, load_audio, make_viral_pipeline
    from .._lstm import EpochProgressBar
    from ..datasets import make_songs, score_chorus_detection

    t0 = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    say = print if progress else (lambda *a, **k: None)

    say(f"viral-sklearn {__version__} demo: writing {n_songs} synthetic songs to {out}/songs ...")
    songs = make_songs(n_songs, os.path.join(out, "songs"), duration=(24.0, 30.0), chorus_length=clip_length,
                       sample_rates=(22050,), random_state=random_state, n_jobs=n_jobs)
    paths, y = np.array(songs.paths, dtype=object), songs.labels
    t_songs = time.perf_counter() - t0

    pipe = make_viral_pipeline(
        clip_length=clip_length, max_epochs=max_epochs, batch_size=16, hidden_size=32, lr=1e-2,
        random_state=random_state, n_jobs=n_jobs, memory=os.path.join(out, "cache"),
    )
    # 25 mel frames per second (hop 882 at 22050 Hz) keeps the LSTM sequences short on a CPU
    pipe.set_params(mel__hop_length=882)

    # 1. features once, with progress bars; the grid search then reads the per-song cache
    t = time.perf_counter()
    pipe.set_params(chorus__verbose=progress, mel__verbose=progress)
    features = pipe[:-1].transform(paths)
    pipe.set_params(chorus__verbose=False, mel__verbose=False)
    t_extract = time.perf_counter() - t
    windows = pipe.named_steps["chorus"].find_choruses(paths)  # from the cache
    true_times = list(songs.truth["chorus_times"])
    detected = [(s, s + d) for s, d, _, _ in windows]
    first = [(0.0, clip_length)] * len(paths)
    # pychorus's 2.5 s smoothing starts its windows early: strict (0.5 s) and 2.5 s tolerance
    detection = {tol: score_chorus_detection(detected, true_times, tolerance=tol) for tol in (0.5, 2.5)}
    first_clip = {tol: score_chorus_detection(first, true_times, tolerance=tol) for tol in (0.5, 2.5)}

    # 2. grid search over hidden size and learning rate on the training songs
    train, test = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y, random_state=random_state)
    if progress:
        pipe.set_params(clf__callbacks=[("progress", EpochProgressBar())])
    grid = GridSearchCV(
        pipe,
        {"clf__module__hidden_size": [16, 32], "clf__lr": [5e-3, 1e-2]},
        cv=StratifiedKFold(3, shuffle=True, random_state=random_state),
        scoring="accuracy",
    )
    t = time.perf_counter()
    say("grid search: 4 candidates x 3 folds ...")
    grid.fit(paths[train], y[train])
    t_grid = time.perf_counter() - t

    # 3. cross-validation of the best pipeline, then held-out evaluation
    best = grid.best_estimator_
    t = time.perf_counter()
    say("cross-validating the best pipeline ...")
    cv_scores = cross_val_score(best, paths[train], y[train], cv=StratifiedKFold(3, shuffle=True, random_state=1))
    t_cv = time.perf_counter() - t
    proba = best.predict_proba(paths[test])[:, 1]
    pred = best.predict(paths[test])
    held_out = {
        "accuracy": float(accuracy_score(y[test], pred)),
        "roc_auc": float(roc_auc_score(y[test], proba)),
        "pr_auc": float(average_precision_score(y[test], proba)),
        "confusion_matrix": confusion_matrix(y[test], pred).tolist(),
    }

    # 4. save, reload, predict
    model_path = os.path.join(out, "model.joblib")
    joblib.dump(best, model_path)
    reloaded = joblib.load(model_path)
    same = bool(np.array_equal(reloaded.predict_proba(paths[test])[:, 1], proba))

    # 5. figures
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
        start, dur, found, _ = windows[song]
        mel = pipe.named_steps["mel"]
        draws = {
            "chorus.png": lambda: plotting.plot_chorus(
                y_song, sr, chorus_start=start, clip_length=dur, true_choruses=songs.truth["chorus_times"][song],
                title=f"{os.path.basename(paths[song])} (label {y[song]}, chorus {'found' if found else 'fallback'})",
            ),
            "mel.png": lambda: plotting.plot_mel(features[song], sr=mel.sample_rate, hop_length=mel.hop_length,
                                                 title="mel spectrogram of the detected chorus (dB)"),
            "history.png": lambda: plotting.plot_history(best[-1].history_),
            "roc.png": lambda: plotting.plot_roc(y[test], proba),
            "confusion.png": lambda: plotting.plot_confusion_matrix(y[test], pred),
        }
        for name, draw in draws.items():
            ax = draw()
            fig = ax.figure if hasattr(ax, "figure") else ax
            path = os.path.join(out, name)
            fig.savefig(path, dpi=110, bbox_inches="tight")
            figures[name] = path

    summary = {
        "n_songs": int(len(y)),
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "best_params": {k: float(v) if isinstance(v, float) else v for k, v in grid.best_params_.items()},
        "grid_mean_test_score": [float(s) for s in grid.cv_results_["mean_test_score"]],
        "cv_scores": [float(s) for s in cv_scores],
        "held_out": held_out,
        "chorus_detected_fraction": float(np.mean(windows[:, 2])),
        "chorus_hit_rate": {str(t): float(d["hit_rate"]) for t, d in detection.items()},
        "chorus_mean_overlap": float(detection[0.5]["mean_overlap"]),
        "chorus_hit_rate_first_clip": {str(t): float(d["hit_rate"]) for t, d in first_clip.items()},
        "chorus_mean_overlap_first_clip": float(first_clip[0.5]["mean_overlap"]),
        "reloaded_model_identical": same,
        "seconds": {
            "songs": round(t_songs, 1), "extraction": round(t_extract, 1), "grid_search": round(t_grid, 1),
            "cross_validation": round(t_cv, 1), "total": round(time.perf_counter() - t0, 1),
        },
        "model": model_path,
        "figures": figures,
    }
    with open(os.path.join(out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    return summary


def _print_summary(s: dict, out: str) -> None:
    h = s["held_out"]
    print()
    print(f"songs: {s['n_songs']} ({s['n_train']} train, {s['n_test']} held out)")
    hit, base = s["chorus_hit_rate"], s["chorus_hit_rate_first_clip"]
    print(f"chorus detected in {s['chorus_detected_fraction']:.0%} of songs; hit rate {hit['0.5']:.2f} "
          f"(0.5 s tolerance), {hit['2.5']:.2f} (2.5 s); mean overlap {s['chorus_mean_overlap']:.2f}")
    print(f"  first-clip baseline: hit rate {base['0.5']:.2f} / {base['2.5']:.2f}, "
          f"mean overlap {s['chorus_mean_overlap_first_clip']:.2f}")
    print(f"best params: {s['best_params']}")
    print(f"cross_val_score of best pipeline: {np.round(s['cv_scores'], 3).tolist()} "
          f"(mean {np.mean(s['cv_scores']):.3f})")
    print(f"held-out: accuracy {h['accuracy']:.3f}, ROC-AUC {h['roc_auc']:.3f}, PR-AUC {h['pr_auc']:.3f}, "
          f"confusion matrix {h['confusion_matrix']}")
    print(f"model saved and reloaded: {s['model']} (identical predictions: {s['reloaded_model_identical']})")
    print(f"timing (s): {s['seconds']}")
    print(f"outputs in {os.path.abspath(out)}: summary.json, model.joblib, " + ", ".join(s["figures"]))


def add_parser(subparsers, parents):
    p = subparsers.add_parser("demo", parents=parents, help="run the main job on a built-in synthetic corpus",
                              description=__doc__.split("\n\n")[1].replace("\n", " "))
    p.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    p.add_argument("--n-songs", type=positive_int, default=200, help="synthetic songs (default: 200)")
    p.add_argument("--clip-length", type=positive_float, default=6.0, help="chorus window in seconds (default: 6)")
    p.add_argument("--max-epochs", type=positive_int, default=12, help="epochs per fit (default: 12)")
    p.add_argument("--n-jobs", type=jobs, default=2, help="parallel songs (-1: all cores; default: 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.set_defaults(run=run)
    return p


def run(args, console) -> int:
    summary = run_demo(
        args.out, n_songs=args.n_songs, clip_length=args.clip_length, max_epochs=args.max_epochs,
        n_jobs=args.n_jobs, random_state=args.seed, progress=console.progress,
    )
    _print_summary(summary, args.out)
    return 0
