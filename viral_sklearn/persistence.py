"""Safe persistence: a fitted pipeline as one safetensors file, loaded without unpickling.

``joblib.dump`` / ``joblib.load`` keep *everything* (callbacks, history, custom
classes) but ``joblib.load`` of a file you did not write runs its author's code.
:func:`save_pipeline` writes the network's weights as safetensors tensors and the
steps, their parameters and the classifier's labels as JSON in the same file's
header; :func:`load_pipeline` rebuilds the pipeline from a whitelist of our own
estimator types and loads the weights into them.  Nothing is unpickled, so a
tampered file is refused, never executed.

When to use which:

* ``joblib`` for your own checkpoints, when you need the training history, custom
  callbacks or modules, and you trust the file;
* :func:`save_pipeline` for sharing and deploying models, and for loading files
  from anyone else.  It keeps what prediction needs; the training history, custom
  callbacks and any non-default ``module``, ``optimizer`` or ``criterion`` class
  are not stored (it refuses to save a pipeline whose prediction depends on them).
"""

from __future__ import annotations

import json
import os

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder

from .chorus import ChorusExtractor
from ._lstm import LSTMClassifier, LSTMModule
from ._mel import MelSpectrogramTransformer
from ._mono import MonoMixer

__all__ = ["save_pipeline", "load_pipeline", "ModelFormatError", "FORMAT_VERSION"]

#: bumped on incompatible changes; a file's major version must equal ours
FORMAT_VERSION = "1.0"
_HEADER_KEY = "viral_sklearn"
_STEP_TYPES = {cls.__name__: cls for cls in (MonoMixer, ChorusExtractor, MelSpectrogramTransformer, LSTMClassifier)}
#: classifier parameters stored (the rest are training-only objects)
_CLF_PARAMS = ("lr", "max_epochs", "batch_size", "validation_fraction", "random_state", "predict_nonlinearity")


class ModelFormatError(ValueError):
    """A model file is not a viral_sklearn safe model, or not one we can read."""


def _json_value(name, value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    location = getattr(value, "location", None)  # joblib.Memory
    if name == "memory" and isinstance(location, (str, os.PathLike)):
        return os.fspath(location)
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


def _labels_from_payload(payload: dict) -> np.ndarray:
    dtypes = {"bool": bool, "int": np.int64, "float": np.float64, "str": str}
    if not isinstance(payload, dict) or payload.get("dtype") not in dtypes or not isinstance(payload.get("values"), list):
        raise ModelFormatError("invalid 'classes' entry")
    return np.array(payload["values"], dtype=dtypes[payload["dtype"]])


def _classifier_entry(clf: LSTMClassifier) -> tuple[dict, dict]:
    import torch

    if not getattr(clf, "initialized_", False) or not hasattr(clf, "label_encoder_"):
        raise ValueError("the pipeline's LSTMClassifier is not fitted")
    if clf.module is not LSTMModule:
        raise TypeError(f"the safe format stores LSTMModule networks only, got module={clf.module!r}; use joblib")
    params = {k: _json_value(k, getattr(clf, k)) for k in _CLF_PARAMS}
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
    assert all(isinstance(t, torch.Tensor) for t in tensors.values())
    return entry, tensors


def save_pipeline(pipeline: Pipeline, path: str | os.PathLike) -> str:
    """Save a fitted viral pipeline in the safe format (one ``.safetensors`` file).

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Steps among MonoMixer, ChorusExtractor, MelSpectrogramTransformer and a
        fitted LSTMClassifier (last).  A model trained on a GPU is saved with its
        weights on the CPU, so it loads anywhere.
    path : str or os.PathLike

    Returns
    -------
    path : str
    """
    from safetensors.torch import save_file

    from . import __version__

    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"expected a sklearn Pipeline, got {type(pipeline).__name__}")
    steps, tensors = [], {}
    for name, est in pipeline.steps:
        kind = type(est).__name__
        if _STEP_TYPES.get(kind) is not type(est):
            raise TypeError(f"step {name!r} of type {kind} cannot be stored in the safe format; use joblib")
        if isinstance(est, LSTMClassifier):
            entry, weights = _classifier_entry(est)
            tensors.update({f"{name}.{k}": v for k, v in weights.items()})
            steps.append({"name": name, "type": kind, **entry})
        else:
            params = {k: _json_value(k, v) for k, v in est.get_params(deep=False).items()}
            steps.append({"name": name, "type": kind, "params": params})
    header = {"format_version": FORMAT_VERSION, "library_version": __version__, "steps": steps}
    path = os.fspath(path)
    save_file(tensors, path, metadata={_HEADER_KEY: json.dumps(header)})
    return path


def _read(path: str) -> tuple[dict, dict]:
    from safetensors import safe_open

    try:
        with safe_open(path, framework="pt", device="cpu") as fh:
            metadata = fh.metadata() or {}
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except FileNotFoundError:
        raise
    except Exception as exc:  # safetensors raises its own error types on bad headers
        raise ModelFormatError(f"{path!r} is not a safetensors model file ({exc})") from None
    if _HEADER_KEY not in metadata:
        raise ModelFormatError(f"{path!r} is a safetensors file but not a viral_sklearn model (no header)")
    try:
        header = json.loads(metadata[_HEADER_KEY])
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"{path!r}: the model description is not valid JSON ({exc})") from None
    return header, tensors


def load_pipeline(path: str | os.PathLike, *, device: str = "cpu") -> Pipeline:
    """Load a pipeline written by :func:`save_pipeline`, executing nothing from the file.

    Parameters
    ----------
    path : str or os.PathLike
    device : str, default="cpu"
        Where the network runs (``"cuda"`` if available).  Weights are stored on
        the CPU, so a GPU-trained model loads on a CPU-only machine.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Raises
    ------
    ModelFormatError
        Not a safetensors file (e.g. a pickle), no viral_sklearn header, an
        incompatible format version, an unknown step type or parameter, or
        weights that do not fit the described network.
    """
    path = os.fspath(path)
    header, tensors = _read(path)
    version = str(header.get("format_version", ""))
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise ModelFormatError(
            f"{path!r} has model format {version or '(none)'}; this viral_sklearn reads format {FORMAT_VERSION}"
        )
    steps = []
    entries = header.get("steps")
    if not isinstance(entries, list) or not entries:
        raise ModelFormatError(f"{path!r}: no steps in the model description")
    for entry in entries:
        if not isinstance(entry, dict):
            raise ModelFormatError(f"{path!r}: invalid step entry {entry!r}")
        kind, name = entry.get("type"), entry.get("name")
        if kind not in _STEP_TYPES:
            raise ModelFormatError(
                f"{path!r}: unknown step type {kind!r} (allowed: {', '.join(sorted(_STEP_TYPES))})"
            )
        if not isinstance(name, str) or not name or "__" in name:
            raise ModelFormatError(f"{path!r}: invalid step name {name!r}")
        cls = _STEP_TYPES[kind]
        params = entry.get("params", {})
        if not isinstance(params, dict):
            raise ModelFormatError(f"{path!r}: parameters of step {name!r} are not a mapping")
        allowed = set(_CLF_PARAMS) | {"train_split"} if cls is LSTMClassifier else set(cls().get_params(deep=False))
        unknown = set(params) - allowed
        if unknown:
            raise ModelFormatError(f"{path!r}: unknown parameter(s) {sorted(unknown)} for step {name!r} ({kind})")
        if cls is LSTMClassifier:
            est = _load_classifier(path, name, entry, params, tensors, device)
        else:
            est = cls(**params)
        steps.append((name, est))
    if not isinstance(steps[-1][1], LSTMClassifier):
        raise ModelFormatError(f"{path!r}: the last step must be an LSTMClassifier")
    return Pipeline(steps)


def _load_classifier(path, name, entry, params, tensors, device) -> LSTMClassifier:
    module_kwargs = entry.get("module")
    if not isinstance(module_kwargs, dict) or not all(isinstance(v, (int, float, bool)) for v in module_kwargs.values()):
        raise ModelFormatError(f"{path!r}: invalid network description for step {name!r}")
    classes = _labels_from_payload(entry.get("classes"))
    clf = LSTMClassifier(**params, device=device, **{f"module__{k}": v for k, v in module_kwargs.items()})
    encoder = LabelEncoder()
    encoder.classes_ = classes
    clf.label_encoder_ = encoder
    clf.n_features_in_ = int(entry.get("n_features_in", module_kwargs.get("input_size", 0)))
    try:
        clf.initialize()
        prefix = f"{name}."
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        clf.module_.load_state_dict(state, strict=True)
        clf.module_.to(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ModelFormatError(f"{path!r}: weights do not fit the network of step {name!r} ({exc})") from None
    return clf
