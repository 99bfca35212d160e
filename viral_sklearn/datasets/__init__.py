"""Datasets: a synthetic song corpus, a metadata loader and a chorus-detection scorer.

* :func:`make_songs` writes real (stereo, MP3 by default) audio files whose class
  is audible in the chorus only, plus a ``metadata.csv`` in the layout of the
  original notebook (``id``, ``label``), and returns the ground truth (where every
  chorus occurrence lies) so chorus detection can be measured.
* :func:`load_dataset` turns a metadata table and an audio folder into the
  ``(paths, labels)`` pair that ``Pipeline.fit`` takes, checking every row and
  reporting all the bad ones together (:class:`DatasetError`).
* :func:`score_chorus_detection` scores detected chorus windows against the true
  chorus occurrences.
"""

from ._metadata import DatasetError, load_dataset
from ._scoring import score_chorus_detection
from ._synthetic import SongCorpus, make_songs

__all__ = [
    "DatasetError",
    "SongCorpus",
    "make_songs",
    "load_dataset",
    "score_chorus_detection",
]
