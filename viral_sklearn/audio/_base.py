"""What the song transformers share: stateless fit, tags, input handling."""

from __future__ import annotations

import os
from functools import partial
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import HasMethods

from ._chain import PendingSongs, SongStage, map_song_chain
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

    Inside a :class:`~viral_sklearn.SongPipeline` call, songs are streamed (see
    ``_chain``): a step with a ``_song_stage()`` whose output goes into a step
    with ``_chains_songs`` hands on :class:`~._chain.PendingSongs`, and that step
    runs the whole chain per song in its :meth:`_map_songs`.
    """

    #: takes PendingSongs and runs their stages with its own, per song
    _chains_songs = False

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
        if not isinstance(X, PendingSongs):  # the step before validated those
            as_clips(X)
        return self

    def _clips(self, X) -> list[AudioClip] | PendingSongs:
        """The songs of ``X``: PendingSongs as they are for a step that chains them,
        run to their clips for any other (without their decoded windows)."""
        self._validate_params()
        if isinstance(X, PendingSongs):
            if self._chains_songs:
                return X
            return [clip.replace(decoded=None) for clip in map_song_chain(X.stages, X.clips)]
        return as_clips(X)

    def _stage(self, func, *, finish=None, **kwargs) -> SongStage:
        """``func(clip, **kwargs)`` as a stage of this step (``kwargs``: the cache key)."""
        return SongStage(step=type(self).__name__, func=partial(func, **kwargs), params=tuple(sorted(kwargs.items())),
                         n_jobs=self.n_jobs, memory=self.memory, verbose=self.verbose, finish=finish)

    def _map_songs(self, func, clips: list[AudioClip], *, out: np.ndarray | None = None,
                   extras: int | None = None, **kwargs):
        """``func(clip, **kwargs)`` on every clip, through :func:`map_songs` with this
        step's ``n_jobs``, ``memory`` and ``verbose``; ``kwargs`` are the cache key,
        ``out`` the array to fill, ``extras`` the byte budget of what ``func``
        returns beside its cached result (see :func:`map_songs`).  PendingSongs: their
        stages and this one, per song (:func:`~._chain.map_song_chain`)."""
        if isinstance(clips, PendingSongs):
            return map_song_chain(clips.then(self._stage(func, **kwargs)).stages, clips.clips, out=out)
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
