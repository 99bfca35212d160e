"""A model file from a stranger, round two: products of bounded values, odd paths, odd JSON.

Every parameter of these files is within its own bound, yet together they would
make ``predict`` allocate gigabytes (issue 21, point 2); or the file is written
so that the loader used to fail with Python's own exceptions naming no file
(point 4).  Each is refused with a ``ModelFormatError`` that starts with the
file's name, before anything is built (the same measure as
``test_security_model_files``: heap and tensor bytes under ``BUDGET``).
"""

from __future__ import annotations

import copy
import json
import os
import re
import socket
import tempfile
from pathlib import Path

import pytest

from viral_sklearn.persistence import ModelFormatError, load_model, load_pipeline
from viral_sklearn.persistence import _bounds

from ._model_files import measure, write_raw
from .test_security_model_files import BUDGET, _make_model, _parts


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return _make_model(tmp_path_factory.mktemp("model"))


def _edit(model, folder: Path, name: str, edit) -> str:
    p = _parts(model.path)
    edit(p)
    return write_raw(folder / f"{name}.safetensors", p.index, p.description, p.data)


def _params(step, **values):
    def edit(p):
        p.steps[step]["params"].update(values)
    return edit


def _swap_mel_and_chorus(p):
    steps = p.description["steps"]
    steps[1], steps[2] = steps[2], steps[1]


#: name -> (edit, what the message must say); the test model is a 1-s, 8 kHz, 16-band mel, hidden size 8
PRODUCTS = {
    # the file: an hour at 96 kHz, each value within its own bound
    "hour_at_96_kHz": (_params("mel", duration=3600.0, sample_rate=96000),
                       r"step 'mel' \(MelSpectrogramTransformer\): duration=3600\.0 s at sample_rate=96000 Hz is "
                       r"345600000 samples per song, more than the 33554432"),
    "hop_length_1": (_params("mel", hop_length=1),
                     r"hop_length=1 is less than n_fft / 32 \(n_fft=400\)"),
    "frames_x_bands": (_params("mel", duration=3000.0, n_mels=1024),
                       r"150001 frames x n_mels=1024 is 153601024 values per song, more than the 16777216"),
    "stft_frames_x_bins": (_params("mel", duration=3000.0, n_fft=65536, hop_length=2048),
                           r"11719 frames x 32769 frequency bins \(n_fft=65536\) is 384019911 STFT values per song"),
    "window_shorter_than_fft": (_params("mel", duration=0.01),
                                r"duration=0\.01 s at sample_rate=8000 Hz is 80 samples, too few for n_fft=400"),
    "f_min_above_nyquist": (_params("mel", f_min=5000.0), r"f_min=5000\.0 is not below f_max=4000\.0 Hz"),
    "n_mels_not_the_networks_input": (_params("mel", n_mels=32),
                                      r"step 'mel' \(MelSpectrogramTransformer\) makes n_mels=32 bands per frame, but "
                                      r"the network of step 'clf' takes input_size=16"),
    "chorus_at_96_kHz": (_params("chorus", sample_rate=96000),
                         r"step 'chorus' \(ChorusExtractor\): sample_rate=96000 is above 48000"),
    "chorus_window_of_an_hour": (_params("chorus", clip_length=3600.0, sample_rate=11025),
                                 r"clip_length=3600\.0 s at sample_rate=11025 Hz is 39690000 samples"),
    "huge_batch": (_params("clf", batch_size=10**6),
                   r"step 'clf': batch_size=1000000 x 51 frames x hidden_size=8 is 408000000 values per batch"),
    "whole_input_in_one_batch": (_params("clf", batch_size=-1), r"step 'clf': batch_size=-1 \(every song in one batch\)"),
    "mel_before_chorus": (_swap_mel_and_chorus,
                          r"step 'mel' \(MelSpectrogramTransformer\) is followed by step 'chorus': the mel spectrogram "
                          r"must be the last step before the classifier"),
}


def _assert_refused_cheaply(model, folder: Path, name: str, edit, match: str) -> None:
    """The edited file is refused with a ModelFormatError naming it, within the budget."""
    path = _edit(model, folder, name, edit)
    result = measure(lambda: load_pipeline(path))
    assert isinstance(result.error, ModelFormatError), repr(result.error)
    message = str(result.error)
    assert message.startswith(repr(path) + ": "), message
    assert re.search(match, message), message
    assert result.python_peak < BUDGET and result.torch_bytes < BUDGET, result
    assert not result.torch_failed, result.torch_failed


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_steps_that_would_allocate_too_much_together_are_refused_at_load(name, model, tmp_path):
    _assert_refused_cheaply(model, tmp_path, name, *PRODUCTS[name])


def test_the_default_pipeline_is_far_inside_every_bound():
    """The bounds refuse nothing real: the defaults use under 2% of each size bound."""
    from viral_sklearn import make_viral_pipeline

    pipe = make_viral_pipeline()
    mel, chorus, clf = pipe.named_steps["mel"], pipe.named_steps["chorus"], pipe.steps[-1][1]
    samples = round(mel.duration * mel.sample_rate)
    frames = mel.n_frames
    used = {
        "window": samples / _bounds.MAX_WINDOW_SAMPLES,
        "chorus window": round(chorus.clip_length * chorus.sample_rate) / _bounds.MAX_WINDOW_SAMPLES,
        "features": frames * mel.n_mels / _bounds.MAX_FEATURE_CELLS,
        "stft": frames * (mel.n_fft // 2 + 1) / _bounds.MAX_STFT_CELLS,
        "batch": clf.batch_size * frames * clf.get_params()["module__hidden_size"] / _bounds.MAX_BATCH_CELLS,
    }
    assert max(used.values()) < 0.02, used
    assert mel.n_fft // mel.hop_length < _bounds.MAX_OVERLAP
    assert chorus.sample_rate <= _bounds.MAX_CHORUS_SAMPLE_RATE


# ----------------------------------------------------------------------
# point 4: every refusal is the format's own error, naming the file
# ----------------------------------------------------------------------
def _set_type(p):
    p.steps["mono"]["type"] = ["MonoMixer"]


def _huge_shape(p):
    name = next(iter(p.index))
    p.index[name]["shape"] = [int("9" * 4299)]


def _classes(values, dtype="float"):
    def edit(p):
        p.steps["clf"]["classes"] = {"dtype": dtype, "values": values}
    return edit


def _raw_json(old, new):
    """Edit the description's JSON text (for numbers json.dumps would never write)."""
    def edit(p):
        p.description = json.dumps(p.description).replace(old, new)
    return edit


ODD_JSON = {
    "list_as_step_type": (_set_type, r"unknown step type \['MonoMixer'\]"),
    "list_as_tensor_dtype": (lambda p: next(iter(p.index.values())).update(dtype=["F32"]), r"unknown dtype \['F32'\]"),
    "list_as_classes_dtype": (_classes(["flop", "hit"], dtype=["str"]), r"invalid 'classes' entry: unknown dtype"),
    "4299_digit_shape": (_huge_shape, r"not valid JSON \(an integer of 4299 digits\)"),
    "classes_10_to_the_400": (_classes([0, 10**400]), r"not valid JSON \(an integer of 401 digits\)"),
    "classes_infinite_floats": (_raw_json('"values": ["flop", "hit"]', '"values": [-1e999, 1e999]'),
                                r"the model description is not valid JSON \(the number -1e999 is not finite\)"),
    "infinite_rate_capital_e": (_raw_json('"lr": 0.005', '"lr": 2E400'), r"\(the number 2E400 is not finite\)"),
    "infinite_rate_long_mantissa": (_raw_json('"lr": 0.005', '"lr": 123456789.5e999'),
                                    r"\(the number 123456789\.5e999 is not finite\)"),
}


@pytest.mark.parametrize("name", list(ODD_JSON))
def test_odd_json_is_refused_with_the_formats_own_error(name, model, tmp_path):
    _assert_refused_cheaply(model, tmp_path, name, *ODD_JSON[name])


def _leaves(value, where=()):
    """Every (path, value) inside a JSON value, containers included."""
    yield where, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*where, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*where, i))


def _replace(doc, where, value):
    doc = copy.deepcopy(doc)
    if not where:
        return value
    target = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return doc


#: values put in place of every part of the description and the tensor index in turn
HOSTILE_VALUES = ([["x"]], {"a": []}, 10**30, -(10**30), -1, 0, 2.5, 1e300, True, None, "x" * 2000, "")


def test_any_value_anywhere_gives_a_format_error_or_a_model(model, tmp_path):
    """Each part of the description and the index replaced by each hostile value: the
    loader answers with a ModelFormatError naming the file, or a pipeline (when the
    value is allowed), never another exception."""
    p = _parts(model.path)
    tried, refused = 0, 0
    for doc_name in ("description", "index"):
        doc = getattr(p, doc_name)
        for where, _ in list(_leaves(doc)):
            for value in HOSTILE_VALUES:
                edited = _replace(doc, where, value)
                parts = {"index": p.index, "description": p.description, doc_name: edited}
                if not isinstance(parts["index"], dict):
                    continue  # write_raw adds the metadata to the index: it must stay a mapping
                path = write_raw(tmp_path / "odd.safetensors", parts["index"], parts["description"], p.data)
                tried += 1
                try:
                    load_pipeline(path)
                except ModelFormatError as exc:
                    refused += 1
                    assert str(exc).startswith(repr(path) + ": "), (where, value, str(exc))
                except Exception as exc:  # noqa: BLE001 - the point of the test
                    pytest.fail(f"{doc_name} at {where} = {value!r:.40}: {type(exc).__name__}: {exc}"[:600])
    assert tried > 1000 and refused > 0.8 * tried, (tried, refused)


# ----------------------------------------------------------------------
# point 4: paths that are not model files
# ----------------------------------------------------------------------
@pytest.fixture
def short_dir():
    """A folder with a short path (a Unix socket's path has at most ~107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="vs-") as d:
        yield Path(d)


def _socket(folder: Path) -> str:
    path = os.fspath(folder / "model.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    return path


def _symlink_loop(folder: Path) -> str:
    os.symlink(folder / "b.safetensors", folder / "a.safetensors")
    os.symlink(folder / "a.safetensors", folder / "b.safetensors")
    return os.fspath(folder / "a.safetensors")


ODD_PATHS = {
    "proc_self_mem": (lambda folder: "/proc/self/mem", r"cannot be read \(Input/output error\)"),
    "socket": (_socket, r"cannot be opened \(No such device or address\)"),
    "symlink_loop": (_symlink_loop, r"cannot be opened \(Too many levels of symbolic links\)"),
    "directory": (lambda folder: os.fspath(folder), r"not a regular file$"),
    "file_below_a_file": (lambda folder: (Path(folder / "f").write_text("x"), os.fspath(folder / "f" / "m"))[1],
                          r"cannot be opened \(Not a directory\)"),
}


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux's /proc")
@pytest.mark.parametrize("name", list(ODD_PATHS))
@pytest.mark.parametrize("loader", [load_pipeline, load_model], ids=["load_pipeline", "load_model"])
def test_a_path_that_is_no_model_file_gives_a_format_error_naming_it(name, loader, short_dir):
    make, match = ODD_PATHS[name]
    path = make(short_dir)
    with pytest.raises(ModelFormatError) as info:
        loader(path)
    assert str(info.value).startswith(repr(path) + ": "), str(info.value)
    assert re.search(match, str(info.value)), str(info.value)
