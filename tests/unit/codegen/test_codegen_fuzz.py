"""Whatever YAML comes in, ``generate`` ends in a package or a SpecError, never another exception.

Three sources of input: arbitrary text, arbitrary YAML structures, and valid specs with random
mutations (keys dropped or added, values replaced, types changed), which reach the deeper checks.
When the input is accepted, the generated files must compile and the models module must run.
"""

from __future__ import annotations

import ast
import copy
from typing import Any, cast

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from anclax_fast.codegen import load_spec_text, render_package
from anclax_fast.codegen.load import build_models
from anclax_fast.errors import SpecError
from tests.unit.codegen.codegen_helpers import SPECS

pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example]
)

SEEDS = [
    cast("dict[str, Any]", yaml.safe_load((SPECS / name).read_text(encoding="utf-8")))
    for name in ("tutorial.yaml", "edge_cases.yaml")
]

KEYWORDS = [
    "name", "description", "parameters", "retryPolicy", "interval", "maxAttempts", "cronjob", "cronExpression",
    "events", "timeout", "labels", "priority", "type", "properties", "required", "items", "enum", "format", "$ref",
    "additionalProperties", "nullable", "default", "minimum", "maxLength", "pattern", "const", "tasks", "components",
    "schemas", "definitions", "oneOf", "x-anything",
]  # fmt: skip
# Values that mean something in a spec, so that mutations reach the deeper checks.
MEANINGFUL = [
    "object", "string", "integer", "array", "30m", "1m,2m", "-1", "0 0 2 * * *", "@daily", "onFailed",
    "${fireTime}", "#/components/schemas/Address", "int32", "date-time", "uuid",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(MEANINGFUL)
)
keys = st.sampled_from(KEYWORDS) | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)


def _dump(value: object, *, sort_keys: bool = True) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=sort_keys)  # pyright: ignore[reportUnknownMemberType]


def _check_problems(err: SpecError) -> None:
    assert err.problems
    for problem in err.problems:
        assert problem.file == "fuzz.yaml"
        assert problem.line is not None
        assert problem.line >= 1
        assert problem.col is not None
        assert problem.col >= 1


def _generate(text: str) -> None:
    try:
        loaded = load_spec_text(text, "fuzz.yaml")
    except SpecError as err:
        _check_problems(err)
        return
    for task in loaded.ir.tasks:
        if task.schema is not None:  # the subset reader accepts only valid JSON Schema
            Draft202012Validator.check_schema(task.schema)
    files = render_package(loaded.ir, out="taskgen")
    for generated in files:
        if generated.path.endswith((".py", ".pyi")):
            ast.parse(generated.content, generated.path)
    build_models(loaded.ir)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    _generate(text)


@FUZZ
@given(values)
def test_arbitrary_structures(value: object) -> None:
    _generate(_dump(value))
    _generate(_dump({"tasks": value}))


def _paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in cast("dict[object, object]", value).items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(cast("list[object]", value)):
            found += _paths(item, (*path, index))
    return found


def _mutate(data: st.DataObject, spec: dict[str, Any]) -> None:
    paths = _paths(spec)[1:]
    if not paths:
        spec["tasks"] = data.draw(values)
        return
    path = data.draw(st.sampled_from(paths))
    parent: Any = spec
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    action = data.draw(st.sampled_from(["replace", "delete", "insert", "retype"]))
    if action == "replace":
        parent[last] = data.draw(values)
    elif action == "delete":
        del parent[last]
    elif action == "insert" and isinstance(parent, dict):
        parent[data.draw(st.sampled_from(KEYWORDS))] = data.draw(values)
    elif action == "insert":
        parent.insert(cast("int", last), data.draw(values))
    else:
        parent[last] = str(parent[last]) if not isinstance(parent[last], str) else [parent[last]]


@FUZZ
@given(st.data(), st.sampled_from(range(len(SEEDS))), st.integers(1, 4))
def test_mutated_valid_specs(data: st.DataObject, seed: int, mutations: int) -> None:
    spec = copy.deepcopy(SEEDS[seed])
    for _ in range(mutations):
        _mutate(data, spec)
    _generate(_dump(spec, sort_keys=False))


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_the_seeds_themselves_generate(seed: int) -> None:
    _generate(_dump(SEEDS[seed], sort_keys=False))
