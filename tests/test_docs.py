"""The documentation site's sources stay in step with the code (the build itself is `make docs`)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parent.parent / "docs"
PUBLIC = ["viral_sklearn", "viral_sklearn.audio", "viral_sklearn.chorus", "viral_sklearn.features",
          "viral_sklearn.models", "viral_sklearn.datasets", "viral_sklearn.model_selection",
          "viral_sklearn.persistence", "viral_sklearn.plotting"]
#: public names that are constants, not documented as pages
NOT_PAGES = {"__version__", "DEFAULT_SCORING", "FORMAT_VERSION", "MACHINE_LOCAL_PARAMS", "MAX_FILE_SIZE", "MAX_HEADER_SIZE", "METHODS", "NOTEBOOK_PARAMS"}


def _api_entries() -> set[str]:
    text = (DOCS / "api.rst").read_text()
    entries, module = set(), None
    for line in text.splitlines():
        m = re.match(r"\.\. currentmodule:: (\S+)", line)
        if m:
            module = m.group(1)
        elif re.match(r"   [A-Za-z_][A-Za-z0-9_]*$", line) and module:
            entries.add(f"{module}.{line.strip()}")
    return entries


@pytest.mark.parametrize("module", PUBLIC)
def test_api_reference_lists_every_public_name(module):
    mod, top = importlib.import_module(module), importlib.import_module("viral_sklearn")
    names = set(mod.__all__) - NOT_PAGES
    # a name the package re-exports at the top level has its page there
    names = {n for n in names if module == "viral_sklearn" or getattr(top, n, None) is not getattr(mod, n)}
    missing = sorted(n for n in names if f"{module}.{n}" not in _api_entries())
    assert not missing, f"docs/api.rst lacks {module}: {missing}"


def test_api_reference_names_exist():
    for entry in _api_entries():
        module, _, name = entry.rpartition(".")
        assert hasattr(importlib.import_module(module), name), f"docs/api.rst lists {entry}, which does not exist"


def test_every_page_of_the_layout_is_in_a_toctree():
    index = (DOCS / "index.rst").read_text()
    guide = (DOCS / "user_guide" / "index.md").read_text()
    for page in ("getting_started", "user_guide/index", "api", "auto_examples/index", "architecture", "performance"):
        assert f"   {page}\n" in index, page
    for page in ("pipeline", "chorus", "caching", "model_selection", "persistence", "cli", "scaling"):
        assert (DOCS / "user_guide" / f"{page}.md").exists(), page
        assert f"\n{page}\n" in guide, page


def test_cli_page_shows_every_subcommand_help():
    from viral_sklearn.cli import COMMANDS

    page = (DOCS / "user_guide" / "cli.md").read_text()
    for module in COMMANDS:
        name = module.__name__.rsplit(".", 1)[-1]
        assert f"../generated/cli/{name}.txt" in page, name


def test_gallery_runs_the_examples_on_tiny_data():
    conf = (DOCS / "conf.py").read_text()
    assert 'os.environ["VIRAL_SKLEARN_EXAMPLES_TINY"] = "1"' in conf
    for script in (DOCS.parent / "examples").glob("plot_*.py"):
        assert "VIRAL_SKLEARN_EXAMPLES_TINY" in script.read_text(), f"{script.name} ignores the tiny-data switch"
