"""PooledMelTransformer in the model description: its options and fitted shape, as JSON.

It is ours, so it is described like the song steps (by its name, not by a
module path that a refactoring would move) and checked field by field: the
statistics are names among its own, the percentiles numbers in [0, 100], and
the shape it was fitted on within the bounds of a mel spectrogram.
"""

from __future__ import annotations

from numbers import Real

from ._errors import ModelFormatError

__all__ = ["POOLED_TYPE", "pooled_entry", "pooled_spec"]

POOLED_TYPE = "PooledMelTransformer"
_KEYS = {"name", "type", "params", "fitted"}
_STATISTICS = ("mean", "std", "min", "max")
#: the most percentiles a file may ask for (one per integer percent and a half)
_MAX_PERCENTILES = 201
#: the most frames per song a fitted transformer may have seen (``MAX_FEATURE_CELLS`` of one band)
_MAX_FRAMES = 1 << 24
_MAX_BANDS = 1024


def _error(path: str, reason: str) -> ModelFormatError:
    return ModelFormatError(f"{path!r}: {reason}")


def pooled_entry(est) -> dict:
    """The JSON entry of a fitted PooledMelTransformer (without its name)."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est, "n_features_in_")
    stats, percentiles = est._checked_options()
    return {
        "type": POOLED_TYPE,
        "params": {"statistics": stats, "percentiles": percentiles, "deltas": bool(est.deltas)},
        "fitted": {"n_features_in": int(est.n_features_in_), "n_frames_in": int(est.n_frames_in_)},
    }


def _int_in(value, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def pooled_spec(path: str, name: str, entry: dict, spec_class):
    """A checked ``spec_class`` (StepSpec) of a PooledMelTransformer entry.

    Raises
    ------
    ModelFormatError
        Unknown or missing keys, a statistic not among its own, a percentile
        outside [0, 100], repeated values, a fitted shape out of bounds.
    """
    from .. import PooledMelTransformer

    where = f"step {name!r} ({POOLED_TYPE})"
    if set(entry) != _KEYS:
        raise _error(path, f"{where}: expected the keys {sorted(_KEYS)}, got {sorted(map(str, entry))}"[:300])
    params, fitted = entry["params"], entry["fitted"]
    if not isinstance(params, dict) or set(params) != {"statistics", "percentiles", "deltas"}:
        raise _error(path, f"{where}: params must be exactly statistics, percentiles and deltas")
    stats, percentiles, deltas = params["statistics"], params["percentiles"], params["deltas"]
    if not isinstance(stats, list) or not all(isinstance(s, str) and s in _STATISTICS for s in stats):
        raise _error(path, f"{where}: statistics must be a list of names among {list(_STATISTICS)}")
    if not isinstance(percentiles, list) or len(percentiles) > _MAX_PERCENTILES or not all(
        isinstance(q, Real) and not isinstance(q, bool) and 0 <= q <= 100 for q in percentiles
    ):
        raise _error(path, f"{where}: percentiles must be a list of at most {_MAX_PERCENTILES} numbers in [0, 100]")
    if not isinstance(deltas, bool):
        raise _error(path, f"{where}: deltas must be true or false")
    if not isinstance(fitted, dict) or set(fitted) != {"n_features_in", "n_frames_in"}:
        raise _error(path, f"{where}: fitted must be exactly n_features_in and n_frames_in")
    if not _int_in(fitted["n_features_in"], 1, _MAX_BANDS) or not _int_in(fitted["n_frames_in"], 1, _MAX_FRAMES):
        raise _error(path, f"{where}: the fitted shape (n_features_in={fitted['n_features_in']!r}, "
                           f"n_frames_in={fitted['n_frames_in']!r}) is out of bounds (1-{_MAX_BANDS} bands, "
                           f"1-{_MAX_FRAMES} frames)"[:300])
    options = {"statistics": tuple(stats), "percentiles": tuple(float(q) for q in percentiles), "deltas": deltas}
    try:  # its own checks: repeats, nothing to compute
        PooledMelTransformer(**options)._checked_options()
    except ValueError as exc:
        raise _error(path, f"{where}: {exc}") from None
    spec = spec_class(name, PooledMelTransformer, options, entry)
    spec.fitted = {"n_features_in_": fitted["n_features_in"], "n_frames_in_": fitted["n_frames_in"]}
    return spec
