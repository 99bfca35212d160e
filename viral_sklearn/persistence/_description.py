"""The JSON description of a pipeline: parsed strictly, every step and value checked.

Nothing here builds an estimator that does work: parameters are checked with
each step class's own ``_parameter_constraints`` (so a parameter a class gains
later is checked as soon as it declares its constraint), machine-local
parameters are refused, and a few values that size the work of ``predict``
(sample rates, durations, FFT sizes) are bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from numbers import Integral, Real

from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_parameter_constraints,
)

from .. import ChorusExtractor, LSTMClassifier, MelSpectrogramTransformer, MonoMixer
from ._container import strict_json
from ._errors import ModelFormatError
from ._pooled import POOLED_TYPE, pooled_spec
from ._format import CLASSIFIER_PARAMS, FORMAT_VERSION, HEADER_KEY, MACHINE_LOCAL_PARAMS, PRE_METHOD_FORMATS

__all__ = ["CLASSIFIER_CONSTRAINTS", "SKOPS_STEP", "SONG_STEP_TYPES", "STEP_TYPES", "StepSpec", "read_description"]

#: a scikit-learn step, held by the file's skops payload (:mod:`._skops`)
SKOPS_STEP = "skops"
#: the step types a file may name, by class name: nothing else is ever built
#: (besides these, PooledMelTransformer and SKOPS_STEP)
SONG_STEP_TYPES = {cls.__name__: cls for cls in (MonoMixer, ChorusExtractor, MelSpectrogramTransformer)}
STEP_TYPES = {**SONG_STEP_TYPES, LSTMClassifier.__name__: LSTMClassifier}

#: constraints of the stored classifier parameters (skorch declares none)
CLASSIFIER_CONSTRAINTS: dict = {
    "lr": [Interval(Real, 0, None, closed="neither")],
    "max_epochs": [Interval(Integral, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1})],
    "train_split": [None, StrOptions({"auto"})],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "random_state": [None, Interval(Integral, 0, 2**32 - 1, closed="both")],
    "predict_nonlinearity": [None, StrOptions({"auto"})],
    **LSTMClassifier._parameter_constraints,
}

#: upper bounds on values that size the work of predict, by parameter name
#: (whichever step has it): a model file cannot ask for a 10 GHz resampling
#: or a year-long spectrogram
UPPER_BOUNDS = {
    "sample_rate": 384_000,
    "duration": 3600.0,
    "clip_length": 3600.0,
    "n_fft": 1 << 16,
    "hop_length": 1 << 16,
    "n_mels": 1024,
}

_MAX_STEPS = 16
_MAX_STRING = 1000
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_VERSION = re.compile(r"(\d{1,4})\.(\d{1,4})")
_ENTRY_KEYS = {"name", "type", "params"}
_CLASSIFIER_ENTRY_KEYS = _ENTRY_KEYS | {"module", "classes", "n_features_in"}


@dataclass
class StepSpec:
    """A checked step: its name, class and parameters (machine-local ones removed).

    A scikit-learn step (``"type": "skops"``) has ``cls=None``: it is built from the skops payload.
    """

    name: str
    cls: type
    params: dict
    entry: dict = field(repr=False)
    #: machine-local values of a format 1.0 file that differ from the defaults (ignored)
    ignored: dict = field(default_factory=dict)
    #: fitted attributes set on the built step (a PooledMelTransformer's shape)
    fitted: dict = field(default_factory=dict)


def _error(path: str, reason: str) -> ModelFormatError:
    return ModelFormatError(f"{path!r}: {reason}")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def read_description(path: str, metadata: dict) -> tuple[str, list[StepSpec]]:
    """The format version and the checked steps of a model file's description.

    Raises
    ------
    ModelFormatError
        No description, invalid JSON, an incompatible version, an unknown step
        type or parameter, a machine-local parameter, a value its step's
        constraints refuse or out of bounds.
    """
    if HEADER_KEY not in metadata:
        raise _error(path, "is a safetensors file but not a viral_sklearn model (no header)")
    try:
        header = strict_json(metadata[HEADER_KEY])
    except (ValueError, RecursionError) as exc:
        raise _error(path, f"the model description is not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(header, dict):
        raise _error(path, "the model description is not a JSON object")
    unknown = sorted(set(header) - {"format_version", "library_version", "steps", "skops"})
    if unknown:
        raise _error(path, f"unknown key(s) {unknown} in the model description"[:300])
    version = header.get("format_version")
    match = _VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is None or match.group(1) != FORMAT_VERSION.split(".")[0]:
        shown = version if isinstance(version, str) and len(version) < 20 else "(none)"
        raise _error(path, f"has model format {shown}; this viral_sklearn reads format {FORMAT_VERSION}")
    library = header.get("library_version", "")
    if not isinstance(library, str) or len(library) > 64:
        raise _error(path, "invalid library_version in the model description")
    entries = header.get("steps")
    if not isinstance(entries, list) or not entries:
        raise _error(path, "no steps in the model description")
    if len(entries) > _MAX_STEPS:
        raise _error(path, f"{len(entries)} steps in the model description, more than {_MAX_STEPS}")
    legacy = version == "1.0"
    specs, names = [], set()
    for i, entry in enumerate(entries):
        spec = _step(path, entry, legacy=legacy, last=i == len(entries) - 1)
        if spec.cls is ChorusExtractor and version in PRE_METHOD_FORMATS:
            # written when pychorus's algorithm was the only one: keep the
            # model's features as they were when it was trained
            spec.params.setdefault("method", "pychorus")
        if spec.name in names:
            raise _error(path, f"two steps are named {spec.name!r}")
        names.add(spec.name)
        specs.append(spec)
    if specs[-1].cls is not LSTMClassifier and specs[-1].entry["type"] != SKOPS_STEP:
        raise _error(path, "the last step must be a classifier: an LSTMClassifier or a scikit-learn step")
    return version, specs


def _step(path: str, entry, *, legacy: bool, last: bool) -> StepSpec:
    if not isinstance(entry, dict):
        raise _error(path, f"invalid step entry {_short(entry)}")
    kind, name = entry.get("type"), entry.get("name")
    if not isinstance(kind, str) or (kind not in STEP_TYPES and kind not in (POOLED_TYPE, SKOPS_STEP)):
        allowed = ", ".join(sorted([*STEP_TYPES, POOLED_TYPE, SKOPS_STEP]))
        raise _error(path, f"unknown step type {_short(kind)} (allowed: {allowed})")
    reserved = set(Pipeline([]).get_params(deep=False))
    if not isinstance(name, str) or not _NAME.fullmatch(name) or "__" in name or name in reserved:
        raise _error(path, f"invalid step name {_short(name)} (a Python identifier without '__', not one of "
                           f"{sorted(reserved)})")
    if kind == POOLED_TYPE:
        return pooled_spec(path, name, entry, StepSpec)
    if kind == SKOPS_STEP:  # built from the skops payload, which is checked on its own
        if set(entry) != {"name", "type"}:
            raise _error(path, f"unknown key(s) {sorted(set(entry) - {'name', 'type'})} in step {name!r} "
                               f"({SKOPS_STEP})"[:300])
        return StepSpec(name, None, {}, entry)
    cls = STEP_TYPES[kind]
    is_classifier = cls is LSTMClassifier
    if is_classifier and not last:
        raise _error(path, "an LSTMClassifier must be the last step")
    keys = _CLASSIFIER_ENTRY_KEYS if is_classifier else _ENTRY_KEYS
    extra = sorted(set(entry) - keys)
    if extra:
        raise _error(path, f"unknown key(s) {extra} in step {name!r} ({kind})"[:300])
    missing = sorted(keys - {"params"} - set(entry))
    if missing:
        raise _error(path, f"step {name!r} ({kind}) lacks {missing}")
    if is_classifier:
        allowed = set(CLASSIFIER_PARAMS)
        constraints = [CLASSIFIER_CONSTRAINTS, getattr(cls, "_parameter_constraints", {})]
    else:
        allowed = set(cls().get_params(deep=False)) - set(MACHINE_LOCAL_PARAMS)
        constraints = [cls._parameter_constraints]
    params, ignored = check_params(
        path, f"step {name!r} ({kind})", cls, entry.get("params", {}), allowed, constraints, legacy=legacy
    )
    return StepSpec(name, cls, params, entry, ignored)


def check_params(
    path: str, where: str, cls: type, params, allowed: set, constraints: list, *, legacy: bool
) -> tuple[dict, dict]:
    """Checked copy of a step's stored parameters, and the machine-local ones ignored.

    ``constraints`` is a list of ``_parameter_constraints``-style dicts; every
    stored parameter must be declared in the first one, and satisfy each one
    that declares it.  Machine-local parameters are refused, except in a
    format 1.0 (``legacy``) file, which always stored them: there they are
    dropped, and returned when they differ from the class's defaults.
    """
    if not isinstance(params, dict):
        raise _error(path, f"the parameters of {where} are not a mapping")
    params = dict(params)
    local = [k for k in params if k in MACHINE_LOCAL_PARAMS]
    if local and not legacy:
        shown = ", ".join(f"{k}={_short(params[k])}" for k in local)
        raise _error(
            path,
            f"{where} sets the machine-local parameter(s) {shown}; a model file never chooses where this "
            "machine writes, how many processes it starts, what it prints or which device it uses: pass "
            "memory=, n_jobs=, verbose=, device= to load_pipeline instead",
        )
    ignored = {}
    if local:  # format 1.0 always stored them: dropped, never applied
        defaults = cls().get_params(deep=False)
        ignored = {k: params[k] for k in local if k not in defaults or params[k] != defaults[k]}
        for k in local:
            del params[k]
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise _error(path, f"unknown parameter(s) {unknown} for {where}"[:300])
    for key, value in params.items():
        _check_scalar(path, where, key, value)
    undeclared = sorted(k for k in params if k not in constraints[0])
    if undeclared:
        raise _error(path, f"{where}: {cls.__name__} declares no constraint for {undeclared}, so they cannot be "
                           "checked and are refused")
    for declared in constraints:
        subset = {k: declared[k] for k in params if k in declared}
        try:
            validate_parameter_constraints(subset, params, caller_name=cls.__name__)
        except InvalidParameterError as exc:
            raise _error(path, f"{where}: {exc}") from None
    for key, bound in UPPER_BOUNDS.items():
        value = params.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > bound:
            raise _error(path, f"{where}: {key}={value!r} is above {bound}, the largest a model file may ask for")
    return params, ignored


def _check_scalar(path: str, where: str, key: str, value) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) >= 2**63:
            raise _error(path, f"{where}: parameter {key!r} is out of the 64-bit integer range")
        return
    if isinstance(value, float):
        return  # strict_json refuses NaN and infinity, however written
    if isinstance(value, str):
        if len(value) > _MAX_STRING:
            raise _error(path, f"{where}: parameter {key!r} is a string of {len(value)} characters")
        return
    raise _error(path, f"{where}: parameter {key!r} holds a {type(value).__name__}; a model file stores only "
                       "numbers, strings, booleans and null")
