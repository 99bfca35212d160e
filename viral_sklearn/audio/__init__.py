"""Songs in, samples out: the song reference, decoding, the per-song map, the channel mix.

* :class:`AudioClip`: a light reference to (part of) a song, what travels
  between the steps; :func:`as_clips` turns paths, clips or arrays into clips.
* :func:`load_audio`, :func:`audio_info`: the one decoder (soundfile, then
  FFmpeg through torchcodec), windowed and streamed; :class:`AudioLoadError`.
* :class:`MonoMixer`: the first step of the pipeline; it decodes nothing.
* :class:`SongErrors`, :func:`check_songs`: every failing song at once, and a
  table of them before a long fit.

The per-song map every song step runs on (``n_jobs``, the cache, the error
report) and the steps' base class live here too, in private modules.
"""

from ._clip import AudioClip, AudioLoadError, as_clips
from ._decode import audio_info, load_audio
from ._mono import MonoMixer
from ._per_song import SongErrors, check_songs

__all__ = ["AudioClip", "AudioLoadError", "MonoMixer", "SongErrors", "as_clips", "audio_info", "check_songs", "load_audio"]
