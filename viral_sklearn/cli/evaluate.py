"""``viral-sklearn evaluate``: a trained model's scores on labelled songs."""

from __future__ import annotations

import json
import os

from ._args import add_metadata_args, add_model_loading_args, add_song_args, resolve_device
from ._errors import EXIT_DATA, EXIT_OK, DataError
from ._model import check_model_file, load_model
from ._output import emit, format_table
from ._paths import check_output_folder
from ._songs import SongSet, cache_folder, labelled_songs
from .predict import predict_songs

__all__ = ["add_parser", "run", "scores"]

DESCRIPTION = """\
Score a trained model on labelled songs: accuracy, ROC-AUC, PR-AUC (average
precision) and macro-F1, and the confusion matrix.  The positive class of the
curves is the model's second class (e.g. 1 or True).  Every song must be
readable: otherwise all the songs that are not are listed and the exit code is 1.
"""


def add_parser(subparsers, parents):
    p = subparsers.add_parser("evaluate", parents=parents, help="score a trained model on labelled songs",
                              description=DESCRIPTION)
    p.add_argument("model", metavar="MODEL", help="a model written by 'viral-sklearn train'")
    add_metadata_args(p, required=True)
    p.add_argument("--plots", metavar="DIR", help="write roc.png, precision_recall.png and confusion.png here")
    p.add_argument("--json", action="store_true", help="print the scores as JSON instead of a table")
    add_model_loading_args(p)
    add_song_args(p)
    p.set_defaults(run=run)
    return p


def scores(y_true, proba, classes) -> dict:
    """Accuracy, ROC-AUC, PR-AUC, macro-F1 and the confusion matrix.

    ROC-AUC and PR-AUC are None when they are undefined: a model with more than
    two classes, or songs of one class only.

    Examples
    --------
    >>> import numpy as np
    >>> s = scores(np.array([0, 1, 1, 0]), np.array([[.8, .2], [.3, .7], [.6, .4], [.9, .1]]), np.array([0, 1]))
    >>> s["accuracy"], s["roc_auc"], s["confusion_matrix"]
    (0.75, 1.0, [[2, 0], [1, 1]])
    """
    import numpy as np

    from sklearn.metrics import accuracy_score, average_precision_score, confusion_matrix, f1_score, roc_auc_score

    pred = classes[np.argmax(proba, axis=1)]
    binary = len(classes) == 2 and len(np.unique(y_true)) == 2
    positive = classes[-1]
    return {
        "n_songs": int(len(y_true)),
        "classes": [c.item() if hasattr(c, "item") else c for c in classes],
        "accuracy": float(accuracy_score(y_true, pred)),
        "roc_auc": float(roc_auc_score(y_true == positive, proba[:, 1])) if binary else None,
        "pr_auc": float(average_precision_score(y_true == positive, proba[:, 1])) if binary else None,
        "macro_f1": float(f1_score(y_true, pred, labels=classes, average="macro", zero_division=0)),
        "confusion_matrix": confusion_matrix(y_true, pred, labels=classes).tolist(),
    }


def report(s: dict) -> str:
    import numpy as np

    def num(v):
        return "n/a (needs two classes)" if v is None else f"{v:.3f}"

    counts = np.sum(s["confusion_matrix"], axis=1)
    per_class = ", ".join(f"{n} of class {c}" for c, n in zip(s["classes"], counts))
    lines = [
        f"songs: {s['n_songs']} ({per_class})",
        f"accuracy  {num(s['accuracy'])}",
        f"ROC-AUC   {num(s['roc_auc'])}",
        f"PR-AUC    {num(s['pr_auc'])}",
        f"macro-F1  {num(s['macro_f1'])}",
        "confusion matrix (rows: true label, columns: predicted):",
    ]
    header = ["true \\ predicted"] + [str(c) for c in s["classes"]]
    rows = [dict(zip(header, [str(c)] + list(r))) for c, r in zip(s["classes"], s["confusion_matrix"])]
    lines += ["  " + line for line in format_table(rows, header).splitlines()]
    return "\n".join(lines) + "\n"


def draw(y_true, proba, classes, folder: str) -> list[str]:
    import numpy as np

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import plotting

    os.makedirs(folder, exist_ok=True)
    pred = classes[np.argmax(proba, axis=1)]
    draws = {"confusion.png": lambda: plotting.plot_confusion_matrix(y_true, pred, labels=classes)}
    if len(classes) == 2 and len(np.unique(y_true)) == 2:
        positive = classes[1].item() if hasattr(classes[1], "item") else classes[1]  # 1, not np.int64(1)
        draws["roc.png"] = lambda: plotting.plot_roc(y_true, proba[:, 1], pos_label=positive)
        draws["precision_recall.png"] = lambda: plotting.plot_precision_recall(y_true, proba[:, 1],
                                                                              pos_label=positive)
    written = []
    for name, make in draws.items():
        ax = make()
        path = os.path.join(folder, name)
        ax.figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
        written.append(path)
    return written


def run(args, console) -> int:
    import numpy as np

    check_output_folder(args.plots, "--plots")
    check_output_folder(args.cache, "--cache")
    check_model_file(args.model)
    paths, y = labelled_songs(args)
    songs = SongSet(paths)
    device = resolve_device(args.device)
    with cache_folder(args.cache) as cache:
        pipeline = load_model(args.model, trust_pickle=args.trust_pickle, memory=cache, n_jobs=args.n_jobs,
                              device=device, verbose=console.progress)
        classes = pipeline.steps[-1][1].classes_
        unknown = sorted({str(v) for v in np.unique(y)} - {str(c) for c in classes})
        if unknown:
            raise DataError(f"labels {unknown} of {args.metadata!r} are not among the model's classes "
                            f"{[str(c) for c in classes]}")
        console.note(f"evaluating {args.model} on {len(paths)} songs ...")
        proba, _ = predict_songs(pipeline, songs)
    if songs.failures:
        console.failures(songs.failure_list(), len(songs.paths))
        console.error("no scores: every song must be readable (fix or remove the songs above)")
        return EXIT_DATA
    y = np.asarray(y).astype(classes.dtype) if classes.dtype.kind != "O" else np.asarray(y)
    s = scores(y, proba, classes)
    emit(json.dumps(s, indent=2) + "\n" if args.json else report(s), None, console)
    if args.plots:
        for path in draw(y, proba, classes, args.plots):
            console.note(f"wrote {path}")
    return EXIT_OK
