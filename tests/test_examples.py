"""Every example script runs, on tiny data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("plot_*.py"))


def test_examples_exist():
    names = {p.name for p in EXAMPLES}
    assert {"plot_chorus_finding.py", "plot_grid_search.py", "plot_cross_validation.py",
            "plot_save_and_load.py", "plot_compare_models.py"} <= names


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    env = dict(os.environ, VIRAL_SKLEARN_EXAMPLES_TINY="1", VIRAL_SKLEARN_EXAMPLES_OUT=str(tmp_path),
               MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example should print what it shows"
