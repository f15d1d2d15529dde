"""anclax-fast: a typed, Postgres-backed background-task queue with a Rust core."""

from anclax_fast._core import AsyncTx, TaskContext, Tx, __version__
from anclax_fast._types import (
    AsyncExternalTx,
    AsyncTransaction,
    BatchEnqueueOptions,
    DjangoConnection,
    Duration,
    EnqueueOptions,
    ExternalTx,
    IfExists,
    SyncTransaction,
    WorkerOptions,
)
from anclax_fast.async_client import AsyncClient
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
    "AsyncClient",
    "AsyncExternalTx",
    "AsyncTransaction",
    "AsyncTx",
    "BatchEnqueueOptions",
    "Client",
    "ConfigurationError",
    "CronError",
    "CronJob",
    "DatabaseError",
    "DatabaseUnavailable",
    "DjangoConnection",
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
    "SyncTransaction",
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
