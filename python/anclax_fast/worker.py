"""``Worker``: runs an executor's tasks from the queue on Rust-owned threads."""

from __future__ import annotations

from types import TracebackType

from typing_extensions import Unpack

from anclax_fast._types import WorkerOptions
from anclax_fast.client import Client
from anclax_fast.spec import Spec

__all__ = ["Worker"]

_PENDING = "lands with the engine (issue #4)"


class Worker:
    def __init__(self, client: Client, executor: object, spec: Spec, **options: Unpack[WorkerOptions]) -> None:
        self._client = client
        self._executor = executor
        self._spec = spec
        self._options = options

    def run(self) -> None:
        raise NotImplementedError(_PENDING)

    def start(self) -> None:
        raise NotImplementedError(_PENDING)

    def stop(self, timeout: float | None = None) -> None:
        raise NotImplementedError(_PENDING)

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
