"""viral_sklearn: will this song go viral?

scikit-learn transformers over songs (file paths in) and a skorch LSTM classifier
over the (time x mel) spectrogram of each song's chorus.

The namespace is lazy (PEP 562): ``import viral_sklearn`` imports no torch,
librosa or scikit-learn; each name loads its subpackage when first used, so
``viral-sklearn --help`` answers at once.  The subpackages follow the flow of
data: :mod:`~viral_sklearn.audio` (song references, decoding, the channel mix),
:mod:`~viral_sklearn.chorus`, :mod:`~viral_sklearn.features` (mel, pooled
statistics), :mod:`~viral_sklearn.models` (the LSTM and its classifier), then
:mod:`~viral_sklearn.datasets`, :mod:`~viral_sklearn.model_selection`,
:mod:`~viral_sklearn.persistence`, :mod:`~viral_sklearn.plotting` and
:mod:`~viral_sklearn.cli`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.3.0"

#: public name -> the subpackage (or module) that defines it
_LAZY_NAMES = {
    "AudioClip": "audio",
    "AudioLoadError": "audio",
    "MonoMixer": "audio",
    "SongErrors": "audio",
    "as_clips": "audio",
    "audio_info": "audio",
    "check_songs": "audio",
    "load_audio": "audio",
    "ChorusExtractor": "chorus",
    "ChorusNotFoundError": "chorus",
    "chroma_features": "chorus",
    "chroma_n_fft": "chorus",
    "find_chorus": "chorus",
    "MelSpectrogramTransformer": "features",
    "PooledMelTransformer": "features",
    "mel_db": "features",
    "EpochProgressBar": "models",
    "LSTMClassifier": "models",
    "LSTMModule": "models",
    "OverfitReport": "models",
    "overfit_one_batch": "models",
    "make_viral_pipeline": "_pipeline",
    "SongPipeline": "_song_pipeline",
    "make_song_pipeline": "_song_pipeline",
}
_SUBPACKAGES = ("audio", "chorus", "cli", "datasets", "features", "model_selection", "models", "persistence", "plotting")

__all__ = sorted(_LAZY_NAMES) + ["__version__"]


def __getattr__(name: str):
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES) | set(_SUBPACKAGES))


if TYPE_CHECKING:  # what type checkers and IDEs see; nothing runs here
    from ._pipeline import make_viral_pipeline
    from ._song_pipeline import SongPipeline, make_song_pipeline
    from .audio import AudioClip, AudioLoadError, MonoMixer, SongErrors, as_clips, audio_info, check_songs, load_audio
    from .chorus import ChorusExtractor, ChorusNotFoundError, chroma_features, chroma_n_fft, find_chorus
    from .features import MelSpectrogramTransformer, PooledMelTransformer, mel_db
    from .models import EpochProgressBar, LSTMClassifier, LSTMModule, OverfitReport, overfit_one_batch
