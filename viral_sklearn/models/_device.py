"""``device="auto"`` for a skorch net: resolved where the net fits, predicts or loads."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from skorch.utils import to_tensor

from .._runtime import resolve_device

__all__ = ["AutoDeviceMixin"]


class AutoDeviceMixin:
    """Lets a skorch net keep ``device="auto"`` (or any request) as its parameter.

    ``"auto"`` means ``"cuda"`` where the process that runs the call sees a
    GPU, else ``"cpu"`` (:func:`viral_sklearn._runtime.resolve_device`).  Put
    it before the skorch class in the bases.
    """

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
