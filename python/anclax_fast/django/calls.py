"""How a Django task maps onto anclax: its anclax task (named by the function's module path), the
payload of one call, and the anclax options that Django's priority, queue and ``run_after`` become."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel, ConfigDict

from anclax_fast._types import EnqueueOptions
from anclax_fast.errors import ConfigurationError
from anclax_fast.retry import parse_duration
from anclax_fast.spec import RetryPolicy, TaskDef

__all__ = ["DEFAULT_QUEUE", "DjangoTaskCall", "TaskSettings", "enqueue_options", "labels_for_queue"]

DEFAULT_QUEUE = "default"
# Django priorities run from -100 to 100 (higher first, default 0); anclax's from 0 up (higher first).
PRIORITY_OFFSET = 100


class DjangoTaskCall(BaseModel):
    """The payload of every Django task: the call's arguments (JSON already: Django checks)."""

    model_config = ConfigDict(extra="forbid")

    args: list[Any] = []
    kwargs: dict[str, Any] = {}


def labels_for_queue(queue_name: str) -> list[str]:
    """A queue other than ``default`` is an anclax label: only workers serving that queue
    (``anclax_worker --queue NAME``) claim its tasks; every worker claims ``default``'s."""
    return [] if queue_name == DEFAULT_QUEUE else [queue_name]


def enqueue_options(priority: int, queue_name: str, run_after: datetime | None) -> EnqueueOptions:
    return {"priority": priority + PRIORITY_OFFSET, "labels": labels_for_queue(queue_name), "run_at": run_after}


class TaskSettings:
    """The backend ``OPTIONS`` that shape task rows: ``RETRY`` (``{"interval": "30s",
    "max_attempts": 3}``; default one attempt, as Django expects) and ``TIMEOUT`` (``"10m"``)."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        retry: object = options.get("RETRY")
        self.retry: RetryPolicy | None = None
        if retry is not None:
            given: Mapping[str, object] = cast(Mapping[str, object], retry) if isinstance(retry, Mapping) else {}
            if not {"interval", "max_attempts"} <= set(given):
                raise ConfigurationError('OPTIONS["RETRY"] must be a dict like {"interval": "30s", "max_attempts": 3}')
            self.retry = RetryPolicy(str(given["interval"]), int(str(given["max_attempts"])))
        timeout = options.get("TIMEOUT")
        self.timeout: timedelta | None = None
        if timeout is not None:
            self.timeout = timeout if isinstance(timeout, timedelta) else parse_duration(str(timeout))

    def task_def(self, module_path: str) -> TaskDef:
        if self.timeout is None:
            return TaskDef(name=module_path, retry_policy=self.retry)
        return TaskDef(name=module_path, retry_policy=self.retry, timeout=self.timeout)
