"""The base class of generated ``TaskRunner`` classes: validation and enqueue of one task definition.

Generated code stays thin: each ``run_<task>`` method spells out its typed signature and calls
``_enqueue`` / ``_enqueue_many`` here with the task's :class:`~anclax_fast.spec.TaskDef`.
Every option is checked before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from pydantic import BaseModel
from typing_extensions import Unpack

from anclax_fast._core import ENQUEUE_SQL, Tx
from anclax_fast._counters import count_enqueued
from anclax_fast._sql import for_psycopg, row_values
from anclax_fast._types import EnqueueOptions, ExternalTx
from anclax_fast.errors import ConfigurationError, IntervalError, TaskAlreadyExists
from anclax_fast.retry import parse_duration, parse_interval
from anclax_fast.spec import RetryPolicy

if TYPE_CHECKING:
    from anclax_fast.client import Client
    from anclax_fast.spec import TaskDef

__all__ = ["ResolvedOptions", "TaskRunnerBase", "resolve_options"]

_MAX_PRIORITY = 2**31 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_PSYCOPG_ENQUEUE_SQL = for_psycopg(ENQUEUE_SQL)


@dataclass(frozen=True, slots=True)
class ResolvedOptions:
    """A task definition's settings with one call's overrides applied, validated."""

    priority: int
    run_at: datetime | None
    max_attempts: int
    retry_intervals_ms: list[int]
    timeout_ms: int
    labels: list[str]
    unique_tag: str | None
    parent_id: int | None
    if_exists_raise: bool

    @property
    def run_at_us(self) -> int | None:
        return None if self.run_at is None else (self.run_at - _EPOCH) // _MICROSECOND


def _duration_ms(name: str, value: object) -> int:
    if isinstance(value, str):
        try:
            value = parse_duration(value)
        except IntervalError as err:
            raise ConfigurationError(f"{name}: {err}") from err
    if not isinstance(value, timedelta):
        raise ConfigurationError(f"{name} must be a duration string like '10m' or a timedelta, got {value!r}")
    if value <= timedelta(0):
        raise ConfigurationError(f"{name} must be positive, got {value}")
    return max(1, value // timedelta(milliseconds=1))


def _retry(policy: object) -> tuple[int, list[int]]:
    if policy is None:
        return 1, []
    if not isinstance(policy, RetryPolicy):
        raise ConfigurationError(f"retry_policy must be a RetryPolicy, got {policy!r}")
    try:
        intervals = parse_interval(policy.interval)
    except IntervalError as err:
        raise ConfigurationError(f"retry_policy.interval: {err}") from err
    if policy.max_attempts != -1 and policy.max_attempts < 1:
        raise ConfigurationError(f"retry_policy.max_attempts must be -1 (unlimited) or >= 1, got {policy.max_attempts}")
    return policy.max_attempts, [max(0, delay // timedelta(milliseconds=1)) for delay in intervals]


def _labels(labels: object) -> list[str]:
    if isinstance(labels, str) or not isinstance(labels, Iterable):
        raise ConfigurationError(f"labels must be a sequence of strings, got {labels!r}")
    result: list[str] = []
    for label in cast(Iterable[object], labels):
        if not isinstance(label, str) or not label or "\x00" in label:
            raise ConfigurationError(f"labels must be non-empty strings, got {label!r}")
        if label not in result:
            result.append(label)
    return sorted(result)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _run_at(delay: object, run_at: object) -> datetime | None:
    if delay is not None and run_at is not None:
        raise ConfigurationError("give either delay or run_at, not both")
    if run_at is not None:
        if not isinstance(run_at, datetime) or run_at.utcoffset() is None:
            raise ConfigurationError(f"run_at must be a timezone-aware datetime, got {run_at!r}")
        return run_at
    if delay is not None:
        return datetime.now(timezone.utc) + timedelta(milliseconds=_duration_ms("delay", delay))
    return None


def resolve_options(task: TaskDef, options: EnqueueOptions) -> ResolvedOptions:
    """Apply ``options`` to ``task``'s settings, raising :class:`ConfigurationError` on bad input.

    The checks run on plain objects: callers without a type checker get clear errors too.
    """
    raw: Mapping[str, object] = dict(options)
    unknown = set(raw) - set(EnqueueOptions.__annotations__)
    if unknown:
        raise ConfigurationError(f"unknown enqueue option(s): {', '.join(sorted(unknown))}")
    priority = raw.get("priority")
    if priority is None:
        priority = task.priority
    if not _is_int(priority) or not 0 <= priority <= _MAX_PRIORITY:
        raise ConfigurationError(f"priority must be an integer between 0 and {_MAX_PRIORITY}, got {priority!r}")
    policy = raw.get("retry_policy")
    max_attempts, intervals = _retry(policy if policy is not None else task.retry_policy)
    timeout = raw.get("timeout")
    labels = raw.get("labels")
    unique_tag = raw.get("unique_tag")
    if unique_tag is not None and (not isinstance(unique_tag, str) or not unique_tag or "\x00" in unique_tag):
        raise ConfigurationError(f"unique_tag must be a non-empty string without NUL characters, got {unique_tag!r}")
    parent_id = raw.get("parent_id")
    if parent_id is not None and (not _is_int(parent_id) or parent_id < 1):
        raise ConfigurationError(f"parent_id must be a task id (a positive integer), got {parent_id!r}")
    if_exists = raw.get("if_exists", "return")
    if if_exists not in ("return", "raise"):
        raise ConfigurationError(f"if_exists must be 'return' or 'raise', got {if_exists!r}")
    return ResolvedOptions(
        priority=priority,
        run_at=_run_at(raw.get("delay"), raw.get("run_at")),
        max_attempts=max_attempts,
        retry_intervals_ms=intervals,
        timeout_ms=_duration_ms("timeout", timeout if timeout is not None else task.timeout),
        labels=_labels(labels if labels is not None else task.labels),
        unique_tag=unique_tag,
        parent_id=parent_id,
        if_exists_raise=if_exists == "raise",
    )


def _payload(task: TaskDef, params: object) -> bytes:
    if not isinstance(params, BaseModel):
        raise TypeError(f"parameters of task {task.name!r} must be its generated model, got {type(params).__name__}")
    # JSON names on the wire (aliases), exactly what the worker's model decodes.
    return params.__pydantic_serializer__.to_json(params, by_alias=True)


class TaskRunnerBase:
    """Enqueues tasks through a :class:`~anclax_fast.Client`. Subclassed by generated runners."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @property
    def client(self) -> Client:
        return self._client

    def _enqueue(
        self,
        task: TaskDef,
        params: BaseModel,
        /,
        *,
        tx: Tx | ExternalTx | None = None,
        **options: Unpack[EnqueueOptions],
    ) -> int:
        resolved = resolve_options(task, options)
        payload = _payload(task, params)
        if tx is not None:
            # A lane first used inside the caller's transaction would make other enqueues into it
            # wait for that transaction; create it outside (once per client and lane).
            self._client.core.ensure_lane(task.name, resolved.labels, resolved.priority)
        if task.cron is not None:
            return self._client.register_schedule(task, payload, resolved, tx=tx)
        count_enqueued(task.name)
        if tx is None:
            task_id, _ = self._client.core.enqueue(
                task.name,
                payload,
                resolved.priority,
                resolved.run_at_us,
                resolved.max_attempts,
                resolved.retry_intervals_ms,
                resolved.timeout_ms,
                resolved.labels,
                resolved.unique_tag,
                resolved.parent_id,
                resolved.if_exists_raise,
            )
            return task_id
        task_id, inserted = _enqueue_in_transaction(tx, task.name, payload, resolved)
        if not inserted and resolved.if_exists_raise:
            raise TaskAlreadyExists(resolved.unique_tag or "", task_id)
        return task_id

    def _enqueue_many(
        self, task: TaskDef, params: Sequence[BaseModel], /, **options: Unpack[EnqueueOptions]
    ) -> list[int]:
        if options.get("unique_tag") is not None:
            raise ConfigurationError("unique_tag cannot be used with run_<task>_many (each tag names one task)")
        if task.cron is not None:
            raise ConfigurationError(f"{task.name} is a cron task: register its schedule with run_{task.name}(...)")
        resolved = resolve_options(task, options)
        payloads = [_payload(task, p) for p in params]
        count_enqueued(task.name, len(payloads))
        return self._client.core.enqueue_many(
            task.name,
            payloads,
            resolved.priority,
            resolved.run_at_us,
            resolved.max_attempts,
            resolved.retry_intervals_ms,
            resolved.timeout_ms,
            resolved.labels,
            resolved.parent_id,
        )


def _enqueue_in_transaction(tx: Tx | ExternalTx, name: str, payload: bytes, o: ResolvedOptions) -> tuple[int, bool]:
    """Insert through the caller's transaction: a rollback leaves no task."""
    args: tuple[Any, ...] = (
        name,
        payload.decode(),
        o.priority,
        o.run_at,
        o.max_attempts,
        o.retry_intervals_ms,
        o.timeout_ms,
        o.labels,
        o.unique_tag,
        o.parent_id,
    )
    if isinstance(tx, Tx):
        row = tx.fetchrow(ENQUEUE_SQL, *args)
        if row is None:  # pragma: no cover - the statement always returns a row
            raise ConfigurationError("enqueue returned no row")
        return int(row["task_id"]), bool(row["inserted"])
    # (A Tx would satisfy ExternalTx structurally too; it was handled above.)
    task_id, inserted = row_values(cast(Any, tx).execute(_PSYCOPG_ENQUEUE_SQL, args).fetchone())
    return int(task_id), bool(inserted)
