"""What :class:`LSTMClassifier` checks of its training songs before it trains: whether they
suffice for the internal validation split, and the loss weight of each class."""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["check_split_size", "class_weights", "seed_generators"]


def check_split_size(y: np.ndarray, validation_fraction: float, names) -> None:
    """Refuse, in words, a fit with too few songs for the internal validation split.

    Parameters
    ----------
    y : np.ndarray [shape=(n_songs,)]
        The encoded labels.
    validation_fraction : float
        The share of the songs the split holds out.
    names : callable
        Encoded labels -> the user's labels (``LabelEncoder.inverse_transform``), for the message.

    Examples
    --------
    >>> import numpy as np
    >>> check_split_size(np.array([0, 0, 1, 1, 0, 1, 0, 1, 0, 1]), 0.2, lambda c: c)
    >>> check_split_size(np.array([0, 0, 0, 1]), 0.2, lambda c: c)
    Traceback (most recent call last):
        ...
    ValueError: LSTMClassifier: 4 songs (0: 3, 1: 1) are too few for its internal validation split (...
    """
    classes, counts = np.unique(y, return_counts=True)
    n, k = len(y), len(classes)
    n_valid = math.ceil(validation_fraction * n)
    if n_valid >= k and n - n_valid >= k and counts.min() >= 2:
        return
    per_class = ", ".join(f"{c}: {m}" for c, m in zip(names(classes), counts))
    raise ValueError(
        f"LSTMClassifier: {n} songs ({per_class}) are too few for its internal validation split "
        f"(train_split='auto', validation_fraction={validation_fraction:g}, {n_valid} validation "
        f"songs): both sides need at least one song of each of the {k} classes, so at least 2 songs per "
        "class and enough songs overall; give it more songs, or pass train_split=None (then no "
        "early stopping)"
    )


def class_weights(class_weight, classes: np.ndarray, y: np.ndarray, criterion_params: dict) -> np.ndarray | None:
    """The loss weight of each class (in ``classes`` order), or None.

    Parameters
    ----------
    class_weight : None, "balanced" or dict of label -> weight
        ``LSTMClassifier``'s parameter.
    classes : np.ndarray [shape=(n_classes,)]
        The labels, sorted (``LabelEncoder.classes_``).
    y : np.ndarray [shape=(n_songs,)]
        The labels of the training songs.
    criterion_params : dict
        The net's ``criterion__*`` parameters (``class_weight`` and a criterion's
        ``weight`` are one thing set twice).

    Examples
    --------
    >>> import numpy as np
    >>> class_weights("balanced", np.array(["flop", "hit"]), np.array(["flop"] * 3 + ["hit"]), {})
    array([0.6666667, 2.       ], dtype=float32)
    """
    if class_weight is None:
        return None
    if not (isinstance(class_weight, dict) or (isinstance(class_weight, str) and class_weight == "balanced")):
        raise ValueError(f"class_weight must be None, 'balanced' or a dict of label -> weight, got {class_weight!r}")
    if "weight" in criterion_params:
        raise ValueError("class_weight and criterion__weight are both set; pass only one of them")
    if isinstance(class_weight, dict):
        unknown = [k for k in class_weight if k not in set(classes.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight names labels that are not in y: {unknown!r}; the labels are {classes.tolist()!r}"
            )
    from sklearn.utils.class_weight import compute_class_weight

    try:
        weights = compute_class_weight(class_weight, classes=classes, y=y)
    except ValueError as exc:
        raise ValueError(f"class_weight={class_weight!r}: {exc}") from None
    if not (np.all(np.isfinite(weights)) and np.all(weights >= 0)):
        raise ValueError(f"class_weight must give finite, non-negative weights, got {class_weight!r}")
    return weights.astype(np.float32)


def seed_generators(seed: int, cuda) -> None:
    """Seed torch's CPU generator and those of the GPUs ``cuda`` names (indices)."""
    torch.default_generator.manual_seed(seed)
    for index in cuda:
        with torch.cuda.device(index):
            torch.cuda.manual_seed(seed)
