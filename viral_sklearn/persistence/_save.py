"""save_pipeline: a fitted pipeline as one safetensors file, with no machine-local setting in it."""

from __future__ import annotations

import json
import math
import os

import numpy as np
from sklearn.pipeline import Pipeline

from .. import LSTMClassifier, LSTMModule
from ._description import STEP_TYPES
from ._pooled import pooled_entry
from ._skops import SklearnPart
from ._format import CLASSIFIER_PARAMS, FORMAT_VERSION, HEADER_KEY, MACHINE_LOCAL_PARAMS, MAX_HEADER_SIZE

__all__ = ["save_pipeline"]


def _json_value(name: str, value):
    """A parameter value as JSON: numbers, strings, booleans, None; never a path."""
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"parameter {name}={value!r} cannot be stored in the safe format (not finite)")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, os.PathLike):
        raise TypeError(f"parameter {name}={value!r} is a path; the safe format stores no paths")
    raise TypeError(f"parameter {name}={value!r} cannot be stored in the safe format")


def _label_payload(classes: np.ndarray) -> dict:
    kind = classes.dtype.kind
    if kind == "b":
        return {"dtype": "bool", "values": [bool(v) for v in classes]}
    if kind in "iu":
        return {"dtype": "int", "values": [int(v) for v in classes]}
    if kind == "f":
        return {"dtype": "float", "values": [float(v) for v in classes]}
    if kind in "UO" and all(isinstance(v, str) for v in classes):
        return {"dtype": "str", "values": [str(v) for v in classes]}
    raise TypeError(f"labels of dtype {classes.dtype} cannot be stored in the safe format")


def _classifier_entry(clf: LSTMClassifier) -> tuple[dict, dict]:
    if not getattr(clf, "initialized_", False) or not hasattr(clf, "label_encoder_"):
        raise ValueError("the pipeline's LSTMClassifier is not fitted")
    if clf.module is not LSTMModule:
        raise TypeError(f"the safe format stores LSTMModule networks only, got module={clf.module!r}; use joblib")
    params = {k: _json_value(k, getattr(clf, k)) for k in CLASSIFIER_PARAMS if k != "train_split"}
    params["train_split"] = clf.train_split if clf.train_split in ("auto", None) else "auto"
    module_kwargs = {k: _json_value(k, v) for k, v in clf.get_params_for("module").items()}
    module_kwargs["input_size"] = int(clf.n_features_in_)
    module_kwargs["n_classes"] = len(clf.classes_)
    entry = {
        "params": params,
        "module": module_kwargs,
        "classes": _label_payload(np.asarray(clf.classes_)),
        "n_features_in": int(clf.n_features_in_),
    }
    tensors = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in clf.module_.state_dict().items()}
    return entry, tensors


def save_pipeline(pipeline: Pipeline, path: str | os.PathLike) -> str:
    """Save a fitted viral pipeline in the safe format (one ``.safetensors`` file).

    The file holds what prediction needs and nothing about the machine it was
    made on: the parameters ``memory``, ``n_jobs``, ``verbose`` and ``device``
    are not stored (whoever loads the model passes their own to
    :func:`load_pipeline`), and neither is any path.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Steps among MonoMixer, ChorusExtractor, MelSpectrogramTransformer and a
        fitted LSTMClassifier (last).  A model trained on a GPU is saved with its
        weights on the CPU, so it loads anywhere.
    path : str or os.PathLike
        Where to write; the only file written.

    Returns
    -------
    path : str

    Raises
    ------
    TypeError, ValueError
        A step the safe format cannot restore (use joblib for those), an
        unfitted classifier, or a parameter value that is not a number,
        string, boolean or None.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.pipeline import Pipeline
    >>> from viral_sklearn import LSTMClassifier
    >>> from viral_sklearn.persistence import load_pipeline, save_pipeline
    >>> X = np.random.RandomState(0).randn(20, 30, 8).astype(np.float32)
    >>> pipe = Pipeline([("clf", LSTMClassifier(max_epochs=1, random_state=0))]).fit(X, [0, 1] * 10)
    >>> path = save_pipeline(pipe, os.path.join(tempfile.mkdtemp(), "model.safetensors"))
    >>> np.array_equal(load_pipeline(path).predict_proba(X), pipe.predict_proba(X))
    True
    """
    from safetensors.torch import save_file

    from .. import __version__

    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"expected a sklearn Pipeline, got {type(pipeline).__name__}")
    from .. import PooledMelTransformer

    steps, tensors, sklearn_part = [], {}, SklearnPart()
    for i, (name, est) in enumerate(pipeline.steps):
        kind = type(est).__name__
        if isinstance(est, LSTMClassifier) and i != len(pipeline.steps) - 1:
            raise TypeError(f"step {name!r}: the safe format stores an LSTMClassifier as the last step only")
        if type(est) is PooledMelTransformer:
            steps.append({"name": name, **pooled_entry(est)})
        elif STEP_TYPES.get(kind) is not type(est):
            steps.append(sklearn_part.add(name, est))
        elif isinstance(est, LSTMClassifier):
            entry, weights = _classifier_entry(est)
            tensors.update({f"{name}.{k}": v for k, v in weights.items()})
            steps.append({"name": name, "type": kind, **entry})
        else:
            params = {
                k: _json_value(k, v) for k, v in est.get_params(deep=False).items() if k not in MACHINE_LOCAL_PARAMS
            }
            steps.append({"name": name, "type": kind, "params": params})
    if steps[-1]["type"] not in ("skops", LSTMClassifier.__name__):
        raise TypeError("the last step must be a classifier (an LSTMClassifier or a scikit-learn estimator) to be "
                        "stored in the safe format")
    header = {"format_version": FORMAT_VERSION, "library_version": __version__, "steps": steps}
    skops_entry, payload = sklearn_part.dump()
    if payload:
        header["skops"] = skops_entry
        tensors.update(payload)
    description = json.dumps(header)
    if len(description.encode()) + 200 * (len(tensors) + 1) > MAX_HEADER_SIZE:
        raise ValueError(f"the model's description ({len(description)} characters) would not fit the "
                         f"{MAX_HEADER_SIZE}-byte header a model file may have")
    path = os.fspath(path)
    save_file(tensors, path, metadata={HEADER_KEY: description})
    return path
