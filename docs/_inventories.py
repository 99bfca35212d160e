"""Offline intersphinx inventories for the projects our API builds on.

intersphinx links a name such as ``sklearn.base.BaseEstimator`` to its page in
another project's documentation through that project's ``objects.inv``, which
it downloads at build time.  The documentation must build without a network
(CI reaches only package registries), so :func:`write_inventories` writes the
inventories here instead, from the *installed* packages: every public class and
function of the modules listed below, under its public name and under the name
of the module that defines it (show-inheritance writes the latter:
``torch.nn.modules.module.Module``), pointing at the page each project's
documentation keeps for it.  A name missing from an inventory is simply not
linked; nothing here can fail the build.
"""

from __future__ import annotations

import importlib
import inspect
import zlib
from pathlib import Path

#: project -> (documentation root, modules whose public names are listed, page of a name:
#: ``page(public_name, defining_name)``)
PROJECTS = {
    "python": ("https://docs.python.org/3/", (), None),  # the names of _PYTHON
    "numpy": ("https://numpy.org/doc/stable/", ("numpy",), lambda name, defined: f"reference/generated/{name}.html"),
    "sklearn": ("https://scikit-learn.org/stable/",
                ("sklearn.base", "sklearn.pipeline", "sklearn.model_selection", "sklearn.linear_model",
                 "sklearn.ensemble", "sklearn.preprocessing", "sklearn.dummy", "sklearn.metrics"),
                lambda name, defined: f"modules/generated/{name}.html"),
    "skorch": ("https://skorch.readthedocs.io/en/stable/",
               ("skorch", "skorch.net", "skorch.classifier", "skorch.callbacks", "skorch.dataset"),
               lambda name, defined: f"{defined.split('.')[1]}.html#{defined}"),
    "torch": ("https://pytorch.org/docs/stable/", ("torch.nn", "torch.optim"),
              lambda name, defined: f"generated/{name}.html"),
    "librosa": ("https://librosa.org/doc/latest/", ("librosa", "librosa.feature", "librosa.segment"),
                lambda name, defined: f"generated/{name}.html"),
}

#: the Python names our signatures and docstrings use, and their pages
_PYTHON = {"str": "library/stdtypes.html#str", "int": "library/functions.html#int",
           "float": "library/functions.html#float", "bool": "library/functions.html#bool",
           "list": "library/stdtypes.html#list", "dict": "library/stdtypes.html#dict",
           "tuple": "library/stdtypes.html#tuple", "object": "library/functions.html#object",
           "Exception": "library/exceptions.html#Exception", "ValueError": "library/exceptions.html#ValueError",
           "OSError": "library/exceptions.html#OSError", "RuntimeError": "library/exceptions.html#RuntimeError",
           "os.PathLike": "library/os.html#os.PathLike", "pathlib.Path": "library/pathlib.html#pathlib.Path",
           "collections.abc.Mapping": "library/collections.abc.html#collections.abc.Mapping",
           "numbers.Integral": "library/numbers.html#numbers.Integral",
           "numbers.Real": "library/numbers.html#numbers.Real"}


def _entries(project: str):
    """(name, role, page) of every public class and function of ``project``'s listed modules."""
    _, modules, page = PROJECTS[project]
    if project == "python":
        yield from ((name, "class", url) for name, url in _PYTHON.items())
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        exported = getattr(module, "__all__", None)
        public = exported or [n for n in dir(module) if not n.startswith("_")]
        for attr in public:
            try:
                obj = getattr(module, attr, None)
            except ImportError:  # scikit-learn's experimental names need an opt-in import
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)):
                continue
            role = "class" if inspect.isclass(obj) else "func"
            name = f"{module_name}.{attr}"
            defined = f"{getattr(obj, '__module__', None) or module_name}.{getattr(obj, '__qualname__', attr)}"
            if exported is None and not defined.startswith(module_name + "."):
                continue  # a module without __all__: only what it defines is its own
            if not defined.startswith(project + "."):
                continue  # a name the module imports from elsewhere (numpy's from builtins, ...)
            url = page(name, defined)
            yield name, role, url
            if defined != name:
                yield defined, role, url


def write_inventories(folder: Path) -> dict:
    """Write ``folder/<project>.inv`` for every project; return ``intersphinx_mapping``."""
    folder.mkdir(parents=True, exist_ok=True)
    mapping = {}
    for project, (root, _, _) in PROJECTS.items():
        seen, lines = set(), []
        for name, role, url in _entries(project):
            if (name, role) not in seen:
                seen.add((name, role))
                lines.append(f"{name} py:{role} 1 {url} -\n")
        header = f"# Sphinx inventory version 2\n# Project: {project}\n# Version: \n" \
                 "# The remainder of this file is compressed using zlib.\n"
        path = folder / f"{project}.inv"
        path.write_bytes(header.encode() + zlib.compress("".join(lines).encode()))
        mapping[project] = (root, str(path))
    return mapping
