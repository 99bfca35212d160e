"""Shared checks and drawing helpers of the plotting functions (matplotlib loads on first use)."""

from __future__ import annotations

import numbers

import numpy as np

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
