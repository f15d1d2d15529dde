from __future__ import annotations

from anclax_fast import Client

from tests.support import Params, Recorder, Runner, running_worker, wait_until


def test_echo_completes(client: Client) -> None:
    runner = Runner(client)
    rec = Recorder()
    with running_worker(client, rec):
        task_id = runner.run("Echo", Params(n=1))
        info = client.wait(task_id, timeout=10)
    assert info.status == "completed"
    assert rec.attempts_of(task_id) == [1]
