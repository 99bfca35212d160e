"""viral_sklearn: will this song go viral?

scikit-learn transformers over songs (file paths in) and a skorch LSTM classifier
over the (time x mel) spectrogram of each song's chorus.
"""

__version__ = "0.3.0"

from ._audio import AudioClip, AudioLoadError, as_clips, audio_info, load_audio
from .chorus import ChorusExtractor, ChorusNotFoundError, chroma_features, chroma_n_fft, find_chorus
from ._diagnostics import OverfitReport, overfit_one_batch
from ._lstm import EpochProgressBar, LSTMClassifier, LSTMModule
from ._mel import MelSpectrogramTransformer, mel_db
from ._mono import MonoMixer
from ._per_song import SongErrors, check_songs
from ._pipeline import make_viral_pipeline
from ._pooling import PooledMelTransformer

__all__ = [
    "AudioClip",
    "AudioLoadError",
    "ChorusExtractor",
    "ChorusNotFoundError",
    "EpochProgressBar",
    "LSTMClassifier",
    "LSTMModule",
    "MelSpectrogramTransformer",
    "MonoMixer",
    "OverfitReport",
    "PooledMelTransformer",
    "SongErrors",
    "as_clips",
    "audio_info",
    "check_songs",
    "chroma_features",
    "chroma_n_fft",
    "find_chorus",
    "load_audio",
    "make_viral_pipeline",
    "mel_db",
    "overfit_one_batch",
    "__version__",
]
