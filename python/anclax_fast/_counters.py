"""Process-local counters kept by the Python side (exported by :mod:`anclax_fast.metrics`)."""

from __future__ import annotations

import threading

__all__ = ["count_enqueued", "enqueued"]

_LOCK = threading.Lock()
_ENQUEUED: dict[str, int] = {}


def count_enqueued(task_name: str, n: int = 1) -> None:
    with _LOCK:
        _ENQUEUED[task_name] = _ENQUEUED.get(task_name, 0) + n


def enqueued() -> dict[str, int]:
    """Tasks enqueued by this process so far, per task name."""
    with _LOCK:
        return dict(_ENQUEUED)
