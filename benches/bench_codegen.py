"""How long ``anclax-fast generate`` takes for a large spec (the target: 500 tasks in under 2 s).

Builds a spec of N tasks and times the stages of a generate several times, reporting medians:

    python benches/bench_codegen.py [--tasks 500] [--runs 5] [--shape heavy|tutorial]

``heavy`` (the default) tasks have nested objects, arrays of objects, enums, several formats, a
shared ``$ref`` schema, retry policies and labels, and every tenth is a cron task with
``${fireTime}`` parameters (which makes the generator build and run those models): about two
models and 10 kB of code per task. ``tutorial`` repeats the Anclax tutorial's nine tasks (flat
parameters of two to four fields), closer to a typical application.

Results are recorded by hand in benches/RESULTS.md ("Code generator").
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import yaml

from anclax_fast.codegen import load_spec, render_package, write_package

__all__ = ["build_spec", "main"]

TARGET_SECONDS = 2.0
SPECS = Path(__file__).resolve().parent.parent / "codegen" / "specs"


def _task(index: int) -> dict[str, object]:
    task: dict[str, object] = {
        "name": f"ProcessOrder{index}",
        "description": f"Task number {index}: validates, prices and ships an order.",
        "parameters": {
            "type": "object",
            "required": ["orderId", "customer", "lines"],
            "properties": {
                "orderId": {"type": "integer", "format": "int64"},
                "customer": {"$ref": "#/components/schemas/Customer"},
                "lines": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["sku", "quantity"],
                        "properties": {
                            "sku": {"type": "string", "maxLength": 32},
                            "quantity": {"type": "integer", "format": "int32", "minimum": 1},
                            "unitPrice": {"type": "number"},
                        },
                    },
                },
                "priority": {"type": "string", "enum": ["low", "normal", "high"], "default": "normal"},
                "requestedAt": {"type": "string", "format": "date-time"},
                "deliveryDay": {"type": "string", "format": "date"},
                "metadata": {"type": "object"},
            },
        },
        "retryPolicy": {"interval": "1m,5m,30m", "maxAttempts": 5},
        "timeout": "10m",
        "labels": ["orders"],
        "priority": index % 10,
    }
    if index % 10 == 0:
        task["events"] = ["onFailed"]
        task["cronjob"] = {
            "cronExpression": "0 */5 * * * *",
            "parameters": {
                "orderId": index,
                "customer": {"id": "0b0e4d2e-3f5c-4b7a-9d43-1d2c3b4a5e6f", "name": "Batch"},
                "lines": [{"sku": "A", "quantity": 1}],
                "requestedAt": "${fireTime}",
                "deliveryDay": "${fireDate}",
            },
        }
    return task


def build_tutorial_spec(tasks: int) -> str:
    """``tasks`` copies of the tutorial's tasks (renamed ``<Name><n>``), as YAML text."""
    document = cast("dict[str, list[dict[str, object]]]", yaml.safe_load((SPECS / "tutorial.yaml").read_text("utf-8")))
    tutorial = document["tasks"]
    copies: list[dict[str, object]] = []
    for index in range(tasks):
        task = dict(tutorial[index % len(tutorial)])
        task["name"] = f"{task['name']}{index}"
        copies.append(task)
    return _dump({"tasks": copies})


def build_spec(tasks: int) -> str:
    """A spec of ``tasks`` heavy task definitions, as YAML text."""
    spec = {
        "components": {
            "schemas": {
                "Customer": {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "name": {"type": "string"},
                        "email": {"type": "string", "format": "email"},
                    },
                }
            }
        },
        "tasks": [_task(index) for index in range(tasks)],
    }
    return _dump(spec)


def _dump(value: object) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True)  # pyright: ignore[reportUnknownMemberType]


def _time(function: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``runs`` calls. CPU time is the steadier number on a
    machine shared with other work; the target is about wall-clock time on an idle one."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=500, help="task definitions in the spec (default 500)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs; the median is reported (default 5)")
    parser.add_argument("--shape", choices=["heavy", "tutorial"], default="heavy", help="what the tasks look like")
    args = parser.parse_args(argv)
    tasks: int = args.tasks
    runs: int = args.runs
    shape: str = args.shape
    with tempfile.TemporaryDirectory(prefix="anclax-bench-codegen-") as directory:
        root = Path(directory)
        spec = root / "tasks.yaml"
        spec.write_text(build_spec(tasks) if shape == "heavy" else build_tutorial_spec(tasks), encoding="utf-8")
        spec_bytes = spec.stat().st_size
        loaded = load_spec(spec)
        files = render_package(loaded.ir, out="taskgen")
        size = sum(len(f.content) for f in files)
        load_times = _time(lambda: load_spec(spec), runs)
        render_times = _time(lambda: render_package(loaded.ir, out="taskgen"), runs)
        counter = iter(range(runs))
        write_times = _time(lambda: write_package(root / f"out{next(counter)}", files), runs)

        def whole() -> None:
            write_package(root / "whole", render_package(load_spec(spec).ir, out="taskgen"))

        total_times = _time(whole, runs)
    total = total_times[0]
    print(
        f"generate of a {tasks}-task {shape} spec ({spec_bytes / 1e3:.0f} kB of YAML; {len(loaded.ir.models)} models, "
        f"{size / 1e6:.1f} MB of code), median of {runs} runs:"
    )
    for label, (wall, cpu) in (
        ("load + validate", load_times),
        ("render", render_times),
        ("write", write_times),
        ("total", total_times),
    ):
        print(f"  {label:<16} {wall:.3f} s wall, {cpu:.3f} s CPU")
    verdict = "met" if total < TARGET_SECONDS else "MISSED"
    print(f"target: the whole generate under {TARGET_SECONDS:.0f} s: {verdict}")
    return 0 if total < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
