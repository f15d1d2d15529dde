"""Untrusted text in task names, labels, unique tags, payloads and ``Tx`` arguments is data, never
SQL: it is stored and comes back unchanged (through the table and through a worker), or it is
rejected with a clear error before anything is half-written.

Postgres text cannot hold NUL: a NUL is refused (by the runner's checks, or by Postgres with its
SQLSTATE) and leaves no row behind. A Python ``str`` cannot be invalid UTF-8 (a lone surrogate
does not encode); raw bytes go to ``bytea`` unchanged and are refused for ``text``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from anclax_fast import Client, ConfigurationError, DatabaseError, Spec, TaskDef, Worker
from anclax_fast._core import TaskContext, Tx
from anclax_fast.runner import TaskRunnerBase
from tests.support import FAST

pytestmark = pytest.mark.postgres

HOSTILE = [
    "Robert'); DROP TABLE anclax.tasks;--",
    "'; DELETE FROM anclax.events; SELECT '",
    "$$; DROP SCHEMA anclax CASCADE; $$",
    'double "quotes" and \\backslashes\\ and \\x00 spelled out',
    "$1 $2 ? %s %(name)s {0}",
    "{braces,and,commas} [brackets] NULL",
    "emoji 🎉🐘 and ünïcödé and 中文 and \u200b zero width",
    "line\nbreaks\r\nand\ttabs",
]


class Text(BaseModel):
    text: str


def _spec(names: list[str]) -> Spec:
    return Spec(
        source="tests/security", tasks=tuple(TaskDef(name) for name in names), models=dict.fromkeys(names, Text)
    )


class Runner(TaskRunnerBase):
    def __init__(self, client: Client, spec: Spec) -> None:
        super().__init__(client)
        self._spec = spec

    def run(self, name: str, text: str, **options: Any) -> int:
        return self._enqueue(self._spec.task(name), Text(text=text), **options)

    def run_with_tx(self, tx: Tx, name: str, text: str) -> int:
        return self._enqueue(self._spec.task(name), Text(text=text), tx=tx)

    def run_many(self, name: str, texts: list[str]) -> list[int]:
        return self._enqueue_many(self._spec.task(name), [Text(text=t) for t in texts])


class Seen:
    """An executor for any task name: records (task name, context labels, params) per task id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: dict[int, tuple[str, tuple[str, ...], str]] = {}

    def __getattr__(self, method: str) -> Any:
        if not method.startswith("execute_"):
            raise AttributeError(method)

        def execute(ctx: TaskContext, params: Text) -> None:
            with self.lock:
                self.calls[ctx.task_id] = (ctx.task_name, ctx.labels, params.text)

        return execute


def _rows(client: Client) -> int:
    with client.transaction() as tx:
        return int(tx.fetchval("SELECT count(*) FROM anclax.tasks"))


@pytest.fixture
def fresh(client: Client) -> Iterator[Client]:
    """The module's database, with its tables checked intact after each test."""
    yield client
    with client.transaction() as tx:
        tables = tx.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'anclax' ORDER BY 1")
    assert [t["tablename"] for t in tables] == [
        "events",
        "lanes",
        "migrations",
        "paused_names",
        "schedules",
        "tasks",
        "workers",
    ]


def test_hostile_names_labels_tags_and_payloads_are_stored_and_run_unchanged(fresh: Client) -> None:
    client = fresh
    names = [f"T{i} {text}" for i, text in enumerate(HOSTILE)]
    spec = _spec(names)
    runner = Runner(client, spec)
    ids: dict[int, tuple[str, str]] = {}
    for i, (name, text) in enumerate(zip(names, HOSTILE, strict=True)):
        label = f"label {text}"
        task_id = runner.run(name, text, labels=[label], unique_tag=f"tag {i} {text}")
        assert runner.run(name, "again", unique_tag=f"tag {i} {text}") == task_id  # the tag found its row
        ids[task_id] = (name, text)
        info = client.task(task_id)
        assert (info.name, info.labels, info.unique_tag, dict(info.params)) == (
            name,
            (label,),
            f"tag {i} {text}",
            {"text": text},
        )
    batch = runner.run_many(names[0], HOSTILE)
    ids.update({task_id: (names[0], text) for task_id, text in zip(batch, HOSTILE, strict=True)})
    seen = Seen()
    labels = [f"label {text}" for text in HOSTILE]
    with Worker(client, seen, spec, **FAST, labels=labels, auto_migrate=False):
        for task_id in ids:
            assert client.wait(task_id, timeout=30).status == "completed"
    for task_id, (name, text) in ids.items():
        seen_name, _, seen_text = seen.calls[task_id]
        assert (seen_name, seen_text) == (name, text)


def test_hostile_text_in_tx_arguments_is_data(fresh: Client) -> None:
    with fresh.transaction() as tx:
        tx.execute("CREATE TEMP TABLE notes (body text, raw bytea, doc jsonb, tags text[])")
        for text in HOSTILE:
            doc = {text: [text, {"k": text}]}
            tx.execute("INSERT INTO notes VALUES ($1, $2, $3, $4)", text, text.encode(), doc, [text, text])
            row = tx.fetchrow("SELECT * FROM notes WHERE body = $1", text)
            assert row == {"body": text, "raw": text.encode(), "doc": doc, "tags": [text, text]}
        assert tx.fetchval("SELECT count(*) FROM notes") == len(HOSTILE)


def test_non_utf8_bytes_go_to_bytea_unchanged_and_are_refused_for_text(fresh: Client) -> None:
    raw = b"\xff\xfe\x00\x80 not utf-8 \xc3\x28"
    with fresh.transaction() as tx:
        assert tx.fetchval("SELECT $1::bytea", raw) == raw
        with pytest.raises(TypeError, match=r"parameter \$1: cannot use a Python bytes for a parameter of type text"):
            tx.fetchval("SELECT $1::text", raw)
        assert tx.fetchval("SELECT 1") == 1  # refused before sending: the transaction goes on


def test_a_lone_surrogate_cannot_be_enqueued(fresh: Client) -> None:
    runner = Runner(fresh, _spec(["Plain"]))
    before = _rows(fresh)
    with pytest.raises(ValueError, match="surrogates not allowed"):  # pydantic's serializer says so
        runner.run("Plain", "\ud800")
    assert _rows(fresh) == before


def test_nul_in_a_payload_is_refused_and_nothing_is_written(fresh: Client) -> None:
    runner = Runner(fresh, _spec(["Plain"]))
    before = _rows(fresh)
    with pytest.raises(DatabaseError, match=r"\\u0000 cannot be converted to text") as err:
        runner.run("Plain", "a\x00b")
    assert err.value.sqlstate == "22P05"
    with pytest.raises(DatabaseError) as err:
        runner.run_many("Plain", ["fine", "also fine", "not \x00 fine", "fine"])  # all or nothing
    assert err.value.sqlstate == "22P05"

    def two_in_one_transaction() -> None:
        with fresh.transaction() as tx:
            runner.run_with_tx(tx, "Plain", "x")
            runner.run_with_tx(tx, "Plain", "\x00")

    with pytest.raises(DatabaseError):
        two_in_one_transaction()  # the first insert is rolled back with the second
    assert _rows(fresh) == before


def test_nul_in_a_task_name_is_refused_by_postgres_and_nothing_is_written(fresh: Client) -> None:
    runner = Runner(fresh, _spec(["Bad\x00Name"]))
    before = _rows(fresh)
    with pytest.raises(DatabaseError, match="0x00") as err:
        runner.run("Bad\x00Name", "x")
    assert err.value.sqlstate == "22021"
    assert _rows(fresh) == before


@pytest.mark.parametrize("option", ["labels", "unique_tag"])
def test_nul_in_a_label_or_unique_tag_is_refused_before_anything_is_written(fresh: Client, option: str) -> None:
    runner = Runner(fresh, _spec(["Plain"]))
    before = _rows(fresh)
    value: Any = ["a\x00b"] if option == "labels" else "a\x00b"
    with pytest.raises(ConfigurationError, match=r"NUL|non-empty strings"):
        runner.run("Plain", "x", **{option: value})
    assert _rows(fresh) == before


def test_a_10_mb_payload_round_trips_through_a_worker(fresh: Client) -> None:
    big = "x🎉" * 2_000_000  # 10 MB of UTF-8
    spec = _spec(["Big"])
    task_id = Runner(fresh, spec).run("Big", big)
    assert client_params(fresh, task_id) == {"text": big}
    seen = Seen()
    with Worker(fresh, seen, spec, **FAST, auto_migrate=False):
        assert fresh.wait(task_id, timeout=60).status == "completed"
    assert seen.calls[task_id][2] == big


def client_params(client: Client, task_id: int) -> dict[str, Any]:
    return dict(client.task(task_id).params)


def test_a_huge_unique_tag_is_refused_with_postgres_index_error_and_nothing_is_written(fresh: Client) -> None:
    """A btree entry is limited to about a third of a page: a multi-kilobyte unique tag cannot be
    indexed. Postgres says so (SQLSTATE 54000); no row is written."""
    runner = Runner(fresh, _spec(["Plain"]))
    before = _rows(fresh)
    with pytest.raises(DatabaseError, match="index row") as err:
        runner.run("Plain", "x", unique_tag="t" * 10_000_000)
    assert err.value.sqlstate == "54000"
    assert _rows(fresh) == before


def test_huge_names_and_labels_are_stored_unchanged(fresh: Client) -> None:
    name = "N" * 1_000_000
    label = "L" * 1_000_000
    task_id = Runner(fresh, _spec([name])).run(name, "x", labels=[label])
    info = fresh.task(task_id)
    assert (info.name, info.labels) == (name, (label,))
    assert fresh.cancel(task_id)


def test_params_that_do_not_validate_are_refused_before_anything_is_written(fresh: Client) -> None:
    before = _rows(fresh)

    class Strict(TaskRunnerBase):
        def run(self, params: object) -> int:
            return self._enqueue(TaskDef("Echo"), params)  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="must be its generated model"):
        Strict(fresh).run({"text": "'; DROP TABLE anclax.tasks; --"})
    assert _rows(fresh) == before


def test_hostile_tags_are_data_for_enqueue_pause_resume_and_cancel(fresh: Client) -> None:
    client = fresh
    names = ["Tagged"]
    runner = Runner(client, _spec(names))
    for text in HOSTILE:
        tag = f"tag {text}"[:200]
        task_id = runner.run("Tagged", text, tags=[tag], delay="1h")
        assert client.task(task_id).tags == (tag,)
        assert client.pause(tags=[tag]) == 1
        assert client.task(task_id).status == "paused"
        assert client.resume(tags=[tag]) == 1
        assert client.cancel(tags=[tag]) == [task_id]
    assert client.pause(task_name="Tagged'); DROP TABLE anclax.tasks; --") == 0
    assert client.resume(task_name="Tagged'); DROP TABLE anclax.tasks; --") == 0
