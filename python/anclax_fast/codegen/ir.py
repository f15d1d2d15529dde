"""The validated spec as the renderer sees it: plain frozen dataclasses, no YAML left.

Everything here has been checked; names are final Python identifiers (collision-free), durations
are parsed, cron expressions were accepted by the Rust parser. :mod:`render` turns it into code
without deciding anything about the spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from anclax_fast.errors import SpecProblem

__all__ = [
    "Constrained",
    "CronIR",
    "DictOf",
    "Enum",
    "FieldIR",
    "ListOf",
    "ModelIR",
    "ModelRef",
    "Nullable",
    "ParamType",
    "RetryIR",
    "Scalar",
    "ScalarKind",
    "SpecIR",
    "TaskIR",
]

ScalarKind = Literal["str", "int", "float", "bool", "date", "datetime", "uuid", "any", "none"]
Extra = Literal["ignore", "forbid", "allow"]


@dataclass(frozen=True, slots=True)
class Scalar:
    """``str``, ``int``, ``float``, ``bool``, ``datetime.date`` (``format: date``), a tz-aware
    ``datetime.datetime`` (``date-time``), ``uuid.UUID``, ``Any`` (an empty schema) or ``None``."""

    kind: ScalarKind


@dataclass(frozen=True, slots=True)
class Enum:
    """``Literal[...]`` of an ``enum`` (or ``const``)."""

    values: tuple[str | int | bool, ...]


@dataclass(frozen=True, slots=True)
class ListOf:
    item: ParamType


@dataclass(frozen=True, slots=True)
class DictOf:
    """An object without properties: ``dict[str, value]``."""

    value: ParamType


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A generated model class, by name."""

    name: str


@dataclass(frozen=True, slots=True)
class Constrained:
    """``inner`` with pydantic ``Field`` constraints (``ge``, ``max_length``, ``pattern``...).

    On a model field the constraints go to its ``Field(...)``; inside a list or dict they need an
    ``Annotated`` alias, named ``alias`` (private to the runtime module; stubs show ``inner``).
    """

    inner: ParamType
    constraints: tuple[tuple[str, int | float | str], ...]
    alias: str
    # The range of an integer ``format`` (``_Int32``): shared by every use, and used by name on
    # fields too, where spelling out ``ge=-2147483648, le=2147483647`` would only add noise.
    shared: bool = False


@dataclass(frozen=True, slots=True)
class Nullable:
    """``inner | None``: ``nullable: true`` or ``type: [X, "null"]``."""

    inner: ParamType


ParamType = Scalar | Enum | ListOf | DictOf | ModelRef | Constrained | Nullable


@dataclass(frozen=True, slots=True)
class FieldIR:
    wire_name: str
    attribute: str
    type: ParamType
    required: bool
    description: str | None = None
    has_default: bool = False
    default: str | int | float | bool | None = None


@dataclass(frozen=True, slots=True)
class ModelIR:
    """A pydantic model class. ``extra`` follows ``additionalProperties``: absent → ``ignore``
    (payloads from newer deploys still decode), ``false`` → ``forbid``, ``true`` → ``allow``."""

    name: str
    docstring: str
    fields: tuple[FieldIR, ...]
    extra: Extra = "ignore"
    # A task whose parameters are an object without properties: any JSON object; the stub gives
    # the model an ``__init__(**data)`` so it can be built from keywords.
    free_form: bool = False


@dataclass(frozen=True, slots=True)
class RetryIR:
    interval: str
    max_attempts: int


@dataclass(frozen=True, slots=True)
class CronIR:
    expression: str
    parameters: Mapping[str, object] | None


@dataclass(frozen=True, slots=True)
class TaskIR:
    name: str
    snake: str
    description: str | None
    params_class: str
    # Set when the parameters are a ``$ref`` to a shared model: ``params_class`` is an alias of it.
    params_alias_of: str | None
    # True when the model has no required field: ``run_<task>()`` may omit the parameters.
    params_optional: bool
    schema: Mapping[str, object] | None
    retry: RetryIR | None
    cron: CronIR | None
    # A cron task whose required parameters are not all in ``cronjob.parameters``: its schedule
    # starts when the application calls ``run_<task>(...)`` (SEMANTICS.md §4).
    app_started: bool
    on_failed: bool
    timeout: timedelta | None
    labels: tuple[str, ...]
    priority: int | None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SpecIR:
    source: str
    tasks: tuple[TaskIR, ...]
    models: tuple[ModelIR, ...]
    # Names of the ``Annotated`` aliases used inside lists/dicts, with what they stand for.
    constrained: tuple[Constrained, ...] = ()
    notes: tuple[SpecProblem, ...] = field(default=())
