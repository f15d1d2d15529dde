"""The runtime form of a task spec (``api/tasks.yaml``): what enqueue and workers need to know.

Generated packages build their ``SPEC`` from these classes; :meth:`Spec.load` parses and validates
a YAML file through the generator's loader (``anclax_fast.codegen``) and builds the same parameter
models the generated package would contain, so a worker started from a YAML path validates
payloads exactly like one started from the generated package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict

from anclax_fast.errors import ConfigurationError
from anclax_fast.retry import parse_interval

__all__ = [
    "DEFAULT_TIMEOUT",
    "FIRE_PLACEHOLDERS",
    "CronJob",
    "ParamsModel",
    "RetryPolicy",
    "Spec",
    "TaskDef",
]

DEFAULT_TIMEOUT = timedelta(hours=1)

# The placeholders of ``cronjob.parameters`` string values (SEMANTICS.md §4).
FIRE_PLACEHOLDERS = ("${fireTime}", "${fireDate}")
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class ParamsModel(BaseModel):
    """Base class of generated parameter models.

    - Attributes are snake_case; the JSON names (``keyID``) are validation and serialization
      aliases, so models accept both spellings and ``model_dump()``/``model_dump_json()`` write the
      JSON names.
    - Unknown fields are ignored (unless the schema says ``additionalProperties: false``): a
      payload written by a newer deploy, with a new optional field, still decodes on an older
      worker.
    - NaN and infinities are rejected: JSON cannot carry them (pydantic would write ``null``
      instead), so such a model would be enqueued fine and then fail to decode on every attempt.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="ignore",
        allow_inf_nan=False,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        protected_namespaces=(),
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``interval``: ``"30m"`` or a list ``"1m,2m,4m"`` (the last value repeats);
    ``max_attempts``: total executions including the first, or -1 for unlimited.

    Validated on construction, so a bad enqueue override fails before anything is written: an
    invalid interval raises :class:`~anclax_fast.errors.IntervalError` (from the Rust parser, with
    the position of the problem), a bad ``max_attempts`` raises
    :class:`~anclax_fast.errors.ConfigurationError`. Both are ``ValueError``.
    """

    interval: str
    max_attempts: int

    def __post_init__(self) -> None:
        if not isinstance(self.interval, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError(f"retry interval must be a string such as '30m', not {self.interval!r}")
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError(f"max_attempts must be an integer, not {self.max_attempts!r}")
        if self.max_attempts != -1 and self.max_attempts < 1:
            raise ConfigurationError(
                f"max_attempts must be -1 (unlimited) or at least 1 (total attempts), not {self.max_attempts}"
            )
        parse_interval(self.interval)


@dataclass(frozen=True, slots=True)
class CronJob:
    """A cron schedule of a task definition. ``parameters`` are the static parameters of every
    fire; ``None`` means the application starts the schedule by calling ``run_<task>(...)``."""

    expression: str
    parameters: Mapping[str, Any] | None = None

    def render_parameters(self, fire_time: datetime) -> dict[str, Any]:
        """The parameters for the fire at ``fire_time`` (tz-aware, in the schedule's zone), as
        the engine makes them (``anclax.fire_payload``): every ``${fireTime}`` in a string value
        becomes the fire time in RFC 3339, in UTC (``2024-05-01T00:30:00Z``), every
        ``${fireDate}`` its date in the schedule's zone (``2024-05-01``)."""
        if fire_time.tzinfo is None or fire_time.utcoffset() is None:
            raise ValueError("fire_time must be timezone-aware")
        utc = fire_time.astimezone(timezone.utc).replace(tzinfo=None)
        text = utc.isoformat(timespec="seconds")
        if utc.microsecond:
            text += f".{utc.microsecond:06d}".rstrip("0")
        replacements = {"${fireTime}": f"{text}Z", "${fireDate}": fire_time.date().isoformat()}
        return {key: _substitute(value, replacements) for key, value in (self.parameters or {}).items()}


def _substitute(value: object, replacements: Mapping[str, str]) -> object:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda match: replacements.get(match.group(0), match.group(0)), value)
    if isinstance(value, Mapping):
        return {key: _substitute(item, replacements) for key, item in cast("Mapping[str, object]", value).items()}
    if isinstance(value, list):
        return [_substitute(item, replacements) for item in cast("list[object]", value)]
    return value


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
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """A validated spec: its task definitions and, per task name, the parameter model class."""

    source: str
    tasks: tuple[TaskDef, ...]
    models: Mapping[str, type[BaseModel]] = field(default_factory=dict[str, type[BaseModel]])
    _by_name: Mapping[str, TaskDef] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {task.name: task for task in self.tasks}
        if len(by_name) != len(self.tasks):
            raise ConfigurationError(f"duplicate task names in {self.source}")
        object.__setattr__(self, "_by_name", by_name)

    def task(self, name: str) -> TaskDef:
        """The definition of task ``name``; ``KeyError`` if the spec has none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no task named {name!r} in {self.source}") from None

    @classmethod
    def load(cls, path: str | Path) -> Spec:
        """Parse and validate a spec file and build its parameter models.

        Raises :class:`~anclax_fast.errors.SpecError` listing every problem (``file:line:col:
        message``), or ``OSError`` when the file cannot be read.
        """
        from anclax_fast.codegen.runtime_spec import load_runtime_spec  # noqa: PLC0415 - codegen imports this module

        return load_runtime_spec(Path(path))
