"""The base classes of generated runners (``TaskRunner``, ``AsyncTaskRunner``): validation and
enqueue of one task definition.

Generated code stays thin: each ``run_<task>`` method spells out its typed signature and calls
``_enqueue`` / ``_enqueue_many`` here with the task's :class:`~anclax_fast.spec.TaskDef`.
Every option is checked before anything is written, and the checked options travel as one
:class:`ResolvedOptions` object: into the Rust client, or into the statement run through the
caller's transaction (:mod:`anclax_fast._external_tx`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from pydantic import BaseModel
from typing_extensions import Unpack

from anclax_fast import _statements
from anclax_fast._counters import count_enqueued
from anclax_fast._external_tx import fetch_row, fetch_row_async
from anclax_fast._tracing import EnqueueTrace, enqueue_trace
from anclax_fast._types import BatchEnqueueOptions, EnqueueOptions
from anclax_fast.errors import ConfigurationError, IntervalError, TaskAlreadyExists
from anclax_fast.retry import parse_duration, parse_interval
from anclax_fast.spec import RetryPolicy
from anclax_fast.tags import check_tags

if TYPE_CHECKING:
    from anclax_fast.async_client import AsyncClient
    from anclax_fast.client import Client
    from anclax_fast.spec import TaskDef

__all__ = ["AsyncTaskRunnerBase", "ResolvedOptions", "TaskRunnerBase", "enqueue_through", "resolve_options"]

_MAX_PRIORITY = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ResolvedOptions:
    """A task definition's settings with one call's overrides applied, validated. The Rust core
    reads it attribute by attribute (``rust/src/py/options.rs``)."""

    priority: int
    run_at: datetime | None
    max_attempts: int
    retry_intervals_ms: list[int]
    timeout_ms: int
    labels: list[str]
    unique_tag: str | None
    parent_id: int | None
    if_exists_raise: bool
    headers: str | None = None
    """Propagation headers for the row (JSON), set by a tracing integration, never by callers."""
    tags: list[str] = field(default_factory=list[str])
    """Tags (checked: :func:`anclax_fast.tags.check_tags`)."""


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


def resolve_options(task: TaskDef, options: EnqueueOptions | Mapping[str, object]) -> ResolvedOptions:
    """Apply ``options`` to ``task``'s settings, raising :class:`ConfigurationError` on bad input.

    The checks run on plain objects: callers without a type checker get clear errors too.
    """
    raw: Mapping[str, object] = dict(options)
    unknown = set(raw) - (EnqueueOptions.__required_keys__ | EnqueueOptions.__optional_keys__)
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
    tags = raw.get("tags")
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
        tags=check_tags(tags if tags is not None else task.tags),
    )


def _payload(task: TaskDef, params: object) -> bytes:
    if not isinstance(params, BaseModel):
        raise TypeError(f"parameters of task {task.name!r} must be its generated model, got {type(params).__name__}")
    # JSON names on the wire (aliases), exactly what the worker's model decodes.
    return params.__pydantic_serializer__.to_json(params, by_alias=True)


def _schedule_options(task: TaskDef, options: ResolvedOptions) -> None:
    if task.cron is None:
        raise ConfigurationError(f"{task.name} has no cronjob in its spec")
    if options.run_at is not None:
        raise ConfigurationError(f"{task.name} is a cron task: its fire times come from its cron expression")


def _batch(task: TaskDef, options: Mapping[str, object]) -> ResolvedOptions:
    if options.get("unique_tag") is not None:
        raise ConfigurationError("unique_tag cannot be used with run_<task>_many (each tag names one task)")
    if task.cron is not None:
        raise ConfigurationError(f"{task.name} is a cron task: register its schedule with run_{task.name}(...)")
    return resolve_options(task, options)


def _traced(options: ResolvedOptions, trace: EnqueueTrace) -> ResolvedOptions:
    return options if trace.headers is None else replace(options, headers=trace.headers)


def _task_id(row: Sequence[Any], options: ResolvedOptions) -> int:
    task_id, inserted = int(row[0]), bool(row[1])
    if not inserted and options.if_exists_raise:
        raise TaskAlreadyExists(options.unique_tag or "", task_id)
    return task_id


def _schedule_statement(task: TaskDef, payload: bytes, options: ResolvedOptions) -> _statements.Statement:
    _schedule_options(task, options)
    return _statements.register_schedule(
        task, unique_tag=options.unique_tag or "", payload=payload, options=options, source="app"
    )


def enqueue_through(tx: object, task: TaskDef, params: BaseModel, /, **options: Unpack[EnqueueOptions]) -> int:
    """Enqueue one task of ``task`` through the caller's transaction ``tx`` (any driver of
    :data:`anclax_fast.SyncTransaction`): what ``run_<task>_with_tx`` does. Callers that can
    should create the task's lane first, outside ``tx`` (``ClientCore.ensure_lane``)."""
    resolved = resolve_options(task, options)
    payload = _payload(task, params)
    if task.cron is not None:
        return int(fetch_row(tx, _schedule_statement(task, payload, resolved))[0])
    with enqueue_trace(task.name, (payload,)) as trace:
        resolved = _traced(resolved, trace)
        task_id = _task_id(fetch_row(tx, _statements.enqueue(task.name, payload, resolved)), resolved)
        trace.record((task_id,))
    count_enqueued(task.name)
    return task_id


class TaskRunnerBase:
    """Enqueues tasks through a :class:`~anclax_fast.Client`. Subclassed by generated runners."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @property
    def client(self) -> Client:
        return self._client

    def _enqueue(
        self, task: TaskDef, params: BaseModel, /, *, tx: object = None, **options: Unpack[EnqueueOptions]
    ) -> int:
        if tx is not None:
            # A lane first used inside the caller's transaction would make other enqueues into it
            # wait for that transaction; create it outside (once per client and lane).
            lane = resolve_options(task, options)
            self._client.core.ensure_lane(task.name, lane.labels, lane.priority)
            return enqueue_through(tx, task, params, **options)
        resolved = resolve_options(task, options)
        payload = _payload(task, params)
        if task.cron is not None:
            _schedule_options(task, resolved)
            return self._client.register_schedule(task, payload, resolved)
        with enqueue_trace(task.name, (payload,)) as trace:
            task_id = self._client.core.enqueue(task.name, payload, _traced(resolved, trace))[0]
            trace.record((task_id,))
        count_enqueued(task.name)
        return task_id

    def _enqueue_many(
        self, task: TaskDef, params: Sequence[BaseModel], /, **options: Unpack[BatchEnqueueOptions]
    ) -> list[int]:
        resolved = _batch(task, options)
        payloads = [_payload(task, p) for p in params]
        with enqueue_trace(task.name, payloads) as trace:
            ids = self._client.core.enqueue_many(task.name, payloads, _traced(resolved, trace))
            trace.record(ids)
        count_enqueued(task.name, len(payloads))
        return ids


class AsyncTaskRunnerBase:
    """Enqueues tasks through an :class:`~anclax_fast.AsyncClient`, without blocking the event
    loop. Subclassed by generated ``AsyncTaskRunner`` classes."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    @property
    def client(self) -> AsyncClient:
        return self._client

    async def _enqueue(
        self, task: TaskDef, params: BaseModel, /, *, tx: object = None, **options: Unpack[EnqueueOptions]
    ) -> int:
        resolved = resolve_options(task, options)
        payload = _payload(task, params)
        if tx is not None:
            # A lane first used inside the caller's transaction would make other enqueues into it
            # wait for that transaction; create it outside (once per client and lane).
            client = self._client
            await client.core.ensure_lane(client.completions(), task.name, resolved.labels, resolved.priority)
        if task.cron is not None:
            if tx is None:
                _schedule_options(task, resolved)
                return await self._client.register_schedule(task, payload, resolved)
            return int((await fetch_row_async(tx, _schedule_statement(task, payload, resolved)))[0])
        with enqueue_trace(task.name, (payload,)) as trace:
            resolved = _traced(resolved, trace)
            if tx is None:
                client = self._client
                task_id = (await client.core.enqueue(client.completions(), task.name, payload, resolved))[0]
            else:
                row = await fetch_row_async(tx, _statements.enqueue(task.name, payload, resolved))
                task_id = _task_id(row, resolved)
            trace.record((task_id,))
        count_enqueued(task.name)
        return task_id

    async def _enqueue_many(
        self, task: TaskDef, params: Sequence[BaseModel], /, **options: Unpack[BatchEnqueueOptions]
    ) -> list[int]:
        resolved = _batch(task, options)
        payloads = [_payload(task, p) for p in params]
        with enqueue_trace(task.name, payloads) as trace:
            client = self._client
            ids = await client.core.enqueue_many(client.completions(), task.name, payloads, _traced(resolved, trace))
            trace.record(ids)
        count_enqueued(task.name, len(payloads))
        return ids
