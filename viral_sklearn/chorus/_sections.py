"""A song's sections: where the music changes, and which parts are the same music.

Two small steps on the structure method's analysis
(:func:`~viral_sklearn.chorus._structure.analyse_repetition`):

1. **Boundaries** (:func:`novelty_curve`, :func:`section_boundaries`): Foote's
   novelty (a checkerboard kernel with a Gaussian taper slid along the
   diagonal of the self-similarity: high where the past few seconds are alike,
   the next few seconds are alike, and the two differ), its peaks at least
   ``MIN_SECTION_SECONDS`` apart and above the song's typical novelty.
2. **Labels** (:func:`label_sections`): two sections get the same label when
   the repetition lines pair most of the steps of one with steps of the other
   (a verse sung again, a chorus played again); labelled greedily in order, so
   the first section of each kind gives its letter.
"""

from __future__ import annotations

import numpy as np

__all__ = ["novelty_curve", "section_boundaries", "label_sections", "KERNEL_SECONDS", "MIN_SECTION_SECONDS"]

#: half-width of the checkerboard kernel (seconds): the music compared on each side
KERNEL_SECONDS = 6.0
#: shortest section (seconds): novelty peaks closer than this compete, the higher wins
MIN_SECTION_SECONDS = 5.0
#: a peak must exceed the median novelty by this many (robust) standard deviations
PEAK_Z = 1.0
#: share of a section's steps paired with another section for the two to share a label
LINK_THRESHOLD = 0.35


def novelty_curve(sim: np.ndarray, half_width: int) -> np.ndarray:
    """Foote novelty of each step: the checkerboard-kernel correlation on the diagonal.

    Parameters
    ----------
    sim : np.ndarray [shape=(n, n)]
        Self-similarity (any scale; outside the song counts as 0).
    half_width : int
        Steps on each side of the kernel's centre.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float64]
        ``sum_ab K[a, b] sim[t + a, t + b] / sum_ab |K[a, b]|``, ``a, b`` in
        ``[-half_width, half_width)``, ``K = sign(a + 0.5) sign(b + 0.5) g(a) g(b)``
        with a Gaussian taper ``g``: 1 for an abrupt change from a copy to a
        copy of unrelated music, 0 inside a homogeneous stretch.

    Examples
    --------
    >>> import numpy as np
    >>> block = np.kron(np.eye(2), np.ones((10, 10)))  # two different 10-step parts
    >>> int(np.argmax(novelty_curve(block, 4)))
    10
    """
    n = sim.shape[0]
    w = max(1, int(half_width))
    centred = np.arange(-w, w) + 0.5
    taper = np.exp(-0.5 * (centred / (0.5 * w)) ** 2)
    kernel = np.sign(centred) * taper  # K[a, b] = kernel[a] * kernel[b]
    padded = np.zeros((n + 2 * w, n + 2 * w), dtype=np.float64)
    padded[w : w + n, w : w + n] = sim
    # window[t] = padded[t : t + 2w, t : t + 2w], the square the kernel covers at step t
    s0, s1 = padded.strides
    window = np.lib.stride_tricks.as_strided(padded, shape=(n, 2 * w, 2 * w), strides=(s0 + s1, s0, s1),
                                             writeable=False)
    return (window @ kernel) @ kernel / float(np.outer(taper, taper).sum())


def section_boundaries(novelty: np.ndarray, min_steps: int) -> np.ndarray:
    """Step indices where sections begin, with 0 first and ``n`` last.

    A boundary is a novelty peak: the highest value within ``min_steps`` on
    either side, above ``median + PEAK_Z * 1.4826 * MAD`` of the curve, and at
    least ``min_steps`` from the song's start and end.

    Examples
    --------
    >>> import numpy as np
    >>> nov = np.zeros(60); nov[[20, 24, 40]] = [1.0, 0.5, 0.8]
    >>> section_boundaries(nov, 8).tolist()
    [0, 20, 40, 60]
    """
    n = novelty.shape[0]
    min_steps = max(1, int(min_steps))
    median = float(np.median(novelty))
    spread = 1.4826 * float(np.median(np.abs(novelty - median)))
    level = median + PEAK_Z * max(spread, 1e-9)
    order = np.argsort(-novelty, kind="stable")
    chosen: list[int] = []
    for t in order:
        if novelty[t] <= level:
            break
        if t < min_steps or t > n - min_steps:
            continue
        if all(abs(int(t) - c) >= min_steps for c in chosen):
            chosen.append(int(t))
    return np.array([0, *sorted(chosen), n], dtype=np.int64)


def label_sections(bounds: np.ndarray, pairs: np.ndarray) -> list[int]:
    """A label (0, 1, ...) per section: the same for sections that repeat each other.

    ``link(i, j)``: the share of section ``i``'s steps that a repetition line
    (``pairs[t, u] > 0``) pairs with a step of section ``j``; the two repeat
    each other when the mean of ``link(i, j)`` and ``link(j, i)`` is at least
    ``LINK_THRESHOLD``.  Each section, in order, takes the label of the
    earlier section it is most linked to, or a new one.

    Examples
    --------
    >>> import numpy as np
    >>> pairs = np.zeros((30, 30))
    >>> pairs[np.arange(10), np.arange(20, 30)] = pairs[np.arange(20, 30), np.arange(10)] = 1
    >>> label_sections(np.array([0, 10, 20, 30]), pairs)
    [0, 1, 0]
    """
    n_sec = len(bounds) - 1
    cover = np.zeros((n_sec, n_sec))
    lengths = np.diff(bounds)
    if n_sec and lengths.min() > 0:
        # hits[t, j]: step t paired with a step of section j; cover[i, j]: their share in section i
        hits = np.logical_or.reduceat(pairs > 0, bounds[:-1], axis=1)
        cover = np.add.reduceat(hits, bounds[:-1], axis=0, dtype=np.int64) / lengths[:, None]
        np.fill_diagonal(cover, 0.0)
    link = (cover + cover.T) / 2
    labels: list[int] = []
    for i in range(n_sec):
        best = int(np.argmax(link[i, :i])) if i else -1
        if best >= 0 and link[i, best] >= LINK_THRESHOLD:
            labels.append(labels[best])
        else:
            labels.append(max(labels, default=-1) + 1)
    return labels
