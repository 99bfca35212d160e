"""The skorch classifier over (time x mel) sequences, and its progress bar."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.dataset import ValidSplit
from skorch.dataset import unpack_data
from skorch.history import History
from skorch.utils import to_tensor
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_parameter_constraints
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._runtime import limit_threads, rng_devices, threads_per_task
from ._augment import Augmentation
from ._callbacks import training_callbacks
from ._device import AutoDeviceMixin
from ._module import LSTMModule
from ._scaling import BandScaler, band_statistics
from ._training import check_split_size, class_weights, seed_generators

__all__ = ["LSTMClassifier", "NOTEBOOK_PARAMS"]


#: the network LSTMClassifier builds unless told otherwise (``module__<key>``),
#: chosen by benchmarks/bench_models.py; LSTMModule's own defaults are the notebook's
MODULE_DEFAULTS = {"standardize": True, "readout": "attention", "dropout": 0.2, "conv_channels": 32,
                   "conv_kernel": 9}

#: the notebook's network and training (what LSTMClassifier was before these
#: defaults): ``LSTMClassifier(**NOTEBOOK_PARAMS)``
NOTEBOOK_PARAMS = {
    "module__standardize": False, "module__readout": "last", "module__dropout": 0.0, "module__conv_channels": 0,
    "weight_decay": 0.0, "gradient_clip": None, "time_mask": 0.0, "freq_mask": 0, "time_shift": 0.0, "mixup": 0.0,
    "early_stopping": None, "max_epochs": 50,
}


class LSTMClassifier(AutoDeviceMixin, NeuralNetClassifier):
    """skorch classifier of (time x mel) sequences with :class:`LSTMModule`.

    From the notebook: hidden size 64, Adam with lr 5e-3, batch 16,
    StepLR(step 10, gamma 0.5), an 80:20 train/validation split.
    Added, with defaults chosen by ``benchmarks/bench_models.py``
    (``docs/performance.md``): the input is standardised per band
    (statistics learned in ``fit``, kept in the network), a convolution over
    time reads it first (a CRNN), the LSTM's states are read by attention
    pooling, with dropout, weight decay, gradient clipping, and
    SpecAugment-style masks, time shifts and mixup while training; the number of
    epochs is chosen on the internal validation split (the lowest validation
    loss), then the network is trained again on every song for that many
    epochs (``early_stopping="refit"``).
    ``LSTMClassifier(**NOTEBOOK_PARAMS)`` (``module__standardize=False,
    module__readout="last", module__dropout=0, module__conv_channels=0,
    weight_decay=0, gradient_clip=None, time_mask=0, freq_mask=0,
    time_shift=0, mixup=0, early_stopping=None, max_epochs=50``) is the
    notebook's network and training.  Configure the module and the rest through
    skorch's own parameters, so a grid search reaches them:
    ``module__hidden_size``, ``module__readout``, ``lr``, ``max_epochs``,
    ``callbacks__lr_scheduler__step_size`` ...

    Labels can be any values sklearn accepts (ints, bools, strings); they are
    encoded internally, ``classes_`` holds them sorted and ``predict`` returns
    them.  ``input_size`` and ``n_classes`` of the module come from the data.

    Parameters
    ----------
    module : type, default=LSTMModule
    module__standardize : bool, default=True
        Standardise each mel band with the mean and standard deviation of the
        training clips (over songs and time), learned in ``fit`` and stored in
        the network (``module_.scaler``), so joblib and the safe format both
        keep it.  Raw dB values span about -100..+40.
    module__readout : {"last", "mean", "attention"}, default="attention"
        See :class:`LSTMModule`; ``"last"`` is the notebook's.
    module__dropout : float, default=0.2
        Dropout on the LSTM's outputs.
    module__bidirectional : bool, default=False
    module__conv_channels : int, default=32
        A convolutional front end (CRNN) with this many channels; 0: none.
    module__conv_kernel : int, default=9
        Frames its convolution spans (9 frames: 0.36 s at 25 frames per second).
    lr : float, default=5e-3
    batch_size : int, default=16
    max_epochs : int, default=30
        The benchmark's (``docs/performance.md``); the notebook trained 50.
    optimizer : type, default=torch.optim.Adam
    criterion : type, default=torch.nn.CrossEntropyLoss
        The module outputs logits; ``predict_proba`` applies the softmax.
    train_split : "auto", None or callable, default="auto"
        ``"auto"`` holds out a stratified ``validation_fraction`` of the
        training songs, drawn with ``random_state``, to report ``valid_loss``
        and ``valid_acc`` each epoch as the notebook's 80:20 split did, and
        for ``early_stopping``.  The split is drawn from the training songs
        only, so inside cross-validation nothing leaks from the test fold;
        with the default ``early_stopping="refit"`` the final network is
        then trained on every song; with an int or None, 20% of each
        training fold is not trained on.  A fit
        with too few songs for it (fewer than one per class on either side,
        or a class of one song) raises a ``ValueError`` saying so.  Pass
        ``train_split=None`` to train ``max_epochs`` on everything (one
        pass, no early stopping), or
        any skorch split such as ``skorch.dataset.ValidSplit(5)``.
    validation_fraction : float, default=0.2
        Used by ``train_split="auto"``.
    class_weight : None, "balanced" or dict, default=None
        Weights of the classes in the loss (``CrossEntropyLoss(weight=...)``),
        computed from the training labels at each ``fit``: ``"balanced"``
        weighs class ``c`` by ``n_samples / (n_classes * n_c)`` (sklearn's
        ``compute_class_weight``), a dict maps *your* labels to weights
        (labels it omits weigh 1).  Each batch's loss is then the weighted
        mean over its samples; the monitored ``valid_loss`` is weighted the
        same way.  Leave ``criterion__weight`` unset when you use it.
    weight_decay : float, default=1e-4
        The optimizer's weight decay (L2 penalty), unless
        ``optimizer__weight_decay`` is set.
    gradient_clip : float or None, default=1.0
        Clip the gradients' total norm to this value at each step
        (skorch's ``GradientNormClipping``); None: no clipping.
    time_mask : float, default=0.1
        Training only: each clip of a batch gets one run of frames, up to this
        fraction of its length, set to the bands' mean (SpecAugment); 0: off.
    freq_mask : int, default=8
        Training only: each clip gets one run of up to this many adjacent mel
        bands set to their mean; 0: off.
    time_shift : float, default=0.1
        Training only: each clip is rolled in time by up to this fraction of
        its length, either way; 0: off.
    mixup : float, default=0.4
        Training only: mixup's Beta(alpha, alpha) parameter (each batch mixed
        with a shuffled copy of itself, the loss mixed alike); 0: off.  With
        it the network stays less sure of itself, so the validation loss
        follows what it has learned: on the temporal corpus, without it, the
        validation loss rose while the ROC-AUC climbed, and
        ``early_stopping="refit"`` sometimes chose a few epochs where 30 were
        needed (``docs/performance.md``, section 8).
    early_stopping : "refit", int or None, default="refit"
        ``"refit"``: train ``max_epochs`` on the training part of the
        validation split, take the epoch of the lowest validation loss
        (``best_epoch_``), then train a fresh network from the same seed on
        *every* song for that many epochs; the fit costs the first pass plus
        the second.  The validation split then only chooses the length of
        training: no song is left out of the final model.  On the benchmark
        (``docs/performance.md``, section 8) it is what makes one default
        serve both kinds of label: on the demo's noisy hard corpus the
        lowest validation loss comes after a few epochs (training 30 overfits
        the noise), on the temporal corpus, whose label is an order the
        network needs most of its epochs and every song to learn, late.
        An int: a patience: stop when the validation loss has not improved
        for that many epochs and restore the weights of the best epoch
        (skorch's ``EarlyStopping(load_best=True)``), trained on the 80%
        only.  None: train ``max_epochs`` on the training part, keep the
        last epoch.  Every option needs the validation split: with
        ``train_split=None`` every fit trains ``max_epochs`` on every song.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch shuffling (on by default:
        ``iterator_train__shuffle=True``) and the validation split,
        without touching torch's global generator: the same seed gives
        bit-identical probabilities on CPU.  ``None`` draws a seed from numpy's
        global generator.
    verbose : int, default=0
        skorch's per-epoch table when 1.
    device : "auto", str or torch.device, default="auto"
        skorch's ``device``: where the network trains and predicts.
        ``"auto"`` is ``"cuda"`` when the process that fits or predicts
        (a joblib or Dask worker included) sees a CUDA GPU, else ``"cpu"``;
        it is resolved at each fit, prediction and load, and
        ``get_params()`` keeps saying ``"auto"``, so a model trained on a GPU
        and loaded where there is none predicts on the CPU without a warning.
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ... pin a device.  Only CPU fits
        are bit-identical from one run to the next (cuDNN's LSTM is not).
    **kwargs
        Any other skorch parameter (``callbacks``, ``module__hidden_size``,
        ``iterator_train__num_workers``, ...).

    Notes
    -----
    Threads: a fit or prediction inside a Dask worker uses the worker's
    share of the cores (its allowance, ``MKL_NUM_THREADS`` or
    ``OMP_NUM_THREADS`` as Dask's nanny sets them, divided by the worker's
    threads), applied with ``torch.set_num_threads`` for the call and
    restored after; in joblib's worker processes (``GridSearchCV(n_jobs=2)``)
    joblib already gave torch ``cores // n_jobs`` threads.  Elsewhere torch's
    own setting is left alone.  See ``docs/user_guide/scaling.md``.

    Attributes
    ----------
    classes_ : np.ndarray
        The labels seen in fit.
    n_features_in_ : int
        Features per time step (mel bands) seen in fit.
    module_ : LSTMModule
        The trained network; with ``module__standardize``, ``module_.scaler``
        holds the bands' ``mean`` and ``std`` learned in ``fit``.
    class_weight_ : np.ndarray of float32 or None
        The loss weight of each class of ``classes_`` (None without
        ``class_weight``).
    history_ : skorch.History
        Per-epoch losses and accuracies (see :func:`viral_sklearn.plotting.plot_history`);
        with ``early_stopping="refit"``, those of the second pass (training losses only).
    best_epoch_ : int or None
        With ``early_stopping="refit"``: the epoch of the first pass's lowest
        validation loss, the length of the second (None otherwise).
    validation_history_ : skorch.History or None
        With ``early_stopping="refit"``: the first pass's history, with the
        validation losses it chose from (None otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> from viral_sklearn import LSTMClassifier
    >>> X = np.random.RandomState(0).randn(20, 30, 8).astype(np.float32)
    >>> y = np.array([0, 1] * 10)
    >>> clf = LSTMClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X).shape
    (20, 2)
    """

    def __init__(
        self,
        module=LSTMModule,
        *,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=5e-3,
        max_epochs=30,
        batch_size=16,
        train_split="auto",
        validation_fraction=0.2,
        class_weight=None,
        weight_decay=1e-4,
        gradient_clip=1.0,
        time_mask=0.1,
        freq_mask=8,
        time_shift=0.1,
        mixup=0.4,
        early_stopping="refit",
        random_state=None,
        verbose=0,
        device="auto",
        **kwargs,
    ):
        # skorch's DataLoader does not shuffle unless asked; the notebook did
        kwargs.setdefault("iterator_train__shuffle", True)
        for key, value in MODULE_DEFAULTS.items():  # the network's defaults (LSTMModule's are the notebook's)
            kwargs.setdefault(f"module__{key}", value)
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.weight_decay = weight_decay
        self.gradient_clip = gradient_clip
        self.time_mask = time_mask
        self.freq_mask = freq_mask
        self.time_shift = time_shift
        self.mixup = mixup
        self.early_stopping = early_stopping
        self.random_state = random_state

    _parameter_constraints: dict = {
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "gradient_clip": [None, Interval(Real, 0, None, closed="neither")],
        "time_mask": [Interval(Real, 0, 1, closed="left")],
        "freq_mask": [Interval(Integral, 0, None, closed="left")],
        "time_shift": [Interval(Real, 0, 1, closed="both")],
        "mixup": [Interval(Real, 0, None, closed="left")],
        "early_stopping": [None, Interval(Integral, 1, None, closed="left"), StrOptions({"refit"})],
    }

    # -- defaults -------------------------------------------------------
    @property
    def _default_callbacks(self):
        return training_callbacks(self, super()._default_callbacks)

    def get_split_datasets(self, X, y=None, **fit_params):
        if getattr(self, "_refitting", False):  # early_stopping="refit": the second pass trains on every song
            return self.get_dataset(X, y), None
        if isinstance(self.train_split, str):
            if self.train_split != "auto":
                raise ValueError(f"train_split must be 'auto', None or a callable, got {self.train_split!r}")
            if y is not None:
                check_split_size(np.asarray(y), self.validation_fraction, self.label_encoder_.inverse_transform)
            split = ValidSplit(self.validation_fraction, stratified=True, random_state=self._split_seed)
            return split(self.get_dataset(X, y), y, **fit_params)
        return super().get_split_datasets(X, y, **fit_params)

    def get_params_for_optimizer(self, prefix, named_parameters):
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        if prefix == "optimizer" and self.weight_decay:
            kwargs.setdefault("weight_decay", self.weight_decay)
        return args, kwargs

    def _augmentation(self):
        """The training batches' augmentation, masks filled with the bands' means."""
        stats = getattr(self, "_band_stats", None)
        scaler = getattr(getattr(self, "module_", None), "scaler", None)
        fill = torch.as_tensor(stats[0]) if stats is not None else None
        if fill is None and isinstance(scaler, BandScaler):  # a loaded model, trained further
            fill = scaler.mean.detach().cpu()
        return Augmentation(time_mask=self.time_mask, freq_mask=self.freq_mask, time_shift=self.time_shift,
                            mixup=self.mixup, fill=fill)

    def train_step_single(self, batch, **fit_params):
        """skorch's step with the training batch augmented (prediction and validation never are)."""
        augment = self._augmentation()
        if not augment.active:
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi, y_other, lam = augment(to_tensor(Xi, device=self.device), to_tensor(yi, device=self.device))
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        if lam is not None:
            loss = lam * loss + (1.0 - lam) * self.get_loss(y_pred, y_other, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def initialize_criterion(self):
        kwargs = self.get_params_for("criterion")
        weights = getattr(self, "class_weight_", None)
        if weights is not None:
            kwargs["weight"] = torch.as_tensor(weights, dtype=torch.float32)
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    def initialize_optimizer(self, *args, **kwargs):
        super().initialize_optimizer(*args, **kwargs)
        # A scheduler made for a trained net resumes at len(history) - 1, and torch
        # then needs each group's starting rate: a fresh optimizer (set_params of
        # the module, then partial_fit) would not have it.
        for group in getattr(self.optimizer_, "param_groups", ()):
            group.setdefault("initial_lr", group["lr"])
        return self

    def initialize_module(self):
        kwargs = self.get_params_for("module")
        if getattr(self, "n_features_in_", None) is not None:
            kwargs.setdefault("input_size", self.n_features_in_)
        if getattr(self, "label_encoder_", None) is not None:
            kwargs.setdefault("n_classes", len(self.label_encoder_.classes_))
        previous = getattr(self, "module_", None)
        self.module_ = self.initialized_instance(self.module, kwargs)
        scaler = getattr(self.module_, "scaler", None)
        if isinstance(scaler, BandScaler):
            # the statistics of this fit, else those of the network this one replaces
            stats = getattr(self, "_band_stats", None)
            old = getattr(previous, "scaler", None)
            if stats is None and isinstance(old, BandScaler) and old.mean.shape == scaler.mean.shape:
                stats = (old.mean.cpu().numpy(), old.std.cpu().numpy())
            if stats is not None:
                scaler.set_statistics(*stats)
        return self

    # -- data -----------------------------------------------------------
    @staticmethod
    def _check_X(X):
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        X = np.asarray(X)
        if X.ndim != 3:
            raise ValueError(
                f"LSTMClassifier expects X of shape (n_samples, n_frames, n_features), got shape {X.shape}"
            )
        if not np.issubdtype(X.dtype, np.number):
            raise ValueError(f"LSTMClassifier expects numeric X, got dtype {X.dtype}")
        X = X.astype(np.float32, copy=False)
        if not np.isfinite(X).all():
            raise ValueError("Input X contains NaN or infinity.")
        return X

    def _fit_setup(self, X, y):
        X = self._check_X(X)
        y = np.asarray(y)
        check_classification_targets(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"y must be 1-D with one label per sample: X has {len(X)} samples, y has shape {y.shape}")
        return X, y

    def fit(self, X, y, **fit_params):
        """Train from scratch on ``X`` of shape (n_samples, n_frames, n_features).

        Returns
        -------
        self
        """
        validate_parameter_constraints(  # skorch's _validate_params checks names only
            self._parameter_constraints, {k: getattr(self, k) for k in self._parameter_constraints},
            caller_name=type(self).__name__)
        X, y = self._fit_setup(X, y)
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(f"LSTMClassifier needs at least 2 classes in y, got {list(encoder.classes_)}")
        self.label_encoder_ = encoder
        self.class_weight_ = class_weights(self.class_weight, encoder.classes_, y, self.get_params_for("criterion"))
        self.n_features_in_ = X.shape[-1]
        self._band_stats = band_statistics(X)
        self.best_epoch_, self.validation_history_ = None, None
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._split_seed = seed
        self._y_is_encoded = True  # skorch's fit calls our partial_fit
        try:
            with self._concrete_device() as device, limit_threads(threads_per_task()):
                cuda = rng_devices(device)
                # the caller's generators (CPU, and the GPU trained on) stay untouched
                with torch.random.fork_rng(devices=cuda):
                    seed_generators(seed, cuda)
                    y_encoded = encoder.transform(y).astype(np.int64)
                    super().fit(X, y_encoded, **fit_params)
                    if self.early_stopping == "refit" and self.train_split is not None:
                        self._refit_on_all_songs(X, y_encoded, seed, cuda, **fit_params)
        finally:
            self._y_is_encoded = False
        return self

    def _refit_on_all_songs(self, X, y, seed, cuda, **fit_params):
        """``early_stopping="refit"``'s second pass: the epoch of the lowest validation loss of
        the first, then a fresh network from the same seed trained that many epochs on every song."""
        losses = [loss for loss in self.history[:, "valid_loss"] if np.isfinite(loss)] if len(self.history) else []
        if not losses:
            return
        self.best_epoch_ = int(np.argmin(losses)) + 1
        self.validation_history_ = History(self.history)  # initialize() clears the first pass's
        seed_generators(seed, cuda)
        self._refitting = True
        try:
            self.initialize()
            NeuralNetClassifier.partial_fit(self, X, y, epochs=self.best_epoch_, **fit_params)
        finally:
            self._refitting = False

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Continue training the current model; see skorch's ``partial_fit``."""
        if getattr(self, "_y_is_encoded", False):
            return super().partial_fit(X, y, classes, **fit_params)
        if not getattr(self, "initialized_", False) or not hasattr(self, "label_encoder_"):
            return self.fit(X, y, **fit_params)
        X, y = self._fit_setup(X, y)
        with self._concrete_device(), limit_threads(threads_per_task()):
            return super().partial_fit(X, self.label_encoder_.transform(y).astype(np.int64), classes, **fit_params)

    @property
    def classes_(self):
        check_is_fitted(self, "label_encoder_")
        return self.label_encoder_.classes_

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits), deterministic.

        Returns
        -------
        proba : np.ndarray [shape=(n_samples, n_classes), dtype=float32]
        """
        if isinstance(X, (np.ndarray, torch.Tensor, list)):
            check_is_fitted(self, "label_encoder_")
            X = self._check_X(X)  # else a skorch dataset (validation scoring)
        # torch's DataLoader draws a seed from the global generator even when it
        # does not shuffle: keep the caller's random stream untouched.
        with torch.random.fork_rng(devices=[]), limit_threads(threads_per_task()):
            return super().predict_proba(X)

    def predict(self, X):
        """The most probable label of each sample, in the labels seen in fit."""
        check_is_fitted(self, "label_encoder_")
        return self.label_encoder_.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
