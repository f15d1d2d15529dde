"""The asyncio side of a worker: one event loop, on its own thread, runs every ``async def``
executor method. The Rust core submits prepared attempts and is called back when each ends."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["AsyncBridge"]

Job = tuple[int, Callable[[Any, Any], Awaitable[None]], Any, Any]
"""(attempt key, executor method, TaskContext, parameters). The key names one attempt in this
worker; task ids are not enough, since an old attempt of a task can still be winding down (after
a lease loss) while a new attempt of it runs."""


class AsyncBridge:
    """Owns the loop thread. ``on_done(key, error)`` is called on the loop thread when an
    attempt's coroutine ends; ``error`` is what it raised (``CancelledError`` when cancelled)."""

    def __init__(self, on_done: Callable[[int, BaseException | None], None]) -> None:
        self._on_done = on_done
        self._loop = asyncio.new_event_loop()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._thread = threading.Thread(target=self._run, name="anclax-asyncio", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            pending = [task for task in self._tasks.values() if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    def submit(self, jobs: Sequence[Job]) -> None:
        """Start the attempts (thread-safe)."""
        self._loop.call_soon_threadsafe(self._start, list(jobs))

    def _start(self, jobs: list[Job]) -> None:
        for key, method, ctx, params in jobs:
            self._tasks[key] = self._loop.create_task(self._execute(key, method, ctx, params))

    async def _execute(self, key: int, method: Callable[[Any, Any], Awaitable[None]], ctx: Any, params: Any) -> None:
        error: BaseException | None = None
        try:
            await method(ctx, params)
        except BaseException as exc:
            error = exc
        finally:
            self._tasks.pop(key, None)
        self._on_done(key, error)

    def cancel(self, key: int) -> None:
        """Cancel an attempt's coroutine (thread-safe): its timeout passed or it was cancelled."""
        self._loop.call_soon_threadsafe(self._cancel, key)

    def _cancel(self, key: int) -> None:
        task = self._tasks.get(key)
        if task is not None:
            task.cancel()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop (cancelling what still runs) and wait for its thread."""
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)
