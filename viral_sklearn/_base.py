"""What the song transformers share: stateless fit, tags, input handling."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context

from ._audio import AudioClip, as_clips


def clips_to_array(clips: list[AudioClip]) -> np.ndarray:
    """A 1-D object array of clips (what the song steps return)."""
    out = np.empty(len(clips), dtype=object)
    out[:] = clips
    return out


class SongTransformer(TransformerMixin, BaseEstimator):
    """Base of the stateless transformers over songs.

    ``fit`` only validates the parameters; ``transform`` works without it
    (``requires_fit=False``), so a fitted pipeline's steps can be used alone.
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the songs; learn nothing.

        Parameters
        ----------
        X : list, array or Series of str, os.PathLike or AudioClip
            The songs.
        y : ignored

        Returns
        -------
        self
        """
        as_clips(X)
        return self

    def _clips(self, X) -> list[AudioClip]:
        self._validate_params()
        return as_clips(X)

    def __sklearn_is_fitted__(self):
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags
