"""Serving the dashboard on its own (``anclax-fast ui``): uvicorn, in this process."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Generator
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from anclax_fast.ui.app import Dashboard

__all__ = ["SHUTDOWN_GRACE_S", "in_thread", "run"]

# Open pages hold a live stream each; a stop ends them first, then waits at most this long.
SHUTDOWN_GRACE_S = 2
START_TIMEOUT_S = 10


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, dashboard: Dashboard | None) -> None:
        super().__init__(config)
        self._dashboard = dashboard

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Ends the live streams at once, so the graceful stop does not wait for open pages.
        if self._dashboard is not None:
            self._dashboard.hub.close()
        super().handle_exit(sig, frame)


def run(app: Starlette, *, host: str, port: int, root_path: str = "") -> bool:
    """Serve until SIGINT/SIGTERM; False when the server could not start (address in use, ...)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        root_path=root_path,
        # No access log: a first visit with a token carries it in its URL (?token=...).
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    server = _Server(config, app.state.anclax_ui)
    server.run()
    return bool(server.started)


@contextlib.contextmanager
def in_thread(app: Starlette, *, host: str = "127.0.0.1", port: int = 0) -> Generator[str]:
    """Serve ``app`` (a dashboard, or an application mounting some) on a thread of this process
    (the demo, tests); yields its base URL. Port 0, or a port in use, takes a free one."""
    if port and not _free(host, port):
        port = 0
    config = uvicorn.Config(
        app, host=host, port=port, access_log=False, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = _Server(config, getattr(app.state, "anclax_ui", None))
    thread = threading.Thread(target=server.run, name="anclax-ui-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the dashboard could not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}/"
    finally:
        server.handle_exit(signal.SIGTERM, None)
        thread.join(timeout=10)


def _free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
