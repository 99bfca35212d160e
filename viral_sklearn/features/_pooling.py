"""PooledMelTransformer: (n, frames, mels) sequences to one row of statistics per song."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["PooledMelTransformer"]

#: statistic name -> function over the time axis (axis 1) of a (n, frames, mels) array
_STATISTICS = {
    "mean": lambda S: S.mean(axis=1),
    "std": lambda S: S.std(axis=1),
    "min": lambda S: S.min(axis=1),
    "max": lambda S: S.max(axis=1),
}


class PooledMelTransformer(TransformerMixin, BaseEstimator):
    """Pool each mel band over time: one row of statistics per song.

    Turns the ``(n_songs, n_frames, n_mels)`` array of
    :class:`MelSpectrogramTransformer` into a 2-D ``(n_songs, n_features)``
    matrix, so that any scikit-learn classifier
    (``LogisticRegression``, ``HistGradientBoostingClassifier`` ...) can take
    the place of the LSTM in the same pipeline.  It is the honest baseline of
    the sequence model: whatever the LSTM learns beyond these statistics is
    what the order of the frames adds.

    For every band it computes the ``statistics`` over the frames, then the
    ``percentiles``; with ``deltas=True`` it does the same over the
    frame-to-frame differences ``S[:, t + 1] - S[:, t]`` (how much each band
    moves: a band that flickers with a 16th-note pattern has a large delta
    ``std``).

    Parameters
    ----------
    statistics : tuple of {"mean", "std", "min", "max"}, default=("mean", "std")
        Statistics of each band over time, in this order.
    percentiles : tuple of float, default=()
        Percentiles (0-100) of each band over time (``numpy.percentile``,
        linear interpolation), after the statistics.
    deltas : bool, default=False
        Also pool the frame-to-frame differences of each band (needs at least
        2 frames).

    Attributes
    ----------
    n_features_in_ : int
        Mel bands per frame seen in fit.
    n_frames_in_ : int
        Frames per song seen in fit (``transform`` accepts any number).

    See Also
    --------
    MelSpectrogramTransformer : the step before.
    LSTMClassifier : the sequence model it replaces.

    Notes
    -----
    The output columns are blocks of ``n_mels`` columns: for the bands, one
    block per statistic then per percentile; with ``deltas``, the same blocks
    again for the differences.  :meth:`get_feature_names_out` names them
    (``mean_mel0``, ..., ``p90_mel63``, ``delta_std_mel5`` ...).  The output
    keeps float32 input in float32; other numeric input becomes float64.

    Examples
    --------
    >>> import numpy as np
    >>> from viral_sklearn import PooledMelTransformer
    >>> S = np.arange(24, dtype=np.float32).reshape(2, 3, 4)  # 2 songs, 3 frames, 4 bands
    >>> pool = PooledMelTransformer().fit(S)
    >>> pool.transform(S)
    array([[ 4.       ,  5.       ,  6.       ,  7.       ,  3.2659864,
             3.2659864,  3.2659864,  3.2659864],
           [16.       , 17.       , 18.       , 19.       ,  3.2659864,
             3.2659864,  3.2659864,  3.2659864]], dtype=float32)
    >>> PooledMelTransformer(statistics=("mean",), percentiles=(50,), deltas=True).fit(S).get_feature_names_out()[:5]
    array(['mean_mel0', 'mean_mel1', 'mean_mel2', 'mean_mel3', 'p50_mel0'],
          dtype=object)

    In a pipeline, instead of the LSTM:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = np.random.RandomState(0).randn(20, 30, 8).astype(np.float32)
    >>> y = np.array([0, 1] * 10)
    >>> clf = make_pipeline(PooledMelTransformer(), StandardScaler(), LogisticRegression()).fit(X, y)
    >>> clf.predict_proba(X).shape
    (20, 2)
    """

    _parameter_constraints: dict = {
        "statistics": [list, tuple],
        "percentiles": [list, tuple],
        "deltas": ["boolean"],
    }

    def __init__(self, *, statistics=("mean", "std"), percentiles=(), deltas=False):
        self.statistics = statistics
        self.percentiles = percentiles
        self.deltas = deltas

    # -- checks -----------------------------------------------------------
    def _checked_options(self) -> tuple[list[str], list[float]]:
        stats = list(self.statistics)
        unknown = [s for s in stats if not isinstance(s, str) or s not in _STATISTICS]
        if unknown:
            raise ValueError(
                f"The 'statistics' parameter of PooledMelTransformer must hold names among "
                f"{sorted(_STATISTICS)}; got {unknown!r} in {self.statistics!r}"
            )
        if len(set(stats)) != len(stats):
            raise ValueError(f"The 'statistics' parameter of PooledMelTransformer repeats a name: {self.statistics!r}")
        qs = list(self.percentiles)
        bad = [
            q for q in qs
            if isinstance(q, bool) or not isinstance(q, Real) or not np.isfinite(q) or not 0 <= q <= 100
        ]
        if bad:
            raise ValueError(
                f"The 'percentiles' parameter of PooledMelTransformer must hold numbers in [0, 100]; "
                f"got {bad!r} in {self.percentiles!r}"
            )
        if len(set(float(q) for q in qs)) != len(qs):
            raise ValueError(f"The 'percentiles' parameter of PooledMelTransformer repeats a value: {self.percentiles!r}")
        if not stats and not qs:
            raise ValueError("PooledMelTransformer needs at least one statistic or percentile; both are empty")
        return stats, [float(q) for q in qs]

    def _check_X(self, X) -> np.ndarray:
        if issparse(X):
            raise TypeError("PooledMelTransformer does not accept sparse input: X must be a dense 3-D array")
        if not hasattr(X, "ndim"):
            X = np.asarray(X)
        ndim = X.ndim
        if ndim != 3:
            hint = " (one song's spectrogram: add an axis, S[np.newaxis])" if ndim == 2 else ""
            raise ValueError(
                f"PooledMelTransformer expects X of shape (n_songs, n_frames, n_mels), got an array of "
                f"{ndim} dimensions{hint}"
            )
        X = check_array(X, allow_nd=True, dtype=[np.float64, np.float32], input_name="X",
                        estimator="PooledMelTransformer")
        if X.shape[1] < 1 or X.shape[2] < 1:
            raise ValueError(f"PooledMelTransformer needs at least one frame and one band, got X of shape {X.shape}")
        if self.deltas and X.shape[1] < 2:
            raise ValueError(
                f"PooledMelTransformer(deltas=True) needs at least 2 frames per song, got X of shape {X.shape}"
            )
        return X

    # -- API ----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the options and record the shape of the sequences.

        Parameters
        ----------
        X : array-like [shape=(n_songs, n_frames, n_mels)]
        y : ignored

        Returns
        -------
        self
        """
        self._checked_options()
        X = self._check_X(X)
        self.n_features_in_ = int(X.shape[2])
        self.n_frames_in_ = int(X.shape[1])
        return self

    def transform(self, X):
        """Statistics of every band over time, one row per song.

        Parameters
        ----------
        X : array-like [shape=(n_songs, n_frames, n_mels)]
            ``n_mels`` must be the number of bands seen in fit; ``n_frames``
            may differ.

        Returns
        -------
        features : np.ndarray [shape=(n_songs, n_blocks * n_mels)]
            float32 for float32 input, else float64; see Notes for the
            column order.
        """
        check_is_fitted(self, "n_features_in_")
        stats, qs = self._checked_options()
        X = self._check_X(X)
        if X.shape[2] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[2]} mel bands, but PooledMelTransformer was fitted with {self.n_features_in_}"
            )
        sources = [X, np.diff(X, axis=1)] if self.deltas else [X]
        blocks = []
        for S in sources:
            blocks += [_STATISTICS[name](S) for name in stats]
            if qs:
                blocks += list(np.percentile(S, qs, axis=1))
        return np.concatenate(blocks, axis=1).astype(X.dtype, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``<statistic>_<band>``, ``p<q>_<band>``, ``delta_...``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the bands; ``None`` names them ``mel0``, ``mel1``, ...

        Returns
        -------
        names : np.ndarray of str (dtype object)
        """
        check_is_fitted(self, "n_features_in_")
        stats, qs = self._checked_options()
        if input_features is None:
            bands = [f"mel{j}" for j in range(self.n_features_in_)]
        else:
            bands = [str(b) for b in input_features]
            if len(bands) != self.n_features_in_:
                raise ValueError(
                    f"input_features has {len(bands)} names, but PooledMelTransformer was fitted with "
                    f"{self.n_features_in_} bands"
                )
        kinds = stats + [f"p{q:g}" for q in qs]
        prefixes = ["", "delta_"] if self.deltas else [""]
        names = [f"{p}{k}_{b}" for p in prefixes for k in kinds for b in bands]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
