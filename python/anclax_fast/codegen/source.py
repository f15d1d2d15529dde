"""Read a YAML spec into plain JSON-like data, remembering where every value and key was written.

PyYAML composes the document into nodes that carry their positions; :func:`parse_yaml` turns those
nodes into ``dict``/``list``/``str``/``int``/``float``/``bool``/``None`` (the values JSON Schema
talks about) and records a :class:`Mark` for each one, addressed by its path from the root
(``("tasks", 3, "retryPolicy", "interval")``). Later stages report problems by path.

YAML features that have no JSON meaning are reported, not guessed at: non-string keys, binary and
set values, non-finite numbers, recursive aliases, several documents in one file. Timestamps
(``date: 2024-01-01`` unquoted) are kept as the text that was written, since a JSON Schema
``format: date`` expects exactly that string.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeGuard

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from anclax_fast.errors import SpecProblem

__all__ = ["Mark", "Path", "SourceDoc", "describe_path", "is_list", "is_mapping", "parse_yaml", "walk"]

Path = tuple[str | int, ...]

# Bounds that keep a hostile or broken file from exhausting memory or the stack: an alias can
# repeat a subtree (a "billion laughs" document), and nesting recurses.
MAX_NODES = 1_000_000
MAX_DEPTH = 64

# libyaml's parser when PyYAML was built with it (ten times faster), else the pure-Python one.
_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Scalars kept as the text that was written: strings, and timestamps (see the module docstring).
_AS_WRITTEN = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"})
_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


@dataclass(frozen=True, slots=True)
class Mark:
    """A position in the source, 1-based."""

    line: int
    col: int


@dataclass
class SourceDoc:
    """A parsed YAML file: its data, where each part of it was written, and parse problems."""

    file: str
    data: object = None
    problems: list[SpecProblem] = field(default_factory=list[SpecProblem])
    # The nodes themselves, by path; their marks are read when a problem needs one.
    values: dict[Path, Node] = field(default_factory=dict[Path, Node], repr=False)
    keys: dict[Path, Node] = field(default_factory=dict[Path, Node], repr=False)

    def mark(self, path: Path) -> Mark:
        """Where the value at ``path`` was written; for a path that does not exist (a missing
        key), where its nearest existing ancestor was."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return _mark(found)
        return Mark(1, 1)

    def key_mark(self, path: Path) -> Mark:
        """Where the key of the mapping entry at ``path`` was written (its value's mark if none)."""
        key = self.keys.get(path)
        return _mark(key) if key is not None else self.mark(path)

    def problem_in_text(self, message: str, path: Path, offset: int) -> SpecProblem:
        """A problem at character ``offset`` of the string at ``path`` (a parser's position), when
        the string is written on one line without escapes; else at the string's start."""
        node = self.values.get(path)
        where = self.mark(path)
        if isinstance(node, ScalarNode) and node.start_mark.line == node.end_mark.line and "\\" not in node.value:
            quoted = 1 if node.style in {'"', "'"} else 0
            return SpecProblem(message, self.file, where.line, where.col + quoted + offset)
        return SpecProblem(message, self.file, where.line, where.col)

    def problem(self, message: str, path: Path, *, at_key: bool = False) -> SpecProblem:
        where = self.key_mark(path) if at_key else self.mark(path)
        return SpecProblem(message, self.file, where.line, where.col)


def parse_yaml(text: str, file: str) -> SourceDoc:
    """Parse ``text`` (the content of ``file``). Problems are collected in ``doc.problems``; the
    data holds ``None`` wherever a value could not be represented."""
    doc = SourceDoc(file)
    try:
        nodes = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message = f"invalid YAML: {err.problem or err.context or 'syntax error'}"
        doc.problems.append(_at(doc, mark, message))
        return doc
    except yaml.YAMLError as err:  # ReaderError: a character YAML does not allow
        doc.problems.append(SpecProblem(f"invalid YAML: {_reader_message(err)}", file, 1, 1))
        return doc
    except RecursionError:
        doc.problems.append(SpecProblem(f"invalid YAML: nested more than {MAX_DEPTH} levels deep", file, 1, 1))
        return doc
    documents = [node for node in nodes if node is not None]  # pyright: ignore[reportUnnecessaryComparison] - compose_all yields None for an empty document
    if len(documents) > 1:
        message = "expected one YAML document, found several (a second '---')"
        doc.problems.append(_at(doc, documents[1].start_mark, message))
    if documents:
        converter = _Converter(doc)
        doc.data = converter.convert(documents[0], ())
    return doc


def _reader_message(err: yaml.YAMLError) -> str:
    text = str(err)
    return text.splitlines()[0] if text else "unreadable input"


def _at(doc: SourceDoc, mark: yaml.Mark | None, message: str) -> SpecProblem:
    if mark is None:
        return SpecProblem(message, doc.file, 1, 1)
    return SpecProblem(message, doc.file, mark.line + 1, mark.column + 1)


class _Converter:
    def __init__(self, doc: SourceDoc) -> None:
        self._doc = doc
        self._constructor = yaml.SafeLoader("")
        self._count = 0
        self._active: set[int] = set()
        self._too_big = False

    def convert(self, node: Node, path: Path) -> object:
        if not self._within_limits(node, path):
            return None
        self._doc.values.setdefault(path, node)
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            if isinstance(node, SequenceNode):
                return self._sequence(node, path)
        finally:
            self._active.discard(id(node))
        self._report(node, "unsupported YAML node")
        return None

    def _within_limits(self, node: Node, path: Path) -> bool:
        self._count += 1
        if self._count > MAX_NODES:
            if not self._too_big:
                self._too_big = True
                self._report(node, f"the document is too large (more than {MAX_NODES} values after expanding aliases)")
            return False
        if len(path) > MAX_DEPTH:
            self._report(node, f"nested more than {MAX_DEPTH} levels deep")
            return False
        if id(node) in self._active:
            self._report(node, "a YAML alias refers to a node that contains it (recursive structure)")
            return False
        return True

    def _scalar(self, node: ScalarNode) -> object:
        if node.tag in _AS_WRITTEN:
            return node.value
        if node.tag not in _SCALAR_TAGS:
            self._report(node, f"unsupported YAML value with tag {node.tag!r} (use plain strings, numbers, booleans)")
            return None
        try:
            value: object = self._constructor.construct_object(node, deep=True)  # pyright: ignore[reportUnknownMemberType]
        except yaml.YAMLError as err:
            self._report(node, f"invalid YAML value: {err}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self._report(node, f"{node.value!r} is not a finite number (JSON has no infinities or NaN)")
            return None
        return value

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, object]:
        if node.tag != "tag:yaml.org,2002:map":
            self._report(node, f"unsupported YAML mapping with tag {node.tag!r}")
            return {}
        own_keys = {id(key) for key, _ in node.value}
        if any(key.tag == _MERGE_TAG for key, _ in node.value):
            try:
                self._constructor.flatten_mapping(node)  # applies "<<: *anchor" merge keys
            except yaml.YAMLError as err:
                self._report(node, f"invalid YAML merge: {getattr(err, 'problem', None) or err}")
                return {}
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self._report(key_node, "mapping keys must be plain strings, not lists or mappings")
                continue
            key = str(key_node.value)
            earlier = entries.get(key)
            if earlier is not None:
                if id(key_node) not in own_keys:
                    continue  # a merged key never overrides one merged or written before it
                if id(earlier[0]) in own_keys:
                    line = earlier[0].start_mark.line + 1
                    self._report(key_node, f"duplicate key {key!r} (first written at line {line})")
                    continue
            entries[key] = (key_node, value_node)  # a written key overrides a merged one
        result: dict[str, object] = {}
        for key, (key_node, value_node) in entries.items():
            key_path = (*path, key)
            self._doc.keys[key_path] = key_node
            result[key] = self.convert(value_node, key_path)
        return result

    def _sequence(self, node: SequenceNode, path: Path) -> list[object]:
        if node.tag != "tag:yaml.org,2002:seq":
            self._report(node, f"unsupported YAML sequence with tag {node.tag!r}")
            return []
        return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]

    def _report(self, node: Node, message: str) -> None:
        self._doc.problems.append(_at(self._doc, node.start_mark, message))


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def describe_path(path: Path) -> str:
    """``("tasks", 3, "retryPolicy")`` → ``tasks[3].retryPolicy``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def is_mapping(value: object) -> TypeGuard[dict[str, object]]:
    """Whether a value of the parsed data is a mapping (whose keys are always strings)."""
    return isinstance(value, dict)


def is_list(value: object) -> TypeGuard[list[object]]:
    return isinstance(value, list)


def walk(value: object, path: Path = ()) -> Iterator[tuple[Path, object]]:
    """Every value inside ``value`` with its path, depth first (the value itself first)."""
    yield path, value
    if is_mapping(value):
        for key, item in value.items():
            yield from walk(item, (*path, key))
    elif is_list(value):
        for index, item in enumerate(value):
            yield from walk(item, (*path, index))
