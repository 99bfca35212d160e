"""The classifier of a model file: its network checked against the stored tensors, then built.

The network description (``LSTMModule``'s keyword arguments) is bounded, then
the module is instantiated on PyTorch's ``meta`` device, which records shapes
and allocates no memory: its state dict is the list of tensors, shapes and
dtypes the file must hold.  Only when the file's index matches it exactly are
the tensors read (their total size is bounded by the file's, already checked),
checked for NaN and infinity, and loaded into a real network.
"""

from __future__ import annotations

import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions

from .. import LSTMClassifier, LSTMModule
from ..models._readout import READOUTS
from ._container import Container, read_tensors
from ._description import StepSpec, check_params
from ._errors import ModelFormatError

__all__ = ["MODULE_CONSTRAINTS", "build_classifier", "check_network", "load_weights"]

#: the widest layer, the most layers and classes a model file may describe
MAX_WIDTH = 1 << 16
MAX_LAYERS = 64
MAX_KERNEL = 255

#: constraints of LSTMModule's keyword arguments (a test checks they cover its signature)
MODULE_CONSTRAINTS: dict = {
    "input_size": [Interval(Integral, 1, MAX_WIDTH, closed="both")],
    "hidden_size": [Interval(Integral, 1, MAX_WIDTH, closed="both")],
    "num_layers": [Interval(Integral, 1, MAX_LAYERS, closed="both")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "head_size": [Interval(Integral, 1, MAX_WIDTH, closed="both")],
    "n_classes": [Interval(Integral, 2, MAX_WIDTH, closed="both")],
    "standardize": ["boolean"],
    "readout": [StrOptions(set(READOUTS))],
    "bidirectional": ["boolean"],
    "conv_channels": [Interval(Integral, 0, MAX_WIDTH, closed="both")],
    "conv_kernel": [Interval(Integral, 1, MAX_KERNEL, closed="both")],
    "band_stats": ["boolean"],
}
_BOOLEAN_MODULE_KEYS = ("standardize", "bidirectional", "band_stats")
_REQUIRED_MODULE_KEYS = ("input_size", "n_classes")
_SAFETENSORS_DTYPE = {"float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16"}


def _error(path: str, reason: str) -> ModelFormatError:
    return ModelFormatError(f"{path!r}: {reason}")


def _module_kwargs(path: str, spec: StepSpec) -> dict:
    where = f"the network of step {spec.name!r}"
    raw = spec.entry["module"]
    if not isinstance(raw, dict):
        raise _error(path, f"invalid network description for step {spec.name!r}: not a mapping")
    kwargs, _ = check_params(
        path, where, LSTMModule, raw, set(MODULE_CONSTRAINTS), [MODULE_CONSTRAINTS], legacy=False
    )
    bad = sorted(k for k, v in kwargs.items() if isinstance(v, bool) and k not in _BOOLEAN_MODULE_KEYS)
    if bad:
        raise _error(path, f"invalid network description for step {spec.name!r}: {bad} are booleans, not numbers")
    missing = [k for k in _REQUIRED_MODULE_KEYS if k not in kwargs]
    if missing:
        raise _error(path, f"invalid network description for step {spec.name!r}: no {missing}")
    # a key the file lacks is LSTMModule's own default (older files hold that network)
    defaults = {k: p.default for k, p in inspect.signature(LSTMModule).parameters.items()
                if p.default is not inspect.Parameter.empty}
    return {**defaults, **kwargs}


def _classes(path: str, spec: StepSpec, n_classes: int) -> np.ndarray:
    payload = spec.entry["classes"]
    where = f"step {spec.name!r}: invalid 'classes' entry"
    if not isinstance(payload, dict) or set(payload) != {"dtype", "values"} or not isinstance(payload["values"], list):
        raise _error(path, f"{where} (expected {{'dtype': ..., 'values': [...]}})")
    kind, values = payload["dtype"], payload["values"]
    checks = {
        "bool": lambda v: isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**63,
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 2**1023,
        "str": lambda v: isinstance(v, str) and len(v) <= 1000,
    }
    if not isinstance(kind, str) or kind not in checks:
        raise _error(path, f"{where}: unknown dtype {str(kind)[:40]!r}")
    if not all(checks[kind](v) for v in values):
        raise _error(path, f"{where}: values are not all of dtype {kind}")
    if len(values) != n_classes:
        raise _error(path, f"{where}: {len(values)} labels for a network with n_classes={n_classes}")
    array = np.array(values, dtype={"bool": bool, "int": np.int64, "float": np.float64, "str": str}[kind])
    if len(np.unique(array)) != len(array) or not np.array_equal(np.sort(array), array):
        raise _error(path, f"{where}: labels must be distinct and sorted (as LabelEncoder stores them)")
    return array


def _expected_state(module_kwargs: dict) -> dict:
    """``{name: (shape, safetensors dtype)}`` of LSTMModule(**module_kwargs), allocating nothing."""
    import torch

    with torch.device("meta"):
        module = LSTMModule(**module_kwargs)
    return {
        k: (tuple(v.shape), _SAFETENSORS_DTYPE.get(str(v.dtype).removeprefix("torch."), str(v.dtype)))
        for k, v in module.state_dict().items()
    }


def check_network(path: str, spec: StepSpec, container: Container) -> dict:
    """Check the classifier's description and the file's tensors; read nothing.

    Returns ``{"module": kwargs, "classes": labels, "n_features_in": int,
    "tensors": {file name: state-dict name}}``.
    """
    module_kwargs = _module_kwargs(path, spec)
    classes = _classes(path, spec, module_kwargs["n_classes"])
    n_features_in = spec.entry["n_features_in"]
    if isinstance(n_features_in, bool) or n_features_in != module_kwargs["input_size"]:
        raise _error(path, f"step {spec.name!r}: n_features_in={n_features_in!r} differs from the network's "
                           f"input_size={module_kwargs['input_size']}")
    expected = _expected_state(module_kwargs)
    prefix = f"{spec.name}."
    stored = {k[len(prefix):]: e for k, e in container.tensors.items() if k.startswith(prefix)}
    described = ", ".join(f"{k}={v}" for k, v in sorted(module_kwargs.items()))
    missing = sorted(set(expected) - set(stored))
    if missing:
        raise _error(path, f"weights do not fit the network of step {spec.name!r}: no tensor {missing} in the "
                           f"file for the network described ({described})"[:500])
    extra = sorted(set(stored) - set(expected))
    if extra:
        raise _error(path, f"weights do not fit the network of step {spec.name!r}: tensor(s) {extra} are not "
                           f"part of the network described ({described})"[:500])
    for key, (shape, dtype) in expected.items():
        entry = stored[key]
        if entry.shape != shape:
            raise _error(path, f"weights do not fit the network of step {spec.name!r}: tensor {prefix + key!r} "
                               f"has shape {entry.shape} in the file, the network described ({described}) "
                               f"needs {shape}")
        if entry.dtype != dtype:
            raise _error(path, f"weights do not fit the network of step {spec.name!r}: tensor {prefix + key!r} "
                               f"is {entry.dtype} in the file, the network needs {dtype}")
    return {
        "module": module_kwargs,
        "classes": classes,
        "n_features_in": int(n_features_in),
        "tensors": {prefix + k: k for k in expected},
    }


def load_weights(path: str, container: Container, network: dict) -> dict:
    """The checked tensors of one network as a state dict (CPU), refusing NaN and infinity."""
    import torch

    arrays = read_tensors(container, list(network["tensors"]))
    for name, array in arrays.items():
        if not np.isfinite(array).all():
            raise _error(path, f"tensor {name!r} holds NaN or infinite values")
        if network["tensors"][name] == "scaler.std" and not (array > 0).all():
            raise _error(path, f"tensor {name!r} (the input standardisation's std) holds values <= 0")
    return {network["tensors"][name]: torch.from_numpy(array) for name, array in arrays.items()}


def build_classifier(spec: StepSpec, network: dict, state: dict, *, device, verbose) -> LSTMClassifier:
    """The fitted classifier: parameters from the file, machine settings from the caller."""
    import torch

    module = {f"module__{k}": v for k, v in network["module"].items()}
    clf = LSTMClassifier(**spec.params, device=device, verbose=int(verbose), **module)
    encoder = LabelEncoder()
    encoder.classes_ = network["classes"]
    clf.label_encoder_ = encoder
    clf.n_features_in_ = network["n_features_in"]
    with torch.random.fork_rng(devices=[]):  # the random initialisation leaves the caller's stream alone
        clf.initialize()
    clf.module_.load_state_dict(state, strict=True)
    clf.module_.to(clf.device)
    return clf
