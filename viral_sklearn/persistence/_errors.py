"""The errors of the model loader."""

from __future__ import annotations

__all__ = ["ModelFormatError", "UntrustedPickleError"]


class ModelFormatError(ValueError):
    """A model file is not a viral_sklearn safe model, or not one we can read.

    The message names the file and what is wrong with it (the step, parameter
    or tensor, and the reason).  Raised *before* anything the file describes
    is built: a refused file allocates no network and writes nothing.
    """

    __module__ = "viral_sklearn.persistence"


class UntrustedPickleError(ModelFormatError):
    """A pickle or joblib file was given without ``trust_pickle=True``.

    Loading a pickle runs whatever code its author put in it, so
    :func:`~viral_sklearn.persistence.load_model` opens one only when the
    caller says they trust its author.
    """

    __module__ = "viral_sklearn.persistence"
