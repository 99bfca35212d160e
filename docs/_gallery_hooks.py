"""sphinx-gallery hooks (named as strings in conf.py, so the configuration pickles)."""

from __future__ import annotations

import os
from pathlib import Path

_OUT = Path(__file__).resolve().parent / "_build" / "examples_output"
#: figures already shown in the current example (kept alive so their ids stay unique)
_shown: list = []


def fresh_output_folder(gallery_conf, fname, when=None):
    """Give each example its own output folder (``VIRAL_SKLEARN_EXAMPLES_OUT``)."""
    folder = _OUT / Path(fname).stem
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["VIRAL_SKLEARN_EXAMPLES_OUT"] = str(folder)
    _shown.clear()


def _figures_in(values):
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    for value in values:
        if isinstance(value, Axes):
            value = value.figure
        if isinstance(value, Figure):
            yield value


def pyplot_free_figures(block, block_vars, gallery_conf, **kwargs):
    """Scrape the figures of :mod:`viral_sklearn.plotting`.

    Its functions draw on figures made without pyplot (nothing leaks into a
    user's pyplot state), which sphinx-gallery's matplotlib scraper, reading
    ``pyplot.get_fignums()``, does not see.  This one shows every Figure (or
    Axes' figure) bound to a name of the example once, after the block that
    made it.
    """
    from sphinx_gallery.scrapers import figure_rst

    paths = []
    for fig, path in zip(_new_figures(block_vars["example_globals"].values()), block_vars["image_path_iterator"]):
        fig.savefig(path)
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"]) if paths else ""


def _new_figures(values):
    seen = {id(f) for f in _shown}
    for fig in _figures_in(list(values)):
        if id(fig) not in seen and fig.canvas.manager is None:  # pyplot's own figures have a manager
            _shown.append(fig)
            seen.add(id(fig))
            yield fig
