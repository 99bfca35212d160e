"""make_viral_pipeline: the notebook's recipe as one scikit-learn Pipeline."""

from __future__ import annotations

from ._song_pipeline import SongPipeline
from .audio import MonoMixer
from .chorus import ChorusExtractor
from .features import MelSpectrogramTransformer
from .models import LSTMClassifier

__all__ = ["make_viral_pipeline"]


def make_viral_pipeline(
    *,
    clip_length: float = 20.0,
    sample_rate: int = 22050,
    chorus_sample_rate: int = 11025,
    n_mels: int = 64,
    hidden_size: int = 64,
    lr: float = 5e-3,
    max_epochs: int = 30,
    batch_size: int = 16,
    random_state=42,
    n_jobs: int | None = None,
    memory=None,
    verbose: bool = False,
    **classifier_params,
) -> SongPipeline:
    """The ready-made pipeline: mono, chorus, mel in dB, LSTM.

    Steps are named ``mono``, ``chorus``, ``mel`` and ``clf``; every parameter
    is reachable with ``set_params`` (``chorus__clip_length``,
    ``mel__n_mels``, ``clf__module__hidden_size``, ``clf__lr`` ...).

    Parameters
    ----------
    clip_length : float, default=20.0
        Chorus window in seconds; the mel step uses the same duration.
    sample_rate : int, default=22050
        Rate at which the mel step decodes the chorus window.
    chorus_sample_rate : int, default=11025
        Rate at which the chorus step decodes and analyses whole songs
        (``chorus__sample_rate``; see :class:`ChorusExtractor`).
    n_mels : int, default=64
    hidden_size : int, default=64
        LSTM hidden size (``clf__module__hidden_size``).
    lr, max_epochs, batch_size : see :class:`LSTMClassifier`.
    random_state : int or None, default=42
        The notebook's seed; passed to the classifier.
    n_jobs : int or None, default=None
        Parallel songs in the chorus and mel steps.
    memory : None, str, os.PathLike or joblib.Memory, default=None
        Per-song cache for the chorus and mel steps: with it a grid search
        over classifier parameters decodes each song at most twice in total.
    verbose : bool, default=False
        Progress bars for the song steps and skorch's epoch table.
    **classifier_params
        More :class:`LSTMClassifier` parameters (``train_split``, ``device`` ...).

    Returns
    -------
    SongPipeline
        A :class:`sklearn.pipeline.Pipeline` that streams each song through the
        chorus and mel steps in one task (one decode, flat memory).

    Examples
    --------
    >>> from viral_sklearn import make_viral_pipeline
    >>> pipe = make_viral_pipeline(clip_length=10, max_epochs=5)
    >>> [name for name, _ in pipe.steps]
    ['mono', 'chorus', 'mel', 'clf']
    >>> pipe.set_params(clf__module__hidden_size=32).get_params()["clf__module__hidden_size"]
    32
    """
    clf_params = dict(
        lr=lr, max_epochs=max_epochs, batch_size=batch_size, random_state=random_state,
        verbose=int(verbose), module__hidden_size=hidden_size,
    )
    clf_params.update(classifier_params)
    return SongPipeline(
        [
            ("mono", MonoMixer()),
            ("chorus", ChorusExtractor(
                clip_length=clip_length, sample_rate=chorus_sample_rate, n_jobs=n_jobs, memory=memory, verbose=verbose,
            )),
            ("mel", MelSpectrogramTransformer(
                sample_rate=sample_rate, duration=clip_length, n_mels=n_mels, n_jobs=n_jobs, memory=memory,
                verbose=verbose,
            )),
            ("clf", LSTMClassifier(**clf_params)),
        ]
    )
