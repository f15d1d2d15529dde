"""The YAML reader: data as JSON sees it, a position for every value and key, YAML's traps reported."""

from __future__ import annotations

import pytest

from anclax_fast.codegen import source
from anclax_fast.codegen.source import Mark, describe_path, parse_yaml

SPEC = """\
tasks:
  - name: A
    retryPolicy: {interval: 1m, maxAttempts: 3}
    labels:
      - gpu
"""


def test_values_and_keys_have_positions() -> None:
    doc = parse_yaml(SPEC, "s.yaml")
    assert doc.problems == []
    assert doc.data == {
        "tasks": [{"name": "A", "retryPolicy": {"interval": "1m", "maxAttempts": 3}, "labels": ["gpu"]}]
    }
    assert doc.mark(("tasks", 0, "name")) == Mark(2, 11)
    assert doc.key_mark(("tasks", 0, "name")) == Mark(2, 5)
    assert doc.mark(("tasks", 0, "retryPolicy", "maxAttempts")) == Mark(3, 46)
    assert doc.mark(("tasks", 0, "labels", 0)) == Mark(5, 9)
    # A path that does not exist points at its nearest ancestor.
    assert doc.mark(("tasks", 0, "timeout")) == Mark(2, 5)
    assert str(doc.problem("boom", ("tasks", 0, "labels", 0))) == "s.yaml:5:9: boom"


def test_timestamps_stay_text_and_merge_keys_apply() -> None:
    doc = parse_yaml("base: &b {timeout: 1m, labels: [x]}\nitem:\n  <<: *b\n  timeout: 2m\n  day: 2024-05-01\n", "s")
    assert doc.problems == []
    assert doc.data == {
        "base": {"timeout": "1m", "labels": ["x"]},
        "item": {"timeout": "2m", "labels": ["x"], "day": "2024-05-01"},
    }


def test_yaml_traps_are_reported_not_guessed() -> None:
    text = "a: .inf\nb: !!binary aGk=\nc: !custom 1\n? [x]\n: 1\nd: 1\nd: 2\n"
    doc = parse_yaml(text, "s")
    assert sorted((str(p) for p in doc.problems), key=lambda s: [int(n) for n in s.split(":")[1:3]]) == [
        "s:1:4: '.inf' is not a finite number (JSON has no infinities or NaN)",
        "s:2:4: unsupported YAML value with tag 'tag:yaml.org,2002:binary' (use plain strings, numbers, booleans)",
        "s:3:4: unsupported YAML value with tag '!custom' (use plain strings, numbers, booleans)",
        "s:4:3: mapping keys must be plain strings, not lists or mappings",
        "s:7:1: duplicate key 'd' (first written at line 6)",
    ]


def test_syntax_errors_recursion_and_several_documents() -> None:
    (syntax,) = parse_yaml("tasks: [a, b\n", "s").problems
    assert syntax.line == 2
    assert syntax.message.startswith("invalid YAML: ")
    (recursive,) = parse_yaml("a: &x [*x]\n", "s").problems
    assert recursive.message == "a YAML alias refers to a node that contains it (recursive structure)"
    (several,) = parse_yaml("a: 1\n---\nb: 2\n", "s").problems
    assert (several.line, several.message) == (3, "expected one YAML document, found several (a second '---')")


def test_deep_nesting_and_alias_bombs_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "MAX_NODES", 10_000)
    deep = parse_yaml("[" * 200 + "]" * 200, "s")
    assert deep.problems
    assert "nested" in deep.problems[0].message
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(6)
    )
    doc = parse_yaml(bomb, "s")
    assert [p.message for p in doc.problems] == [
        "the document is too large (more than 10000 values after expanding aliases)"
    ]


def test_describe_path() -> None:
    assert describe_path(("tasks", 3, "retryPolicy", "interval")) == "tasks[3].retryPolicy.interval"
    assert describe_path(()) == ""
