"""``viral-sklearn train``: fit the pipeline on a folder of songs and save it."""

from __future__ import annotations

import time

from ._args import (
    add_metadata_args,
    add_pipeline_args,
    add_song_args,
    check_method,
    library_default,
    positive_int,
    resolve_device,
)
from ._errors import EXIT_OK, DataError, UsageError
from ._model import FORMATS, model_format_for, save_model
from ._output import count_files, format_table, printable
from ._paths import check_output_file, check_output_folder
from ._songs import labelled_songs

__all__ = ["add_parser", "run", "GRID_DEFAULTS", "MODELS", "pooled_head"]

#: what --model trains after the song steps (mono, chorus, mel spectrogram)
MODELS = ("lstm", "pooled-logistic", "pooled-boosting")
#: the options that configure the LSTM only
LSTM_OPTIONS = ("epochs", "hidden_size", "lr", "batch_size")

#: the grid of ``--grid`` for the options not given
GRID_DEFAULTS = {"hidden_size": [32, 64], "lr": [5e-3, 1e-2]}

DESCRIPTION = f"""\
Fit the viral pipeline (mono, chorus, mel spectrogram, then --model: the LSTM,
or each mel band pooled over time into a StandardScaler and a logistic
regression or gradient boosting) on the songs of a metadata table and save it.  Every model option defaults to the library's.
The song steps learn nothing, so each song is decoded once: its features are
extracted first (with --cache, kept per song, so an interrupted run restarted
with the same folder skips the songs already done), then the classifier is
cross-validated (--cv K) or grid-searched over hidden size and learning rate
(--grid; values not given: hidden size {' '.join(map(str, GRID_DEFAULTS['hidden_size']))}, lr
{' '.join(f'{v:g}' for v in GRID_DEFAULTS['lr'])}; 3 folds unless --cv), with
stratified folds in which the network trains on all the fold's songs (with
--group-column, folds by group: no artist on both sides), and finally fitted on
all songs with the library's settings (and the best grid values).
--class-weight balanced weighs the classes by the inverse of their frequency in
the loss.
--grid, --epochs, --hidden-size, --lr and --batch-size configure the LSTM only.
Every model is saved in the safe format (safetensors, loaded without running code
from the file; the scikit-learn steps as a skops payload checked against an
allow-list) unless --format joblib or an --out ending in .joblib/.pkl.
"""


def add_parser(subparsers, parents):
    p = subparsers.add_parser("train", parents=parents, help="fit the pipeline on labelled songs and save it",
                              description=DESCRIPTION)
    add_metadata_args(p, required=True)
    p.add_argument("--out", required=True, metavar="MODEL", help="model file to write (e.g. model.safetensors)")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="safetensors (default; safe to share) or joblib (keeps everything, a pickle)")
    p.add_argument("--model", choices=MODELS, default="lstm",
                   help="the classifier after the song steps (default: lstm, which matched pooled-logistic on labels "
                        "carried by a sound and alone read labels carried by time order, in "
                        "benchmarks/bench_models.py); pooled-logistic and pooled-boosting "
                        "pool each mel band over time (PooledMelTransformer), scale, then fit a "
                        "LogisticRegression or a HistGradientBoostingClassifier")
    add_pipeline_args(p, grid=True)
    search = p.add_argument_group("model selection")
    search.add_argument("--grid", action="store_true",
                        help="grid-search hidden size x learning rate (the values of --hidden-size and --lr)")
    search.add_argument("--cv", type=positive_int, metavar="K",
                        help="K-fold stratified cross-validation (default with --grid: 3)")
    search.add_argument("--group-column", metavar="NAME", default=None,
                        help="metadata column grouping the songs (e.g. artist): folds keep each group on one "
                             "side (StratifiedGroupKFold)")
    p.add_argument_group("class imbalance").add_argument(
        "--class-weight", choices=("balanced",), default=None,
        help="weigh each class by the inverse of its frequency in the training loss (default: none)")
    add_song_args(p)
    p.set_defaults(run=run)
    return p


def _pipeline_kwargs(args) -> dict:
    """make_viral_pipeline's arguments for the options given (the rest: library defaults)."""
    kwargs = {}
    for option, name in (("clip_length", "clip_length"), ("epochs", "max_epochs"), ("batch_size", "batch_size"),
                         ("seed", "random_state")):
        if getattr(args, option) is not None:
            kwargs[name] = getattr(args, option)
    if args.hidden_size is not None and not args.grid:
        kwargs["hidden_size"] = args.hidden_size[0]
    if args.lr is not None and not args.grid:
        kwargs["lr"] = args.lr[0]
    return kwargs


def pooled_head(model: str, *, class_weight=None, random_state=None):
    """The steps after the song steps for a pooled ``model``: pooling, scaling, a classifier.

    The settings of the demo's pooled candidates (a strongly regularised
    logistic regression; gradient boosting with scikit-learn's defaults).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from .. import PooledMelTransformer

    if model == "pooled-logistic":
        clf = LogisticRegression(C=0.05, class_weight=class_weight, max_iter=2000)
    elif model == "pooled-boosting":
        clf = HistGradientBoostingClassifier(class_weight=class_weight, random_state=random_state)
    else:
        raise ValueError(f"unknown pooled model {model!r}; expected one of {MODELS[1:]}")
    return Pipeline([("pool", PooledMelTransformer()), ("scale", StandardScaler()), ("clf", clf)])


def _check_options(args):
    if args.model != "lstm":
        given = [o for o in LSTM_OPTIONS if getattr(args, o) is not None] + (["grid"] if args.grid else [])
        if given:
            flags = ", ".join("--" + o.replace("_", "-") for o in given)
            raise UsageError(f"{flags} configure(s) the LSTM: not with --model {args.model}")
    if not args.grid:
        for option in ("hidden_size", "lr"):
            values = getattr(args, option)
            if values is not None and len(values) > 1:
                flag = "--" + option.replace("_", "-")
                raise UsageError(f"{flag} has {len(values)} values: several values need --grid")
    if args.cv is not None and args.cv < 2:
        raise UsageError(f"--cv {args.cv}: cross-validation needs at least 2 folds")
    if args.group_column is not None and args.cv is None and not args.grid:
        raise UsageError("--group-column groups the cross-validation folds: it needs --cv or --grid")


def _folds(args, counts: dict, groups=None) -> int | None:
    k = args.cv if args.cv is not None else (3 if args.grid else None)
    if k is not None and min(counts.values()) < k:
        smallest = min(counts, key=counts.get)
        raise DataError(f"{k}-fold cross-validation needs at least {k} songs of each class; "
                        f"class {smallest} has {counts[smallest]}")
    if k is not None and groups is not None and len(set(groups.tolist())) < k:
        raise DataError(f"{k}-fold cross-validation by {args.group_column!r} needs at least {k} groups; "
                        f"there are {len(set(groups.tolist()))}")
    return k


def classes_line(classes: list) -> str:
    """What the model will say about these classes (sorted, as the classifier stores them).

    Examples
    --------
    >>> classes_line(["hit", "miss"])
    "classes 'hit', 'miss': p_viral (predict) and the ROC/PR curves (evaluate) are for 'miss', the second in sorted order"
    >>> classes_line([0, 1, 2])
    'classes 0, 1, 2: 3 classes, so predict writes one p_<label> column per class and evaluate gives no ROC-AUC/PR-AUC'
    """
    names = ", ".join(repr(c) for c in classes)
    if len(classes) == 2:
        return (f"classes {names}: p_viral (predict) and the ROC/PR curves (evaluate) are for {classes[1]!r}, the "
                "second in sorted order")
    return (f"classes {names}: {len(classes)} classes, so predict writes one p_<label> column per class and evaluate "
            "gives no ROC-AUC/PR-AUC")


def _history_line(clf) -> str:
    last = dict(clf.history[-1])
    parts = [f"train loss {last['train_loss']:.3f}"]
    if "valid_loss" in last:
        parts.append(f"validation loss {last['valid_loss']:.3f}")
    if "valid_acc" in last:
        parts.append(f"validation accuracy {last['valid_acc']:.3f}")
    line = f"last epoch ({last['epoch']}): " + ", ".join(parts)
    best, first = getattr(clf, "best_epoch_", None), getattr(clf, "validation_history_", None)
    if best is not None and first is not None:  # early_stopping="refit"
        line += (f" (trained on every song for {best} epochs, the lowest validation loss "
                 f"{first[best - 1, 'valid_loss']:.3f} of {len(first)} epochs on {1 - clf.validation_fraction:.0%})")
    return line


def _grid_table(grid) -> str:
    res = grid.cv_results_
    rows = [
        {"hidden_size": p["module__hidden_size"], "lr": f"{p['lr']:g}", "mean": m, "std": s, "rank": r}
        for p, m, s, r in zip(res["params"], res["mean_test_score"], res["std_test_score"],
                              res["rank_test_score"])
    ]
    return format_table(rows, ["hidden_size", "lr", "mean", "std", "rank"])


def run(args, console) -> int:
    import numpy as np

    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, StratifiedKFold, cross_val_score
    from .._song_pipeline import SongPipeline

    from ..models import EpochProgressBar
    from .._pipeline import make_viral_pipeline

    _check_options(args)
    check_output_file(args.out, "--out")  # before an hour of training, not after
    check_output_folder(args.cache, "--cache")
    fmt = model_format_for(args.out, args.format)
    method = check_method(args.method)
    device = resolve_device(args.device)
    groups = None
    if args.group_column is not None:
        paths, y, groups = labelled_songs(args, group_column=args.group_column)
    else:
        paths, y = labelled_songs(args)
    labels, n_per_label = np.unique(y, return_counts=True)
    counts = {lab.item() if hasattr(lab, "item") else lab: int(n) for lab, n in zip(labels, n_per_label)}
    if len(counts) < 2:
        raise DataError(f"{args.metadata!r}: training needs songs of at least 2 classes, all are {labels[0]!r}")
    k = _folds(args, counts, groups)
    seed = args.seed if args.seed is not None else library_default("random_state")

    extra = {"device": device} if device is not None else {}
    if args.class_weight is not None:
        extra["class_weight"] = args.class_weight
    pipe = make_viral_pipeline(**_pipeline_kwargs(args), n_jobs=args.n_jobs, memory=args.cache,
                               verbose=console.progress, **extra)
    if method:
        pipe.set_params(chorus__method=method["method"])
    n_song_steps = len(pipe.steps) - 1
    if args.model != "lstm":
        head = pooled_head(args.model, class_weight=args.class_weight, random_state=seed)
        pipe = SongPipeline(pipe.steps[:-1] + head.steps)
    t0 = time.perf_counter()
    cached = count_files(args.cache)
    console.note(f"extracting features of {len(paths)} songs"
                 + (f" (cache folder {args.cache}: {cached} entries)" if args.cache else "") + " ...")
    features = pipe[:n_song_steps].transform(paths)
    if args.cache:
        console.note(f"cache folder {args.cache}: {cached} entries before, {count_files(args.cache)} now")
    t_features = time.perf_counter() - t0

    lstm = args.model == "lstm"
    clf = pipe.steps[-1][1] if lstm else pipe[n_song_steps:]  # what is fitted on the features
    if lstm:
        clf.set_params(verbose=0)
    if lstm and console.progress:
        clf.set_params(callbacks=[("progress", EpochProgressBar())])
    out_lines = []
    class_text = ", ".join(f"{n} of class {lab}" for lab, n in counts.items())
    t0 = time.perf_counter()
    # inside the folds the classifier trains on all its songs (train_split=None, as the library
    # advises for tuning): its monitoring split would only take songs away from small folds
    folds = None
    if k is not None:
        splitter = StratifiedGroupKFold if groups is not None else StratifiedKFold
        folds = splitter(k, shuffle=True, random_state=seed)
    by = f" by {args.group_column!r}" if groups is not None else ""
    if args.grid:
        param_grid = {
            "module__hidden_size": args.hidden_size or GRID_DEFAULTS["hidden_size"],
            "lr": args.lr or GRID_DEFAULTS["lr"],
        }
        n_candidates = len(param_grid["module__hidden_size"]) * len(param_grid["lr"])
        console.note(f"grid search: {n_candidates} candidates x {k} folds ...")
        grid = GridSearchCV(clone(clf).set_params(train_split=None), param_grid, cv=folds, scoring="accuracy",
                            refit=False)
        grid.fit(features, y, groups=groups)
        best = grid.best_params_
        out_lines += [
            f"grid search ({n_candidates} candidates x {k} folds{by}, accuracy):",
            *("  " + line for line in _grid_table(grid).splitlines()),
            f"best: hidden_size {best['module__hidden_size']}, lr {best['lr']:g} "
            f"(mean accuracy {grid.best_score_:.3f})",
        ]
        clf.set_params(**best)
    elif k is not None:
        console.note(f"cross-validation: {k} folds ...")
        fold_model = clone(clf).set_params(train_split=None) if lstm else clone(clf)
        fold_scores = cross_val_score(fold_model, features, y, groups=groups, cv=folds, scoring="accuracy")
        out_lines.append(
            f"cross-validation ({k} folds{by}, accuracy): {' '.join(f'{s:.3f}' for s in fold_scores)}; "
            f"mean {fold_scores.mean():.3f} +- {fold_scores.std():.3f}"
        )
    console.note(f"training on all {len(y)} songs ...")
    clf.fit(features, y)
    t_fit = time.perf_counter() - t0
    window = f"chorus window {pipe.named_steps['chorus'].clip_length:g} s"
    if lstm:
        clf.set_params(callbacks=None)  # the progress bar is no part of the model
        params = clf.get_params()
        out_lines.insert(0, f"trained on {len(y)} songs ({class_text}): hidden size {params['module__hidden_size']}, "
                            f"lr {params['lr']:g}, {params['max_epochs']} epochs, {window}")
        out_lines.append(_history_line(clf))
    else:
        kinds = " + ".join(type(step).__name__ for _, step in clf.steps)
        out_lines.insert(0, f"trained on {len(y)} songs ({class_text}): {args.model} ({kinds}), {window}")
    out_lines.append(f"time: features {t_features:.1f} s, training {t_fit:.1f} s")
    out_lines.append(classes_line(list(counts)))
    save_model(pipe, args.out, fmt)
    out_lines.append(f"model saved: {args.out} ({fmt})")
    print(printable("\n".join(out_lines)), flush=True)
    return EXIT_OK
