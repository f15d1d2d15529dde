"""anclax-fast: a typed, Postgres-backed background-task queue with a Rust core."""

from anclax_fast._core import TaskContext, Tx, __version__
from anclax_fast._types import Duration, EnqueueOptions, ExternalTx, IfExists, WorkerOptions
from anclax_fast.client import Client
from anclax_fast.errors import (
    AnclaxError,
    ConfigurationError,
    CronError,
    DatabaseError,
    DatabaseUnavailable,
    ExecutorIncomplete,
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
from anclax_fast.filters import TaskFilter
from anclax_fast.spec import CronJob, RetryPolicy, Spec, TaskDef
from anclax_fast.worker import Worker

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
    "ExecutorIncomplete",
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
    "TaskFilter",
    "TaskNotFound",
    "TaskTimeout",
    "Tx",
    "WaitTimeout",
    "Worker",
    "WorkerOptions",
    "__version__",
]
