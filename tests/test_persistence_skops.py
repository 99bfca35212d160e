"""The safe format with scikit-learn steps: one skops payload in our container, on an allow-list."""

from __future__ import annotations

import builtins
import copy
import io
import json
import os
import re
import zipfile

import numpy as np
import pytest
import skops.io
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from viral_sklearn import PooledMelTransformer
from viral_sklearn.persistence import FORMAT_VERSION, ModelFormatError, load_model, load_pipeline, save_pipeline
from viral_sklearn.persistence._skops import ALLOWED_TYPES, PAYLOAD_TENSOR

from ._model_files import MB, measure, read_raw, tiny_pipeline, tiny_songs, write_raw


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    paths, labels = tiny_songs(tmp_path_factory.mktemp("songs"))
    lstm = tiny_pipeline()
    return np.array(paths, dtype=object), np.array(labels), lstm


def _pooled(lstm, classifier, **pool):
    return Pipeline(clone(lstm[:-1]).steps + [("pool", PooledMelTransformer(**pool)), ("scale", StandardScaler()),
                                             ("clf", classifier)])


@pytest.fixture(scope="module")
def fitted(songs):
    paths, y, lstm = songs
    return {
        "lstm": clone(lstm).fit(paths, y),
        "pooled-logistic": _pooled(lstm, LogisticRegression(C=0.5), percentiles=(10, 90)).fit(paths, y),
        "pooled-boosting": _pooled(lstm, HistGradientBoostingClassifier(max_iter=8, min_samples_leaf=2,
                                                                        random_state=0), deltas=True).fit(paths, y),
    }


@pytest.mark.parametrize("name", ["lstm", "pooled-logistic", "pooled-boosting"])
def test_round_trip_gives_identical_predictions(songs, fitted, name, tmp_path):
    paths, _, _ = songs
    pipe = fitted[name]
    path = save_pipeline(pipe, tmp_path / "model.safetensors")
    loaded = load_pipeline(path)
    assert [n for n, _ in loaded.steps] == [n for n, _ in pipe.steps]
    assert [type(s) for _, s in loaded.steps] == [type(s) for _, s in pipe.steps]
    np.testing.assert_array_equal(loaded.predict_proba(paths), pipe.predict_proba(paths))
    np.testing.assert_array_equal(loaded.predict(paths), pipe.predict(paths))
    assert load_model(path).get_params(deep=False).keys() == pipe.get_params(deep=False).keys()
    _, description, _ = read_raw(path)
    assert description["format_version"] == FORMAT_VERSION
    assert ("skops" in description) == (name != "lstm")


@pytest.mark.parametrize("name", ["LSTM", "pooled-mel logistic", "pooled-mel boosting", "LSTM, offset clip",
                                  "pooled-mel logistic, offset clip", "pooled-mel logistic, loudest clip"])
def test_every_demo_candidate_round_trips(songs, name, tmp_path):
    """Whichever candidate ``make_demo`` finds best is saved in the safe format: each one round-trips."""
    from viral_sklearn.cli.demo import demo_candidates

    paths, y, _ = songs
    candidates = demo_candidates(clip_length=1.0, max_epochs=1, random_state=0)
    assert set(candidates) >= {name}
    pipe = candidates[name].set_params(chorus__sample_rate=8000, chorus__offset=0.5, mel__sample_rate=8000, mel__hop_length=160,
                    mel__n_fft=400).fit(paths, y)
    loaded = load_pipeline(save_pipeline(pipe, tmp_path / "model.safetensors"))
    assert [type(s) for _, s in loaded.steps] == [type(s) for _, s in pipe.steps]
    np.testing.assert_array_equal(loaded.predict_proba(paths), pipe.predict_proba(paths))


def test_pooled_step_is_described_in_json_not_in_the_payload(fitted, tmp_path):
    path = save_pipeline(fitted["pooled-logistic"], tmp_path / "model.safetensors")
    index, description, data = read_raw(path)
    pool = description["steps"][3]
    assert pool == {"name": "pool", "type": "PooledMelTransformer",
                    "params": {"statistics": ["mean", "std"], "percentiles": [10.0, 90.0], "deltas": False},
                    "fitted": {"n_features_in": 16, "n_frames_in": 51}}
    assert [s["type"] for s in description["steps"][4:]] == ["skops", "skops"]
    begin, end = index[PAYLOAD_TENSOR]["data_offsets"]
    assert description["skops"]["nbytes"] == end - begin
    assert not [t for t in skops.io.get_untrusted_types(data=data[begin:end]) if t.startswith("viral_sklearn")]
    loaded = load_pipeline(path).named_steps["pool"]
    assert (loaded.percentiles, loaded.n_features_in_, loaded.n_frames_in_) == ((10.0, 90.0), 16, 51)


def test_grid_search_best_estimator_round_trips(songs, fitted, tmp_path):
    paths, y, _ = songs
    features = fitted["lstm"][:-1].transform(paths)
    grid = GridSearchCV(Pipeline([("pool", PooledMelTransformer()), ("scale", StandardScaler()),
                                  ("clf", LogisticRegression())]), {"clf__C": [0.1, 1.0]}, cv=2, n_jobs=1)
    grid.fit(features, y)
    path = save_pipeline(grid.best_estimator_, tmp_path / "best.safetensors")
    loaded = load_pipeline(path)
    assert loaded.named_steps["clf"].C == grid.best_params_["clf__C"]
    np.testing.assert_array_equal(loaded.predict_proba(features), grid.best_estimator_.predict_proba(features))


def test_machine_local_settings_of_sklearn_steps_are_not_stored(songs, fitted, tmp_path):
    paths, _, _ = songs
    pipe = copy.deepcopy(fitted["pooled-boosting"])
    pipe.set_params(clf__verbose=2, mel__n_jobs=2)
    path = save_pipeline(pipe, tmp_path / "model.safetensors")
    assert pipe.named_steps["clf"].verbose == 2  # the caller's pipeline is left alone
    loaded = load_pipeline(path, n_jobs=3)
    assert loaded.named_steps["clf"].verbose == 0
    assert loaded.named_steps["mel"].n_jobs == 3
    np.testing.assert_array_equal(loaded.predict_proba(paths), pipe.predict_proba(paths))


def test_older_format_files_still_load(songs, fitted, tmp_path):
    paths, _, _ = songs
    path = save_pipeline(fitted["lstm"], tmp_path / "model.safetensors")
    index, description, data = read_raw(path)
    description["format_version"] = "1.2"
    old = write_raw(tmp_path / "old.safetensors", index, description, data)
    np.testing.assert_array_equal(load_pipeline(old).predict_proba(paths), fitted["lstm"].predict_proba(paths))


def test_save_refuses_steps_the_loader_would_refuse(songs, fitted, tmp_path):
    paths, y, lstm = songs
    features = fitted["lstm"][:-1].transform(paths)
    funny = Pipeline([("f", FunctionTransformer(func=np.abs)), ("pool", PooledMelTransformer()),
                      ("clf", LogisticRegression())]).fit(features, y)
    with pytest.raises(TypeError, match="types the safe format does not load: .*FunctionTransformer"):
        save_pipeline(funny, tmp_path / "x.safetensors")
    with pytest.raises(NotFittedError, match="PooledMelTransformer instance is not fitted"):
        save_pipeline(_pooled(lstm, LogisticRegression()), tmp_path / "y.safetensors")
    with pytest.raises(TypeError, match="last step must be a classifier"):
        save_pipeline(fitted["pooled-logistic"][:-2], tmp_path / "z.safetensors")  # ends with the pooling
    assert not os.listdir(tmp_path)


def test_allow_list_is_fixed_and_holds_no_function_runner():
    assert "sklearn.linear_model._logistic.LogisticRegression" in ALLOWED_TYPES
    assert "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier" in ALLOWED_TYPES
    assert "sklearn.preprocessing._function_transformer.FunctionTransformer" not in ALLOWED_TYPES
    assert not [t for t in ALLOWED_TYPES if not t.startswith("sklearn.")]
    assert "sklearn.tree._tree.Tree" not in ALLOWED_TYPES  # unchecked, as skops says


# -- hand-edited files ------------------------------------------------------------------------------


def _parts(path):
    index, description, data = read_raw(path)
    begin, end = index[PAYLOAD_TENSOR]["data_offsets"]
    return index, description, data, data[begin:end]


def _with_payload(path, out, payload: bytes, *, claim: int | None = None):
    """The model file at ``path`` with its skops payload replaced (the description claims ``claim`` bytes)."""
    index, description, data, old = _parts(path)
    begin, end = index[PAYLOAD_TENSOR]["data_offsets"]
    assert end == len(data)  # the payload is the last tensor: replace it in place
    index[PAYLOAD_TENSOR] = {"dtype": "U8", "shape": [len(payload)], "data_offsets": [begin, begin + len(payload)]}
    description["skops"]["nbytes"] = len(payload) if claim is None else claim
    return write_raw(out, index, description, data[:begin] + payload)


def _edit_schema(payload: bytes, edit) -> bytes:
    """The payload with ``edit(schema dict)`` applied to its schema.json (members kept, stored)."""
    source = zipfile.ZipFile(io.BytesIO(payload))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "schema.json":
                schema = json.loads(content)
                edit(schema)
                content = json.dumps(schema).encode()
            target.writestr(name, content)
    return buffer.getvalue()


def _swap_class(module: str, cls: str):
    """An edit turning the first StandardScaler of the schema into ``module.cls``."""
    def edit(node):
        if isinstance(node, dict):
            if node.get("__class__") == "StandardScaler":
                node["__module__"], node["__class__"] = module, cls
                return True
            return any(edit(v) for v in node.values())
        if isinstance(node, list):
            return any(edit(v) for v in node)
        return False

    def run(schema):
        assert edit(schema)
    return run


@pytest.fixture
def nothing_is_built(monkeypatch):
    """Fail the test if skops builds anything, or our network is built."""
    def refuse(*args, **kwargs):
        raise AssertionError("skops.io.loads was called on a file that should have been refused")

    monkeypatch.setattr(skops.io, "loads", refuse)


@pytest.mark.parametrize("module, cls", [("os", "system"), ("builtins", "eval"), ("posix", "system")])
def test_swapped_type_is_refused_before_anything_is_built(fitted, tmp_path, module, cls, nothing_is_built):
    path = save_pipeline(fitted["pooled-logistic"], tmp_path / "model.safetensors")
    payload = _edit_schema(_parts(path)[3], _swap_class(module, cls))
    bad = _with_payload(path, tmp_path / "bad.safetensors", payload)
    with pytest.raises(ModelFormatError, match=rf"bad\.safetensors.*not on the allow-list.*: {module}\.{cls}$"):
        load_pipeline(bad)


def test_function_transformer_with_a_function_is_refused_naming_every_type(songs, fitted, tmp_path, monkeypatch):
    paths, y, _ = songs
    features = fitted["pooled-logistic"][:-2].transform(paths)
    calls = []
    monkeypatch.setattr(builtins, "eval", lambda *a: calls.append(a))
    payload = skops.io.dumps([FunctionTransformer(func=os.system).fit(features),
                              LogisticRegression().fit(features, y)])
    path = save_pipeline(fitted["pooled-logistic"], tmp_path / "model.safetensors")
    bad = _with_payload(path, tmp_path / "bad.safetensors", payload)

    def refuse(*args, **kwargs):
        raise AssertionError("skops.io.loads was called")

    monkeypatch.setattr(skops.io, "loads", refuse)
    with pytest.raises(ModelFormatError) as info:
        load_pipeline(bad)
    message = str(info.value)
    assert "bad.safetensors" in message and "2 type(s) not on the allow-list" in message
    assert "sklearn.preprocessing._function_transformer.FunctionTransformer" in message
    assert f"{os.system.__module__}.system" in message
    assert calls == []


def test_payload_larger_than_the_description_claims_is_refused(fitted, tmp_path, nothing_is_built):
    path = save_pipeline(fitted["pooled-logistic"], tmp_path / "model.safetensors")
    payload = _parts(path)[3]
    bigger = _with_payload(path, tmp_path / "bigger.safetensors", payload + b"\0" * 64, claim=len(payload))
    with pytest.raises(ModelFormatError, match=rf"bigger\.safetensors.*is {len(payload) + 64} bytes in the file, "
                                               rf"the description says {len(payload)}"):
        load_pipeline(bigger)
    index, description, data, _ = _parts(path)
    begin, _ = index[PAYLOAD_TENSOR]["data_offsets"]
    index[PAYLOAD_TENSOR]["shape"] = [len(payload) + 1000]
    index[PAYLOAD_TENSOR]["data_offsets"] = [begin, begin + len(payload) + 1000]
    description["skops"]["nbytes"] = len(payload) + 1000
    truncated = write_raw(tmp_path / "truncated.safetensors", index, description, data)
    with pytest.raises(ModelFormatError, match=r"truncated\.safetensors.*truncated file"):
        load_pipeline(truncated)


def test_zip_bomb_is_refused_cheaply(fitted, tmp_path, nothing_is_built):
    path = save_pipeline(fitted["pooled-logistic"], tmp_path / "model.safetensors")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        bomb.writestr("schema.json", b" " * (200 * MB))  # ~200 KB compressed
    payload = buffer.getvalue()
    assert len(payload) < MB
    bad = _with_payload(path, tmp_path / "bomb.safetensors", payload)
    result = measure(lambda: load_pipeline(bad))
    assert isinstance(result.error, ModelFormatError), result.error
    assert "bomb.safetensors" in str(result.error) and "compressed" in str(result.error)
    assert result.total < 8 * MB, str(result)


def test_array_larger_than_its_member_is_refused(fitted, tmp_path, nothing_is_built):
    path = save_pipeline(fitted["pooled-logistic"], tmp_path / "model.safetensors")
    source = zipfile.ZipFile(io.BytesIO(_parts(path)[3]))
    buffer, edited = io.BytesIO(), []
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            found = re.search(rb"'shape': \((\d+),\)", content)
            if name.endswith(".npy") and found and not edited:  # same header length, 10x the elements claimed
                n = found.group(1)
                content = content.replace(b"(" + n + b",)", b"(" + b"9" * len(n) + b",)", 1)
                edited.append(b"9" * len(n))
            target.writestr(name, content)
    bad = _with_payload(path, tmp_path / "bad.safetensors", buffer.getvalue())
    shape = edited[0].decode()
    with pytest.raises(ModelFormatError, match=rf"bad\.safetensors.*array .*shape \({shape},\) of float\d+ is "
                                               r"\d+ bytes, the member holds \d+"):
        load_pipeline(bad)


def test_machine_local_parameter_in_the_payload_is_refused(songs, fitted, tmp_path):
    paths, y, _ = songs
    features = fitted["pooled-logistic"][:-2].transform(paths)
    payload = skops.io.dumps([StandardScaler().fit(features), LogisticRegression(verbose=3).fit(features, y)])
    path = save_pipeline(fitted["pooled-logistic"], tmp_path / "model.safetensors")
    bad = _with_payload(path, tmp_path / "bad.safetensors", payload)
    with pytest.raises(ModelFormatError, match=r"bad\.safetensors.*LogisticRegression sets the machine-local "
                                               r"parameter verbose=3"):
        load_pipeline(bad)


@pytest.mark.parametrize("field, value, reason", [
    ("left", 10**6, "children or feature are out of the tree"),
    ("left", 0, "children or feature are out of the tree"),  # a cycle: predict would never end
    ("feature_idx", 10**4, "children or feature are out of the tree"),
])
def test_gradient_boosting_trees_out_of_bounds_are_refused(songs, fitted, tmp_path, field, value, reason):
    paths, _, _ = songs
    pipe = copy.deepcopy(fitted["pooled-boosting"])
    tree = pipe.named_steps["clf"]._predictors[0][0]
    assert not tree.nodes["is_leaf"][0]
    tree.nodes[field][0] = value
    payload = skops.io.dumps([pipe.named_steps["scale"], pipe.named_steps["clf"]])
    path = save_pipeline(fitted["pooled-boosting"], tmp_path / "model.safetensors")
    bad = _with_payload(path, tmp_path / "bad.safetensors", payload)
    with pytest.raises(ModelFormatError, match=rf"bad\.safetensors.*tree 0 of iteration 0, node 0: its {reason}"):
        load_pipeline(bad)
