"""Which torch device a step computes on: ``"auto"`` and its resolution."""

from __future__ import annotations

__all__ = ["AUTO", "resolve_device", "check_device", "rng_devices"]

#: the device choice "CUDA when this process sees a GPU, else the CPU"
AUTO = "auto"


def resolve_device(device):
    """The concrete device ``device`` stands for, where this runs.

    ``"auto"`` is ``"cuda"`` when ``torch.cuda.is_available()``, else ``"cpu"``;
    anything else (``"cpu"``, ``"cuda:1"``, a ``torch.device``, None) is
    returned as it is (the very same object).  Resolution happens where the
    computation runs, so a Dask worker with a GPU uses it even when the client
    has none.

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    >>> import torch
    >>> resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    True
    """
    if isinstance(device, str) and device == AUTO:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def check_device(device, *, owner: str) -> None:
    """Raise a ValueError naming ``owner``'s ``device`` parameter when torch cannot parse it."""
    import torch

    if isinstance(device, str) and device == AUTO:
        return
    try:
        torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"The 'device' parameter of {owner} must be 'auto', 'cpu', 'cuda', 'cuda:<index>' or another "
            f"torch device, got {device!r} ({exc})"
        ) from None


def rng_devices(device) -> list[int]:
    """CUDA device indices whose random generator a computation on ``device`` uses."""
    import torch

    dev = torch.device(resolve_device(device))
    if dev.type != "cuda":
        return []
    return [dev.index if dev.index is not None else torch.cuda.current_device()]
