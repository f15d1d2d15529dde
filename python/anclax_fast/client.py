"""``Client``: enqueue, inspect, wait for and cancel tasks (a Rust-side connection pool)."""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anclax_fast._core import Tx

__all__ = ["Client"]

_PENDING = "lands with the engine (issue #4)"


class Client:
    def __init__(self, dsn: str | None = None, *, pool_size: int = 8) -> None:
        self._dsn = dsn

    def migrate(self) -> None:
        raise NotImplementedError(_PENDING)

    def transaction(self) -> contextlib.AbstractContextManager[Tx]:
        raise NotImplementedError(_PENDING)

    def close(self) -> None:
        pass

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
