"""load_pipeline (the safe format, nothing executed) and load_model (either format, pickles on request)."""

from __future__ import annotations

import os
import warnings

from sklearn.pipeline import Pipeline

from .. import LSTMClassifier
from ._bounds import check_bounds
from ._container import open_regular, read_container, sniff, strict_json
from ._description import read_description
from ._errors import ModelFormatError, UntrustedPickleError
from ._format import HEADER_KEY, MAX_FILE_SIZE
from ._network import build_classifier, check_network, load_weights
from ._skops import PAYLOAD_TENSOR, build_sklearn_steps, check_payload

__all__ = ["load_model", "load_pipeline"]


def load_pipeline(
    path: str | os.PathLike,
    *,
    memory=None,
    n_jobs: int | None = None,
    device="cpu",
    verbose: bool = False,
    max_file_size: int = MAX_FILE_SIZE,
) -> Pipeline:
    """Load a pipeline written by :func:`save_pipeline`, executing nothing from the file.

    Everything the file says is checked before anything is built: the header's
    size, every tensor's dtype, shape and place in the file, every step type
    (a whitelist of our own), every parameter (each step's own constraints),
    the network described against the tensors stored.  A refused file
    allocates no network and writes nothing.

    The settings of *this* machine never come from the file: they are the
    arguments below, applied to every step that has them.

    Parameters
    ----------
    path : str or os.PathLike
    memory : None, str, os.PathLike or joblib.Memory, default=None
        Per-song cache of the song steps (their ``memory``); ``None`` caches nothing.
    n_jobs : int or None, default=None
        Parallel songs in the song steps.
    device : str or torch.device, default="cpu"
        Where the network runs (``"cuda"`` if available).  Weights are stored on
        the CPU, so a GPU-trained model loads on a CPU-only machine.
    verbose : bool, default=False
        Progress bars of the song steps, skorch's epoch table of the classifier.
    max_file_size : int, default=1 GiB
        Larger files are refused before they are read.

    Returns
    -------
    SongPipeline
        A :class:`sklearn.pipeline.Pipeline` (streaming songs through the song steps).

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFormatError
        Not a safetensors file (e.g. a pickle), too large, truncated, a header
        too large, no viral_sklearn description, an incompatible format version,
        an unknown step type or parameter, a machine-local parameter (format
        1.1), a parameter value its step refuses, a network too large or that
        does not match the stored tensors (names, shapes, dtypes), NaN or
        infinite weights.  The message names the file, the step, parameter or
        tensor, and the reason.

    Warns
    -----
    UserWarning
        A format 1.0 file (which always stored ``memory``, ``n_jobs`` and
        ``verbose``) with non-default values there: they are ignored.

    Examples
    --------
    >>> from viral_sklearn.persistence import load_pipeline
    >>> load_pipeline("no-such-model.safetensors")
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] No such file or directory: 'no-such-model.safetensors'
    """
    path = os.fspath(path)
    container = read_container(path, max_file_size=max_file_size)
    _, specs = read_description(path, container.metadata)
    clf_spec = specs[-1] if specs[-1].cls is LSTMClassifier else None
    network = check_network(path, clf_spec, container) if clf_spec else {"tensors": {}}
    check_bounds(path, specs, network)
    payload = check_payload(path, container, strict_json(container.metadata[HEADER_KEY]), specs)
    stray = sorted(set(container.tensors) - set(network["tensors"]) - ({PAYLOAD_TENSOR} if payload else set()))
    if stray:
        raise ModelFormatError(f"{path!r}: tensor(s) {stray[:10]} belong to no classifier step")
    ignored = [f"{s.name}__{k}={v!r}" for s in specs for k, v in s.ignored.items()]
    state = load_weights(path, container, network) if clf_spec else None
    sklearn_steps = iter(build_sklearn_steps(path, payload, sum(s.cls is None for s in specs)) if payload else [])

    if ignored:
        warnings.warn(
            f"{path!r} is a model format 1.0 file: its machine-local settings {', '.join(ignored)} are ignored; "
            "the ones passed to load_pipeline apply",
            UserWarning,
            stacklevel=2,
        )
    local = {"memory": memory, "n_jobs": n_jobs, "verbose": bool(verbose)}
    steps = []
    for spec in specs:
        if spec is clf_spec:
            steps.append((spec.name, build_classifier(spec, network, state, device=device, verbose=verbose)))
        elif spec.cls is None:  # a scikit-learn step, in the payload's order
            steps.append((spec.name, next(sklearn_steps)))
        else:
            accepted = spec.cls().get_params(deep=False)
            step = spec.cls(**spec.params, **{k: v for k, v in local.items() if k in accepted})
            for attribute, value in spec.fitted.items():
                setattr(step, attribute, value)
            steps.append((spec.name, step))
    from .._song_pipeline import SongPipeline

    return SongPipeline(steps)


def _apply_machine_settings(model, *, memory, n_jobs, device, verbose):
    """Set this machine's settings on every step of a (trusted, unpickled) model that has them."""
    from .. import LSTMClassifier

    steps = model.steps if isinstance(model, Pipeline) else [(None, model)]
    for _, est in steps:
        if isinstance(est, LSTMClassifier):
            est.set_params(verbose=int(verbose), device=device)
            if getattr(est, "initialized_", False):
                est.module_.to(device)
                est.criterion_.to(device)
            continue
        get_params = getattr(est, "get_params", None)
        if get_params is None:
            continue
        accepted = get_params(deep=False)
        local = {"memory": memory, "n_jobs": n_jobs, "verbose": bool(verbose)}
        est.set_params(**{k: v for k, v in local.items() if k in accepted})
    return model


def load_model(
    path: str | os.PathLike,
    *,
    trust_pickle: bool = False,
    memory=None,
    n_jobs: int | None = None,
    device="cpu",
    verbose: bool = False,
    max_file_size: int = MAX_FILE_SIZE,
):
    """Load a model file of either format: safe ones always, pickles only when trusted.

    A ``.safetensors`` file (recognised by its content, not its name) goes to
    :func:`load_pipeline`.  Anything else is taken for a pickle or a joblib
    file, and **unpickling runs whatever code its author put in it**: it is
    refused unless ``trust_pickle=True``.  Either way the machine settings
    (``memory``, ``n_jobs``, ``device``, ``verbose``) are the caller's: a
    trusted pickle's own are overwritten on every step that has them.

    Parameters
    ----------
    path : str or os.PathLike
    trust_pickle : bool, default=False
        Load a pickle/joblib file with :func:`joblib.load`.  Only for files
        from an author you trust as much as code you run (the CLI's
        ``--trust-pickle``).
    memory, n_jobs, device, verbose, max_file_size
        As in :func:`load_pipeline` (``max_file_size`` applies to safe files).

    Returns
    -------
    model : sklearn.pipeline.Pipeline (or, from a trusted pickle, whatever it held)

    Raises
    ------
    UntrustedPickleError
        A pickle or joblib file without ``trust_pickle=True``; nothing of it is
        unpickled.
    ModelFormatError
        A safetensors file that :func:`load_pipeline` refuses.

    Examples
    --------
    >>> import pickle, tempfile, os
    >>> from viral_sklearn.persistence import load_model
    >>> path = os.path.join(tempfile.mkdtemp(), "model.joblib")
    >>> with open(path, "wb") as fh:
    ...     pickle.dump({"weights": [1, 2]}, fh)
    >>> load_model(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    viral_sklearn.persistence.UntrustedPickleError: '...model.joblib' is a pickle or joblib file...
    >>> load_model(path, trust_pickle=True)
    {'weights': [1, 2]}
    """
    path = os.fspath(path)
    kind = sniff(path)
    if kind == "safetensors":
        return load_pipeline(
            path, memory=memory, n_jobs=n_jobs, device=device, verbose=verbose, max_file_size=max_file_size
        )
    if not trust_pickle:
        what = "a pickle or joblib file" if kind == "pickle" else "not a safetensors model file (a pickle?)"
        raise UntrustedPickleError(
            f"{path!r} is {what}: loading it would run any code its author put in it, so it is refused. "
            "Load it only if you trust its author as you trust code you run: trust_pickle=True "
            "(viral-sklearn --trust-pickle). Models meant for sharing are saved with save_pipeline."
        )
    import joblib

    fh, _ = open_regular(path)  # the file sniffed, not whatever a FIFO put at its path since
    with fh:
        model = joblib.load(fh)
    return _apply_machine_settings(model, memory=memory, n_jobs=n_jobs, device=device, verbose=verbose)
