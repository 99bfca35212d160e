"""What every stage shares and that knows nothing of songs: thread pools and devices.

Private: :mod:`._threads` sizes each task's BLAS and torch thread pools
(``threads_per_task``, ``limit_threads``); :mod:`._device` resolves
``device="auto"`` where a computation runs.  Imports nothing else of the package.
"""

from ._device import check_device, resolve_device, rng_devices
from ._threads import available_cores, limit_threads, thread_allowance, threads_per_task

__all__ = [
    "available_cores", "check_device", "limit_threads", "resolve_device", "rng_devices", "thread_allowance",
    "threads_per_task",
]
