"""``_core.Notifications``: the engine's NOTIFY channels for Python code (the dashboard's live
updates), on a LISTEN connection of its own."""

from __future__ import annotations

import re
import time

import pytest

from anclax_fast import Client, ConfigurationError
from anclax_fast._core import Notifications
from tests.support import Runner

pytestmark = pytest.mark.postgres


def collect(notifications: Notifications, want: int, timeout: float = 10.0) -> list[tuple[str, str]]:
    received: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout
    while len([r for r in received if r[0]]) < want and time.monotonic() < deadline:
        batch = notifications.next(0.2)
        assert batch is not None
        received += batch
    return received


def test_it_announces_its_connection_then_relays_the_channels_it_listens_to(client: Client) -> None:
    notifications = Notifications(client.core, ["anclax_tasks", "anclax_schedules"])
    try:
        # First the connection itself: ("", "") means "listening (again): re-read what you show".
        first = notifications.next(10.0)
        assert first is not None
        assert first[0] == ("", "")
        Runner(client).run("Echo")
        client.cancel(Runner(client).run("Echo"))  # anclax_done: not listened to here
        received = collect(notifications, 2)
        relayed = [r for r in received if r[0]]
        assert [channel for channel, _ in relayed] == ["anclax_tasks", "anclax_tasks"]
        # The payload is the engine's: the lane of the new task (docs/architecture.md).
        assert all(re.fullmatch(r"\d+", payload) for _, payload in relayed), relayed
    finally:
        notifications.close()
    # Closed: the next wait says so instead of blocking.
    deadline = time.monotonic() + 5
    while (batch := notifications.next(0.1)) is not None:
        assert time.monotonic() < deadline, "still open after close()"
        assert batch == [] or all(r[0] for r in batch)


def test_unknown_channels_are_refused(client: Client) -> None:
    with pytest.raises(ConfigurationError, match='unknown notification channel "pg_catalog"'):
        Notifications(client.core, ["pg_catalog"])
    with pytest.raises(ConfigurationError, match="at least one channel"):
        Notifications(client.core, [])
    with pytest.raises(ConfigurationError, match="invalid timeout"):
        Notifications(client.core, ["anclax_done"]).next(float("inf"))
