"""What every chorus method returns."""

from __future__ import annotations

import dataclasses

__all__ = ["ChorusEstimate"]


@dataclasses.dataclass(frozen=True)
class ChorusEstimate:
    """A chorus method's answer for one song.

    Attributes
    ----------
    start : float or None
        Start of the clip in seconds, ``None`` when the method found no
        chorus (the extractor's fallback rule then chooses the window).
    confidence : float
        The method's confidence in ``[0, 1]`` (see each method), NaN for the
        rule-based baselines, which have none.
    """

    start: float | None
    confidence: float
