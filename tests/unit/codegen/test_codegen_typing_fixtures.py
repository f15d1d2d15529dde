"""The generated packages make type checkers reject wrong code: each ``# expect-error`` line of
``codegen/typing/bad_*.py`` gets an error from mypy and from basedpyright, and no other line does.

(The ``ok_*.py`` fixtures are checked clean by ``make lint-python`` with the golden packages.)
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from tests.unit.codegen.codegen_helpers import REPO, VENV_BIN

FIXTURES = sorted((REPO / "codegen" / "typing").glob("bad_*.py"))
MARKER = "# expect-error"

pytestmark = pytest.mark.slow


def _expected() -> dict[str, set[int]]:
    return {
        path.name: {number for number, line in enumerate(path.read_text().splitlines(), 1) if line.endswith(MARKER)}
        for path in FIXTURES
    }


def test_every_fixture_expects_errors() -> None:
    assert len(FIXTURES) >= 3
    assert all(_expected().values())


def test_mypy_reports_exactly_the_expected_lines() -> None:
    result = subprocess.run(
        [str(VENV_BIN / "mypy"), "--no-error-summary", "--show-error-codes", *map(str, FIXTURES)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    found: defaultdict[str, set[int]] = defaultdict(set)
    for line in result.stdout.splitlines():
        match = re.match(r"(?P<file>[^:]+):(?P<line>\d+): error: ", line)
        if match:
            found[Path(match["file"]).name].add(int(match["line"]))
    assert result.returncode == 1, result.stdout + result.stderr
    assert dict(found) == _expected(), result.stdout


def test_basedpyright_reports_exactly_the_expected_lines(tmp_path: Path) -> None:
    # The project config excludes the bad fixtures (so that `make lint` passes); check them with
    # the same strictness through a config of their own.
    config = {
        "include": [str(path) for path in FIXTURES],
        "extraPaths": [str(REPO)],
        "pythonVersion": "3.10",
        "typeCheckingMode": "strict",
        "reportUnnecessaryTypeIgnoreComment": True,
    }
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    result = subprocess.run(
        [
            str(VENV_BIN / "basedpyright"),
            "--project",
            str(tmp_path / "pyrightconfig.json"),
            "--pythonpath",
            str(VENV_BIN / "python"),
            "--outputjson",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    found: defaultdict[str, set[int]] = defaultdict(set)
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            found[Path(diagnostic["file"]).name].add(diagnostic["range"]["start"]["line"] + 1)
    assert report["summary"]["filesAnalyzed"] == len(FIXTURES)
    assert dict(found) == _expected(), json.dumps(report["generalDiagnostics"], indent=1)
