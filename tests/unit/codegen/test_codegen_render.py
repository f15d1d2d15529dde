"""Snapshots of every generated module for one task (the API.md example, ``snapshots/``): what
the templates write, exactly. The golden record covers the rest; these make a template change
visible at a glance. To accept a deliberate change, rewrite the ``.txt`` files from the output."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from anclax_fast.codegen import load_spec_text, render_package
from anclax_fast.codegen.gcpause import without_cyclic_gc

SNAPSHOTS = Path(__file__).parent / "snapshots"
SPEC = SNAPSHOTS / "delete_opaque_key.yaml"
EXPECTED = sorted(path.name.removeprefix("delete_opaque_key.").removesuffix(".txt") for path in SNAPSHOTS.glob("*.txt"))


def _render() -> dict[str, str]:
    loaded = load_spec_text(SPEC.read_text(encoding="utf-8"), "api/tasks.yaml")
    return {f.path: f.content for f in render_package(loaded.ir, out="taskgen")}


def test_every_module_has_a_snapshot() -> None:
    assert sorted(_render()) == EXPECTED


@pytest.mark.parametrize("path", EXPECTED)
def test_module_snapshot(path: str) -> None:
    expected = (SNAPSHOTS / f"delete_opaque_key.{path}.txt").read_text(encoding="utf-8")
    assert _render()[path] == expected


def test_generate_pauses_the_cyclic_collector_and_restores_it() -> None:
    seen: list[bool] = []

    @without_cyclic_gc
    def probe() -> None:
        seen.append(gc.isenabled())

    assert gc.isenabled()
    probe()
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        probe()
        assert not gc.isenabled(), "a collector that was off stays off"
    finally:
        gc.enable()
