"""POP909 phrase labels: parsing, sections, and which group is the chorus.

The labels of Dai, Zhang and Dannenberg (2020; github
Dsqvival/hierarchical-structure-analysis, ``POP909/NNN/human_label{1,2}.txt``)
write a song as phrases, each a letter and a length in bars::

    i4A4B8A4A4b4B8A4A4b4b4A4A4b4A4o3

A letter names a group of phrases that repeat each other; upper case phrases
carry the melody, lower case ones do not (``i`` intro, ``o`` outro, ``b``, ``x``
instrumental bridges and transitions); ``X`` marks melodic phrases that repeat
nothing.  The labels never say which group is the chorus, so this module
decides, by a rule (:func:`chorus_letter`) and a filter that keeps only songs
where the rule is unambiguous (:func:`choose_chorus`):

* candidates are the melodic groups other than ``X`` that occur in at least two
  separate places (a chorus comes back);
* the chorus is the candidate whose melody sits highest (mean MIDI pitch over
  its notes, weighted by duration): pop choruses are sung above their verses;
* a song is kept only if that candidate is at least ``min_margin`` semitones
  above the next one, is not the first melodic group of the song (a verse
  comes first), and the second annotator's labels put the chorus on nearly the
  same bars (Jaccard overlap of the chorus bars at least ``min_agreement``).

Everything here is pure (strings and numbers in, lists out), so it is tested
without the data.
"""

from __future__ import annotations

import re

__all__ = ["parse_label", "phrase_bars", "sections_from_label", "chorus_letter", "choose_chorus", "section_name"]

_TOKEN = re.compile(r"([A-Za-z])(\d+)")
_NAMES = {"i": "intro", "o": "outro", "b": "bridge", "x": "transition"}


def parse_label(text: str) -> list[tuple[str, int]]:
    """``"i4A4B8"`` -> ``[("i", 4), ("A", 4), ("B", 8)]``.

    Raises ``ValueError`` on anything that is not a sequence of letter + bars.

    >>> parse_label("i4A4B8o3")
    [('i', 4), ('A', 4), ('B', 8), ('o', 3)]
    """
    text = text.strip()
    tokens = [(m.group(1), int(m.group(2))) for m in _TOKEN.finditer(text)]
    if not tokens or "".join(f"{a}{n}" for a, n in tokens) != text.replace(" ", ""):
        raise ValueError(f"not a phrase label (letters followed by bar counts): {text[:60]!r}")
    if any(n <= 0 for _, n in tokens):
        raise ValueError(f"a phrase of zero bars in {text[:60]!r}")
    return tokens


def phrase_bars(tokens) -> list[tuple[str, int, int]]:
    """Each phrase as ``(letter, first bar, end bar)`` (bars from 0, end exclusive).

    >>> phrase_bars([("i", 4), ("A", 4), ("A", 4)])
    [('i', 0, 4), ('A', 4, 8), ('A', 8, 12)]
    """
    out, bar = [], 0
    for letter, n in tokens:
        out.append((letter, bar, bar + n))
        bar += n
    return out


def sections_from_label(tokens) -> list[tuple[str, int, int]]:
    """Consecutive phrases of one letter merged into a section ``(letter, first bar, end bar)``.

    >>> sections_from_label([("i", 4), ("A", 4), ("A", 4), ("B", 8), ("A", 4)])
    [('i', 0, 4), ('A', 4, 12), ('B', 12, 20), ('A', 20, 24)]
    """
    out: list[list] = []
    for letter, a, b in phrase_bars(tokens):
        if out and out[-1][0] == letter:
            out[-1][2] = b
        else:
            out.append([letter, a, b])
    return [tuple(s) for s in out]


def _mean_pitch_per_letter(tokens, notes) -> dict:
    """Duration-weighted mean pitch of the melody in each letter's phrases.

    ``notes`` are ``(pitch, onset, duration)`` in sixteenths from bar 0 (16 per bar).
    """
    sums: dict = {}
    for letter, a, b in phrase_bars(tokens):
        lo, hi = a * 16, b * 16
        for pitch, onset, duration in notes:
            if pitch > 0 and lo <= onset < hi:
                s = sums.setdefault(letter, [0.0, 0.0])
                s[0] += pitch * duration
                s[1] += duration
    return {k: s / w for k, (s, w) in sums.items() if w > 0}


def chorus_letter(tokens, notes) -> tuple[str | None, float]:
    """The chorus group by the highest-melody rule, and its margin in semitones.

    Parameters
    ----------
    tokens : list of (str, int)
        From :func:`parse_label`.
    notes : list of (int, int, int)
        Melody notes ``(MIDI pitch, onset, duration)`` in sixteenths from the
        labels' bar 0 (pitch 0 for a rest).

    Returns
    -------
    letter : str or None
        None when no melodic group other than ``X`` comes back.
    margin : float
        Its mean pitch minus the next candidate's (``inf`` for a lone candidate).

    >>> toks = parse_label("i4A4B4A4B4o2")
    >>> notes = [(60, 64, 64), (67, 128, 64), (62, 192, 64), (69, 256, 64)]
    >>> chorus_letter(toks, notes)
    ('B', 7.0)
    """
    runs = [s[0] for s in sections_from_label(tokens)]
    pitch = _mean_pitch_per_letter(tokens, notes)
    candidates = [c for c in dict.fromkeys(runs) if c.isupper() and c != "X" and runs.count(c) >= 2 and c in pitch]
    if not candidates:
        return None, 0.0
    ranked = sorted(candidates, key=lambda c: -pitch[c])
    margin = pitch[ranked[0]] - pitch[ranked[1]] if len(ranked) > 1 else float("inf")
    return ranked[0], float(margin)


def _chorus_bars(tokens, letter) -> set:
    return {bar for c, a, b in phrase_bars(tokens) if c == letter for bar in range(a, b)}


def choose_chorus(tokens, notes, *, other_tokens=None, min_margin: float = 1.0,
                  min_agreement: float = 0.8) -> tuple[str | None, str]:
    """The chorus letter if the song passes the filter, else ``(None, reason)``.

    ``other_tokens``: the second annotator's labels of the same song (checked
    when given).

    >>> toks = parse_label("i4A4B4A4B4o2")
    >>> notes = [(60, 64, 64), (67, 128, 64), (62, 192, 64), (69, 256, 64)]
    >>> choose_chorus(toks, notes)
    ('B', 'ok')
    >>> choose_chorus(toks, [(69, 64, 64), (60, 128, 64), (69, 192, 64), (60, 256, 64)])
    (None, 'the highest group is the first melodic one')
    """
    letter, margin = chorus_letter(tokens, notes)
    if letter is None:
        return None, "no melodic group comes back"
    if margin < min_margin:
        return None, f"the highest group is only {margin:.2f} semitones above the next"
    first_melodic = next(c for c, _ in tokens if c.isupper())
    if letter == first_melodic:
        return None, "the highest group is the first melodic one"
    if other_tokens is not None:
        other, _ = chorus_letter(other_tokens, notes)
        mine, theirs = _chorus_bars(tokens, letter), _chorus_bars(other_tokens, other) if other else set()
        agreement = len(mine & theirs) / len(mine | theirs)
        if agreement < min_agreement:
            return None, f"the two annotations agree on {agreement:.2f} of the chorus bars"
    return letter, "ok"


def section_name(letter: str, chorus: str) -> str:
    """The truth label of a section: ``"chorus"``, ``"intro"``, ... or the group letter.

    >>> [section_name(c, "B") for c in "iABbxo"]
    ['intro', 'A', 'chorus', 'bridge', 'transition', 'outro']
    """
    if letter == chorus:
        return "chorus"
    return _NAMES.get(letter, letter)
