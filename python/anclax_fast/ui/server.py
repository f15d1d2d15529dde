"""Serving the dashboard on its own (``anclax-fast ui``): uvicorn, in this process."""

from __future__ import annotations

from types import FrameType

import uvicorn
from starlette.applications import Starlette

from anclax_fast.ui.app import Dashboard

__all__ = ["SHUTDOWN_GRACE_S", "run"]

# Open pages hold a live stream each; a stop ends them first, then waits at most this long.
SHUTDOWN_GRACE_S = 2


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, dashboard: Dashboard) -> None:
        super().__init__(config)
        self._dashboard = dashboard

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Ends the live streams at once, so the graceful stop does not wait for open pages.
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
