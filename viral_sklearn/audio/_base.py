"""What the song transformers share: stateless fit, tags, input handling."""

from __future__ import annotations

import os
from functools import partial
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import HasMethods

from ._clip import AudioClip, as_clips
from ._per_song import map_songs

#: constraints of the parameters every song step that decodes shares
PER_SONG_CONSTRAINTS: dict = {
    "n_jobs": [None, Integral],
    "memory": [None, str, os.PathLike, HasMethods(["cache"])],
    "verbose": ["boolean"],
}


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

    def _map_songs(self, func, clips: list[AudioClip], *, out: np.ndarray | None = None,
                   extras: int | None = None, **kwargs):
        """``func(clip, **kwargs)`` on every clip, through :func:`map_songs` with this
        step's ``n_jobs``, ``memory`` and ``verbose``; ``kwargs`` are the cache key,
        ``out`` the array to fill, ``extras`` the byte budget of what ``func``
        returns beside its cached result (see :func:`map_songs`)."""
        return map_songs(
            partial(func, **kwargs), clips, step=type(self).__name__, params=tuple(sorted(kwargs.items())),
            n_jobs=self.n_jobs, memory=self.memory, verbose=self.verbose, out=out, extras=extras,
        )

    def __sklearn_is_fitted__(self):
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags
