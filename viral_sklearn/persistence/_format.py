"""What a safe model file holds: the format's version, keys and limits.

A safe model is one safetensors file: the network's weights as tensors named
``<step>.<parameter>`` and, in the safetensors header's ``__metadata__`` under
:data:`HEADER_KEY`, a JSON description of the pipeline::

    {"format_version": "1.3", "library_version": "0.3.0",
     "steps": [{"name": "mono", "type": "MonoMixer", "params": {...}},
               ...,
               {"name": "clf", "type": "LSTMClassifier", "params": {...},
                "module": {"input_size": 64, "n_classes": 2, ...},
                "classes": {"dtype": "str", "values": ["flop", "hit"]},
                "n_features_in": 64}]}
"""

from __future__ import annotations

__all__ = [
    "CLASSIFIER_PARAMS",
    "FORMAT_VERSION",
    "HEADER_KEY",
    "MACHINE_LOCAL_PARAMS",
    "MAX_FILE_SIZE",
    "MAX_HEADER_SIZE",
    "PRE_METHOD_FORMATS",
]

#: ``major.minor``: a file is read when its major version equals ours.
#: 1.0: the first format.  1.1: machine-local parameters (``memory``,
#: ``n_jobs``, ``verbose``) are no longer written, and a 1.1 file that carries
#: one is refused; in 1.0 files, which always carried them, they are ignored.
#: 1.2: ChorusExtractor has ``method`` (and ``offset``); 1.0 and 1.1 files,
#: written when its only algorithm was pychorus's, load with ``method="pychorus"``.
#: 1.3: ``PooledMelTransformer`` steps (described in JSON) and scikit-learn steps
#: (``"type": "skops"``, held by one skops payload in the file, :mod:`._skops`);
#: the last step is an LSTMClassifier or a scikit-learn step.  A network key a
#: file lacks (``standardize``, ``readout`` ... of the sequence-model options)
#: means LSTMModule's own default, the network older files hold.
FORMAT_VERSION = "1.3"
#: formats written before ChorusExtractor had ``method``
PRE_METHOD_FORMATS = ("1.0", "1.1")

#: the key of the JSON description in the safetensors ``__metadata__``
HEADER_KEY = "viral_sklearn"

#: parameters that describe the machine a model runs on, never the model: a
#: model file never sets them; the caller of ``load_pipeline`` does
MACHINE_LOCAL_PARAMS = ("memory", "n_jobs", "verbose", "device")

#: the largest model file read unless the caller raises ``max_file_size``
#: (a default network, hidden size 64, is ~0.2 MB)
MAX_FILE_SIZE = 1 << 30

#: the largest safetensors header read (the tensor index and the description);
#: a default model's is ~2 KB; a header this size makes at most ~1.5 MB of Python objects
MAX_HEADER_SIZE = 64 * 1024

#: the classifier parameters a file stores (the rest are training-time objects
#: or machine-local)
CLASSIFIER_PARAMS = (
    "lr",
    "max_epochs",
    "batch_size",
    "train_split",
    "validation_fraction",
    "random_state",
    "predict_nonlinearity",
    # training options (LSTMClassifier._parameter_constraints checks them)
    "weight_decay",
    "gradient_clip",
    "time_mask",
    "freq_mask",
    "time_shift",
    "mixup",
    "early_stopping",
)
