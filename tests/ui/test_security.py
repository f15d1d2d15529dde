"""The dashboard's security over HTTP: escaping of every value users control, read-only unless
allowed (and whenever the database role cannot write), CSRF on actions, the access token, and
no DSN or password in any page."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from starlette.testclient import TestClient

from anclax_fast import Client, Worker
from anclax_fast.testing import EmbeddedPostgres
from anclax_fast.ui import create_app
from anclax_fast.ui.security import CSRF_COOKIE, SESSION_COOKIE
from tests.ui.support import SCRIPT, Params, Runner

pytestmark = pytest.mark.postgres

TOKEN = "correct-horse-battery-staple-42"
PASSWORD = "Pw-s3cret-that-must-not-leak"


@pytest.fixture(scope="module")
def hostile(client: Client, worker: Worker) -> dict[str, int]:
    """Tasks, a schedule and a worker whose every user-controlled field carries a script."""
    with client.transaction() as tx:
        by_sql = tx.fetchval(
            "SELECT task_id FROM anclax.enqueue($1, $2, 0, now() + interval '1 hour', 1, '{}', 60000, $3, $4, NULL)",
            SCRIPT,
            {"payload": SCRIPT, SCRIPT: [SCRIPT]},
            [SCRIPT, "gpu"],
            SCRIPT,
        )
        # Finished now under that name: the overview's chart legend shows it.
        tx.execute(
            "INSERT INTO anclax.tasks (name, payload, status, attempts, started_at, finished_at) "
            "VALUES ($1, '{}', 'completed', 1, now(), now())",
            SCRIPT,
        )
        tx.execute(
            "INSERT INTO anclax.schedules (task_name, unique_tag, cron_expression, payload, source, next_fire_at) "
            "VALUES ($1, $1, '*/5 * * * * *', $2, 'app', now() + interval '1 hour')",
            SCRIPT,
            {"x": SCRIPT},
        )
        tx.execute(
            "INSERT INTO anclax.workers (hostname, pid, labels, concurrency, version, expires_at, task_names) "
            "VALUES ($1, 1, $2, 1, $1, now() + interval '1 hour', $2)",
            SCRIPT,
            [SCRIPT],
        )
    failed = Runner(client).run("Explode", Params(note=SCRIPT))
    assert client.wait(failed, timeout=10).status == "failed"
    return {"queued": int(by_sql), "failed": failed}


@pytest.fixture(scope="module")
def http(client: Client, worker: Worker) -> Iterator[TestClient]:
    test_client = TestClient(create_app(client, allow_actions=True))
    with test_client:
        yield test_client


def csrf_of(http: TestClient) -> str:
    http.get("/")
    value = http.cookies.get(CSRF_COOKIE)
    assert value
    return value


def test_every_user_value_is_escaped_on_every_page(http: TestClient, hostile: dict[str, int]) -> None:
    pages = [
        "/",
        "/tasks",
        f"/tasks?name={SCRIPT}",
        f"/tasks?label={SCRIPT}&error={SCRIPT}",
        f"/tasks/{hostile['queued']}",
        f"/tasks/{hostile['failed']}",
        "/failures",
        "/schedules",
        "/workers",
        f"/tasks?status={SCRIPT}",  # the 400 page repeats the bad value
    ]
    for path in pages:
        html = http.get(path).text
        assert SCRIPT not in html, path
        assert "&lt;script&gt;" in html, path
    confirm = http.post(
        "/actions/retry",
        data={"csrf": csrf_of(http), "scope": "filter", "status": "failed", "name": SCRIPT, "back": "/"},
    )
    assert confirm.status_code == 200
    assert SCRIPT not in confirm.text
    assert "&lt;script&gt;" in confirm.text


def test_read_only_by_default_shows_no_action_and_refuses_posts(client: Client, hostile: dict[str, int]) -> None:
    http = TestClient(create_app(client))
    with http:
        for path in ("/tasks", "/failures", f"/tasks/{hostile['failed']}", "/schedules"):
            html = http.get(path).text
            assert "data-action" not in html, path
            assert 'name="ids"' not in html, path
            assert "started without --allow-actions" in html
        response = http.post("/actions/retry", data={"csrf": csrf_of(http), "ids": str(hostile["failed"])})
    assert response.status_code == 400
    assert "actions are disabled" in response.text
    assert client.task(hostile["failed"]).status == "failed"


def test_actions_need_the_csrf_value_of_this_browser(http: TestClient, client: Client, hostile: dict[str, int]) -> None:
    target = {"ids": str(hostile["failed"]), "confirm": "yes", "back": "/"}
    assert http.post("/actions/retry", data=target).status_code == 400
    assert http.post("/actions/retry", data={**target, "csrf": "forged"}).status_code == 400
    cross_site = http.post(
        "/actions/retry", data={**target, "csrf": csrf_of(http)}, headers={"origin": "https://evil.example"}
    )
    assert cross_site.status_code == 400
    assert "came from another site" in cross_site.text
    assert http.get("/actions/retry").status_code == 405
    assert client.task(hostile["failed"]).status == "failed"


def test_redirects_after_an_action_stay_on_this_site(http: TestClient, client: Client) -> None:
    task_id = Runner(client).run("SendEmail")
    client.wait(task_id, timeout=10)
    response = http.post(
        "/actions/delete",
        data={"csrf": csrf_of(http), "ids": str(task_id), "confirm": "yes", "back": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_the_token_is_required_and_then_kept_in_a_cookie(client: Client) -> None:
    http = TestClient(create_app(client, token=TOKEN))
    with http:
        denied = http.get("/tasks")
        assert denied.status_code == 401
        assert "needs its token" in denied.text
        assert http.get("/static/app.js").status_code == 401
        assert http.get("/tasks?token=wrong-token-wrong-token").status_code == 401
        opened = http.get(f"/tasks?token={TOKEN}&status=failed", follow_redirects=False)
        assert opened.status_code == 303
        assert opened.headers["location"] == "/tasks?status=failed"  # the token leaves the address
        cookie = opened.headers["set-cookie"]
        assert TOKEN not in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert http.get("/tasks").status_code == 200  # the session cookie now
    other = TestClient(create_app(client, token=TOKEN))
    with other:
        assert other.get("/", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        other.cookies.set(SESSION_COOKIE, "0" * 64)
        assert other.get("/").status_code == 401
    with pytest.raises(ValueError, match="at least 16 characters"):
        create_app(client, token="short")


def test_the_command_refuses_to_listen_beyond_loopback_without_a_token(module_dsn: str) -> None:
    def ui(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "anclax_fast", "ui", "--dsn", module_dsn, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"PATH": "/usr/bin:/bin"},
        )

    refused = ui("--host", "0.0.0.0")
    assert refused.returncode == 2
    assert "give it a token" in refused.stderr
    short = ui("--host", "0.0.0.0", "--token", "abc")
    assert short.returncode == 2
    assert "at least 16 characters" in short.stderr


@pytest.fixture(scope="module")
def viewer_dsn(postgres: EmbeddedPostgres, module_dsn: str) -> str:
    """A role that may only read anclax's tables (SELECT), as a reporting role would be."""
    with psycopg.connect(module_dsn, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS ui_viewer")
        conn.execute("CREATE ROLE ui_viewer LOGIN")
        conn.execute("GRANT USAGE ON SCHEMA anclax TO ui_viewer")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA anclax TO ui_viewer")
    parts = urlsplit(module_dsn)
    return urlunsplit(parts._replace(netloc=f"ui_viewer@{parts.hostname}:{parts.port}"))


def test_a_read_only_role_sees_every_page_and_is_told_why_it_cannot_act(
    viewer_dsn: str, hostile: dict[str, int]
) -> None:
    with Client(viewer_dsn) as viewer:
        http = TestClient(create_app(viewer, allow_actions=True))
        for path in (
            "/",
            "/tasks",
            "/tasks?status=failed",
            f"/tasks/{hostile['failed']}",
            "/failures",
            "/schedules",
            "/workers",
        ):
            response = http.get(path)
            assert response.status_code == 200, (path, response.text[-500:])
            assert "data-action" not in response.text, path
        assert "role &#39;ui_viewer&#39; lacks UPDATE on anclax.tasks" in http.get("/").text
        refused = http.post(
            "/actions/retry", data={"csrf": csrf_of(http), "ids": str(hostile["failed"]), "confirm": "yes"}
        )
        assert refused.status_code == 400
        assert "lacks UPDATE on anclax.tasks" in refused.text


def test_no_page_shows_the_dsn_or_its_password(
    postgres: EmbeddedPostgres, module_dsn: str, hostile: dict[str, int]
) -> None:
    # The session cluster trusts local connections: the password is accepted and ignored.
    parts = urlsplit(module_dsn)
    dsn = urlunsplit(parts._replace(netloc=f"{parts.username}:{PASSWORD}@{parts.hostname}:{parts.port}"))
    with Client(dsn) as secret:
        http = TestClient(create_app(secret, allow_actions=True))
        for path in (
            "/",
            "/tasks",
            f"/tasks/{hostile['failed']}",
            "/failures",
            "/schedules",
            "/workers",
            "/nowhere",
            "/tasks?since=x",
        ):
            response = http.get(path)
            text = response.text + json.dumps(dict(response.headers))
            assert PASSWORD not in text, path
            assert re.search(r"postgres(ql)?://", text) is None, path
            assert f"{parts.hostname}:{parts.port}" not in text, path
