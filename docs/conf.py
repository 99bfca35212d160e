"""Sphinx configuration of the viral-sklearn documentation (``make docs``).

The examples in ``examples/`` run during the build (sphinx-gallery) on tiny data:
``VIRAL_SKLEARN_EXAMPLES_TINY=1`` is set here, so the whole build takes a few
minutes on two cores.  Warnings are errors in ``make docs`` (``-W --keep-going``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS))  # _gallery_hooks
sys.path.insert(0, str(ROOT))  # the library from this checkout

os.environ["VIRAL_SKLEARN_EXAMPLES_TINY"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")

import viral_sklearn  # noqa: E402
from _cli_help import write_cli_help  # noqa: E402
from _inventories import write_inventories  # noqa: E402

project = "viral-sklearn"
author = "the viral-sklearn developers"
copyright = "the viral-sklearn developers"
release = viral_sklearn.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/cli", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]

# -- API reference: autosummary pages from the docstrings (numpydoc format) ----------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_member_order = "groupwise"
autodoc_typehints = "none"  # the numpydoc "Parameters" sections say the types
autodoc_preserve_defaults = True  # signatures show `module=LSTMModule`, not the class's repr
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- links to the projects we build on (base classes, types) -------------------------
# intersphinx reads inventories written here from the installed packages (_inventories.py):
# the build needs no network, and a name an inventory lacks is left unlinked
intersphinx_mapping = write_inventories(DOCS / "_build" / "inventories")
intersphinx_disabled_reftypes = ["std:doc"]

# -- Markdown pages (MyST) -----------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- the examples gallery ---------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "reset_modules": ("matplotlib", "_gallery_hooks.fresh_output_folder"),
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    # pyplot's figures, and the pyplot-free ones that viral_sklearn.plotting draws
    "image_scrapers": ("matplotlib", "_gallery_hooks.pyplot_free_figures"),
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("viral_sklearn",),
}

# -- HTML, in the style of scikit-learn's docs (pydata theme) -------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"viral-sklearn {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_context = {"default_mode": "light"}


def _skip_metadata_routing(app, what, name, obj, skip, options):
    """scikit-learn's generated ``set_*_request`` methods: routing plumbing, documented by sklearn."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


#: what a skorch net documents of its own: the estimator's interface
_NET_INTERFACE = {"fit", "partial_fit", "predict", "predict_proba", "score", "classes_"}


def _skip_skorch_machinery(app, what, name, obj, skip, options):
    """A skorch net's overrides of skorch's hooks (``initialize_module``, ``train_step_single``, ...):
    how it is built, not how it is used; the page lists the estimator's interface and links
    the skorch base class for the rest."""
    import inspect

    from skorch import NeuralNet

    function = getattr(obj, "fget", obj)  # a property's getter says where it is defined
    owner_name = getattr(function, "__qualname__", "").rpartition(".")[0]
    owner = getattr(sys.modules.get(getattr(function, "__module__", None)), owner_name, None)
    if inspect.isclass(owner) and issubclass(owner, NeuralNet) and hasattr(NeuralNet, name):
        return name not in _NET_INTERFACE or None
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_routing)
    app.connect("autodoc-skip-member", _skip_skorch_machinery)
    # `viral-sklearn SUBCOMMAND --help` texts, included by user_guide/cli.md: the page
    # shows what the installed command says, never a copy that drifts
    write_cli_help(DOCS / "generated" / "cli")
