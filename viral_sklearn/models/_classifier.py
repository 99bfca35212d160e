"""The skorch classifier over (time x mel) sequences, and its progress bar."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EpochScoring, LRScheduler
from skorch.dataset import ValidSplit
from skorch.utils import to_tensor
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._runtime import limit_threads, resolve_device, rng_devices, threads_per_task
from ._module import LSTMModule

__all__ = ["LSTMClassifier", "EpochProgressBar"]


def _valid_accuracy(net, X, y):
    """Validation accuracy on the encoded labels (skorch's scorer sees encoded y)."""
    proba = net.predict_proba(X)
    return float(np.mean(np.argmax(proba, axis=1) == np.asarray(y)))


class EpochProgressBar(Callback):
    """One progress bar per fit, advancing per epoch, showing the training loss.

    skorch's ``ProgressBar`` counts batches; this one counts epochs, which is
    what a long grid search wants.  Add it with
    ``LSTMClassifier(callbacks=[("progress", EpochProgressBar())])``.

    Parameters
    ----------
    leave : bool, default=False
        Keep the finished bar on screen.
    """

    def __init__(self, leave=False):
        self.leave = leave

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        hidden = net.get_params().get("module__hidden_size")
        self.bar_ = tqdm(
            total=net.max_epochs, desc=f"training (hidden={hidden}, lr={net.lr:g})", unit="epoch", leave=self.leave
        )

    def on_epoch_end(self, net, **kwargs):
        self.bar_.update(1)
        self.bar_.set_postfix(loss=f"{net.history[-1, 'train_loss']:.3f}")

    def on_train_end(self, net, **kwargs):
        self.bar_.close()

    def __getstate__(self):  # a saved model carries no terminal state
        state = dict(self.__dict__)
        state.pop("bar_", None)
        return state


class LSTMClassifier(NeuralNetClassifier):
    """skorch classifier of (time x mel) sequences with :class:`LSTMModule`.

    Defaults follow the notebook: hidden size 64, Adam with lr 5e-3, batch 16,
    StepLR(step 10, gamma 0.5), 50 epochs, an 80:20 train/validation split.
    Configure the module and the rest through skorch's own parameters, so a
    grid search reaches them: ``module__hidden_size``, ``module__num_layers``,
    ``lr``, ``max_epochs``, ``callbacks__lr_scheduler__step_size`` ...

    Labels can be any values sklearn accepts (ints, bools, strings); they are
    encoded internally, ``classes_`` holds them sorted and ``predict`` returns
    them.  ``input_size`` and ``n_classes`` of the module come from the data.

    Parameters
    ----------
    module : type, default=LSTMModule
    lr : float, default=5e-3
    batch_size : int, default=16
    max_epochs : int, default=50
    optimizer : type, default=torch.optim.Adam
    criterion : type, default=torch.nn.CrossEntropyLoss
        The module outputs logits; ``predict_proba`` applies the softmax.
    train_split : "auto", None or callable, default="auto"
        ``"auto"`` holds out a stratified ``validation_fraction`` of the
        training songs, drawn with ``random_state``, to report ``valid_loss``
        and ``valid_acc`` each epoch as the notebook's 80:20 split did.  This
        validation data is *only monitored*: no early stopping or model
        selection uses it, so inside cross-validation nothing leaks from the
        test fold; the cost is that 20% of each training fold is not trained
        on.  Pass ``train_split=None`` to train on everything (recommended
        when you tune with ``GridSearchCV`` and don't look at the curves), or
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
        The trained network.
    class_weight_ : np.ndarray of float32 or None
        The loss weight of each class of ``classes_`` (None without
        ``class_weight``).
    history_ : skorch.History
        Per-epoch losses and accuracies (see :func:`viral_sklearn.plotting.plot_history`).

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
        max_epochs=50,
        batch_size=16,
        train_split="auto",
        validation_fraction=0.2,
        class_weight=None,
        random_state=None,
        verbose=0,
        device="auto",
        **kwargs,
    ):
        # skorch's DataLoader does not shuffle unless asked; the notebook did
        kwargs.setdefault("iterator_train__shuffle", True)
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
        self.random_state = random_state

    # -- defaults -------------------------------------------------------
    @property
    def _default_callbacks(self):
        callbacks = []
        for name, cb in super()._default_callbacks:
            if name == "valid_acc":
                cb = EpochScoring(_valid_accuracy, name="valid_acc", lower_is_better=False)
            callbacks.append((name, cb))
        callbacks.append(
            ("lr_scheduler", LRScheduler(policy=torch.optim.lr_scheduler.StepLR, step_size=10, gamma=0.5))
        )
        return callbacks

    # -- device -----------------------------------------------------------
    # skorch reads ``self.device`` wherever it moves a tensor or a module, and
    # torch knows no "auto".  Prediction paths (which may run from several
    # threads) resolve it locally in ``infer`` and ``forward_iter``; training,
    # initialisation and loading hold the concrete device in ``self.device``
    # while they run and put the parameter back after.
    @contextlib.contextmanager
    def _concrete_device(self):
        requested = self.device
        concrete = resolve_device(requested)
        if concrete is requested:
            yield concrete
            return
        self.device = concrete
        try:
            yield concrete
        finally:
            if self.device is concrete:  # unless set_params changed it meanwhile
                self.device = requested

    def initialize(self):
        with self._concrete_device():
            return super().initialize()

    def set_params(self, **kwargs):
        requested = kwargs.get("device", None)
        if requested is not None and resolve_device(requested) is not requested:
            # a re-initialisation below moves modules to the device: give it a real one
            super().set_params(**{**kwargs, "device": resolve_device(requested)})
            self.device = requested
            return self
        with self._concrete_device():
            return super().set_params(**kwargs)

    def infer(self, x, **fit_params):
        if isinstance(x, Mapping):  # not our input; skorch merges it with fit_params
            with self._concrete_device():
                return super().infer(x, **fit_params)
        return self.module_(to_tensor(x, device=resolve_device(self.device)), **fit_params)

    def forward_iter(self, X, training=False, device="cpu"):
        return super().forward_iter(X, training=training, device=resolve_device(device))

    def get_loss(self, y_pred, y_true, *args, **kwargs):
        with self._concrete_device():
            return super().get_loss(y_pred, y_true, *args, **kwargs)

    def load_params(self, *args, **kwargs):
        with self._concrete_device():
            return super().load_params(*args, **kwargs)

    def __setstate__(self, state):
        requested = state.get("device")
        concrete = resolve_device(requested)
        state["device"] = concrete  # what "auto" means on the loading machine
        super().__setstate__(state)
        if concrete is not requested:
            self.device = requested

    def get_split_datasets(self, X, y=None, **fit_params):
        if isinstance(self.train_split, str):
            if self.train_split != "auto":
                raise ValueError(f"train_split must be 'auto', None or a callable, got {self.train_split!r}")
            split = ValidSplit(self.validation_fraction, stratified=True, random_state=self._split_seed)
            return split(self.get_dataset(X, y), y, **fit_params)
        return super().get_split_datasets(X, y, **fit_params)

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
        self.module_ = self.initialized_instance(self.module, kwargs)
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
        X, y = self._fit_setup(X, y)
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(f"LSTMClassifier needs at least 2 classes in y, got {list(encoder.classes_)}")
        self.label_encoder_ = encoder
        self.class_weight_ = self._class_weights(encoder.classes_, y)
        self.n_features_in_ = X.shape[-1]
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._split_seed = seed
        self._y_is_encoded = True  # skorch's fit calls our partial_fit
        try:
            with self._concrete_device() as device, limit_threads(threads_per_task()):
                cuda = rng_devices(device)
                # the caller's generators (CPU, and the GPU trained on) stay untouched
                with torch.random.fork_rng(devices=cuda):
                    torch.default_generator.manual_seed(seed)
                    for index in cuda:
                        with torch.cuda.device(index):
                            torch.cuda.manual_seed(seed)
                    super().fit(X, encoder.transform(y).astype(np.int64), **fit_params)
        finally:
            self._y_is_encoded = False
        return self

    def _class_weights(self, classes, y):
        """The loss weight of each class (in ``classes`` order), or None."""
        if self.class_weight is None:
            return None
        if not (isinstance(self.class_weight, dict) or (isinstance(self.class_weight, str)
                                                         and self.class_weight == "balanced")):
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict of label -> weight, got {self.class_weight!r}"
            )
        if "weight" in self.get_params_for("criterion"):
            raise ValueError("class_weight and criterion__weight are both set; pass only one of them")
        if isinstance(self.class_weight, dict):
            unknown = [k for k in self.class_weight if k not in set(classes.tolist())]
            if unknown:
                raise ValueError(
                    f"class_weight names labels that are not in y: {unknown!r}; the labels are {classes.tolist()!r}"
                )
        from sklearn.utils.class_weight import compute_class_weight

        try:
            weights = compute_class_weight(self.class_weight, classes=classes, y=y)
        except ValueError as exc:
            raise ValueError(f"class_weight={self.class_weight!r}: {exc}") from None
        if not (np.all(np.isfinite(weights)) and np.all(weights >= 0)):
            raise ValueError(f"class_weight must give finite, non-negative weights, got {self.class_weight!r}")
        return weights.astype(np.float32)

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
