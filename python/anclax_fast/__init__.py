"""anclax-fast: a typed, Postgres-backed background-task queue with a Rust core."""

from typing import TYPE_CHECKING

from anclax_fast._core import TaskContext, __version__
from anclax_fast._types import Duration, EnqueueOptions, ExternalTx, IfExists, WorkerOptions
from anclax_fast.client import Client
from anclax_fast.errors import (
    AnclaxError,
    ConfigurationError,
    CronError,
    DatabaseError,
    DatabaseUnavailable,
    FatalTaskError,
    IntervalError,
    RetryWithoutErrorEvent,
    SchemaNotMigrated,
    SpecError,
    SpecProblem,
    TaskAlreadyExists,
    TaskNotFound,
    TaskTimeout,
    WaitTimeout,
)
from anclax_fast.spec import CronJob, RetryPolicy, Spec, TaskDef
from anclax_fast.worker import Worker

if TYPE_CHECKING:
    # Tx joins the compiled module with the engine (issue #4); until then it exists for type
    # checkers only (generated packages import it under TYPE_CHECKING and in their stubs).
    from anclax_fast._core import Tx as Tx

__all__ = [
    "AnclaxError",
    "Client",
    "ConfigurationError",
    "CronError",
    "CronJob",
    "DatabaseError",
    "DatabaseUnavailable",
    "Duration",
    "EnqueueOptions",
    "ExternalTx",
    "FatalTaskError",
    "IfExists",
    "IntervalError",
    "RetryPolicy",
    "RetryWithoutErrorEvent",
    "SchemaNotMigrated",
    "Spec",
    "SpecError",
    "SpecProblem",
    "TaskAlreadyExists",
    "TaskContext",
    "TaskDef",
    "TaskNotFound",
    "TaskTimeout",
    "WaitTimeout",
    "Worker",
    "WorkerOptions",
    "__version__",
]
