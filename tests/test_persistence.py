"""Safe persistence: safetensors weights + JSON description, nothing unpickled."""

from __future__ import annotations

import copy
import inspect
import json
import os
import pickle
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import StrOptions

from viral_sklearn import LSTMClassifier, LSTMModule, make_viral_pipeline
from viral_sklearn import MonoMixer as _MonoMixer
from viral_sklearn.persistence import (
    FORMAT_VERSION,
    MACHINE_LOCAL_PARAMS,
    ModelFormatError,
    UntrustedPickleError,
    load_model,
    load_pipeline,
    save_pipeline,
)
from viral_sklearn.persistence._description import CLASSIFIER_CONSTRAINTS, SONG_STEP_TYPES, STEP_TYPES
from viral_sklearn.persistence._format import CLASSIFIER_PARAMS
from viral_sklearn.persistence._network import MODULE_CONSTRAINTS

from ._model_files import read_raw, sandbox_dirs, tiny_pipeline, tiny_songs, write_raw, written_files


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    paths, labels = tiny_songs(tmp_path_factory.mktemp("songs"))
    pipe = tiny_pipeline()
    pipe.fit(paths, np.array(labels))
    return pipe, paths


def test_round_trip_gives_identical_probabilities(fitted, tmp_path):
    pipe, paths = fitted
    path = save_pipeline(pipe, tmp_path / "model.safetensors")
    loaded = load_pipeline(path)
    assert [n for n, _ in loaded.steps] == ["mono", "chorus", "mel", "clf"]
    np.testing.assert_array_equal(pipe.predict_proba(paths), loaded.predict_proba(paths))
    np.testing.assert_array_equal(pipe.predict(paths), loaded.predict(paths))
    assert list(loaded.classes_) == ["flop", "hit"]
    assert loaded.get_params()["mel__hop_length"] == 160
    assert loaded.get_params()["clf__module__hidden_size"] == 8


def _header(path):
    from safetensors import safe_open

    with safe_open(path, framework="pt") as fh:
        return json.loads(fh.metadata()["viral_sklearn"]), {k: fh.get_tensor(k) for k in fh.keys()}


def _rewrite(path, header, tensors):
    from safetensors.torch import save_file

    save_file(tensors, path, metadata={"viral_sklearn": json.dumps(header)})


def test_changed_step_type_is_refused(fitted, tmp_path):
    path = save_pipeline(fitted[0], tmp_path / "m.safetensors")
    header, tensors = _header(path)
    header["steps"][0]["type"] = "os.system"
    _rewrite(path, header, tensors)
    with pytest.raises(ModelFormatError, match=r"unknown step type 'os.system' \(allowed: ChorusExtractor"):
        load_pipeline(path)


def test_unknown_parameter_and_bad_weights_are_refused(fitted, tmp_path):
    path = save_pipeline(fitted[0], tmp_path / "m.safetensors")
    header, tensors = _header(path)
    header["steps"][2]["params"]["evil"] = 1
    _rewrite(path, header, tensors)
    with pytest.raises(ModelFormatError, match=r"unknown parameter\(s\) \['evil'\] for step 'mel'"):
        load_pipeline(path)
    header["steps"][2]["params"].pop("evil")
    tensors["clf.head.4.weight"] = torch.zeros(5, 5)
    _rewrite(path, header, tensors)
    with pytest.raises(ModelFormatError, match="weights do not fit the network of step 'clf'"):
        load_pipeline(path)


def test_incompatible_version_is_refused(fitted, tmp_path):
    path = save_pipeline(fitted[0], tmp_path / "m.safetensors")
    header, tensors = _header(path)
    header["format_version"] = "99.0"
    _rewrite(path, header, tensors)
    with pytest.raises(ModelFormatError, match=f"model format 99.0; this viral_sklearn reads format {FORMAT_VERSION}"):
        load_pipeline(path)


class _Payload:
    """Unpickling this would create a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_renamed_as_weights_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(ModelFormatError, match="is not a safetensors model file"):
        load_pipeline(path)
    assert not marker.exists()
    joblib.dump({"x": 1}, tmp_path / "j.safetensors")
    with pytest.raises(ModelFormatError, match="is not a safetensors model file"):
        load_pipeline(tmp_path / "j.safetensors")


def test_plain_safetensors_without_header_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(ModelFormatError, match="not a viral_sklearn model"):
        load_pipeline(tmp_path / "plain.safetensors")


class _Custom(StandardScaler):
    """A step of the user's own: neither ours nor scikit-learn's."""


def test_refuses_to_save_what_it_cannot_restore(fitted, tmp_path):
    custom = _Custom().fit(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="step 'scale' of type _Custom cannot be stored"):
        save_pipeline(Pipeline([("scale", custom)]), tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="LSTMClassifier is not fitted"):
        save_pipeline(make_viral_pipeline(), tmp_path / "x.safetensors")


def test_weights_are_stored_on_cpu_and_load_to_cpu(fitted, tmp_path):
    path = save_pipeline(fitted[0], tmp_path / "m.safetensors")
    _, tensors = _header(path)
    assert all(t.device.type == "cpu" for t in tensors.values())
    loaded = load_pipeline(path, device="cpu")
    assert next(loaded[-1].module_.parameters()).device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU to train on")
def test_gpu_trained_model_loads_on_cpu(tmp_path):  # pragma: no cover - run on GPU machines
    X = np.random.RandomState(0).randn(20, 10, 4).astype(np.float32)
    y = np.arange(20) % 2
    clf = LSTMClassifier(max_epochs=1, random_state=0, device="cuda").fit(X, y)
    pipe = Pipeline([("clf", clf)])
    loaded = load_pipeline(save_pipeline(pipe, tmp_path / "gpu.safetensors"), device="cpu")
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-5)
    assert os.path.getsize(tmp_path / "gpu.safetensors") > 0


def test_model_marked_for_cuda_loads_and_predicts_on_cpu_in_both_formats(fitted, tmp_path, monkeypatch):
    """No GPU here: a CPU-trained model is marked ``device="cuda"`` as a GPU-trained one
    is, then loaded on this CPU-only machine through both formats."""
    pipe, paths = fitted
    expected = pipe.predict_proba(paths)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    pipe[-1].device = "cuda"
    try:
        joblib.dump(pipe, tmp_path / "m.joblib")
        safe = save_pipeline(pipe, tmp_path / "m.safetensors")
    finally:
        pipe[-1].device = "cpu"
    with pytest.warns(UserWarning, match="no CUDA devices are available"):
        from_joblib = joblib.load(tmp_path / "m.joblib")
    assert str(from_joblib[-1].device) == "cpu"
    np.testing.assert_array_equal(from_joblib.predict_proba(paths), expected)
    np.testing.assert_array_equal(load_pipeline(safe).predict_proba(paths), expected)


# ----------------------------------------------------------------------
# machine-local settings: the caller's, never the file's
# ----------------------------------------------------------------------
def _machine_local_keys(description) -> list:
    found = []
    for step in description["steps"]:
        for part in ("params", "module"):
            found += [(step["name"], k) for k in step.get(part, {}) if k in MACHINE_LOCAL_PARAMS]
    return found


def test_saved_file_holds_no_machine_local_setting_nor_path(fitted, tmp_path):
    pipe = copy.deepcopy(fitted[0])
    cache = tmp_path / "author-cache"
    pipe.set_params(chorus__memory=cache, chorus__n_jobs=3, mel__memory=os.fspath(cache), mel__verbose=True,
                    clf__verbose=1)
    path = save_pipeline(pipe, tmp_path / "m.safetensors")
    _, description, _ = read_raw(path)
    assert description["format_version"] == FORMAT_VERSION == "1.3"
    assert _machine_local_keys(description) == []
    assert b"author-cache" not in Path(path).read_bytes()
    chorus = pipe.named_steps["chorus"].get_params()
    assert description["steps"][1]["params"] == {k: v for k, v in chorus.items() if k not in MACHINE_LOCAL_PARAMS}
    pipe.set_params(mel__f_max=Path("/somewhere"))
    with pytest.raises(TypeError, match=r"parameter f_max=.*'/somewhere'\) is a path; the safe format stores no"):
        save_pipeline(pipe, tmp_path / "n.safetensors")


def test_load_pipeline_takes_machine_settings_from_its_caller(fitted, tmp_path, monkeypatch):
    pipe, paths = fitted
    path = save_pipeline(pipe, tmp_path / "m.safetensors")
    loaded = load_pipeline(path, n_jobs=2, verbose=True)
    for name in ("chorus", "mel"):
        assert loaded.get_params()[f"{name}__n_jobs"] == 2 and loaded.get_params()[f"{name}__verbose"] is True
    assert loaded[-1].verbose == 1 and loaded[-1].device == "cpu"
    assert "mono__memory" not in loaded.get_params()  # MonoMixer has no such parameter, none is invented
    dirs = sandbox_dirs(tmp_path, monkeypatch)
    cache = tmp_path / "my-cache"
    loaded = load_pipeline(path, memory=cache)
    np.testing.assert_array_equal(loaded.predict_proba(paths[:3]), pipe.predict_proba(paths[:3]))
    assert written_files(dirs) == [] and len(list(cache.rglob("*.npy"))) == 6  # 3 songs x (chorus, mel)


def _as_format_1_0(path, out, **machine_local):
    index, description, data = read_raw(path)
    description["format_version"] = "1.0"
    for step in description["steps"][1:3]:  # chorus and mel, as the 1.0 writer stored them
        step["params"].update({"n_jobs": None, "memory": None, "verbose": False, **machine_local})
    del description["steps"][1]["params"]["method"], description["steps"][1]["params"]["offset"]  # not yet there
    return write_raw(out, index, description, data)


def test_format_1_0_file_loads_its_machine_settings_ignored_with_a_warning(fitted, tmp_path, monkeypatch):
    pipe, paths = fitted
    evil = tmp_path / "evil-cache"
    old = _as_format_1_0(save_pipeline(pipe, tmp_path / "m.safetensors"), tmp_path / "old.safetensors",
                         memory=os.fspath(evil), n_jobs=64)
    dirs = sandbox_dirs(tmp_path, monkeypatch)
    with pytest.warns(UserWarning, match=r"is a model format 1\.0 file: its machine-local settings .* are "
                                         r"ignored; the ones passed to load_pipeline apply") as record:
        loaded = load_pipeline(old)
    ignored = str(record[0].message).split("settings ")[1].split(" are ignored")[0].split(", ")
    assert sorted(ignored) == sorted(f"{step}__{k}" for step in ("chorus", "mel")
                                     for k in (f"memory={os.fspath(evil)!r}", "n_jobs=64"))
    assert loaded.get_params()["chorus__memory"] is None and loaded.get_params()["mel__n_jobs"] is None
    assert loaded.get_params()["chorus__method"] == "pychorus"  # the only chorus algorithm of format 1.0
    as_trained = copy.deepcopy(pipe).set_params(chorus__method="pychorus")
    np.testing.assert_array_equal(loaded.predict_proba(paths[:2]), as_trained.predict_proba(paths[:2]))
    assert not evil.exists() and written_files(dirs) == []


def test_format_1_0_file_with_default_machine_settings_loads_silently(fitted, tmp_path):
    pipe, paths = fitted
    old = _as_format_1_0(save_pipeline(pipe, tmp_path / "m.safetensors"), tmp_path / "old.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_pipeline(old)
    as_trained = copy.deepcopy(pipe).set_params(chorus__method="pychorus")
    np.testing.assert_array_equal(loaded.predict_proba(paths[:2]), as_trained.predict_proba(paths[:2]))


# ----------------------------------------------------------------------
# parameters are checked through each class's own constraints
# ----------------------------------------------------------------------
def test_every_parameter_a_file_may_hold_has_a_constraint():
    for cls in SONG_STEP_TYPES.values():
        stored = set(cls().get_params(deep=False)) - set(MACHINE_LOCAL_PARAMS)
        assert stored <= set(cls._parameter_constraints), cls.__name__
    module_params = set(inspect.signature(LSTMModule.__init__).parameters) - {"self"}
    assert set(MODULE_CONSTRAINTS) == module_params
    assert set(CLASSIFIER_CONSTRAINTS) == set(CLASSIFIER_PARAMS)


def _mono_mixer_with_method():
    """A MonoMixer that gained a parameter (as ChorusExtractor gains ``method``), under the same name."""

    class MonoMixer(_MonoMixer):
        _parameter_constraints = {**_MonoMixer._parameter_constraints, "method": [StrOptions({"mean", "first"})]}

        def __init__(self, *, channel=None, method="mean"):
            self.channel = channel
            self.method = method

    return MonoMixer


def test_a_parameter_a_step_gains_is_stored_and_checked_without_changing_the_loader(fitted, tmp_path, monkeypatch):
    grown = _mono_mixer_with_method()
    monkeypatch.setitem(STEP_TYPES, "MonoMixer", grown)
    monkeypatch.setitem(SONG_STEP_TYPES, "MonoMixer", grown)
    pipe = Pipeline([("mono", grown(method="first")), ("clf", fitted[0][-1])])
    path = save_pipeline(pipe, tmp_path / "m.safetensors")
    loaded = load_pipeline(path)
    assert type(loaded[0]) is grown and loaded[0].method == "first"
    index, description, data = read_raw(path)
    description["steps"][0]["params"]["method"] = "evil"
    write_raw(path, index, description, data)
    with pytest.raises(ModelFormatError, match=r"step 'mono' \(MonoMixer\): The 'method' parameter of MonoMixer must "
                                               r"be a str among \{'(first|mean)', '(first|mean)'\}\. Got 'evil'"):
        load_pipeline(path)
    monkeypatch.setattr(grown, "_parameter_constraints", _MonoMixer._parameter_constraints)
    with pytest.raises(ModelFormatError, match=r"MonoMixer declares no constraint for \['method'\], so they cannot be "
                                               r"checked and are refused"):
        load_pipeline(path)


# ----------------------------------------------------------------------
# load_model: either format, pickles only when trusted
# ----------------------------------------------------------------------
def test_load_model_loads_safe_files_whatever_their_name(fitted, tmp_path):
    pipe, paths = fitted
    path = save_pipeline(pipe, tmp_path / "model.joblib")  # the content decides, not the name
    np.testing.assert_array_equal(load_model(path).predict_proba(paths[:2]), pipe.predict_proba(paths[:2]))


@pytest.mark.parametrize("compress", [0, 3])
def test_load_model_refuses_a_pickle_unless_trusted_and_then_runs_it(tmp_path, compress):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.joblib"
    joblib.dump(_Payload(str(marker)), path, compress=compress)
    refused = (r"model\.joblib' is a pickle or joblib file: loading it would run any code its author put in it, "
               r"so it is refused.*trust_pickle=True")
    with pytest.raises(UntrustedPickleError, match=refused):
        load_model(path)
    assert not marker.exists()
    load_model(path, trust_pickle=True)  # the payload is live: trusting the file runs it
    assert marker.exists()


def test_trusted_pickle_gets_the_callers_machine_settings(fitted, tmp_path):
    pipe, paths = fitted
    theirs = copy.deepcopy(pipe).set_params(chorus__memory="/their/cache", mel__n_jobs=8)
    joblib.dump(theirs, tmp_path / "m.joblib")
    loaded = load_model(tmp_path / "m.joblib", trust_pickle=True, memory=None, n_jobs=1)
    params = loaded.get_params()
    assert params["chorus__memory"] is None and params["mel__memory"] is None and params["mel__n_jobs"] == 1
    np.testing.assert_array_equal(loaded.predict_proba(paths[:2]), pipe.predict_proba(paths[:2]))
