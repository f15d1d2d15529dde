"""The base class of generated ``TaskRunner`` classes: validation and enqueue of one task definition.

Generated code stays thin: each ``run_<task>`` method spells out its typed signature and calls
``_enqueue`` / ``_enqueue_many`` here with the task's :class:`~anclax_fast.spec.TaskDef`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel
from typing_extensions import Unpack

from anclax_fast._types import EnqueueOptions, ExternalTx

if TYPE_CHECKING:
    from anclax_fast._core import Tx
    from anclax_fast.client import Client
    from anclax_fast.spec import TaskDef

__all__ = ["TaskRunnerBase"]


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
        raise NotImplementedError("enqueue lands with the engine (issue #4)")

    def _enqueue_many(
        self, task: TaskDef, params: Sequence[BaseModel], /, **options: Unpack[EnqueueOptions]
    ) -> list[int]:
        raise NotImplementedError("enqueue lands with the engine (issue #4)")
