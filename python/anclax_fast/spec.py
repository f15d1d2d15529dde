"""The runtime form of a task spec (``api/tasks.yaml``): what enqueue and workers need to know.

Generated packages build their ``SPEC`` from these classes; ``Spec.load`` parses and validates a
YAML file through the generator's loader (``anclax_fast.codegen``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

__all__ = ["DEFAULT_TIMEOUT", "CronJob", "RetryPolicy", "Spec", "TaskDef"]

DEFAULT_TIMEOUT = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``interval``: ``"30m"`` or a list ``"1m,2m,4m"`` (the last value repeats);
    ``max_attempts``: total executions including the first, or -1 for unlimited."""

    interval: str
    max_attempts: int


@dataclass(frozen=True, slots=True)
class CronJob:
    expression: str
    parameters: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TaskDef:
    name: str
    description: str | None = None
    parameters: Mapping[str, Any] | None = None
    retry_policy: RetryPolicy | None = None
    cron: CronJob | None = None
    on_failed: bool = False
    timeout: timedelta = DEFAULT_TIMEOUT
    labels: tuple[str, ...] = ()
    priority: int = 0


@dataclass(frozen=True)
class Spec:
    """A validated spec: its task definitions and, per task name, the parameter model class."""

    source: str
    tasks: tuple[TaskDef, ...]
    models: Mapping[str, type[BaseModel]] = field(default_factory=dict[str, type[BaseModel]])

    def task(self, name: str) -> TaskDef:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"no task named {name!r} in {self.source}")

    @classmethod
    def load(cls, path: str | Path) -> Spec:
        raise NotImplementedError("the spec loader lands with the generator (issue #3)")
