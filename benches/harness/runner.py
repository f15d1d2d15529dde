"""Run one driver request in the system's interpreter and read its one-line JSON reply."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from benches.drivers import protocol as p

REPO_ROOT = Path(__file__).resolve().parents[2]
_STDERR_TAIL_LINES = 25
# Variables that would make a peer's interpreter see the project's packages or settings.
_SCRUBBED = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "CONDA_PREFIX")


def call_driver(python: Path, system: str, request: p.Request, timeout_s: float) -> p.Reply:
    """Never raises for a driver's failure: a failed call is a Reply with ok=False and the reason."""
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    try:
        proc = subprocess.Popen(
            [str(python), "-m", "benches.drivers", system],
            cwd=REPO_ROOT,  # `benches` is imported from here; nothing else of the project is on the path
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: a timeout takes its worker processes too
        )
    except OSError as exc:
        return p.Reply(ok=False, error=f"cannot start {python}: {exc}")
    try:
        stdout, stderr = proc.communicate(request.to_json(), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = proc.communicate()
        return p.Reply(ok=False, error=f"driver timed out after {timeout_s:.0f}s\n{_tail(stderr)}")
    except BaseException:  # Ctrl-C: its own session does not get the terminal's SIGINT, so end it here
        _kill_group(proc)
        raise
    lines = [line for line in stdout.splitlines() if line.strip()]
    try:
        reply = p.Reply.from_json(lines[-1])
    except (IndexError, ValueError, TypeError):
        return p.Reply(ok=False, error=f"driver exited with code {proc.returncode} and no reply\n{_tail(stderr)}")
    if not reply.ok and stderr.strip():
        reply.error = f"{reply.error}\n{_tail(stderr)}"
    return reply


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _tail(text: str) -> str:
    lines = text.strip().splitlines()
    return "\n".join(lines[-_STDERR_TAIL_LINES:])
