"""viral_sklearn: will this song go viral?  scikit-learn transformers over songs
(file paths in) and a skorch LSTM classifier over their chorus mel spectrograms."""

__version__ = "0.1.0"

from ._audio import AudioClip, AudioLoadError, as_clips, audio_info, load_audio

__all__ = [
    "AudioClip",
    "AudioLoadError",
    "as_clips",
    "audio_info",
    "load_audio",
    "__version__",
]
