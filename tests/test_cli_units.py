"""The command's parts, in this process: help, usage errors, output helpers, model sniffing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import StrOptions

from viral_sklearn import ChorusExtractor
from viral_sklearn.cli import build_parser, main
from viral_sklearn.cli._args import chorus_methods, check_method, library_default
from viral_sklearn.cli._errors import UsageError
from viral_sklearn.cli._model import is_safetensors, model_format_for
from viral_sklearn.cli._output import format_table
from viral_sklearn.cli._songs import chorus_columns

SUBCOMMANDS = {
    "chorus": ["--clip-length", "--fallback", "--method", "--csv", "--out", "--plot", "--n-jobs", "--cache"],
    "train": ["--metadata", "--audio-dir", "--out", "--format", "--clip-length", "--epochs", "--hidden-size", "--lr",
              "--n-jobs", "--cache", "--device", "--grid", "--cv", "--method", "--group-column", "--class-weight"],
    "predict": ["--metadata", "--audio-dir", "--out", "--trust-pickle", "--device", "--n-jobs", "--cache"],
    "evaluate": ["--metadata", "--audio-dir", "--plots", "--json", "--trust-pickle", "--device"],
    "demo": ["--out", "--n-songs", "--clip-length", "--max-epochs", "--n-jobs", "--seed", "--difficulty"],
}


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: viral-sklearn {command} ")
    for option in SUBCOMMANDS[command] + ["--quiet"]:
        assert option in out, f"{command} --help does not mention {option}"


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_help_is_plain_text_not_restructuredtext(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    for markup in ("``", ":func:", ":class:", ":mod:", ":meth:"):
        assert markup not in out, f"{command} --help prints the markup {markup!r}"


@pytest.mark.parametrize("argv", [["chorus", "a.mp3", "--bogus"], ["train", "--metadata", "m.csv", "--audio-dir", "d", "--out", "m", "--bogus"], ["predict", "m", "--bogus"]])
def test_unknown_option_prints_the_subcommands_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: viral-sklearn {argv[0]} "), err
    assert f"viral-sklearn {argv[0]}: error: unrecognized arguments: --bogus" in err


def test_help_states_the_library_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert f"chorus window (default: {library_default('clip_length'):g})" in out
    assert f"training epochs (default: {library_default('max_epochs')})" in out
    assert f"LSTM hidden size (default: {library_default('hidden_size')};" in out


@pytest.mark.parametrize("argv, message", [
    (["predict"], "the following arguments are required: MODEL"),
    (["train", "--audio-dir", "d", "--out", "m"], "the following arguments are required: --metadata"),
    (["train", "--metadata", "m.csv", "--audio-dir", "d", "--out", "m", "--epochs", "0"],
     "argument --epochs: expected a number >= 1, got 0"),
    (["chorus", "a.mp3", "--clip-length", "nan"], "argument --clip-length: expected a finite number > 0, got nan"),
    (["chorus", "a.mp3", "--n-jobs", "0"], "argument --n-jobs: expected a number >= 1, or -1 for all cores, got 0"),
    (["frobnicate"], "argument SUBCOMMAND: invalid choice: 'frobnicate'"),
])
def test_bad_command_lines_exit_with_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["predict", "m.safetensors"], "no songs: give FILE arguments, or --metadata with --audio-dir"),
    (["predict", "m.safetensors", "a.mp3", "--metadata", "t.csv", "--audio-dir", "d"],
     "give either FILE arguments or --metadata with --audio-dir, not both"),
    (["predict", "m.safetensors", "--metadata", "t.csv"], "--metadata and --audio-dir go together"),
    (["train", "--metadata", "t.csv", "--audio-dir", "d", "--out", "m", "--cv", "1"],
     "--cv 1: cross-validation needs at least 2 folds"),
    (["train", "--metadata", "t.csv", "--audio-dir", "d", "--out", "m", "--lr", "0.1", "0.2"],
     "--lr has 2 values: several values need --grid"),
])
def test_usage_errors_found_by_the_commands_exit_with_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: viral-sklearn {argv[0]}")
    assert err.endswith(f"viral-sklearn {argv[0]}: error: {message}\n")


def test_interrupt_exits_with_130(monkeypatch, capsys):
    from viral_sklearn.cli import chorus

    def interrupted(args, console):
        raise KeyboardInterrupt

    monkeypatch.setattr(chorus, "run", interrupted)
    assert main(["chorus", "a.mp3"]) == 130
    assert "interrupted; with --cache, a rerun with the same folder skips the songs already done" in (
        capsys.readouterr().err)


def test_method_option_takes_the_extractor_methods():
    # the list itself is kept equal to the extractor's by test_help_defaults_are_the_library_defaults
    assert chorus_methods() == ["loudest", "offset", "pychorus", "structure"]
    assert check_method("loudest") == {"method": "loudest"}
    assert check_method(None) == {}
    with pytest.raises(UsageError, match="--method 'best': choose one of loudest, offset, pychorus, structure"):
        check_method("best")


def test_chorus_columns_with_and_without_confidence():
    three = chorus_columns(np.array([[1.0, 3.0, 1.0], [0.0, 2.5, 0.0]]))
    assert list(three) == ["start", "duration", "found"]
    np.testing.assert_array_equal(three["duration"], [3.0, 2.5])
    four = chorus_columns(np.array([[1.0, 3.0, 1.0, 0.8]]))
    assert four["confidence"].tolist() == [0.8]
    table = chorus_columns(pd.DataFrame({"start": [1.0], "duration": [3.0], "found": [True], "confidence": [0.4]}))
    assert table["confidence"].tolist() == [0.4] and table["found"].tolist() == [True]


def test_format_table_aligns_numbers_right_and_text_left():
    text = format_table([{"path": "a.mp3", "start": 1.5, "found": "found", "confidence": None},
                         {"path": "long/b.mp3", "start": 12.25, "found": "fallback", "confidence": 0.5}],
                        ["path", "start", "found", "confidence"], digits=2)
    assert text.splitlines() == [
        "path        start  found     confidence",
        "a.mp3        1.50  found",
        "long/b.mp3  12.25  fallback        0.50",
    ]


def test_model_files_are_told_by_content(tmp_path):
    import joblib
    from safetensors.numpy import save_file

    safe = tmp_path / "weights.bin"
    save_file({"w": np.zeros(3, dtype=np.float32)}, str(safe))
    pickled = tmp_path / "model.safetensors"
    joblib.dump({"a": 1}, pickled)
    assert is_safetensors(str(safe)) and not is_safetensors(str(pickled))
    assert not is_safetensors(str(tmp_path / "missing"))
    assert model_format_for("m.joblib", None) == "joblib" and model_format_for("m.PKL", None) == "joblib"
    assert model_format_for("m.safetensors", None) == "safetensors" and model_format_for("m", None) == "safetensors"
    assert model_format_for("m.joblib", "safetensors") == "safetensors"


def test_a_pickle_named_safetensors_is_refused_not_unpickled(tmp_path, capsys):
    import joblib

    marker = tmp_path / "ran"
    pickled = tmp_path / "model.safetensors"
    joblib.dump(_Boom(str(marker)), pickled)
    assert main(["predict", str(pickled), "a.mp3", "--trust-pickle"]) == 1
    assert "is not a safetensors model file" in capsys.readouterr().err
    assert not marker.exists()


class _Boom:
    """Unpickling it would create a file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_parser_has_every_subcommand():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == ["chorus", "train", "predict", "evaluate", "demo"]


def test_help_defaults_are_the_library_defaults():
    """--help quotes plain values (it imports no estimator); they must be the library's."""
    import inspect

    from viral_sklearn import make_viral_pipeline
    from viral_sklearn.cli._defaults import CHORUS_DEFAULTS, CHORUS_METHODS, PIPELINE_DEFAULTS

    pipeline = inspect.signature(make_viral_pipeline).parameters
    assert PIPELINE_DEFAULTS == {name: pipeline[name].default for name in PIPELINE_DEFAULTS}
    extractor = inspect.signature(ChorusExtractor).parameters
    assert CHORUS_DEFAULTS == {name: extractor[name].default for name in CHORUS_DEFAULTS}
    [options] = [c for c in ChorusExtractor._parameter_constraints["method"] if isinstance(c, StrOptions)]
    assert list(CHORUS_METHODS) == sorted(options.options)


HEAVY_MODULES = ("torch", "torchaudio", "librosa", "sklearn", "skorch", "scipy", "pandas", "numba", "soundfile",
                 "matplotlib", "numpy")


def _imported_after(code: str) -> list[str]:
    import subprocess
    import sys

    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.split()


def test_import_viral_sklearn_imports_no_heavy_module():
    assert _imported_after("import viral_sklearn") == []
    # a name loads its subpackage on first use, and only then
    assert "torch" in _imported_after("import viral_sklearn; viral_sklearn.LSTMClassifier")
    assert "torch" not in _imported_after("from viral_sklearn import AudioClip")


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["chorus", "--help"], ["demo", "--help"],
                                  ["--version"]])
def test_help_imports_no_heavy_module(argv):
    code = ("from viral_sklearn.cli import main\n"
            "import contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            f"        main({argv!r})\n"
            "    except SystemExit:\n"
            "        pass")
    assert _imported_after(code) == []
