"""Safe persistence: a fitted pipeline as one safetensors file, loaded without unpickling.

``joblib.dump`` / ``joblib.load`` keep *everything* (callbacks, history, custom
classes), but ``joblib.load`` of a file you did not write **runs its author's
code**.  :func:`save_pipeline` writes the network's weights as safetensors
tensors and the steps, their parameters and the classifier's labels as JSON in
the same file's header; :func:`load_pipeline` rebuilds the pipeline from a
whitelist of our own estimator types and loads the weights into them.

What loading a safe file from a stranger can and cannot do:

* nothing is unpickled or executed; only our step types and the scikit-learn
  types of a fixed allow-list (the skops part, :mod:`._skops`) are built;
* machine-local settings (``memory``, ``n_jobs``, ``verbose``, ``device``)
  never come from the file (a file that sets one is refused): the caller
  passes them to :func:`load_pipeline`, so a file cannot choose where this
  machine writes or how many processes it starts;
* everything is checked before it is allocated: the file and header sizes, the
  tensor index, every parameter (with each step's ``_parameter_constraints``
  and bounds on rates, durations and FFT sizes), the network described against
  the tensors stored; NaN or infinite weights are refused.

When to use which:

* ``joblib`` for your own checkpoints, when you need the training history, custom
  callbacks or modules, and you trust the file;
* :func:`save_pipeline` for sharing and deploying models, and for loading files
  from anyone else.  It keeps what prediction needs; the training history, custom
  callbacks and any non-default ``module``, ``optimizer`` or ``criterion`` class
  are not stored (it refuses to save a pipeline whose prediction depends on them).

:func:`load_model` loads either: safe files always, pickles only with
``trust_pickle=True``.  See ``docs/user_guide/persistence.md`` and ``SECURITY.md``.
"""

from ._errors import ModelFormatError, UntrustedPickleError
from ._format import FORMAT_VERSION, MACHINE_LOCAL_PARAMS, MAX_FILE_SIZE, MAX_HEADER_SIZE
from ._load import load_model, load_pipeline
from ._save import save_pipeline

__all__ = [
    "FORMAT_VERSION",
    "MACHINE_LOCAL_PARAMS",
    "MAX_FILE_SIZE",
    "MAX_HEADER_SIZE",
    "ModelFormatError",
    "UntrustedPickleError",
    "load_model",
    "load_pipeline",
    "save_pipeline",
]
