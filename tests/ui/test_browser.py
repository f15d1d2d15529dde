"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright): live
updates, filtering, tracebacks, bulk redrive of a failure group until its tasks complete,
read-only mode, escaping, and the token of a dashboard listening beyond loopback.

One UI server (two dashboards mounted on it: read-write and read-only) and one worker for the
whole module. The tests take the screenshots of docs/ui.md: set ``ANCLAX_UI_SCREENSHOTS=docs/ui``
(``make ui-screenshots``) to write them there.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, ViewportSize, expect, sync_playwright
from starlette.applications import Starlette
from starlette.routing import Mount

from anclax_fast import Client, Worker
from anclax_fast.ui import create_app
from anclax_fast.ui.server import in_thread
from tests.support import wait_until
from tests.ui.support import SCRIPT, Params, Runner, Shop, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

CHROMIUM = os.environ.get("ANCLAX_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "browser-test-token-0123456789"
VIEWPORT: ViewportSize = {"width": 1280, "height": 860}

if CHROMIUM is None:
    if os.environ.get("ANCLAX_REQUIRE_BROWSER"):
        pytest.fail("ANCLAX_REQUIRE_BROWSER is set but no chromium is installed (apt-get install chromium)")
    pytest.skip("no chromium on this machine (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("ANCLAX_UI_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def base_url(client: Client, worker: Worker) -> Iterator[str]:
    dashboards = [
        create_app(client, allow_actions=True, title="anclax-fast · shop"),
        create_app(client, title="anclax-fast · shop"),
    ]
    app = Starlette(routes=[Mount("/rw", dashboards[0]), Mount("/ro", dashboards[1])])
    with in_thread(app) as url:
        try:
            yield url.rstrip("/")
        finally:
            # Mounted applications get no lifespan events: end their live streams and LISTEN
            # connections here, before the server stops.
            for dashboard in dashboards:
                dashboard.state.anclax_ui.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies); fails the test if any script opened a dialog."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    try:
        yield page
    finally:
        context.close()
    assert dialogs == [], f"a script ran in the page: {dialogs}"


@pytest.fixture(scope="module")
def history(client: Client, worker: Worker, shop: Shop) -> dict[str, list[int]]:
    """What the pages show: successes, and card charges failing while the upstream is down."""
    runner = Runner(client)
    done = [runner.run("SendEmail", Params(n=i)) for i in range(40)]
    charges = [runner.run("ChargeCard", Params(n=4000 + i)) for i in range(6)]
    for task_id in [*done, *charges]:
        client.wait(task_id, timeout=20)
    assert {client.task(i).status for i in charges} == {"failed"}
    return {"done": done, "charges": charges}


def shot(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def test_the_overview_updates_live(
    page: Page, base_url: str, client: Client, history: dict[str, list[int]], screenshots: Path
) -> None:
    page.goto(f"{base_url}/rw/")
    pending = page.locator('[data-count="pending"]')
    expect(page.locator("[data-live-state]")).to_have_text("live")
    before = int(pending.inner_text().replace(",", ""))
    page.evaluate("window.notReloaded = true")
    for i in range(25):
        Runner(client).run("SendEmail", Params(n=i), delay="1h")
    # The NOTIFY of those enqueues reaches the page over server-sent events, without a reload.
    expect(pending).to_have_text(str(before + 25), timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    shot(page, screenshots, "overview")


def test_filtering_the_tasks(page: Page, base_url: str, history: dict[str, list[int]], screenshots: Path) -> None:
    page.goto(f"{base_url}/rw/tasks")
    page.select_option("select[name=status]", "failed")
    page.fill("input[name=name]", "ChargeCard")
    page.click("form[data-filters] button[type=submit]")
    rows = page.locator("tr[data-task]")
    expect(rows).to_have_count(len(history["charges"]))
    assert set(page.locator("tr[data-task] .status").all_inner_texts()) == {"failed"}
    assert set(page.locator("tr[data-task] td.name").all_inner_texts()) == {"ChargeCard"}
    page.fill("input[name=error]", "card 4003")
    page.click("form[data-filters] button[type=submit]")
    expect(rows).to_have_count(1)
    page.goto(f"{base_url}/rw/tasks")
    shot(page, screenshots, "tasks")


def test_a_failed_task_shows_its_traceback(
    page: Page, base_url: str, history: dict[str, list[int]], screenshots: Path
) -> None:
    page.goto(f"{base_url}/rw/tasks/{history['charges'][0]}")
    traceback = page.locator("[data-traceback]").last
    expect(traceback).to_be_visible()
    expect(traceback).to_contain_text("Traceback (most recent call last)")
    expect(traceback).to_contain_text("ConnectionError: payments upstream returned 503 for card 4000")
    expect(page.locator("[data-attempts] li")).to_have_count(2)
    shot(page, screenshots, "task")


def test_bulk_redrive_of_a_failure_group_sends_its_tasks_back_and_they_complete(
    page: Page, base_url: str, client: Client, shop: Shop, *, history: dict[str, list[int]], screenshots: Path
) -> None:
    page.goto(f"{base_url}/rw/failures")
    group = page.locator('article[data-group="ChargeCard"]')
    expect(group).to_contain_text(f"{len(history['charges'])} failed")
    shot(page, screenshots, "failures")
    shop.upstream_down.clear()  # the fix is deployed
    group.locator('button[data-action="retry"]').click()
    expect(page.locator("h1")).to_have_text(f"Retry {len(history['charges'])} task(s)?")
    shot(page, screenshots, "confirm")
    page.click('button[data-action="confirm"]')
    expect(page.locator(".banner.flash")).to_have_text(f"Retried {len(history['charges'])} task(s).")
    wait_until(lambda: all(client.task(i).status == "completed" for i in history["charges"]), timeout=20)
    # The page follows: the group leaves the Failures page without a reload.
    expect(group).to_have_count(0, timeout=15_000)
    for task_id in history["charges"]:
        events = [e for e in client.events(task_id) if e.kind == "TaskRetried"]
        assert len(events) == 1
        assert events[0].message == "retried by anclax-fast ui (127.0.0.1)"


def test_read_only_mode_hides_every_action(page: Page, base_url: str, history: dict[str, list[int]]) -> None:
    for path in (
        "/ro/tasks?status=failed",
        "/ro/failures?window=7d",
        f"/ro/tasks/{history['charges'][0]}",
        "/ro/schedules",
    ):
        page.goto(f"{base_url}{path}")
        expect(page.locator("[data-readonly-reason]")).to_contain_text("started without --allow-actions")
        expect(page.locator("[data-action]")).to_have_count(0)
        expect(page.locator("input[data-select]")).to_have_count(0)


def test_scripts_in_task_data_stay_text(
    page: Page, base_url: str, client: Client, history: dict[str, list[int]], screenshots: Path
) -> None:
    hostile = Runner(client).run("Explode", Params(note=SCRIPT))
    assert client.wait(hostile, timeout=10).status == "failed"
    for path in ("/rw/failures?window=7d", f"/rw/tasks/{hostile}", "/rw/tasks?status=failed"):
        page.goto(f"{base_url}{path}")
        expect(page.get_by_text(SCRIPT).first).to_be_visible()
        # Only the dashboard's own script element exists; the page fixture fails on any dialog.
        assert page.locator("script").count() == 1
    page.goto(f"{base_url}/rw/schedules")
    shot(page, screenshots, "schedules")
    page.goto(f"{base_url}/rw/workers")
    shot(page, screenshots, "workers")


def _wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"anclax-fast ui exited: {process.communicate()[1]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("anclax-fast ui did not start listening")


def test_a_dashboard_listening_beyond_loopback_asks_for_its_token(
    page: Page, module_dsn: str, history: dict[str, list[int]]
) -> None:
    port = free_port()
    env = {**os.environ, "ANCLAX_DSN": module_dsn, "ANCLAX_UI_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "anclax_fast", "ui", "--host", "0.0.0.0", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_port(port, process)
        page.goto(f"http://127.0.0.1:{port}/failures")
        expect(page.locator("body")).to_contain_text("needs its token")
        expect(page.locator("nav")).to_have_count(0)
        page.fill("input[name=token]", "not-the-token-not-the-token")
        page.click("button[type=submit]")
        expect(page.locator("body")).to_contain_text("That token is not right.")
        page.fill("input[name=token]", TOKEN)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Failures")
        assert TOKEN not in page.url
        page.goto(f"http://127.0.0.1:{port}/workers")
        expect(page.locator("h1")).to_have_text("Workers")
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    # uvicorn re-raises SIGTERM once it has stopped; the stop itself must be clean and prompt.
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "ERROR" not in stderr, stderr
