"""The structure of a spec file, checked against ``tasks.schema.json`` with readable messages.

The JSON Schema (shipped in the wheel, usable by editors) fixes which keys exist and what type
each value has. :func:`check_structure` runs it and turns each ``jsonschema`` error into a
:class:`~anclax_fast.errors.SpecProblem` at the right line: an unknown key is reported at the key
(with a "did you mean" when one is close), a wrong type at the value. Everything the schema cannot
say (durations, cron expressions, parameter schemas, duplicates) is checked afterwards.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any, cast

import jsonschema.validators
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.protocols import Validator

from anclax_fast.codegen.source import Path, SourceDoc, describe_path, is_list, is_mapping
from anclax_fast.errors import SpecProblem

__all__ = ["check_structure", "json_type_name", "spec_schema", "where"]


@cache
def spec_schema() -> dict[str, Any]:
    """The JSON Schema of the spec format (``anclax_fast/codegen/tasks.schema.json``)."""
    text = resources.files("anclax_fast.codegen").joinpath("tasks.schema.json").read_text(encoding="utf-8")
    return cast("dict[str, Any]", json.loads(text))


def _is_integer(_checker: object, instance: object) -> bool:
    # JSON Schema counts 1.0 as an integer; a spec that writes `maxAttempts: 1.0` is more likely
    # a mistake, and Python would carry the float along.
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def _validator() -> Validator:
    type_checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer)
    extend = cast("Callable[..., type[Validator]]", jsonschema.validators.extend)  # untyped in the stubs
    return extend(Draft202012Validator, type_checker=type_checker)(spec_schema())


def check_structure(doc: SourceDoc) -> tuple[list[SpecProblem], set[Path]]:
    """Problems with the document's structure, and the paths they concern (later checks skip
    those subtrees, so one mistake is reported once)."""
    problems: list[SpecProblem] = []
    broken: set[Path] = set()
    for error in _validator().iter_errors(cast("Any", doc.data)):
        path: Path = tuple(error.absolute_path)
        broken.add(path)
        problems.extend(_problems(doc, error, path))
    return problems, broken


def _problems(doc: SourceDoc, error: ValidationError, path: Path) -> Iterator[SpecProblem]:
    instance: object = error.instance
    what = where(doc.data, path)
    if error.validator == "required" and isinstance(instance, Mapping):
        required = cast("list[str]", error.validator_value)
        for key in required:
            if key not in instance:
                yield doc.problem(f"{what} is missing the required key {key!r}", path)
    elif error.validator == "additionalProperties" and isinstance(instance, Mapping):
        schema = cast("Mapping[str, Any]", error.schema)
        allowed = sorted(cast("Mapping[str, Any]", schema.get("properties", {})))
        for key in cast("Mapping[str, object]", instance):
            if key in allowed or (path == () and key.startswith("x-")):
                continue
            yield doc.problem(f"unknown key {key!r} in {what}{_suggestion(key, allowed)}", (*path, key), at_key=True)
    elif error.validator == "type":
        expected = _expected(error.validator_value)
        yield doc.problem(f"{what} must be {expected}, not {json_type_name(instance)}", path)
    elif error.validator == "pattern" and path[-1:] == ("name",):
        yield doc.problem(
            f"invalid task name {instance!r}: it must start with a letter and contain only "
            "letters, digits and underscores",
            path,
        )
    elif error.validator == "enum" and len(path) >= 2 and path[-2] == "events":
        supported = ", ".join(cast("list[str]", error.validator_value))
        yield doc.problem(f"unknown event {instance!r} in {where(doc.data, path[:-2])} (supported: {supported})", path)
    elif error.validator in {"minimum", "maximum"}:
        yield doc.problem(f"{what} must be between 0 and 2147483647, not {instance!r}", path)
    else:  # not reachable with the shipped schema; kept so an edited schema still reports
        yield doc.problem(f"{what}: {error.message}", path)


def _suggestion(key: str, allowed: list[str]) -> str:
    by_case = [name for name in allowed if name.lower() == key.lower()]
    close = by_case or difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (allowed: {', '.join(allowed)})" if allowed else ""


def _expected(validator_value: object) -> str:
    names = [validator_value] if isinstance(validator_value, str) else cast("list[str]", validator_value)
    articles = {
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "array": "a list",
        "object": "a mapping",
        "null": "null",
    }
    return " or ".join(articles.get(name, name) for name in names)


_TYPE_NAMES: dict[type, str] = {
    type(None): "null",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a mapping",
}


def json_type_name(value: object) -> str:
    """How a YAML value's type is named in messages."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def task_label(data: object, index: int) -> str:
    """``task 'SendEmail'``, or ``task #4`` when the entry has no usable name."""
    tasks = data.get("tasks") if is_mapping(data) else None
    entry = tasks[index] if is_list(tasks) and 0 <= index < len(tasks) else None
    name = entry.get("name") if is_mapping(entry) else None
    return f"task {name!r}" if isinstance(name, str) and name else f"task #{index + 1}"


def where(data: object, path: Path) -> str:
    """A human name for the value at ``path``: ``retryPolicy.interval of task 'SendEmail'``."""
    if not path:
        return "the spec"
    if path[0] == "tasks" and len(path) >= 2 and isinstance(path[1], int):
        task = task_label(data, path[1])
        rest = describe_path(path[2:])
        return f"{rest} of {task}" if rest else task
    return describe_path(path)
