"""SongPipeline: a scikit-learn Pipeline that streams songs through its song steps."""

from __future__ import annotations

from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.metaestimators import available_if

from .audio._chain import streaming

__all__ = ["SongPipeline", "make_song_pipeline"]

_STREAMED_METHODS = ("fit", "fit_transform", "fit_predict", "transform", "predict", "predict_proba",
                     "predict_log_proba", "decision_function", "score", "score_samples")


def _streamed(name: str):
    """``Pipeline.<name>``, with the song steps streaming into each other."""

    def method(self, *args, **kwargs):
        with streaming(self._streaming_steps()):
            return getattr(super(SongPipeline, self), name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"As :meth:`sklearn.pipeline.Pipeline.{name}`, each song going through the song "
                      "steps in one task (see :class:`SongPipeline`).")
    # available exactly when Pipeline's is (a final estimator with predict_proba ...)
    return available_if(lambda self: hasattr(super(SongPipeline, self), name))(method)


class SongPipeline(Pipeline):
    """A :class:`sklearn.pipeline.Pipeline` that runs its song steps song by song.

    The same steps, parameters, fitted attributes and results as a
    ``Pipeline``; only how the song steps run differs.  A plain ``Pipeline``
    runs each step over the whole batch before the next, so the chorus step
    hands the mel step every song's decoded chorus window at once (3.5 MB a
    song at 44.1 kHz; beyond 512 MB per call the windows are decoded again).
    Here a :class:`~viral_sklearn.ChorusExtractor` followed by a
    :class:`~viral_sklearn.MelSpectrogramTransformer` runs as one task per song
    (in a joblib worker with ``n_jobs``): the song is decoded once, its chorus
    placed, its window's mel computed, and only the mel comes back.  Memory is
    the final array plus the songs in flight, whatever the number of songs, and
    the windows never travel between processes.

    Per-step caches (``memory`` of each step), progress (one bar for the
    streamed steps) and errors (the first step where songs fail raises
    :class:`~viral_sklearn.SongErrors` listing them) are those of the steps
    run one after the other.  With the pipeline's own ``memory`` (scikit-learn's cache of
    fitted transformers), ``fit`` clones the steps and runs them one after the other, as a
    ``Pipeline`` does (same results); the fitted pipeline's methods then stream.
    :func:`~viral_sklearn.make_viral_pipeline` returns one; :func:`make_song_pipeline`
    builds one as :func:`~sklearn.pipeline.make_pipeline` does.

    Examples
    --------
    >>> import numpy as np
    >>> from viral_sklearn import AudioClip, ChorusExtractor, MelSpectrogramTransformer, SongPipeline
    >>> songs = [AudioClip.from_array(np.random.default_rng(k).standard_normal(22050 * 3).astype(np.float32), 22050)
    ...          for k in range(2)]
    >>> steps = SongPipeline([("chorus", ChorusExtractor(clip_length=1.0, method="loudest")),
    ...                       ("mel", MelSpectrogramTransformer(duration=1.0))])
    >>> steps.transform(songs).shape
    (2, 111, 64)
    """

    def _streaming_steps(self) -> list:
        """The steps whose output goes straight into a song step that chains them."""
        steps = [est for _, est in self.steps if est is not None and est != "passthrough"]
        return [a for a, b in zip(steps, steps[1:])
                if callable(getattr(a, "_song_stage", None)) and getattr(b, "_chains_songs", False)]


for _name in _STREAMED_METHODS:
    setattr(SongPipeline, _name, _streamed(_name))
del _name


def make_song_pipeline(*steps, memory=None, verbose: bool = False) -> SongPipeline:
    """A :class:`SongPipeline` of ``steps``, named as :func:`sklearn.pipeline.make_pipeline` names them.

    Examples
    --------
    >>> from viral_sklearn import ChorusExtractor, MelSpectrogramTransformer, MonoMixer, make_song_pipeline
    >>> [name for name, _ in make_song_pipeline(MonoMixer(), ChorusExtractor(), MelSpectrogramTransformer()).steps]
    ['monomixer', 'chorusextractor', 'melspectrogramtransformer']
    """
    plain = make_pipeline(*steps, memory=memory, verbose=verbose)
    return SongPipeline(plain.steps, memory=memory, verbose=verbose)
