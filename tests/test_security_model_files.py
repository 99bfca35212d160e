"""A model file from a stranger: hand-edited files are refused, cheaply, writing nothing.

Each hostile file gets its own clear ``ModelFormatError``, and the refused load
is measured: the peak Python/numpy heap (tracemalloc) and every byte of tensor
storage PyTorch created (a dispatch mode that sees every ATen op) stay under
``BUDGET``, no PyTorch op failed (a refused allocation is still one asked for),
and nothing appeared in the working directory, HOME, the temporary directory or
the folder the file names as its cache.  A separate test confirms it from the
outside: the peak RSS of a child process that loads them all.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.pipeline import Pipeline

from viral_sklearn import ChorusExtractor, LSTMClassifier, LSTMModule, MelSpectrogramTransformer, MonoMixer
from viral_sklearn.persistence import MAX_HEADER_SIZE, ModelFormatError, load_pipeline, save_pipeline

from ._model_files import MB, measure, read_raw, sandbox_dirs, write_raw, written_files
from .conftest import tone, write_audio

#: what a refused load may allocate, Python heap and tensors each (measured: at most ~0.6 MB)
BUDGET = 2 * MB
N_MELS, HIDDEN, HEAD = 16, 8, 8
_NP_TO_ST = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("float16"): "F16",
             np.dtype("int32"): "I32"}
_ST_TO_NP = {v: k for k, v in _NP_TO_ST.items()}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small fitted four-step pipeline saved in the safe format (loaded once to warm the loader)."""
    return _make_model(tmp_path_factory.mktemp("model"))


def _make_model(folder: Path) -> SimpleNamespace:
    X = np.random.RandomState(0).randn(24, 20, N_MELS).astype(np.float32)
    y = np.array(["flop", "hit"] * 12)
    clf = LSTMClassifier(max_epochs=2, random_state=0, train_split=None, module__hidden_size=HIDDEN,
                         module__head_size=HEAD).fit(X, y)
    pipe = Pipeline([
        ("mono", MonoMixer()),
        ("chorus", ChorusExtractor(clip_length=1.0, sample_rate=8000)),
        ("mel", MelSpectrogramTransformer(sample_rate=8000, duration=1.0, n_mels=N_MELS, hop_length=160)),
        ("clf", clf),
    ])
    path = save_pipeline(pipe, folder / "good.safetensors")
    song = write_audio(folder / "song.wav", tone(3.0, 8000)[:, 0], 8000)
    load_pipeline(path).predict_proba([song])  # warm every lazy import and cache of the loader
    return SimpleNamespace(path=path, pipe=pipe, song=song)


# ----------------------------------------------------------------------
# editing files
# ----------------------------------------------------------------------
def decode(index: dict, data: bytes) -> dict:
    return {
        name: np.frombuffer(data[e["data_offsets"][0] : e["data_offsets"][1]], dtype=_ST_TO_NP[e["dtype"]])
        .reshape(e["shape"]).copy()
        for name, e in index.items()
    }


def encode(arrays: dict) -> tuple[dict, bytes]:
    index, chunks, offset = {}, [], 0
    for name, array in arrays.items():
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        index[name] = {"dtype": _NP_TO_ST[array.dtype], "shape": list(array.shape),
                       "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    return index, b"".join(chunks)


@dataclass
class Parts:
    index: dict
    description: dict
    data: bytes
    steps: dict  # step entries by name (the same dicts as in description)

    def arrays(self):
        return decode(self.index, self.data)

    def set_arrays(self, arrays):
        self.index, self.data = encode(arrays)


def _parts(path) -> Parts:
    index, description, data = read_raw(path)
    return Parts(index, description, data, {s["name"]: s for s in description["steps"]})


def _meta_shapes(**module_kwargs) -> dict:
    with torch.device("meta"):
        return {k: tuple(v.shape) for k, v in LSTMModule(**module_kwargs).state_dict().items()}


def _consistent_huge_network(p: Parts):
    """Description and tensor index agree on the widest network allowed; the data is the small one."""
    kwargs = dict(p.steps["clf"]["module"], hidden_size=1 << 16)
    p.steps["clf"]["module"] = kwargs
    offset = 0
    for name, shape in _meta_shapes(**kwargs).items():
        size = 4 * int(np.prod(shape))
        p.index[f"clf.{name}"] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size


def _retype(name, dtype):
    def edit(p: Parts):
        arrays = p.arrays()
        arrays[name] = arrays[name].astype(dtype)
        p.set_arrays(arrays)
    return edit


def _poison(name, value):
    def edit(p: Parts):
        arrays = p.arrays()
        arrays[name].flat[3] = value
        p.set_arrays(arrays)
    return edit


def _reshape_head(p: Parts):
    arrays = p.arrays()
    arrays["clf.head.4.weight"] = np.zeros((5, 5), np.float32)
    p.set_arrays(arrays)


def _stray_tensor(p: Parts):
    arrays = p.arrays()
    arrays["evil.payload"] = np.zeros(4, np.float32)
    p.set_arrays(arrays)


def _overlap(p: Parts):
    first, second = sorted(p.index.values(), key=lambda e: e["data_offsets"][0])[:2]
    size = second["data_offsets"][1] - second["data_offsets"][0]
    second["data_offsets"] = [first["data_offsets"][0], first["data_offsets"][0] + size]


@dataclass
class Case:
    edit: object  # (Parts, evil_dir) -> None, or (path, evil_dir) -> None with raw=True
    match: str
    raw: bool = False
    kwargs: dict | None = None


def _set(step, key, value, where="params"):
    def edit(p: Parts, evil):
        target = p.steps[step] if where is None else p.steps[step][where]
        target[key] = value(evil) if callable(value) else value
    return edit


def _truncate(keep):
    def edit(path, evil):
        blob = Path(path).read_bytes()
        Path(path).write_bytes(blob[:keep])
    return edit


def _header_length(n):
    def edit(path, evil):
        blob = Path(path).read_bytes()
        Path(path).write_bytes(struct.pack("<Q", n) + blob[8:])
    return edit


CASES = {
    # machine-local settings: the file may not choose them
    "memory": Case(_set("chorus", "memory", lambda evil: os.fspath(evil)),
                   r"step 'chorus' \(ChorusExtractor\) sets the machine-local parameter\(s\) memory='[^']*evil'.*"
                   r"pass memory=, n_jobs=, verbose=, device= to load_pipeline"),
    "n_jobs": Case(_set("mel", "n_jobs", 64),
                   r"step 'mel' \(MelSpectrogramTransformer\) sets the machine-local parameter\(s\) n_jobs=64"),
    "verbose": Case(_set("mono", "verbose", True),
                    r"step 'mono' \(MonoMixer\) sets the machine-local parameter\(s\) verbose=True"),
    "device": Case(_set("clf", "device", "cuda:0"),
                   r"step 'clf' \(LSTMClassifier\) sets the machine-local parameter\(s\) device='cuda:0'"),
    "network_memory": Case(_set("clf", "memory", lambda evil: os.fspath(evil), where="module"),
                           r"the network of step 'clf' sets the machine-local parameter\(s\) memory="),
    # networks too large, or not the one the weights are for
    "hidden_size_100000": Case(_set("clf", "hidden_size", 100000, where="module"),
                               r"the network of step 'clf': The 'hidden_size' parameter of LSTMModule must be an "
                               r"int in the range \[1, 65536\]\. Got 100000 instead"),
    "num_layers_1000": Case(_set("clf", "num_layers", 1000, where="module"),
                            r"'num_layers' parameter of LSTMModule must be an int in the range \[1, 64\]"),
    "hidden_size_4096_fits_memory_not_weights": Case(
        _set("clf", "hidden_size", 4096, where="module"),
        r"weights do not fit the network of step 'clf': tensor 'clf\.lstm\.weight_ih_l0' has shape \(32, 32\) in "
        # the LSTM reads the convolutional front end's 32 channels (the default CRNN), not the 16 mel bands
        r"the file, the network described \(.*hidden_size=4096.*\) needs \(16384, 32\)"),
    "huge_network_index_agrees_data_absent": Case(
        lambda p, evil: _consistent_huge_network(p),
        r"truncated file: its header describes 6\d{10} bytes of tensor data, the file holds \d{4,6}$"),
    "n_features_in_differs": Case(_set("clf", "n_features_in", 17, where=None),
                                  r"step 'clf': n_features_in=17 differs from the network's input_size=16"),
    "three_labels_two_outputs": Case(_set("clf", "classes", {"dtype": "str", "values": ["a", "b", "c"]}, where=None),
                                     r"step 'clf': invalid 'classes' entry: 3 labels for a network with n_classes=2"),
    # tensors
    "wrong_shape": Case(lambda p, evil: _reshape_head(p),
                        r"tensor 'clf\.head\.4\.weight' has shape \(5, 5\) in the file, the network described "
                        r"\(.*\) needs \(2, 8\)"),
    "float64_weights": Case(lambda p, evil: _retype("clf.lstm.weight_hh_l0", np.float64)(p),
                            r"tensor 'clf\.lstm\.weight_hh_l0' is F64 in the file, the network needs F32"),
    "int32_weights": Case(lambda p, evil: _retype("clf.head.0.bias", np.int32)(p),
                          r"tensor 'clf\.head\.0\.bias' is I32 in the file, the network needs F32"),
    "nan_weight": Case(lambda p, evil: _poison("clf.lstm.weight_hh_l0", np.nan)(p),
                       r"tensor 'clf\.lstm\.weight_hh_l0' holds NaN or infinite values"),
    "infinite_bias": Case(lambda p, evil: _poison("clf.lstm.bias_ih_l0", np.inf)(p),
                          r"tensor 'clf\.lstm\.bias_ih_l0' holds NaN or infinite values"),
    "stray_tensor": Case(lambda p, evil: _stray_tensor(p), r"tensor\(s\) \['evil\.payload'\] belong to no classifier"),
    "overlapping_tensors": Case(lambda p, evil: _overlap(p), r"overlaps the one before it in the data section"),
    # the container
    "header_length_1_TiB": Case(_header_length(1 << 40), r"the safetensors header is 1099511627776 bytes, more than "
                                                         rf"the {MAX_HEADER_SIZE} bytes a model's header may have",
                                raw=True),
    "header_100_KB": Case(None, rf"the safetensors header is 1\d\d\d\d\d bytes, more than the {MAX_HEADER_SIZE}"),
    "truncated_data": Case(_truncate(-100), r"truncated file: its header describes (\d+) bytes of tensor data, the "
                                            r"file holds \d+", raw=True),
    "truncated_header": Case(_truncate(200), r"truncated file: its header is \d+ bytes long, the file has 192 after",
                             raw=True),
    "trailing_bytes": Case(lambda path, evil: Path(path).write_bytes(Path(path).read_bytes() + b"\0" * 64),
                           r"64 unexpected bytes after the tensor data", raw=True),
    "fifo_instead_of_a_file": Case(lambda path, evil: (os.remove(path), os.mkfifo(path)), r"not a regular file$",
                                   raw=True),  # refused without blocking on it
    "file_over_max_file_size": Case(lambda p, evil: None, r"the file is \d+ bytes, more than the 1000 bytes a model "
                                                          r"file may have", kwargs={"max_file_size": 1000}),
    # the description
    "nan_in_description": Case(None, r"the model description is not valid JSON \(NaN is not allowed\)"),
    "duplicate_key": Case(None, r"the model description is not valid JSON \(duplicate key 'format_version'\)"),
    "deep_nesting": Case(None, r"the model description is not valid JSON \(maximum recursion depth"),
    "header_full_of_empty_lists": Case(None, r"the model description is not a JSON object"),
    "wrong_type": Case(_set("chorus", "clip_length", "long"),
                       r"step 'chorus' \(ChorusExtractor\): The 'clip_length' parameter of ChorusExtractor must be "
                       r"a float in the range \(0\.0, inf\)\. Got 'long' instead"),
    "option_not_allowed": Case(_set("chorus", "fallback", "rm -rf"),
                               r"The 'fallback' parameter of ChorusExtractor must be a str among"),
    "sample_rate_1_GHz": Case(_set("mel", "sample_rate", 10**9),
                              r"step 'mel' \(MelSpectrogramTransformer\): sample_rate=1000000000 is above 384000"),
    "list_value": Case(_set("mel", "n_mels", [64] * 3),
                       r"step 'mel' \(MelSpectrogramTransformer\): parameter 'n_mels' holds a list"),
    "reserved_step_name": Case(_set("mono", "name", "memory", where=None), r"invalid step name 'memory'"),
    "unknown_type": Case(_set("mono", "type", "subprocess.Popen", where=None),
                         r"unknown step type 'subprocess\.Popen' \(allowed: ChorusExtractor, LSTMClassifier"),
}


def _write_case(name: str, case: Case, model, folder: Path, evil: Path) -> str:
    path = folder / f"{name}.safetensors"
    if case.raw:
        path.write_bytes(Path(model.path).read_bytes())
        case.edit(path, evil)
        return os.fspath(path)
    p = _parts(model.path)
    if name == "header_100_KB":
        return write_raw(path, p.index, p.description, p.data, metadata={"padding": "x" * 100_000})
    if name in ("nan_in_description", "duplicate_key", "deep_nesting", "header_full_of_empty_lists"):
        text = json.dumps(p.description)
        text = {
            "nan_in_description": text.replace('"lr": 0.005', '"lr": NaN'),
            "duplicate_key": '{"format_version": "1.1", ' + text[1:],
            "deep_nesting": "[" * 30_000 + "]" * 30_000,
            # as many Python objects as a header under the size bound can make
            "header_full_of_empty_lists": "[" + "[]," * ((MAX_HEADER_SIZE - len(json.dumps(p.index)) - 200) // 3)
            + "[]]",
        }[name]
        return write_raw(path, p.index, text, p.data)
    case.edit(p, evil)
    return write_raw(path, p.index, p.description, p.data)


@pytest.mark.parametrize("name", list(CASES))
def test_hand_edited_file_is_refused_cheaply_and_writes_nothing(name, model, tmp_path, monkeypatch):
    case = CASES[name]
    evil = tmp_path / "evil"
    path = _write_case(name, case, model, tmp_path, evil)
    dirs = sandbox_dirs(tmp_path, monkeypatch)
    result = measure(lambda: load_pipeline(path, **(case.kwargs or {})))
    assert isinstance(result.error, ModelFormatError), repr(result.error)
    message = str(result.error)
    assert message.startswith(repr(path) + ": "), message
    assert re.search(case.match, message), message
    assert result.python_peak < BUDGET and result.torch_bytes < BUDGET, str(result)
    assert result.torch_failed == [], str(result)
    assert written_files(dirs) == [] and not evil.exists()


def test_the_measure_sees_a_network_being_built(model, tmp_path):
    """Positive control: loading a good file is measured at (at least) the size of its weights,
    and a 1024-wide network, built the way the old loader did, at its ~17 MB."""
    weights = sum(t.numel() * 4 for t in model.pipe[-1].module_.state_dict().values())
    result = measure(lambda: load_pipeline(model.path))
    assert result.error is None
    assert result.torch_bytes >= weights
    result = measure(lambda: LSTMModule(N_MELS, hidden_size=1024, head_size=HEAD))
    assert result.torch_bytes >= 4 * 4 * 1024 * (N_MELS + 1024 + 2) > BUDGET


def test_good_file_loads_and_predicts_the_same_writing_nothing(model, tmp_path, monkeypatch):
    dirs = sandbox_dirs(tmp_path, monkeypatch)
    loaded = load_pipeline(model.path)
    np.testing.assert_array_equal(loaded.predict_proba([model.song]), model.pipe.predict_proba([model.song]))
    assert written_files(dirs) == []


_CHILD = textwrap.dedent("""
    import gc, json, sys
    import numpy as np
    from viral_sklearn.persistence import ModelFormatError, load_pipeline

    def status(key):
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key + ":"))

    def growth(fn):
        \"\"\"Peak RSS during fn() above the RSS before it (the peak is reset first).\"\"\"
        gc.collect()
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM, the peak RSS, to the current RSS
        before = status("VmRSS")
        fn()
        return status("VmHWM") - before

    def refused(path):
        try:
            load_pipeline(path)
        except ModelFormatError:
            return
        raise SystemExit(f"{path} loaded")

    good, bad = sys.argv[1], sys.argv[2:]
    load_pipeline(good)
    load_pipeline(good)
    out = {path: growth(lambda: refused(path)) for path in bad}
    out["control"] = growth(lambda: np.ones(64 << 20, dtype=np.uint8))  # the measure sees 64 MB
    print(json.dumps(out))
""")


@pytest.mark.slow  # a child process imports torch (~15 s on a busy 2-core machine)
@pytest.mark.skipif(sys.platform != "linux", reason="reads the peak RSS from Linux's /proc/self/status")
def test_refused_files_leave_the_peak_rss_of_a_process_unchanged(model, tmp_path):
    names = ["hidden_size_100000", "hidden_size_4096_fits_memory_not_weights", "huge_network_index_agrees_data_absent",
             "header_length_1_TiB", "header_100_KB", "truncated_data", "nan_weight", "float64_weights", "memory"]
    paths = [_write_case(n, CASES[n], model, tmp_path, tmp_path / "evil") for n in names]
    done = subprocess.run([sys.executable, "-c", _CHILD, model.path, *paths], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    grown = json.loads(done.stdout.strip().splitlines()[-1])
    assert grown.pop("control") >= 60 * MB
    assert {Path(p).stem: g for p, g in grown.items() if g > 8 * MB} == {}


def _figures() -> None:
    """Print what each refused file costs next to a good file's load (the figures SECURITY.md quotes).

    ``PYTHONPATH=. python -m tests.test_security_model_files``
    """
    import tempfile

    folder = Path(tempfile.mkdtemp())
    model = _make_model(folder)
    print(f"{'file':44s} {'python peak':>12s} {'torch':>10s}  result")
    for name, case in [*CASES.items(), ("(a good file, for reference)", None)]:
        path = model.path if case is None else _write_case(name, case, model, folder, folder / "evil")
        result = measure(lambda: load_pipeline(path, **((case and case.kwargs) or {})))
        print(f"{name:44s} {result.python_peak / MB:9.3f} MB {result.torch_bytes / MB:7.3f} MB  "
              f"{type(result.error).__name__ if result.error else 'loaded'}")


if __name__ == "__main__":
    _figures()
