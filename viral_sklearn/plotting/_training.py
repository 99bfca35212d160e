"""Training curves of a skorch net."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ._checks import _get_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ['plot_history']


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
