"""Chorus finding: the methods, the features they share, and ChorusExtractor.

Every method has the same small signature, mono samples, their rate and the
clip length in, a :class:`ChorusEstimate` (start in seconds or ``None``,
confidence) out, so the extractor, the benchmark and the tests treat them
alike:

* :func:`find_chorus_structure` (``method="structure"``, the default): the
  song's repetition structure, weighted towards loud and late sections;
* :func:`find_chorus_pychorus` (``"pychorus"``): pychorus's algorithm exactly;
* :func:`find_chorus_loudest` and :func:`find_chorus_offset` (``"loudest"``,
  ``"offset"``): plain rules, the baselines and fallback rules.

:func:`analyze_structure` gives the whole structure the default method sees:
every section (start, end, label), every chorus occurrence with a confidence,
and the one clip (the default method's answer is that clip).
"""

from ._analysis import ChorusOccurrence, Section, SongStructure, analyze_structure, find_chorus_structure
from ._baselines import find_chorus_loudest, find_chorus_offset
from ._estimate import ChorusEstimate
from ._extractor import METHODS, ChorusExtractor, ChorusNotFoundError
from ._features import SongFeatures, song_features
from ._chroma import chroma_features, chroma_n_fft
from ._pychorus import ChorusCandidates, find_chorus, find_chorus_candidates, find_chorus_pychorus

__all__ = [
    "METHODS",
    "ChorusCandidates",
    "ChorusOccurrence",
    "ChorusEstimate",
    "ChorusExtractor",
    "ChorusNotFoundError",
    "Section",
    "SongFeatures",
    "SongStructure",
    "analyze_structure",
    "chroma_features",
    "chroma_n_fft",
    "find_chorus",
    "find_chorus_candidates",
    "find_chorus_loudest",
    "find_chorus_offset",
    "find_chorus_pychorus",
    "find_chorus_structure",
    "song_features",
]
