"""End-to-end smoke test of an installed anclax-fast (run from a virtualenv holding only the wheel).

Generates a package from a small spec with the installed `anclax-fast generate`, runs a worker on
an embedded PostgreSQL (or on the empty database at $ANCLAX_SMOKE_DSN), enqueues, and waits for
the results.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import textwrap
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import anclax_fast
from anclax_fast import Client, Worker
from anclax_fast.cron import CronSchedule

SPEC = textwrap.dedent(
    """\
    tasks:
      - name: Add
        parameters:
          type: object
          required: [a, b]
          properties:
            a: {type: integer}
            b: {type: integer}
        retryPolicy: {interval: 100ms, maxAttempts: 3}
    """
)


def main() -> None:
    assert "site-packages" in anclax_fast.__file__, f"not testing the installed wheel: {anclax_fast.__file__}"
    print(f"anclax-fast {anclax_fast.__version__} from {Path(anclax_fast.__file__).parent}")
    cli = Path(sys.executable).parent / "anclax-fast"
    shown = subprocess.run([cli, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    assert shown == f"anclax-fast {version('anclax-fast')}" == f"anclax-fast {anclax_fast.__version__}", shown
    schedule = CronSchedule("0 */1 * * *")
    print("next hourly fire:", schedule.next_after(datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc)))
    workdir = Path(tempfile.mkdtemp(prefix="anclax-smoke-"))
    (workdir / "tasks.yaml").write_text(SPEC)
    generate = [cli, "generate", "--spec", "tasks.yaml", "--out", "smokegen"]
    subprocess.run(generate, cwd=workdir, check=True)
    sys.path.insert(0, str(workdir))
    from smokegen import AddParameters, TaskRunner, make_worker  # type: ignore[import-not-found]  # noqa: PLC0415 - generated just above

    results: list[int] = []

    class Executor:
        def execute_add(self, ctx: anclax_fast.TaskContext, params: AddParameters) -> None:  # type: ignore[no-any-unimported]
            if ctx.attempt == 1:
                raise RuntimeError("first attempts fail, to exercise retries")
            results.append(params.a + params.b)

    with contextlib.ExitStack() as stack:
        dsn = os.environ.get("ANCLAX_SMOKE_DSN")
        if dsn is None:
            from anclax_fast.testing import EmbeddedPostgres  # noqa: PLC0415 - only without a DSN

            dsn = stack.enter_context(EmbeddedPostgres()).dsn
        client = stack.enter_context(Client(dsn))
        client.migrate()
        worker: Worker = make_worker(client, Executor(), concurrency=4)
        with worker:
            runner = TaskRunner(client)
            ids = [runner.run_add(AddParameters(a=i, b=1)) for i in range(5)]
            ids += runner.run_add_many([AddParameters(a=10, b=i) for i in range(5)])
            statuses = {client.wait(task_id, timeout=30).status for task_id in ids}
        assert statuses == {"completed"}, statuses
        assert sorted(results) == sorted([i + 1 for i in range(5)] + [10 + i for i in range(5)]), results
        assert all(client.task(task_id).attempts == 2 for task_id in ids)
    print("smoke test passed")


if __name__ == "__main__":
    main()
