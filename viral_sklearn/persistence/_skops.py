"""The scikit-learn steps of a model file: one skops payload, checked before skops builds it.

A pipeline's scikit-learn steps (``StandardScaler``, ``LogisticRegression``,
``HistGradientBoostingClassifier`` ...) are saved together with
:func:`skops.io.dumps` as a list, stored as the ``uint8`` tensor
:data:`PAYLOAD_TENSOR` of the model file; the description names them
``{"name": ..., "type": "skops"}`` in their places and says, under ``"skops"``,
how many bytes the payload has.  Loading checks, in this order, before anything
of the payload is built:

1. the payload's size against what the description claims, and a bound;
2. the zip archive: members stored uncompressed, each as long as it says and
   all together no longer than the payload (no zip bomb, no overlapping
   members), each array's ``.npy`` header (no object dtype; shape x item size
   equal to the bytes stored);
3. every type skops would build (:func:`skops.io.get_untrusted_types`) against
   :data:`ALLOWED_TYPES`, a fixed allow-list; a file naming any other type is
   refused, with every unknown type named.

Only then :func:`skops.io.loads` builds it, trusting the types found (all on
the allow-list; never ``trusted=True``), and the built objects are checked
before they are returned: the steps are scikit-learn estimators whose
parameters pass their own ``_parameter_constraints``; no machine-local
parameter (``n_jobs``, ``verbose``, ``memory``) differs from its default;
gradient-boosted trees are consistent (:func:`_check_trees`),
because scikit-learn's compiled tree code indexes them without bounds checks.
"""

from __future__ import annotations

import copy
import inspect
import io
import json
import zipfile

import numpy as np

from ._errors import ModelFormatError
from ._format import MACHINE_LOCAL_PARAMS

__all__ = ["ALLOWED_TYPES", "PAYLOAD_TENSOR", "SklearnPart", "build_sklearn_steps", "check_payload", "unknown_types"]

#: the tensor of a model file holding the skops payload (a step name cannot contain "__")
PAYLOAD_TENSOR = "__skops__"
#: the largest skops payload read (a 100-iteration gradient boosting model is ~2 MB)
MAX_PAYLOAD_SIZE = 1 << 28
#: the most members its zip archive may have
MAX_MEMBERS = 100_000
#: the largest .npy header read
_MAX_NPY_HEADER = 10_000

#: scikit-learn's internal types that fitted estimators of the allow-list hold
#: (losses, links, the binning of gradient boosting) and skops trusts; plus
#: gradient boosting's TreePredictor, which skops does not trust (its ``nodes``
#: are indexed without bounds checks): we check every tree it holds before
#: anything predicts (:func:`_check_trees`)
INTERNAL_TYPES = (
    "sklearn._loss.link.HalfLogitLink",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.LogLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.loss.AbsoluteError",
    "sklearn._loss.loss.ExponentialLoss",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfGammaLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfPoissonLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.loss.HuberLoss",
    "sklearn._loss.loss.PinballLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)
_TREE_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"

#: estimators left out although public: their job is to call a function the file names
EXCLUDED_ESTIMATORS = ("sklearn.preprocessing._function_transformer.FunctionTransformer",)


def _type_name(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _public_estimators() -> tuple[str, ...]:
    from sklearn.utils import all_estimators

    names = {_type_name(cls) for _, cls in all_estimators()}
    return tuple(sorted(n for n in names if n.startswith("sklearn.") and n not in EXCLUDED_ESTIMATORS))


#: every type a skops payload may ask for beyond the builtins, numpy arrays,
#: dtypes and ufuncs skops itself builds: scikit-learn's public estimators
#: (``sklearn.utils.all_estimators``, but FunctionTransformer) and
#: :data:`INTERNAL_TYPES`.  Our own steps are never in the payload: they are
#: described in JSON (their module path may change; their names do not).
ALLOWED_TYPES = frozenset(_public_estimators() + INTERNAL_TYPES)


def _error(path: str, reason: str) -> ModelFormatError:
    return ModelFormatError(f"{path!r}: {reason}")


def _named_types(schema) -> set:
    """Every ``module.class`` a skops schema names (walked without recursion)."""
    names, stack = set(), [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module, cls = node.get("__module__"), node.get("__class__")
            if isinstance(module, str) and isinstance(cls, str):
                names.add(f"{module}.{cls}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names


def unknown_types(payload: bytes) -> list[str]:
    """The types of a skops payload that are not on :data:`ALLOWED_TYPES`, sorted.

    Those :func:`skops.io.get_untrusted_types` reports, and the ones skops
    trusts by default that we do not: skops trusts every public scikit-learn
    estimator, :data:`EXCLUDED_ESTIMATORS` included (it also builds builtins,
    numpy arrays, dtypes, ufuncs and scikit-learn's loss objects by default);
    and any type of ours (our steps are never in the payload).
    """
    import skops.io

    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        schema = json.loads(archive.read("schema.json"))
    ours = {t for t in _named_types(schema) if t in EXCLUDED_ESTIMATORS or t.startswith("viral_sklearn.")}
    return sorted((set(skops.io.get_untrusted_types(data=payload)) | ours) - ALLOWED_TYPES)


def _machine_local(est) -> list[tuple[str, object, object]]:
    """``(parameter key, owner, default)`` of every machine-local parameter of ``est`` and the
    estimators among its parameters (``clf__n_jobs`` ...)."""
    params = est.get_params(deep=True)
    found = []
    for key in params:
        owner_key, _, last = key.rpartition("__")
        if last not in MACHINE_LOCAL_PARAMS:
            continue
        owner = params[owner_key] if owner_key else est
        parameter = inspect.signature(type(owner)).parameters.get(last)
        if parameter is not None and parameter.default is not inspect.Parameter.empty:
            found.append((key, owner, parameter.default))
    return found


def _same(value, default) -> bool:
    scalar = (type(None), bool, int, float, str)
    return type(value) in scalar and type(default) in scalar and type(value) is type(default) and value == default


class SklearnPart:
    """The scikit-learn steps of a pipeline being saved, as one skops payload."""

    def __init__(self):
        self.estimators = []

    def add(self, name: str, est) -> dict:
        """Take a fitted scikit-learn step; its description entry."""
        from sklearn.base import BaseEstimator
        from sklearn.utils.validation import check_is_fitted

        if not isinstance(est, BaseEstimator) or not type(est).__module__.startswith("sklearn."):
            raise TypeError(f"step {name!r} of type {type(est).__name__} cannot be stored in the safe format "
                            "(only our steps and scikit-learn's estimators can); use joblib")
        check_is_fitted(est)
        est = copy.deepcopy(est)
        for key, _, default in _machine_local(est):  # this machine's settings are no part of the model
            est.set_params(**{key: default})
        self.estimators.append(est)
        return {"name": name, "type": "skops"}

    def dump(self) -> tuple[dict, dict]:
        """``(description entry, {tensor name: uint8 tensor})``; nothing when there are no steps.

        Raises
        ------
        TypeError
            The steps hold a type the loader would refuse (not on :data:`ALLOWED_TYPES`).
        """
        if not self.estimators:
            return {}, {}
        import skops
        import skops.io
        import torch

        payload = skops.io.dumps(self.estimators)
        refused = unknown_types(payload)
        if refused:
            raise TypeError(f"the scikit-learn steps hold types the safe format does not load: {', '.join(refused)}; "
                            "use joblib")
        if len(payload) > MAX_PAYLOAD_SIZE:
            raise ValueError(f"the scikit-learn steps take {len(payload)} bytes, more than the {MAX_PAYLOAD_SIZE} "
                             "a model file may hold")
        tensor = torch.frombuffer(bytearray(payload), dtype=torch.uint8)
        entry = {"nbytes": len(payload), "skops_version": skops.__version__}
        return entry, {PAYLOAD_TENSOR: tensor}


def _check_zip(path: str, payload: bytes) -> None:
    """The archive's members: stored, sized as they say, no bomb; each array's header."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _error(path, f"the scikit-learn part is not a skops archive ({str(exc)[:200]})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise _error(path, f"the scikit-learn part has {len(infos)} members, more than {MAX_MEMBERS}")
        names = [info.filename for info in infos]
        if len(set(names)) != len(names) or "schema.json" not in names:
            raise _error(path, "the scikit-learn part is not a skops archive (repeated members, or no schema.json)")
        total = 0
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
                raise _error(path, f"the scikit-learn part's member {info.filename[:80]!r} is compressed: the safe "
                                   "format stores it uncompressed, so no file expands beyond its size (a zip bomb)")
            total += info.file_size
        if total > len(payload):
            raise _error(path, f"the scikit-learn part's members claim {total} bytes, more than its {len(payload)} "
                               "(overlapping members: a zip bomb)")
        for info in infos:
            if info.filename.endswith(".npy"):
                _check_npy(path, archive, info)


def _check_npy(path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    from numpy.lib import format as npy

    where = f"the scikit-learn part's array {info.filename[:80]!r}"
    with archive.open(info) as fh:
        head = io.BytesIO(fh.read(min(info.file_size, _MAX_NPY_HEADER + 16)))
    try:
        version = npy.read_magic(head)
        read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, _, dtype = read(head, max_header_size=_MAX_NPY_HEADER)
    except (ValueError, SyntaxError, TypeError, OverflowError) as exc:
        raise _error(path, f"{where} has no valid .npy header ({str(exc)[:200]})") from None
    if dtype.hasobject:
        raise _error(path, f"{where} holds Python objects")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if head.tell() + nbytes != info.file_size:
        raise _error(path, f"{where}: shape {shape} of {dtype} is {nbytes} bytes, the member holds "
                           f"{info.file_size - head.tell()}")


def check_payload(path: str, container, header: dict, specs) -> bytes | None:
    """The checked skops payload of a model file (``None`` if it has no scikit-learn step).

    Raises
    ------
    ModelFormatError
        See the module's docstring: sizes, the archive, a type not on the allow-list (all named).
    """
    from ._container import read_tensors

    n_steps = sum(spec.cls is None for spec in specs)
    claim = header.get("skops")
    if n_steps == 0 and claim is None and PAYLOAD_TENSOR not in container.tensors:
        return None
    if n_steps == 0 or not isinstance(claim, dict) or set(claim) != {"nbytes", "skops_version"}:
        raise _error(path, f"the description has {n_steps} scikit-learn step(s) but its 'skops' entry is "
                           f"{str(claim)[:100]}")
    nbytes = claim["nbytes"]
    entry = container.tensors.get(PAYLOAD_TENSOR)
    if type(nbytes) is not int or not 0 < nbytes <= MAX_PAYLOAD_SIZE:
        raise _error(path, f"the scikit-learn part claims {str(nbytes)[:40]} bytes; at most {MAX_PAYLOAD_SIZE}")
    if entry is None or entry.dtype != "U8" or len(entry.shape) != 1:
        raise _error(path, f"no {PAYLOAD_TENSOR!r} tensor of bytes holding the scikit-learn part")
    if entry.shape[0] != nbytes:
        raise _error(path, f"the scikit-learn part is {entry.shape[0]} bytes in the file, the description says "
                           f"{nbytes}")
    payload = read_tensors(container, [PAYLOAD_TENSOR])[PAYLOAD_TENSOR].tobytes()
    _check_zip(path, payload)
    try:
        unknown = unknown_types(payload)
    except Exception as exc:  # skops's own checks of the schema (protocol, structure), invalid JSON
        raise _error(path, f"the scikit-learn part is not a valid skops payload ({type(exc).__name__}: "
                           f"{str(exc)[:200]})") from None
    if unknown:
        raise _error(path, f"the scikit-learn part asks for {len(unknown)} type(s) not on the allow-list, so "
                           f"nothing of it is loaded: {', '.join(unknown)}"[:2000])
    return payload


def _objects(root):
    """Every object reachable from ``root`` through lists, tuples, dicts and attributes."""
    seen, stack = set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None), np.generic)):
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                stack.extend(obj.ravel().tolist())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())


def _check_trees(path: str, est, where: str) -> set:
    """A fitted HistGradientBoosting model's trees: every child after its parent and inside
    the tree, every split on a feature it has, no categorical split.  The ids of its trees."""
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

    if not hasattr(est, "_predictors"):
        return set()
    n_features, per_iteration = est.n_features_in_, getattr(est, "n_trees_per_iteration_", None)
    if type(n_features) is not int or n_features < 1 or type(per_iteration) is not int or per_iteration < 1:
        raise _error(path, f"{where}: invalid n_features_in_ or n_trees_per_iteration_")
    categorical = [getattr(est, "is_categorical_", None), getattr(est._bin_mapper, "is_categorical_", None)]
    if getattr(est, "_preprocessor", None) is not None or any(c is not None and np.any(c) for c in categorical):
        raise _error(path, f"{where}: gradient boosting with categorical features is not loaded from model files")
    checked = set()
    if not isinstance(est._predictors, list):
        raise _error(path, f"{where}: its trees are not a list")
    for i, row in enumerate(est._predictors):
        if not isinstance(row, list) or len(row) != per_iteration:
            raise _error(path, f"{where}: iteration {i} does not have {per_iteration} trees")
        for k, tree in enumerate(row):
            nodes = getattr(tree, "nodes", None)
            if type(tree) is not TreePredictor or not isinstance(nodes, np.ndarray) or nodes.ndim != 1 \
                    or nodes.dtype != PREDICTOR_RECORD_DTYPE or nodes.size == 0:
                raise _error(path, f"{where}: tree {k} of iteration {i} is not a tree of nodes")
            index = np.arange(nodes.size)
            split = nodes["is_leaf"] == 0
            bad = (
                ~np.isin(nodes["is_leaf"], (0, 1)) | (nodes["is_categorical"] != 0)
                | split & ((nodes["left"] <= index) | (nodes["left"] >= nodes.size)
                           | (nodes["right"] <= index) | (nodes["right"] >= nodes.size)
                           | (nodes["feature_idx"] < 0) | (nodes["feature_idx"] >= n_features))
            )
            if bad.any():
                node = int(np.flatnonzero(bad)[0])
                raise _error(path, f"{where}: tree {k} of iteration {i}, node {node}: its children or feature are "
                                   f"out of the tree ({nodes.size} nodes, {n_features} features) or it is "
                                   "categorical")
            checked.add(id(tree))
    return checked


def build_sklearn_steps(path: str, payload: bytes, n_steps: int) -> list:
    """The scikit-learn steps of a checked payload, built and checked.

    Their machine-local parameters are their defaults (``n_jobs=None``: the
    active joblib back-end decides; ``verbose=0``): the file holds none.

    Raises
    ------
    ModelFormatError
        Not a list of scikit-learn estimators, a parameter its estimator
        refuses, a machine-local parameter set in the file, inconsistent trees.
    """
    import skops.io
    from sklearn.base import BaseEstimator
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.utils._param_validation import InvalidParameterError

    trusted = sorted(set(skops.io.get_untrusted_types(data=payload)) & ALLOWED_TYPES)
    try:
        steps = skops.io.loads(payload, trusted=trusted)
    except Exception as exc:
        raise _error(path, f"the scikit-learn part cannot be built ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(steps, list) or not all(isinstance(s, BaseEstimator) for s in steps) or len(steps) != n_steps:
        raise _error(path, f"the scikit-learn part is not a list of {n_steps} scikit-learn estimator(s), one per "
                           "scikit-learn step of the description")
    trees = set()
    for obj in _objects(steps):
        if not isinstance(obj, BaseEstimator):
            continue
        where = f"the scikit-learn step {type(obj).__name__}"
        if _type_name(type(obj)) not in ALLOWED_TYPES:
            raise _error(path, f"{where} is not on the allow-list")
        try:
            if hasattr(obj, "_parameter_constraints"):
                obj._validate_params()
        except (InvalidParameterError, ValueError, TypeError) as exc:
            raise _error(path, f"{where}: {str(exc)[:300]}") from None
        for key, _, default in _machine_local(obj):
            value = obj.get_params(deep=True)[key]
            if "__" not in key and not _same(value, default):
                raise _error(path, f"{where} sets the machine-local parameter {key}={str(value)[:60]}; a model file "
                                   "never does")
        if isinstance(obj, (HistGradientBoostingClassifier, HistGradientBoostingRegressor)):
            trees |= _check_trees(path, obj, where)
    if any(isinstance(obj, TreePredictor) and id(obj) not in trees for obj in _objects(steps)):
        raise _error(path, "the scikit-learn part holds a tree of no gradient boosting model")
    return steps
