"""MonoMixer: decide how channels become one, without decoding anything."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval

from ._base import SongTransformer, clips_to_array


class MonoMixer(SongTransformer):
    """Mix songs to mono (the notebook's ``rechannel``), lazily.

    Songs in, songs out: each song becomes an :class:`~viral_sklearn.AudioClip`
    that records the channel mix.  Nothing is decoded here; the steps that
    need samples decode only the window they use, already mixed.

    Parameters
    ----------
    channel : int or None, default=None
        ``None`` averages all channels (the mean of channels, as the notebook
        does); an int keeps only that channel (negative counts from the end).
        A song without that channel fails with an error naming the file.

    See Also
    --------
    ChorusExtractor : the next step, which finds the chorus window.

    Examples
    --------
    >>> from viral_sklearn import MonoMixer
    >>> MonoMixer().fit_transform(["a.mp3", "b.wav"])
    array([AudioClip('a.mp3', mix='mean'), AudioClip('b.wav', mix='mean')],
          dtype=object)
    """

    _parameter_constraints: dict = {
        "channel": [None, Interval(Integral, None, None, closed="neither")],
    }

    def __init__(self, *, channel=None):
        self.channel = channel

    def transform(self, X):
        """Record the channel mix on each song.

        Parameters
        ----------
        X : list, array or Series of str, os.PathLike or AudioClip
            The songs; in-memory audio as ``AudioClip`` or ``(samples, sr)``.

        Returns
        -------
        clips : np.ndarray of AudioClip [shape=(n_songs,)]
        """
        mix = "mean" if self.channel is None else int(self.channel)
        return clips_to_array([clip.replace(mix=mix) for clip in self._clips(X)])
