"""Every page over HTTP (Starlette's test client, a real database and worker): what it shows,
how it pages, and the clear errors bad input gets."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from anclax_fast import Client, Worker
from anclax_fast.ui import create_app
from anclax_fast.ui.queries import overview
from anclax_fast.ui.queries import tasks as tasks_query
from tests.support import wait_until
from tests.ui.support import Params, Runner

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def http(client: Client, worker: Worker) -> Iterator[TestClient]:
    runner = Runner(client)
    failing = [runner.run("ChargeCard", Params(n=i)) for i in range(3)]
    failing.append(runner.run("Explode", Params(note="the answer was 42, not 41")))
    ids = [runner.run("SendEmail", Params(n=i)) for i in range(120)]
    for task_id in [*ids, *failing]:
        client.wait(task_id, timeout=20)
    test_client = TestClient(create_app(client, allow_actions=True))
    with test_client:
        yield test_client


def ids_on(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-task="(\d+)">', html)]


def test_overview_counts_and_charts(http: TestClient) -> None:
    page = http.get("/")
    assert page.status_code == 200
    html = page.text
    assert 'data-count="failed">4<' in html  # 3 ChargeCard + 1 Explode
    assert "<svg" in html
    assert "SendEmail" in html
    assert f"counted exactly up to {overview.COUNTED_PER_MINUTE:,} finished tasks." in html
    # 120 SendEmail and some cron fires in the last hour: exact at this rate (no "≈").
    completed = re.search(r'data-count="completed-hour">([^<]+)<', html)
    assert completed is not None
    assert 120 <= int(completed.group(1).replace(",", "")) < 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_tasks_pages_by_keyset_without_overlap(http: TestClient) -> None:
    first = http.get("/tasks", params={"name": "SendEmail"})
    assert first.status_code == 200
    page_one = ids_on(first.text)
    assert len(page_one) == tasks_query.PAGE_SIZE
    assert page_one == sorted(page_one, reverse=True)
    cursor = re.search(r'href="[^"]*cursor=([^&"]+)[^"]*" data-next', first.text)
    assert cursor is not None
    second = http.get("/tasks", params={"name": "SendEmail", "cursor": cursor.group(1)})
    page_two = ids_on(second.text)
    assert len(page_two) == tasks_query.PAGE_SIZE
    assert max(page_two) < min(page_one)
    third = http.get("/tasks", params={"name": "SendEmail", "cursor": str(min(page_two))})
    assert len(ids_on(third.text)) == 120 - 2 * tasks_query.PAGE_SIZE
    assert "End of the list." in third.text


def test_filters_by_status_error_and_label(http: TestClient) -> None:
    failed = http.get("/tasks", params={"status": "failed"}).text
    assert len(ids_on(failed)) == 4
    assert "Latest finished first." in failed
    assert len(ids_on(http.get("/tasks", params={"status": "failed", "error": "upstream returned 503"}).text)) == 3
    assert len(ids_on(http.get("/tasks", params={"error": "42, NOT 41"}).text)) == 1  # case-insensitive
    assert ids_on(http.get("/tasks", params={"error": "100%_off"}).text) == []  # LIKE wildcards are literal
    assert ids_on(http.get("/tasks", params={"label": "gpu"}).text) == []
    assert len(ids_on(http.get("/tasks", params={"status": "completed", "since": "10m"}).text)) == 50


def test_a_rare_match_says_how_far_it_searched_and_searches_on(
    http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks_query, "SCAN_BUDGET", 40)
    page = http.get("/tasks", params={"name": "ChargeCard"})
    # The newest 40 tasks are SendEmail ones: nothing found yet, and the page says so.
    assert ids_on(page.text) == []
    assert "Searched 40 tasks" in page.text
    found: list[int] = []
    html = page.text
    for _ in range(10):
        more = re.search(r'href="([^"]*cursor=[^"]+)">Search the next', html)
        if more is None:
            break
        html = http.get(more.group(1).replace("&amp;", "&")).text
        found += ids_on(html)
    assert len(found) == 3


def test_task_page_shows_parameters_attempts_and_the_traceback(client: Client, http: TestClient) -> None:
    task = client.tasks(name="ChargeCard", limit=1)[0]
    html = http.get(f"/tasks/{task.id}").text
    assert "ChargeCard" in html
    assert "&#34;n&#34;:" in html or "&quot;n&quot;:" in html  # the parameters, as escaped JSON
    assert html.count('class="attempt"') == 2
    assert "Traceback (most recent call last)" in html
    assert "ConnectionError: payments upstream returned 503" in html
    assert "ConnectionError: payments upstream returned &lt;n&gt; for card &lt;n&gt;" in html  # its error group


def test_failures_group_by_task_and_error(http: TestClient) -> None:
    html = http.get("/failures").text
    groups = re.findall(r'<article class="group" data-group="([^"]+)"', html)
    assert groups == ["ChargeCard", "Explode"]
    assert "3 failed" in html
    assert "ValueError: the answer was &lt;n&gt;, not &lt;n&gt;" in html
    assert "sample traceback" in html


def test_schedules_and_workers(client: Client, http: TestClient) -> None:
    wait_until(lambda: any(s.task_name == "Nightly" for s in client.schedules()))
    schedules = http.get("/schedules").text
    assert "every 2 seconds" in schedules
    assert "*/2 * * * * *" in schedules
    assert "Trigger now" in schedules
    workers = http.get("/workers").text
    assert "every task of its spec" in workers
    assert "4 threads" in workers


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/tasks?status=done", 400, "status: &#39;done&#39; is not one of"),
        ("/tasks?since=lately", 400, "since: &#39;lately&#39; is neither a duration"),
        ("/tasks?id=abc", 400, "id: &#39;abc&#39; is not a task id"),
        ("/tasks?cursor=x~y", 400, "invalid page cursor"),
        ("/tasks?status=failed&cursor=12", 400, "belongs to a listing of another status"),
        ("/tasks/999999999", 404, "there is no task 999999999"),
        ("/failures?window=1y", 400, "window: &#39;1y&#39; is not one of 1h, 24h, 7d"),
        ("/live?view=nothing", 400, "unknown view"),
    ],
)
def test_bad_input_gets_a_clear_error(http: TestClient, path: str, status: int, message: str) -> None:
    response = http.get(path)
    assert response.status_code == status
    assert message in response.text


def test_an_id_in_the_filter_opens_the_task(http: TestClient, client: Client) -> None:
    task = client.tasks(name="Explode", limit=1)[0]
    response = http.get("/tasks", params={"id": str(task.id)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/tasks/{task.id}")


def _csrf(http: TestClient) -> str:
    from anclax_fast.ui.security import CSRF_COOKIE

    http.get("/")
    value = http.cookies.get(CSRF_COOKIE)
    assert value
    return value


def test_pause_resume_and_cancel_by_tag_from_the_tasks_page(client: Client, http: TestClient) -> None:
    runner = Runner(client)
    tagged = [runner.run("SendEmail", Params(n=i), delay="1h", tags=["ui-batch"]) for i in range(3)]
    other = runner.run("SendEmail", Params(n=9), delay="1h")
    detail = http.get(f"/tasks/{tagged[0]}").text
    assert "#ui-batch" in detail
    assert 'data-action="pause"' in detail
    listing = http.get("/tasks?tag=ui-batch").text
    assert sorted(ids_on(listing)) == tagged
    assert "#ui-batch" in listing
    assert 'data-action="pause"' in listing
    csrf = _csrf(http)
    filtered = {"csrf": csrf, "scope": "filter", "tag": "ui-batch", "back": "/tasks"}
    confirm = http.post("/actions/pause", data=filtered)
    assert confirm.status_code == 200
    assert "3" in confirm.text
    done = http.post("/actions/pause", data={**filtered, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    assert {client.task(i).status for i in tagged} == {"paused"}
    assert client.task(other).status == "pending"
    selected = {"csrf": csrf, "scope": "ids", "ids": str(tagged[0]), "confirm": "yes", "back": "/tasks"}
    assert http.post("/actions/resume", data=selected, follow_redirects=False).status_code == 303
    assert client.task(tagged[0]).status == "pending"
    assert 'data-action="resume"' in http.get(f"/tasks/{tagged[1]}").text
    cancelled = http.post("/actions/cancel", data={**filtered, "confirm": "yes"}, follow_redirects=False)
    assert cancelled.status_code == 303
    assert {client.task(i).status for i in tagged} == {"cancelled"}
    client.cancel(other)


def test_pause_and_resume_a_schedule_from_the_schedules_page(client: Client, http: TestClient) -> None:
    wait_until(lambda: any(s.task_name == "Nightly" for s in client.schedules()))
    schedule = next(s for s in client.schedules() if s.task_name == "Nightly")
    page = http.get("/schedules").text
    assert 'data-action="pause-schedule"' in page
    csrf = _csrf(http)
    paused = http.post(f"/schedules/{schedule.id}/pause", data={"csrf": csrf}, follow_redirects=False)
    assert paused.status_code == 303
    assert next(s for s in client.schedules() if s.task_name == "Nightly").paused
    page = http.get("/schedules").text
    assert "data-paused" in page
    assert 'data-action="resume-schedule"' in page
    resumed = http.post(f"/schedules/{schedule.id}/resume", data={"csrf": csrf}, follow_redirects=False)
    assert resumed.status_code == 303
    assert not next(s for s in client.schedules() if s.task_name == "Nightly").paused
    assert http.post("/schedules/999999/pause", data={"csrf": csrf}).status_code == 404
    assert http.post(f"/schedules/{schedule.id}/explode", data={"csrf": csrf}).status_code == 404
