"""Plots of classifier results: ROC, precision-recall, confusion matrix, model comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._checks import _get_axes, _as_1d, _check_binary, _curve_label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ['plot_roc', 'plot_precision_recall', 'plot_confusion_matrix', 'plot_comparison']


# -- classifier results ------------------------------------------------------------
def plot_roc(y_true, y_score, *, pos_label=None, name: str | None = None, title: str | None = None,
             ax=None) -> "Axes":
    """ROC curve of binary scores, with its AUC, and the chance diagonal.

    Parameters
    ----------
    y_true : array-like [shape=(n,)]
        True labels, exactly two classes.
    y_score : array-like [shape=(n,)]
        Scores of the positive class (``predict_proba(X)[:, 1]``,
        ``decision_function(X)``); higher means more likely positive.
    pos_label : label, optional
        The positive class; needed unless the labels are {0, 1} or {-1, 1}.
    name : str, optional
        Prefix of the legend entry (e.g. the model), to compare several
        curves on one ``ax``.
    title : str, optional
        The axes' title (say which model and which songs: "LSTM on 12
        held-out songs").
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The curve is labelled ``"AUC = 0.xx"`` (or ``"name (AUC = 0.xx)"``),
        the diagonal (gid ``"chance"``) ``"chance (AUC = 0.50)"``.

    Raises
    ------
    ValueError
        Lengths differ, y_score not 1-D or not finite, y_true not binary, or
        ``pos_label`` missing or not a class.
    """
    from sklearn.metrics import auc, roc_curve

    y_true, y_score, pos_label = _check_binary(y_true, y_score, pos_label)
    fpr, tpr, _ = roc_curve(y_true, y_score, pos_label=pos_label)
    roc_auc = auc(fpr, tpr)

    ax = _get_axes(ax, (5, 5))
    ax.plot(fpr, tpr, linewidth=2, label=_curve_label(name, "AUC", roc_auc))
    if not any(line.get_gid() == "chance" for line in ax.get_lines()):
        (chance,) = ax.plot([0, 1], [0, 1], linestyle="--", color="0.5", label="chance (AUC = 0.50)")
        chance.set_gid("chance")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), aspect="equal",
           xlabel=f"false positive rate (positive class: {pos_label!r})",
           ylabel=f"true positive rate (positive class: {pos_label!r})")
    if title is not None:
        ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_precision_recall(y_true, y_score, *, pos_label=None, name: str | None = None, ax=None) -> "Axes":
    """Precision-recall curve of binary scores, with its average precision.

    Parameters
    ----------
    y_true : array-like [shape=(n,)]
        True labels, exactly two classes.
    y_score : array-like [shape=(n,)]
        Scores of the positive class; higher means more likely positive.
    pos_label : label, optional
        The positive class; needed unless the labels are {0, 1} or {-1, 1}.
    name : str, optional
        Prefix of the legend entry, to compare several curves on one ``ax``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The curve (``sklearn.metrics.precision_recall_curve``, drawn as steps)
        is labelled ``"AP = 0.xx"``; the horizontal line at the positive
        fraction (gid ``"chance"``) is what a random classifier scores.

    Raises
    ------
    ValueError
        As :func:`plot_roc`.
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve

    y_true, y_score, pos_label = _check_binary(y_true, y_score, pos_label)
    precision, recall, _ = precision_recall_curve(y_true, y_score, pos_label=pos_label)
    ap = average_precision_score(y_true, y_score, pos_label=pos_label)
    prevalence = float(np.mean(y_true == pos_label))

    ax = _get_axes(ax, (5, 5))
    ax.plot(recall, precision, drawstyle="steps-post", linewidth=2, label=_curve_label(name, "AP", ap))
    if not any(line.get_gid() == "chance" for line in ax.get_lines()):
        (chance,) = ax.plot([0, 1], [prevalence, prevalence], linestyle="--", color="0.5",
                            label=f"chance (AP = {prevalence:.2f})")
        chance.set_gid("chance")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), aspect="equal",
           xlabel=f"recall (positive class: {pos_label!r})",
           ylabel=f"precision (positive class: {pos_label!r})")
    ax.legend(loc="lower left", fontsize="small")
    return ax


def plot_confusion_matrix(y_true, y_pred, *, labels=None, display_labels=None, title: str = "confusion matrix",
                          ax=None) -> "Axes":
    """Confusion matrix with the count written in each cell.

    Parameters
    ----------
    y_true : array-like [shape=(n,)]
    y_pred : array-like [shape=(n,)]
    labels : array-like [shape=(n_classes,)], optional
        Classes, in the order of the rows and columns; by default the sorted
        classes found in ``y_true`` and ``y_pred``.
    display_labels : array-like of str [shape=(n_classes,)], optional
        What the axes call each class of ``labels``, in the same order
        (``["not viral", "viral"]`` for the labels 0 and 1); by default the
        labels themselves.
    title : str, default="confusion matrix"
        The axes' title.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        Rows are true labels, columns predicted labels
        (``sklearn.metrics.ConfusionMatrixDisplay``); cell ``(i, j)`` holds
        one text, the count.

    Raises
    ------
    ValueError
        Lengths differ, an input is empty or not 1-D, ``labels`` has
        duplicates or names no class of ``y_true``, or ``display_labels``
        does not name each class once.
    """
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix
    from sklearn.utils.multiclass import unique_labels

    y_true = _as_1d("y_true", y_true)
    y_pred = _as_1d("y_pred", y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred have different lengths: {y_true.shape[0]} != {y_pred.shape[0]}"
        )
    if labels is None:
        labels = unique_labels(y_true, y_pred)
    else:
        labels = _as_1d("labels", labels)
        if np.unique(labels).size != labels.size:
            raise ValueError(f"labels has duplicates: {labels.tolist()}")
        if not np.isin(labels, y_true).any():
            raise ValueError(f"none of labels {labels.tolist()} is in y_true")
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    if display_labels is None:
        display_labels = labels
    else:
        display_labels = [str(name) for name in _as_1d("display_labels", display_labels)]
        if len(display_labels) != len(labels):
            raise ValueError(
                f"display_labels names {len(display_labels)} classes, there are {len(labels)}: {list(labels)}"
            )

    ax = _get_axes(ax, (4.5, 4))
    ConfusionMatrixDisplay(cm, display_labels=display_labels).plot(
        ax=ax, colorbar=False, values_format="d", cmap="Blues"
    )
    ax.set_title(title)
    return ax


_METRIC_NAMES = {
    "roc_auc": "ROC-AUC",
    "average_precision": "PR-AUC (average precision)",
    "f1_macro": "macro-F1",
    "accuracy": "accuracy",
}


def plot_comparison(results, *, metrics=("roc_auc", "average_precision"), dummy: str | None = "dummy",
                    title: str | None = None, ax=None) -> "Axes":
    """Mean score of each candidate, with its standard deviation over the folds.

    Horizontal bars, one group per model (in the table's order, top to
    bottom), one bar per metric; the dummy's scores are drawn as dashed
    lines across the whole plot, so that what a model adds over a model
    that ignores the songs reads at a glance.

    Parameters
    ----------
    results : pandas.DataFrame
        What :func:`~viral_sklearn.model_selection.compare_pipelines`
        returns: a ``model`` column and ``<metric>_mean`` /
        ``<metric>_std`` columns.
    metrics : str or sequence of str, default=("roc_auc", "average_precision")
        The scores to draw (columns ``<metric>_mean`` must exist).
    dummy : str or None, default="dummy"
        The row drawn as reference lines (and not as bars); ``None`` or a
        name absent from the table draws every row as bars.
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        One bar container per metric, labelled with the metric's name; the
        dummy's lines have gid ``"dummy:<metric>"``.

    Raises
    ------
    ValueError
        No ``model`` column, a metric without its ``_mean`` column, or no
        row to draw.

    Examples
    --------
    >>> import pandas as pd
    >>> from viral_sklearn.plotting import plot_comparison
    >>> table = pd.DataFrame({"model": ["LSTM", "dummy"], "roc_auc_mean": [0.8, 0.5], "roc_auc_std": [0.05, 0.0]})
    >>> ax = plot_comparison(table, metrics="roc_auc")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['LSTM']
    """
    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = list(metrics)
    columns = list(getattr(results, "columns", []))
    if "model" not in columns:
        raise ValueError("results must be a DataFrame with a 'model' column (compare_pipelines's table)")
    if not metrics:
        raise ValueError("metrics is empty")
    missing = [m for m in metrics if f"{m}_mean" not in columns]
    if missing:
        raise ValueError(f"results has no column {[m + '_mean' for m in missing]}; its columns are {columns}")
    names = [str(m) for m in results["model"]]
    is_dummy = np.array([dummy is not None and n == dummy for n in names])
    bars = [i for i in range(len(names)) if not is_dummy[i]]
    if not bars:
        raise ValueError("results has no model to draw besides the dummy")

    ax = _get_axes(ax, (8, 1.2 + 0.3 * len(bars) * len(metrics) + 0.3 * len(bars)))
    height = 0.8 / len(metrics)
    positions = np.arange(len(bars))[::-1].astype(float)  # first row on top
    colors = [f"C{k}" for k in range(len(metrics))]
    for k, metric in enumerate(metrics):
        mean = results[f"{metric}_mean"].to_numpy(dtype=float)
        std = (results[f"{metric}_std"].to_numpy(dtype=float) if f"{metric}_std" in columns
               else np.zeros(len(names)))
        offset = (len(metrics) - 1) / 2 * height - k * height
        ax.barh(positions + offset, mean[bars], height=height * 0.9, xerr=std[bars], color=colors[k],
                capsize=3, label=_METRIC_NAMES.get(metric, metric))
        for j in np.flatnonzero(is_dummy):
            line = ax.axvline(mean[j], color=colors[k], linestyle="--", linewidth=1.2)
            line.set_gid(f"dummy:{metric}")
    ax.set_yticks(positions, [names[i] for i in bars])
    ax.set_xlim(0.0, 1.0)
    label = "score (mean +- std over the folds)"
    if is_dummy.any():
        label += "; dashed: the dummy"
    ax.set_xlabel(label)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(metrics), fontsize="small")
    if title:
        ax.set_title(title)
    return ax
