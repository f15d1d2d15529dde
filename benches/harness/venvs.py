"""One virtualenv per peer under benches/.venvs/<system>, created on first use with pinned packages.

Peers never share an interpreter environment with the project or each other, so no peer's
dependency pins can change another's (or anclax-fast's) behaviour. A venv is rebuilt only when its
pinned requirements change (recorded in a stamp file inside it).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from benches.harness.systems import System

_STAMP = ".bench-requirements"
_PIP_TIMEOUT_S = 900.0
_PROBE = "import sys, venv, ensurepip; print('%d.%d.%d' % sys.version_info[:3])"


class EnvUnavailable(Exception):
    """The system's environment cannot be set up here; the message says why (shown in the report)."""


def python_for(system: System, venv_root: Path) -> Path:
    """The interpreter that runs the system's driver, creating its venv first if needed."""
    if not system.requirements:
        return Path(sys.executable)
    venv = venv_root / system.name
    python = venv / "bin" / "python"
    stamp = venv / _STAMP
    base = find_interpreter(system.min_python)
    wanted = f"python {base}\n" + "\n".join(system.requirements) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    venv_root.mkdir(parents=True, exist_ok=True)
    _run([str(base), "-m", "venv", str(venv)], f"creating the venv with {base}")
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *system.requirements],
        f"pip install {' '.join(system.requirements)}",
    )
    stamp.write_text(wanted)
    return python


def find_interpreter(minimum: tuple[int, int]) -> Path:
    """The harness's own Python when it is at least `minimum`, else the oldest one here that is.

    Peers run on the same interpreter version as the project (and the ceiling) wherever they allow
    it, so interpreter speed differences do not leak into the comparison.
    """
    own = Path(getattr(sys, "_base_executable", sys.executable))
    if sys.version_info[:2] >= minimum and _probe(own) is not None:
        return own
    found: dict[tuple[int, ...], Path] = {}
    for candidate in _candidates(minimum):
        version = _probe(candidate)
        if version is not None and version[:2] >= minimum and version not in found:
            found[version] = candidate
    if not found:
        raise EnvUnavailable(
            f"no Python >= {minimum[0]}.{minimum[1]} with venv and ensurepip found "
            "(looked at the harness's interpreter, python3.N on PATH, ~/.pyenv/versions, /usr/bin, /usr/local/bin)"
        )
    return found[min(found)]


def _candidates(minimum: tuple[int, int]) -> Iterable[Path]:
    for minor in range(minimum[1], 20):
        on_path = shutil.which(f"python{minimum[0]}.{minor}")
        if on_path:
            yield Path(on_path)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    patterns = (
        str(pyenv_root / "versions" / "3.*" / "bin" / "python3"),
        "/usr/bin/python3.*",
        "/usr/local/bin/python3.*",
    )
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            if not path.endswith("-config"):
                yield Path(path)


def _probe(python: Path) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([str(python), "-c", _PROBE], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    try:
        return tuple(int(part) for part in out.stdout.strip().split("."))
    except ValueError:
        return None


def _run(argv: list[str], what: str) -> None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise EnvUnavailable(f"{what}: {exc}") from exc
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise EnvUnavailable(f"{what} failed (exit {result.returncode}):\n{tail}")
