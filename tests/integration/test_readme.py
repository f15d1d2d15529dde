"""The README's quick start, run as written: its files are written, its commands executed.

Fenced blocks whose info string names a path (```yaml api/tasks.yaml```) are files; ``sh``
blocks are commands, run in order in a fresh directory, with ``ANCLAX_DSN`` pointing at the test
database. ``... &`` runs in the background and ``kill %1`` stops it (and must end it gracefully).

``pip install anclax-fast`` is not run: no release is on PyPI yet, and what is tested here is this
checkout, which ``make install`` installed in editable mode (``maturin develop``, like
``pip install -e .``); the test checks that the commands do import it from here. The built wheel
is installed into fresh virtualenvs and tested by ``make wheel-smoke``, the sdist by
``make sdist-smoke``.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w+)(?: (\S+))?\n(.*?)^```$", re.M | re.S)


def quick_start() -> str:
    text = README.read_text()
    start = text.index("## Quick start")
    return text[start : text.index("\n## ", start + 1)]


def test_the_quick_start_works_as_written(module_dsn: str, tmp_path: Path) -> None:
    env = {**os.environ, "ANCLAX_DSN": module_dsn, "PYTHONPATH": str(tmp_path)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    background: list[subprocess.Popen[str]] = []
    outputs: list[str] = []
    try:
        for language, path, body in FENCE.findall(quick_start()):
            if path:
                target = tmp_path / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(body)
                continue
            assert language == "sh", f"unexpected block {language}"
            for raw in body.splitlines():
                line = raw.split(" # ")[0].strip()
                if line.startswith("pip "):
                    assert line == "pip install anclax-fast", f"the test does not know how to run {line!r}"
                    checkout_package = ROOT / "python" / "anclax_fast" / "__init__.py"
                    where = [sys.executable, "-c", "import anclax_fast; print(anclax_fast.__file__)"]
                    imported = subprocess.run(where, cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
                    assert Path(imported.stdout.strip()) == checkout_package, imported.stdout
                    continue
                if not line:
                    continue
                if line.startswith("export "):
                    continue  # ANCLAX_DSN is the test database's
                if line.startswith("kill %1"):
                    proc = background.pop(0)
                    proc.send_signal(signal.SIGTERM)
                    _, stderr = proc.communicate(timeout=60)
                    assert proc.returncode == 0, stderr
                    continue
                argv = shlex.split(line.removesuffix("&").strip())
                if argv[0] == "python":
                    argv[0] = sys.executable
                if line.endswith("&"):
                    background.append(subprocess.Popen(argv, cwd=tmp_path, env=env, text=True, stderr=subprocess.PIPE))
                    continue
                result = subprocess.run(
                    argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
                )
                assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
                outputs.append(result.stdout)
    finally:
        for proc in background:
            proc.kill()
            proc.communicate()
    assert any(out.strip().endswith("completed") for out in outputs), outputs
    assert any("SendWelcomeEmail" in out for out in outputs)  # `anclax-fast tasks list`
