"""What the classifier reads: the mel spectrogram of each clip, and pooled statistics of it.

* :class:`MelSpectrogramTransformer`: decodes each clip's window, 64-band mel
  in dB, a float32 ``(n_songs, n_frames, n_mels)`` array; :func:`mel_db` on
  samples in hand.
* :class:`PooledMelTransformer`: per-band statistics over time, so any
  scikit-learn classifier can replace the LSTM.
"""

from ._mel import MelSpectrogramTransformer, mel_db
from ._pooling import PooledMelTransformer

__all__ = ["MelSpectrogramTransformer", "PooledMelTransformer", "mel_db"]
