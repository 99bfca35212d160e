"""Plots of songs, spectrograms and classifier results (matplotlib, optional).

matplotlib is an optional dependency (``pip install 'viral-sklearn[plot]'``):
this module imports it only when a function is called, so ``import
viral_sklearn.plotting`` works without it.

Every function draws on ``ax`` when given, otherwise on a new
:class:`matplotlib.figure.Figure` that is *not* registered with pyplot (no GUI
window, nothing to close, nothing is shown): save it with
``ax.figure.savefig(path)``, or display ``ax.figure`` in a notebook.  Every
function returns the :class:`~matplotlib.axes.Axes` it drew on.

Functions
---------
plot_chorus
    Waveform of a song with the detected chorus window and the true choruses.
plot_mel
    A (time x mel) dB spectrogram, as :func:`viral_sklearn.mel_db` returns it.
plot_history
    Training curves of a skorch net (``net.history_``).
plot_roc, plot_precision_recall
    ROC and precision-recall curves of binary scores, with AUC / AP.
plot_confusion_matrix
    Confusion matrix with annotated counts.
plot_comparison
    Scores of candidate models, as :func:`viral_sklearn.model_selection.compare_pipelines`
    returns them, with their spread over the folds and the dummy's level.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "plot_chorus",
    "plot_mel",
    "plot_history",
    "plot_roc",
    "plot_precision_recall",
    "plot_confusion_matrix",
    "plot_comparison",
]

_MISSING_MATPLOTLIB = "viral_sklearn.plotting needs matplotlib: pip install 'viral-sklearn[plot]'"

#: waveforms longer than twice this many samples are drawn as a min/max envelope
_ENVELOPE_BUCKETS = 2000

_DETECTED_COLOR = "tab:orange"
_TRUE_COLOR = "tab:green"


# -- helpers -------------------------------------------------------------------
def _require_matplotlib():
    """Import matplotlib, or raise an ImportError that says how to install it.

    Returns
    -------
    matplotlib : module
    """
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401 (the non-interactive Figure API)
    except ImportError as exc:
        raise ImportError(_MISSING_MATPLOTLIB) from exc
    return matplotlib


def _get_axes(ax, figsize: tuple[float, float]):
    """``ax`` itself, or the axes of a new pyplot-free figure."""
    _require_matplotlib()
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig.subplots()


def _check_real(name: str, value, *, positive: bool = False, nonnegative: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _as_1d(name: str, values, *, numeric: bool = False) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if numeric:
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or inf")
    return arr


def _check_binary(y_true, y_score, pos_label):
    """Validate binary targets and scores; resolve ``pos_label``.

    Returns
    -------
    y_true : np.ndarray [shape=(n,)]
    y_score : np.ndarray [shape=(n,), dtype=float64]
    pos_label : the positive class, one of the two values of ``y_true``
    """
    y_true = _as_1d("y_true", y_true)
    score = np.asarray(y_score)
    if score.ndim == 2:
        raise ValueError(
            f"y_score must be 1-D (the score of the positive class), got shape {score.shape}; "
            "for predict_proba output pass proba[:, 1]"
        )
    y_score = _as_1d("y_score", score, numeric=True)
    if y_true.shape != y_score.shape:
        raise ValueError(
            f"y_true and y_score have different lengths: {y_true.shape[0]} != {y_score.shape[0]}"
        )
    classes = np.unique(y_true)
    if classes.size != 2:
        raise ValueError(
            f"y_true must hold exactly two classes (binary problem), got {classes.size}: {classes.tolist()}"
        )
    if pos_label is None:
        numeric = np.issubdtype(classes.dtype, np.number) or classes.dtype == np.bool_
        if numeric and (np.array_equal(classes, [0, 1]) or np.array_equal(classes, [-1, 1])):
            pos_label = classes[1].item()
        else:
            raise ValueError(
                f"y_true has classes {classes.tolist()}: pass pos_label= to say which is positive"
            )
    elif pos_label not in classes.tolist():
        raise ValueError(f"pos_label={pos_label!r} is not one of the classes {classes.tolist()}")
    return y_true, y_score, pos_label


def _curve_label(name, metric: str, value: float) -> str:
    return f"{name} ({metric} = {value:.2f})" if name else f"{metric} = {value:.2f}"


# -- songs -----------------------------------------------------------------------
def _envelope(y: np.ndarray, sr: float, n_buckets: int):
    """Min and max of ``y`` over ``n_buckets`` equal runs of samples.

    Returns
    -------
    t : np.ndarray [shape=(n_buckets,)]  bucket centres in seconds
    lo, hi : np.ndarray [shape=(n_buckets,)]
    """
    edges = np.linspace(0, y.size, n_buckets + 1).astype(np.int64)
    starts = edges[:-1]
    lo = np.minimum.reduceat(y, starts)
    hi = np.maximum.reduceat(y, starts)
    t = (edges[:-1] + edges[1:]) / (2.0 * sr)
    return t, lo, hi


def _check_window(name: str, start, end, duration: float) -> tuple[float, float]:
    start = _check_real(f"{name} start", start, nonnegative=True)
    end = _check_real(f"{name} end", end)
    if end <= start:
        raise ValueError(f"{name} must end after it starts, got ({start:g}, {end:g}) s")
    if start >= duration:
        raise ValueError(
            f"{name} starts at {start:g} s, after the end of the song ({duration:g} s); "
            "times are in seconds, not samples"
        )
    return start, end


def plot_chorus(
    y,
    sr,
    *,
    chorus_start,
    clip_length,
    true_choruses: Iterable[tuple[float, float]] | None = None,
    title: str | None = None,
    ax=None,
) -> "Axes":
    """Waveform of a song, its detected chorus window and its true choruses.

    Long signals are drawn as a min/max envelope over about 2000 buckets of
    samples, so a whole song plots in milliseconds and looks the same.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono samples (mix stereo first, e.g. ``y.mean(axis=0)``).
    sr : int or float
        Sample rate of ``y`` in Hz.
    chorus_start : float
        Start of the detected chorus window, seconds from the start of ``y``
        (``ChorusExtractor(output="times")`` gives it).
    clip_length : float
        Length of the window in seconds: the span drawn is
        ``(chorus_start, chorus_start + clip_length)``.
    true_choruses : sequence of (start, end) pairs in seconds, optional
        The annotated chorus occurrences, drawn as hatched spans.
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        x is time in seconds and covers the whole song.  The detected window
        is the patch with gid ``"detected-chorus"``, the true choruses the
        patches with gid ``"true-chorus"``.

    Raises
    ------
    ValueError
        ``y`` not 1-D, empty or not finite; ``sr`` or ``clip_length`` not
        positive; a window that ends before it starts or starts after the
        end of the song.
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(
            f"y must be mono, shape (n,), got shape {arr.shape}; mix the channels first "
            "(e.g. y.mean(axis=0), or MonoMixer)"
        )
    if arr.size == 0:
        raise ValueError("y is empty")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"y must be numeric, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("y contains NaN or inf")
    sr = _check_real("sr", sr, positive=True)
    clip_length = _check_real("clip_length", clip_length, positive=True)
    chorus_start = _check_real("chorus_start", chorus_start, nonnegative=True)
    duration = arr.size / sr
    detected = _check_window("the detected chorus", chorus_start, chorus_start + clip_length, duration)
    truths = []
    if true_choruses is not None:
        for i, pair in enumerate(true_choruses):
            try:
                start, end = pair
            except (TypeError, ValueError):
                raise ValueError(
                    f"true_choruses[{i}] must be a (start, end) pair in seconds, got {pair!r}"
                ) from None
            truths.append(_check_window(f"true_choruses[{i}]", start, end, duration))

    ax = _get_axes(ax, (10, 3))
    # waveform underneath, the detected window tinting it, the true choruses on top
    wave_kw = dict(color="tab:blue", linewidth=0.6, label="waveform", zorder=1)
    if arr.size > 2 * _ENVELOPE_BUCKETS:
        t, lo, hi = _envelope(arr, sr, _ENVELOPE_BUCKETS)
        ax.fill_between(t, lo, hi, step="mid", **wave_kw)
    else:
        ax.plot(np.arange(arr.size) / sr, arr, **wave_kw)

    span = ax.axvspan(
        *detected, facecolor=_DETECTED_COLOR, alpha=0.4, edgecolor="none",
        label="detected chorus", zorder=2,
    )
    span.set_gid("detected-chorus")
    for i, (start, end) in enumerate(truths):
        patch = ax.axvspan(
            start, end, facecolor="none", edgecolor=_TRUE_COLOR, hatch="//", linewidth=1.5,
            label="true chorus" if i == 0 else "_nolegend_", zorder=3,
        )
        patch.set_gid("true-chorus")

    ends = [duration, detected[1]] + [end for _, end in truths]
    ax.set_xlim(0.0, max(ends))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if title is not None:
        ax.set_title(title)
    # outside, right of the axes: a legend inside would hide the song
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize="small")
    return ax


def plot_mel(S_db, *, sr, hop_length, title: str | None = None, ax=None, colorbar: bool = True) -> "Axes":
    """A mel spectrogram in dB, time on x, mel band on y.

    Parameters
    ----------
    S_db : np.ndarray [shape=(n_frames, n_mels)]
        The library's orientation, time x mel (as :func:`viral_sklearn.mel_db`
        and ``MelSpectrogramTransformer`` return it); librosa's
        ``(n_mels, n_frames)`` must be transposed first.
    sr : int or float
        Sample rate of the audio, Hz.
    hop_length : int
        Samples between frames.
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    colorbar : bool, default=True
        Add a colorbar in dB (``"%+2.0f dB"``).

    Returns
    -------
    ax : matplotlib.axes.Axes
        Holds one image of ``S_db.T`` (origin lower); frame ``i`` spans
        ``[i, i + 1) * hop_length / sr`` seconds, band ``j`` is centred on ``j``.

    Raises
    ------
    ValueError
        ``S_db`` not 2-D, empty or not finite; ``sr`` or ``hop_length`` not
        positive.
    """
    S = np.asarray(S_db)
    if S.ndim != 2:
        raise ValueError(f"S_db must be 2-D (n_frames, n_mels), got shape {S.shape}")
    if S.size == 0:
        raise ValueError(f"S_db is empty, shape {S.shape}")
    if not np.issubdtype(S.dtype, np.number):
        raise ValueError(f"S_db must be numeric, got dtype {S.dtype}")
    if not np.all(np.isfinite(S)):
        raise ValueError("S_db contains NaN or inf")
    sr = _check_real("sr", sr, positive=True)
    hop_length = _check_positive_int("hop_length", hop_length)

    ax = _get_axes(ax, (8, 4))
    n_frames, n_mels = S.shape
    seconds = n_frames * hop_length / sr
    image = ax.imshow(
        S.T, origin="lower", aspect="auto", interpolation="nearest", cmap="magma",
        extent=(0.0, seconds, -0.5, n_mels - 0.5),
    )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, format="%+2.0f dB")
    return ax


# -- training --------------------------------------------------------------------
def _history_rows(history) -> list[dict]:
    if hasattr(history, "history_") and not isinstance(history, (list, tuple)):
        history = history.history_  # a fitted skorch net
    if isinstance(history, dict) or not isinstance(history, Sequence):
        raise ValueError(
            "history must be a skorch History or a list of per-epoch dicts "
            f"(net.history_), got {type(history).__name__}"
        )
    rows = list(history)
    if not rows:
        raise ValueError("history is empty (no epoch recorded)")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"history[{i}] must be a dict of epoch values, got {type(row).__name__}")
    return rows


def _series(rows: list[dict], key: str):
    """(epochs, values) of ``key`` over the epochs that recorded a number for it."""
    epochs, values = [], []
    for i, row in enumerate(rows):
        value = row.get(key)
        if value is None or isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            continue
        epochs.append(row.get("epoch", i + 1))
        values.append(float(value))
    return np.asarray(epochs), np.asarray(values, dtype=np.float64)


def plot_history(
    history,
    *,
    ax=None,
    keys: Sequence[str] = ("train_loss", "valid_loss"),
    acc_keys: Sequence[str] = ("valid_acc",),
) -> "Axes":
    """Training curves of a skorch net, per epoch.

    Parameters
    ----------
    history : skorch.history.History or list of dict
        One dict per epoch, as ``net.history_`` is (a fitted net is accepted
        too).  The x value of an epoch is its ``"epoch"`` entry (skorch counts
        from 1), else its position counted from 1.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    keys : sequence of str, default=("train_loss", "valid_loss")
        Loss entries, drawn on ``ax`` (left axis).
    acc_keys : sequence of str, default=("valid_acc",)
        Accuracy (or other score) entries, drawn on a twin right axis.  Keys
        absent from the history, in either list, are skipped; epochs that lack
        a key are skipped for that key.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The loss axes; one line per key found, labelled with the key.  When
        accuracies are drawn next to losses, their twin axes is
        ``ax.right_ax``.  With no loss found, the accuracies are drawn on
        ``ax`` itself.  The legend is one row above the axes, where it hides
        no curve: to add a title, leave room for it
        (``ax.set_title(..., pad=20)``) or use ``ax.figure.suptitle``.

    Raises
    ------
    ValueError
        An empty or malformed history, or none of ``keys`` and ``acc_keys``
        in it.
    """
    rows = _history_rows(history)
    if isinstance(keys, str) or isinstance(acc_keys, str):
        raise ValueError("keys and acc_keys must be sequences of names, e.g. ('train_loss',)")
    loss = [(k, *_series(rows, k)) for k in keys]
    loss = [s for s in loss if s[2].size]
    acc = [(k, *_series(rows, k)) for k in acc_keys]
    acc = [s for s in acc if s[2].size]
    if not loss and not acc:
        found = sorted({k for row in rows for k in row if k not in ("batches", "epoch")})
        raise ValueError(
            f"none of {list(keys) + list(acc_keys)} is in the history; it records {found}"
        )

    ax = _get_axes(ax, (6.5, 4))
    n_epochs = max(s[1].size for s in loss + acc)
    marker = "o" if n_epochs <= 30 else None
    handles = []
    for key, epochs, values in loss:
        (line,) = ax.plot(epochs, values, marker=marker, markersize=3, label=key)
        handles.append(line)
    acc_ax = ax
    if acc:
        if loss:
            acc_ax = ax.twinx()
            ax.right_ax = acc_ax
            colors = ["tab:green", "tab:red", "tab:purple", "tab:brown"]
        else:
            colors = [None] * len(acc)
        for i, (key, epochs, values) in enumerate(acc):
            (line,) = acc_ax.plot(
                epochs, values, marker=marker, markersize=3, linestyle="--",
                color=colors[i % len(colors)], label=key,
            )
            handles.append(line)
        values = np.concatenate([s[2] for s in acc])
        if values.min() >= 0 and values.max() <= 1:
            acc_ax.set_ylim(-0.02, 1.02)
        acc_ax.set_ylabel("accuracy")
    if loss:
        ax.set_ylabel("loss")
    ax.set_xlabel("epoch")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    # above the axes, in one row: curves can go anywhere inside
    acc_ax.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(handles),
        frameon=False, fontsize="small",
    )
    return ax


# -- classifier results ------------------------------------------------------------
def plot_roc(y_true, y_score, *, pos_label=None, name: str | None = None, ax=None) -> "Axes":
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


def plot_confusion_matrix(y_true, y_pred, *, labels=None, ax=None) -> "Axes":
    """Confusion matrix with the count written in each cell.

    Parameters
    ----------
    y_true : array-like [shape=(n,)]
    y_pred : array-like [shape=(n,)]
    labels : array-like [shape=(n_classes,)], optional
        Classes, in the order of the rows and columns; by default the sorted
        classes found in ``y_true`` and ``y_pred``.
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
        Lengths differ, an input is empty or not 1-D, or ``labels`` has
        duplicates or names no class of ``y_true``.
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

    ax = _get_axes(ax, (4.5, 4))
    ConfusionMatrixDisplay(cm, display_labels=labels).plot(
        ax=ax, colorbar=False, values_format="d", cmap="Blues"
    )
    ax.set_title("confusion matrix")
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
