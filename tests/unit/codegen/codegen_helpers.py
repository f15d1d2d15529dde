"""Helpers for the generator's tests: load spec text, collect its problems, find the golden record."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from anclax_fast.codegen import LoadedSpec, load_spec_text
from anclax_fast.errors import SpecError

REPO = Path(__file__).resolve().parents[3]
GOLDEN = REPO / "codegen" / "golden"
SPECS = REPO / "codegen" / "specs"
VENV_BIN = Path(sys.executable).parent


def load(text: str) -> LoadedSpec:
    """Load spec text (dedented) named ``t.yaml``; fails the test on a SpecError."""
    return load_spec_text(textwrap.dedent(text), "t.yaml")


def problems(text: str) -> list[str]:
    """Every problem of spec text (dedented), as ``line:col: message`` strings."""
    with pytest.raises(SpecError) as caught:
        load_spec_text(textwrap.dedent(text), "t.yaml")
    for problem in caught.value.problems:
        assert problem.file == "t.yaml"
    return [f"{p.line}:{p.col}: {p.message}" for p in caught.value.problems]
