"""The structure method's array code against the definitions in its docstrings.

``repetition_counts``, ``novelty_curve`` and ``label_sections`` are computed
with whole-array operations; here each is compared with a plain loop that
follows its docstring word for word, on random inputs of many shapes (sparse
and dense pairings, empty matrices, sections of one step).
"""

from __future__ import annotations

import numpy as np
import pytest

from viral_sklearn.chorus._sections import label_sections, novelty_curve
from viral_sklearn.chorus._structure import repetition_counts


def _counts_by_definition(pairs: np.ndarray, group_steps: int) -> np.ndarray:
    """Group the steps each step is paired with (gaps of at most group_steps close
    a group); sum each group's best weight, leaving out the group within
    group_steps of the step itself."""
    n = pairs.shape[0]
    counts = np.zeros(n)
    for t in range(n):
        u = [int(v) for v in np.flatnonzero(pairs[t])]
        groups: list[list[int]] = []
        for v in u:
            if groups and v - groups[-1][-1] <= group_steps:
                groups[-1].append(v)
            else:
                groups.append([v])
        for g in groups:
            if g[-1] >= t - group_steps and g[0] <= t + group_steps:
                continue  # the step's own section
            counts[t] += float(max(pairs[t, v] for v in g))
    return counts


def _random_pairs(rng, n: int, density: float) -> np.ndarray:
    pairs = np.where(rng.random((n, n)) < density, rng.uniform(0.05, 1.0, (n, n)), 0.0).astype(np.float32)
    return np.maximum(pairs, pairs.T)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("group_steps", [0, 1, 3, 12])
def test_repetition_counts_follow_their_definition(seed, group_steps):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 90))
    pairs = _random_pairs(rng, n, density=[0.0, 0.02, 0.2, 0.9][seed % 4])
    got = repetition_counts(pairs, group_steps, paired=True)
    want = pairs.sum(axis=1, dtype=np.float64) if group_steps == 0 else _counts_by_definition(pairs, group_steps)
    assert got.shape == (n,) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def _novelty_by_definition(sim: np.ndarray, w: int) -> np.ndarray:
    n = sim.shape[0]
    offsets = np.arange(-w, w)
    taper = np.exp(-0.5 * ((offsets + 0.5) / (0.5 * w)) ** 2)
    kernel = np.sign(offsets + 0.5)[:, None] * np.sign(offsets + 0.5)[None, :] * np.outer(taper, taper)
    out = np.zeros(n)
    for t in range(n):
        for i, a in enumerate(offsets):
            for j, b in enumerate(offsets):
                if 0 <= t + a < n and 0 <= t + b < n:  # outside the song counts as 0
                    out[t] += kernel[i, j] * sim[t + a, t + b]
    return out / np.abs(kernel).sum()


@pytest.mark.parametrize("n, w", [(1, 1), (5, 3), (40, 4), (70, 9)])
def test_novelty_curve_follows_its_definition(n, w):
    rng = np.random.default_rng(n)
    sim = rng.random((n, n)).astype(np.float32)
    sim = (sim + sim.T) / 2
    np.testing.assert_allclose(novelty_curve(sim, w), _novelty_by_definition(sim, w), rtol=1e-9, atol=1e-12)


def _labels_by_definition(bounds, pairs) -> list[int]:
    n_sec = len(bounds) - 1
    link = np.zeros((n_sec, n_sec))

    def cover(i, j):
        rows = pairs[bounds[i] : bounds[i + 1], bounds[j] : bounds[j + 1]] > 0
        return rows.any(axis=1).mean() if rows.shape[0] else 0.0

    for i in range(n_sec):
        for j in range(n_sec):
            if i != j:
                link[i, j] = (cover(i, j) + cover(j, i)) / 2
    labels: list[int] = []
    for i in range(n_sec):
        best = int(np.argmax(link[i, :i])) if i else -1
        labels.append(labels[best] if best >= 0 and link[i, best] >= 0.35 else max(labels, default=-1) + 1)
    return labels


@pytest.mark.parametrize("seed", range(8))
def test_label_sections_follow_their_definition(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    inner = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, int(rng.integers(0, 9))), replace=False)) if n > 1 else []
    bounds = np.array([0, *inner, n])
    pairs = _random_pairs(rng, n, density=[0.01, 0.05, 0.3, 0.0][seed % 4])
    assert label_sections(bounds, pairs) == _labels_by_definition(bounds, pairs)


def test_label_sections_of_an_empty_song():
    assert label_sections(np.array([0, 0]), np.zeros((0, 0))) == [0]
