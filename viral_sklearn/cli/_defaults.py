"""The library defaults that ``--help`` shows, as plain values.

Building the parser must not import torch, librosa or scikit-learn (``viral-sklearn
--help`` answers at once), so the defaults the help texts quote live here rather
than being read from the estimators' signatures.  They are the library's own
values: ``tests/test_cli_units.py::test_help_defaults_are_the_library_defaults``
compares each with the signature (and the parameter constraints) it stands for.
"""

#: defaults of :func:`~viral_sklearn.make_viral_pipeline` the command exposes
PIPELINE_DEFAULTS = {
    "clip_length": 20.0,
    "max_epochs": 30,
    "hidden_size": 64,
    "lr": 5e-3,
    "batch_size": 16,
    "random_state": 42,
}

#: defaults of :class:`~viral_sklearn.ChorusExtractor` the ``chorus`` subcommand exposes
CHORUS_DEFAULTS = {"clip_length": 20.0, "fallback": "loudest", "method": "structure"}

#: the ``method=`` values of :class:`~viral_sklearn.ChorusExtractor`, sorted
CHORUS_METHODS = ("loudest", "offset", "pychorus", "structure")
