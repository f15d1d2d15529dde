"""Live updates: the engine's NOTIFY traffic turned into a change counter that open pages wait on.

One LISTEN connection per dashboard (``Notifications``, in the Rust core), open while at least
one page is (and :data:`IDLE_STOP` seconds after the last one closes). Every enqueue,
completion, failure, retry, cancel and schedule change notifies; at thousands of tasks per
second that is far more than a page needs, so changes are coalesced: at most one update per
:data:`MIN_INTERVAL`. Claims and heartbeats send no notification, so a slow refresh every
:data:`IDLE_REFRESH` keeps running counts and heartbeat ages current. Each open page (an SSE
stream, ``/live``) re-renders its own live part when the counter moves and sends it only if it
changed: the browser never polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Generator

from anclax_fast._core import Notifications
from anclax_fast.client import Client

__all__ = ["CHANNELS", "IDLE_REFRESH", "IDLE_STOP", "MIN_INTERVAL", "LiveHub"]

log = logging.getLogger("anclax_fast.ui.live")

CHANNELS = ["anclax_tasks", "anclax_done", "anclax_cancel", "anclax_schedules"]
MIN_INTERVAL = 1.0
IDLE_REFRESH = 10.0
IDLE_STOP = 30.0
_WAIT_SLICE = 0.5


class LiveHub:
    def __init__(
        self,
        client: Client,
        *,
        min_interval: float = MIN_INTERVAL,
        idle_refresh: float = IDLE_REFRESH,
        idle_stop: float = IDLE_STOP,
    ) -> None:
        self._client = client
        self._min_interval = min_interval
        self._idle_refresh = idle_refresh
        self._idle_stop = idle_stop
        self._version = 0
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._subscribers = 0
        self._last_left = 0.0

    @property
    def version(self) -> int:
        return self._version

    @contextlib.contextmanager
    def subscription(self) -> Generator[None]:
        """While a page is open: the listener runs (started on the event loop serving the page)."""
        with self._lock:
            self._subscribers += 1
            if self._thread is None:
                self._loop = asyncio.get_running_loop()
                self._changed = asyncio.Event()
                self._stop.clear()
                self._thread = threading.Thread(target=self._listen, name="anclax-ui-live", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._subscribers -= 1
                self._last_left = time.monotonic()

    def _idle(self) -> bool:
        """Whether to stop listening: no page for IDLE_STOP seconds (decided under the lock, so a
        page arriving now starts a new listener instead of relying on this one)."""
        with self._lock:
            if self._stop.is_set() or (
                self._subscribers == 0 and time.monotonic() - self._last_left >= self._idle_stop
            ):
                self._thread = None
                return True
            return False

    def _listen(self) -> None:
        """On its own thread: wait for notifications, publish at most one change per interval."""
        try:
            notifications = Notifications(self._client.core, CHANNELS)
        except Exception:
            log.exception("the dashboard's live updates cannot start")
            with self._lock:
                self._thread = None
            return
        try:
            last_published = 0.0
            pending = False
            while not self._idle():
                received = notifications.next(_WAIT_SLICE)
                if received is None:
                    break
                now = time.monotonic()
                pending = pending or bool(received)
                if now - last_published >= (self._min_interval if pending else self._idle_refresh):
                    last_published = now
                    pending = False
                    self._publish()
        except Exception:
            log.exception("the dashboard's live updates stopped")
            with self._lock:
                self._thread = None
        finally:
            notifications.close()

    def _publish(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._bump)

    def _bump(self) -> None:
        self._version += 1
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    async def wait(self, seen: int, timeout: float) -> int:
        """The version once it differs from ``seen``, or ``seen`` after ``timeout`` seconds.
        Call it inside :meth:`subscription`."""
        if self._version != seen:
            return self._version
        changed = self._changed
        if changed is None:
            await asyncio.sleep(timeout)
            return self._version
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout)
        return self._version

    @property
    def closing(self) -> bool:
        """Set by :meth:`close`: open pages end their streams."""
        return self._stop.is_set()

    def close(self) -> None:
        """Stop listening and end the open pages' streams (safe from any thread, e.g. a signal
        handler: a server's graceful stop then need not wait for them)."""
        self._stop.set()
        self._publish()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=_WAIT_SLICE * 4)
