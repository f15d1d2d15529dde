"""``Spec.load``: a spec file straight to an :class:`anclax_fast.Spec`, models included.

Builds the same task definitions and parameter models that a generated package's ``SPEC`` holds
(the models by executing the generated ``models.py`` source), so a worker started from the YAML
file validates payloads exactly like one started from the generated package.
"""

from __future__ import annotations

from pathlib import Path

from anclax_fast.codegen.ir import TaskIR
from anclax_fast.codegen.load import build_models, load_spec
from anclax_fast.spec import DEFAULT_TIMEOUT, CronJob, RetryPolicy, Spec, TaskDef

__all__ = ["load_runtime_spec", "task_def"]


def task_def(task: TaskIR) -> TaskDef:
    """The runtime definition of one validated task (what generated ``spec.py`` spells out)."""
    return TaskDef(
        name=task.name,
        description=task.description,
        parameters=task.schema,
        retry_policy=RetryPolicy(task.retry.interval, task.retry.max_attempts) if task.retry else None,
        cron=CronJob(task.cron.expression, task.cron.parameters) if task.cron else None,
        on_failed=task.on_failed,
        timeout=task.timeout or DEFAULT_TIMEOUT,
        labels=task.labels,
        priority=task.priority or 0,
        tags=task.tags,
    )


def load_runtime_spec(path: Path) -> Spec:
    loaded = load_spec(path)
    return Spec(
        source=loaded.ir.source,
        tasks=tuple(task_def(task) for task in loaded.ir.tasks),
        models=build_models(loaded.ir),
    )
