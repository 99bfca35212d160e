"""ChorusExtractor: find each song's chorus and keep only that window."""

from __future__ import annotations

import contextlib
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..audio import AudioClip
from ..audio._decode import load_audio_keeping
from ..audio._base import PER_SONG_CONSTRAINTS, SongTransformer, clips_to_array
from ..audio._chain import PendingSongs, streams_on
from ._baselines import find_chorus_loudest, find_chorus_offset, loudest_start, offset_start
from ._pychorus import find_chorus_pychorus
from ._analysis import find_chorus_structure
from ._features import FeatureStream
from ._structure import _blas_controller

__all__ = ["ChorusExtractor", "ChorusNotFoundError", "METHODS"]


class ChorusNotFoundError(ValueError):
    """No chorus was detected and ``fallback="raise"`` was asked for."""


#: method name -> function ``(y, sr, clip_length) -> ChorusEstimate``
METHODS = {
    "structure": find_chorus_structure,
    "pychorus": find_chorus_pychorus,
    "loudest": find_chorus_loudest,
    "offset": find_chorus_offset,
}


def _fallback_start(y: np.ndarray, sr: int, clip_length: float, rule: str) -> float:
    """Where the fallback ``rule`` puts the clip (the baselines' rules)."""
    if rule == "start":
        return 0.0
    if rule == "middle":
        return offset_start(y.size / sr, clip_length, "middle")
    if rule == "raise":
        raise ChorusNotFoundError("no chorus detected (fallback='raise')")
    return loudest_start(y, sr, clip_length)


#: a song's decode is kept at its native rate, to cut the chorus window from,
#: while it is at most this big (64 MB: 6 minutes of 44.1 kHz mono)
KEEP_SONG_BYTES = 1 << 26
#: decoded chorus windows handed to the next step, at most, per transform
#: (512 MB: ~145 windows of 20 s at 44.1 kHz; later songs' windows are decoded again)
KEEP_WINDOWS_BYTES = 1 << 29


def analyse_chorus(
    clip: AudioClip, *, clip_length: float, sample_rate: int, fallback: str, method: str = "structure",
    offset: float | str = 30.0, keep_window: bool = False,
):
    """Decode a song once and locate its chorus.

    Returns
    -------
    result : np.ndarray [shape=(4,), dtype=float64]
        ``[start, duration, found, confidence]``: window start and length in
        seconds, relative to the clip's own window; 1.0 when the method placed
        the window (0.0 when the fallback rule chose it, or the song is not
        longer than ``clip_length`` and is kept whole); the method's
        confidence (0.0 for a song kept whole).
    window : DecodedWindow or None
        Only with ``keep_window``: the chorus window's samples, cut from the
        decode analysed (None when the song was too long to keep, or is in memory).
    """
    # the structure method's features are computed while the song is decoded, with
    # one BLAS thread as the method computes them (the same numbers, bit for bit)
    stream = FeatureStream(sample_rate) if method == "structure" else None
    with _blas_controller().limit(limits=1, user_api="blas") if stream else contextlib.nullcontext():
        y, sr, keeper = load_audio_keeping(clip, sr=sample_rate, limit=KEEP_SONG_BYTES if keep_window else 0,
                                           on_block=None if stream is None else stream.push)
    total = y.size / sr
    if total <= clip_length:
        result = np.array([0.0, total, 0.0, 0.0])
    else:
        if method == "offset":
            estimate = find_chorus_offset(y, sr, clip_length, offset)
        else:
            with stream.use() if stream else contextlib.nullcontext():
                estimate = METHODS[method](y, sr, clip_length)
        found = estimate.start is not None
        start = estimate.start if found else _fallback_start(y, sr, clip_length, fallback)
        result = np.array([float(start), float(clip_length), float(found), float(estimate.confidence)])
    if not keep_window:
        return result
    del y
    return result, keeper.window(_window_clip(clip, result))


def _window_clip(clip: AudioClip, result: np.ndarray) -> AudioClip:
    """The clip :meth:`ChorusExtractor.transform` returns for ``result``."""
    start, duration, found, _ = result
    return clip.replace(offset=clip.offset + start, duration=duration, chorus_found=bool(found))


def _chorus_clip(clip: AudioClip, result: np.ndarray, window) -> AudioClip:
    """The window clip with its samples (``window``, None when not kept)."""
    return _window_clip(clip, result).replace(decoded=window)


class ChorusExtractor(SongTransformer):
    """Keep each song's chorus: a ``clip_length`` window of it.

    Each song is decoded once at ``sample_rate``, mixed to mono, and one of the
    chorus methods (``method``) places the window.  The output is a light reference to
    the window, not samples: the next step decodes only the chorus.

    Parameters
    ----------
    clip_length : float, default=20.0
        Length of the chorus window in seconds (the notebook's 20 s).  Songs
        no longer than this are kept whole (``chorus_found=False``; the mel
        step pads them with silence).
    method : {"structure", "pychorus", "loudest", "offset"}, default="structure"
        How the window is placed:

        - ``"structure"``: the song's repetition structure
          (:func:`~viral_sklearn.chorus.find_chorus_structure`): the window
          whose music comes back most often, weighted towards loud and late
          sections, snapped to an onset.  On the project's evaluation corpus it
          puts most of the clip inside a true chorus far more often than the
          other methods (``docs/performance.md``).
        - ``"pychorus"``: pychorus's algorithm exactly (chroma time-lag lines,
          :func:`~viral_sklearn.find_chorus`; the same start as
          ``pychorus.find_chorus`` on the same chroma), the research notebook's
          choice.  Use ``sample_rate=22050`` for pychorus's own analysis rate.
        - ``"loudest"``: the ``clip_length`` seconds of highest energy.
        - ``"offset"``: a fixed start, ``offset`` seconds in (or the middle).
    offset : float or "middle", default=30.0
        Start of the window for ``method="offset"`` (kept inside the song).
    sample_rate : int, default=11025
        Rate at which songs are decoded and analysed.  The structure method's
        window and hop (0.37 s, 0.09 s) and pychorus's chroma (0.74 s, 0.19 s,
        :func:`~viral_sklearn.chroma_n_fft`) keep their length in seconds at
        any rate.  pychorus analyses at 22050 Hz; at 11025 Hz its chroma only
        lacks the 5.5-11 kHz band and it finds the same start (within 0.5 s)
        on every song of the test corpora, at half the cost.
    fallback : {"loudest", "middle", "start", "raise"}, default="loudest"
        What to keep when the method finds no chorus (nothing repeats:
        silence, noise, a through-composed piece): the loudest ``clip_length``
        window, the middle of the song, its start, or raise an error naming
        the song.  Such clips carry ``chorus_found=False``.  The rule-based
        methods ``"loudest"`` and ``"offset"`` always place the window.
    n_jobs : int or None, default=None
        Songs analysed in parallel (joblib).  Results equal ``n_jobs=1``.
    memory : None, str, os.PathLike or joblib.Memory, default=None
        Cache of per-song results (keys: file path, size and modification
        time, window, parameters, library version).  With it, a grid search
        over classifier parameters analyses each song once.
    verbose : bool, default=False
        Show a progress bar.

    See Also
    --------
    MelSpectrogramTransformer : the next step.
    viral_sklearn.chorus.find_chorus_structure : the default method on samples.
    viral_sklearn.find_chorus : pychorus's algorithm on a chroma array.

    Examples
    --------
    >>> import numpy as np
    >>> from viral_sklearn import AudioClip, ChorusExtractor
    >>> song = AudioClip.from_array(np.zeros(22050 * 5, dtype=np.float32), 22050)
    >>> ChorusExtractor(clip_length=10).fit_transform([song])[0].chorus_found
    False
    >>> ChorusExtractor(clip_length=2, method="offset", offset=1.5).find_choruses([song])
    array([[1.5, 2. , 1. , nan]])
    """

    _parameter_constraints: dict = {
        "clip_length": [Interval(Real, 0, None, closed="neither")],
        "method": [StrOptions(set(METHODS))],
        "offset": [Interval(Real, 0, None, closed="left"), StrOptions({"middle"})],
        "sample_rate": [Interval(Integral, 1, None, closed="left")],
        "fallback": [StrOptions({"loudest", "middle", "start", "raise"})],
        **PER_SONG_CONSTRAINTS,
    }

    def __init__(
        self, *, clip_length=20.0, method="structure", offset=30.0, sample_rate=11025, fallback="loudest",
        n_jobs=None, memory=None, verbose=False,
    ):
        self.clip_length = clip_length
        self.method = method
        self.offset = offset
        self.sample_rate = sample_rate
        self.fallback = fallback
        self.n_jobs = n_jobs
        self.memory = memory
        self.verbose = verbose

    def find_choruses(self, X) -> np.ndarray:
        """Chorus window of each song, as numbers.

        Returns
        -------
        windows : np.ndarray [shape=(n_songs, 4), dtype=float64]
            Columns ``start``, ``duration`` (seconds, relative to each input
            clip's window), ``found`` (1.0 placed by the method, 0.0 by the
            fallback rule or a song kept whole) and ``confidence`` (the
            method's, in [0, 1]; NaN for the rule-based methods; 0.0 for a
            song kept whole).
        """
        clips = self._clips(X)
        return self._analyse(clips)

    def _method_params(self) -> dict:
        """What changes each song's result (its cache key)."""
        offset = self.offset if self.offset == "middle" else float(self.offset)
        return dict(clip_length=float(self.clip_length), sample_rate=int(self.sample_rate), fallback=self.fallback,
                    method=self.method, offset=offset)

    def _song_stage(self):
        """This step on one song, handing the next step the window clip with its samples
        (inside a :class:`~viral_sklearn.SongPipeline`: see ``audio/_chain.py``)."""
        return self._stage(partial(analyse_chorus, keep_window=True), finish=_chorus_clip, **self._method_params())

    def _analyse(self, clips, *, keep_windows: bool = False):
        results = self._map_songs(
            partial(analyse_chorus, keep_window=True) if keep_windows else analyse_chorus, clips,
            extras=KEEP_WINDOWS_BYTES if keep_windows else None, **self._method_params(),
        )
        if not keep_windows:
            return np.stack(results) if results else np.empty((0, 4))
        return [r for r, _ in results], [w for _, w in results]

    def transform(self, X):
        """Replace each song by a reference to its chorus window.

        Parameters
        ----------
        X : list, array or Series of str, os.PathLike or AudioClip

        Returns
        -------
        clips : np.ndarray of AudioClip [shape=(n_songs,)]
            Same order; each with ``offset``, ``duration`` and
            ``chorus_found`` set, and the window's samples (``decoded``,
            at the file's rate) when this step could keep them: then the next
            step does not decode the song again.  Songs longer than ~6 minutes
            (64 MB of mono samples) and windows past 512 MB in one call are not
            kept; a song read from the cache (``memory``) has none.

        Raises
        ------
        SongErrors
            Lists every song that could not be analysed, with its reason.
        """
        clips = self._clips(X)
        if streams_on(self):  # the next step runs this one per song, with its own
            return PendingSongs(clips, [self._song_stage()])
        # each clip carries its window's samples when they were kept (bounded,
        # see KEEP_WINDOWS_BYTES): the next step then does not decode the song again.
        # Also from n_jobs workers: a window decoded again from the file can differ
        # from the kept one in the last bit (see audio/_window.py), and the features
        # must not depend on n_jobs
        results, windows = self._analyse(clips, keep_windows=True)
        out = [_chorus_clip(clip, r, w) for clip, r, w in zip(clips, results, windows)]
        return clips_to_array(out)
