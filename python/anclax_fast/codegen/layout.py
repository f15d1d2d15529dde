"""Lay out Python expressions the way ``ruff format`` (default settings) does.

Generated code must already be formatted, without running ruff at the user's site. Templates hold
statements whose expressions are laid out here: an expression stays on one line when it fits in
:data:`LINE_LENGTH` columns, otherwise its brackets open one element per line, each followed by a
comma. That trailing comma is "magic" to ruff: it keeps the exploded form even under a longer
configured line length, so the output is stable rather than merely formatted.

Only the shapes the generator emits are modelled: names and literals (:class:`Text`), bracketed
lists of elements (:class:`Group`: calls, subscripts, collections), concatenations such as
``key=value`` (:class:`Concat`) and ``A | B`` unions in annotations (:class:`Union`). The test
suite compares these layouts with ruff's on generated and random inputs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from anclax_fast.codegen.literals import number, string

__all__ = [
    "INDENT",
    "LINE_LENGTH",
    "Concat",
    "Doc",
    "Group",
    "Json",
    "Text",
    "Union",
    "annotated_assignment",
    "assignment",
    "call",
    "flat",
    "layout",
    "signature",
    "subscript",
    "tuple_of",
    "width",
]

LINE_LENGTH = 88
INDENT = "    "


@dataclass(frozen=True, slots=True)
class Text:
    """Code without break points (a name, a literal)."""

    text: str

    @property
    def flat(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Group:
    """``open`` + comma-separated ``items`` + ``close``: a call's arguments, a list, a subscript."""

    open: str
    items: tuple[Doc, ...]
    close: str
    # A subscript with one element must not get a trailing comma: ``list[int,]`` is a tuple index.
    subscript: bool = False
    # A tuple display with one element needs its comma even on one line: ``("gpu",)``.
    tuple_display: bool = False
    # The one-line form, computed once: layout asks for it at every level of the tree.
    flat: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        inner = ", ".join(item.flat for item in self.items)
        if self.tuple_display and len(self.items) == 1:
            inner += ","
        object.__setattr__(self, "flat", f"{self.open}{inner}{self.close}")


@dataclass(frozen=True, slots=True)
class Concat:
    """Docs written one after the other; when too long, the last group among them breaks."""

    parts: tuple[Doc, ...]
    flat: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "flat", "".join(part.flat for part in self.parts))


@dataclass(frozen=True, slots=True)
class Union:
    """``A | B | ...`` in an annotation."""

    operands: tuple[Doc, ...]
    flat: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # `A | B` written inside `... | C` is one chain in the source (`A | B | C`, no parentheses),
        # and ruff breaks it as one: each operand of the whole chain on its own line.
        operands = tuple(
            inner
            for operand in self.operands
            for inner in (operand.operands if isinstance(operand, Union) else (operand,))
        )
        object.__setattr__(self, "operands", operands)
        object.__setattr__(self, "flat", " | ".join(operand.flat for operand in operands))


class Json:
    """A JSON value (from the spec) as a Python literal: dicts and lists break like groups.

    Laid out directly rather than through a tree of :class:`Group` objects: parameter schemas
    make up most of a large spec's ``spec.py``. The one-line form of every nested dict and list is
    computed once, bottom up, and looked up by identity while laying out.
    """

    __slots__ = ("_flats", "flat", "value")

    def __init__(self, value: object) -> None:
        self.value = value
        self._flats: dict[int, str] = {}
        self.flat = self._flat(value)

    def _flat(self, value: object) -> str:
        kind = type(value)
        if kind is dict:
            pairs = cast("dict[str, object]", value).items()
            text = "{" + ", ".join(f"{string(key)}: {self._flat(item)}" for key, item in pairs) + "}"
        elif kind is list:
            text = "[" + ", ".join(self._flat(item) for item in cast("list[object]", value)) + "]"
        elif kind is str:
            return string(cast("str", value))
        elif value is None or kind is bool:
            return repr(value)
        elif kind is int or kind is float:
            return number(cast("float", value))
        else:
            raise TypeError(f"not a JSON value: {value!r}")
        self._flats[id(value)] = text
        return text

    def lay_out(self, value: object, indent: str, column: int, tail: int) -> str:
        text = self._flats.get(id(value))
        if text is None:
            return self._flat(value)  # a scalar: cannot break
        if not value or _fits(column, text, tail):
            return text  # an empty dict or list stays "{}" / "[]" however long the line
        inner = indent + INDENT
        if type(value) is dict:
            lines: list[str] = []
            for key, item in cast("dict[str, object]", value).items():
                head = f"{string(key)}: "
                lines.append(f"{inner}{head}{self.lay_out(item, inner, len(inner) + width(head), 1)},")
            return "{\n" + "\n".join(lines) + f"\n{indent}}}"
        items = cast("list[object]", value)
        lines = [f"{inner}{self.lay_out(item, inner, len(inner), 1)}," for item in items]
        return "[\n" + "\n".join(lines) + f"\n{indent}]"


Doc = Text | Group | Concat | Union | Json


def call(name: str, items: Sequence[Doc]) -> Concat:
    return Concat((Text(name), Group("(", tuple(items), ")")))


def subscript(name: str, items: Sequence[Doc]) -> Concat:
    return Concat((Text(name), Group("[", tuple(items), "]", subscript=True)))


def flat(doc: Doc) -> str:
    """The one-line form of ``doc``."""
    return doc.flat


def width(text: str) -> int:
    """Columns ``text`` takes in an editor, as ruff counts them: East Asian wide and full-width
    characters take two, combining marks and format characters none."""
    if text.isascii():
        return len(text)
    total = 0
    for char in text:
        if char.isascii():
            total += 1
        elif unicodedata.east_asian_width(char) in "WF":
            total += 2
        elif unicodedata.category(char) not in {"Mn", "Me", "Cf"}:
            total += 1
    return total


def _fits(column: int, text: str, tail: int) -> bool:
    return "\n" not in text and column + width(text) + tail <= LINE_LENGTH


def layout(doc: Doc, indent: str, column: int, tail: int = 0) -> str:
    """``doc`` starting at ``column`` of a line indented by ``indent``, with ``tail`` characters
    following it on its last line (``,`` or ``:``). Returns the text with embedded newlines."""
    if isinstance(doc, Json):
        return doc.lay_out(doc.value, indent, column, tail)
    one_line = flat(doc)
    if _fits(column, one_line, tail) or isinstance(doc, Text):
        return one_line
    if isinstance(doc, Group):
        return _explode(doc, indent)
    if isinstance(doc, Union):
        return _break_union(doc, indent, column)
    return _split_last_group(doc, indent, column, tail)


def _explode(group: Group, indent: str) -> str:
    if not group.items:
        return f"{group.open}{group.close}"
    inner = indent + INDENT
    lines = [group.open]
    comma = not (group.subscript and len(group.items) == 1)
    for item in group.items:
        text = layout(item, inner, len(inner), tail=1 if comma else 0)
        lines.append(f"{inner}{text}{',' if comma else ''}")
    lines.append(f"{indent}{group.close}")
    return "\n".join(lines)


def _break_union(union: Union, indent: str, column: int) -> str:
    # Inside parentheses ruff puts each operand on its own line, the operator leading.
    parts = [layout(union.operands[0], indent, column)]
    for operand in union.operands[1:]:
        parts.append(f"{indent}| {layout(operand, indent, len(indent) + 2)}")
    return "\n".join(parts)


def _split_last_group(concat: Concat, indent: str, column: int, tail: int) -> str:
    parts = concat.parts
    last = max((i for i, part in enumerate(parts) if not isinstance(part, Text)), default=-1)
    if last < 0:
        return flat(concat)
    head = "".join(flat(part) for part in parts[:last])
    rest = "".join(flat(part) for part in parts[last + 1 :])
    body = layout(parts[last], indent, column + width(head), tail + width(rest))
    return f"{head}{body}{rest}"


def tuple_of(items: Sequence[Doc]) -> Group:
    """A tuple display: ``(a, b)``, and ``(a,)`` for one element."""
    return Group("(", tuple(items), ")", tuple_display=True)


def assignment(target: str, value: Doc, indent: str = "") -> str:
    """``target = value``, breaking the value's brackets when the line is too long (a long
    string goes in parentheses on a line of its own when that makes it fit)."""
    head = f"{indent}{target} = "
    return head + _value(value, indent, width(head))


def _value(value: Doc, indent: str, column: int) -> str:
    if isinstance(value, Text) and not _fits(column, value.text, 0):
        inner = indent + INDENT
        if _fits(len(inner), value.text, 0):
            return f"(\n{inner}{value.text}\n{indent})"
    return layout(value, indent, column)


def annotated_assignment(target: str, annotation: Doc, value: Doc | None, indent: str) -> str:  # noqa: PLR0911 - ruff's cascade
    """``target: annotation = value`` (or without the value) as ruff lays it out."""
    head = f"{indent}{target}: "
    if value is None:
        return _bare_annotation(head, annotation, indent)
    annotation_text = flat(annotation)
    value_text = flat(value)
    if _fits(0, f"{head}{annotation_text} = {value_text}", 0):
        return f"{head}{annotation_text} = {value_text}"
    # Ruff's preferences, in order: break the value's own brackets when the line up to them fits;
    # else wrap the value in parentheses when the line up to "= (" fits; else wrap a union
    # annotation in parentheses, or split a subscript annotation's brackets.
    value_head = _opening(value)
    if value_head is not None and _fits(0, f"{head}{annotation_text} = {value_head}", 0):
        column = width(head) + width(annotation_text) + 3
        return f"{head}{annotation_text} = {layout(value, indent, column)}"
    if _fits(0, f"{head}{annotation_text} = (", 0):
        inner = indent + INDENT
        return f"{head}{annotation_text} = (\n{inner}{layout(value, inner, len(inner))}\n{indent})"
    if isinstance(annotation, Union):
        closing = f"{indent}) = "
        return f"{head}(\n{_parenthesized(annotation, indent)}\n{closing}{layout(value, indent, width(closing))}"
    if isinstance(annotation, Text):
        return f"{head}{annotation_text} = {layout(value, indent, width(head) + width(annotation_text) + 3)}"
    annotation_lines = layout(annotation, indent, width(head), tail=3 + width(value_head or value_text))
    last_line = annotation_lines.rsplit("\n", 1)[-1]
    return f"{head}{annotation_lines} = {layout(value, indent, width(last_line) + 3)}"


def _bare_annotation(head: str, annotation: Doc, indent: str) -> str:
    """``target: annotation`` with no value: too long, a union or a name goes in parentheses (if
    that makes it fit), a subscript splits its brackets."""
    annotation_text = flat(annotation)
    if _fits(0, head + annotation_text, 0):
        return head + annotation_text
    if isinstance(annotation, Union) or (
        isinstance(annotation, Text) and _fits(len(indent + INDENT), annotation_text, 0)
    ):
        return f"{head}(\n{_parenthesized(annotation, indent)}\n{indent})"
    return head + layout(annotation, indent, width(head))


def _parenthesized(annotation: Doc, indent: str) -> str:
    inner = indent + INDENT
    return inner + layout(annotation, inner, len(inner))


def _opening(doc: Doc) -> str | None:
    """The text of ``doc`` up to and including the bracket that would break, if any."""
    if isinstance(doc, Group):
        return doc.open
    if isinstance(doc, Concat):
        last = max((i for i, part in enumerate(doc.parts) if isinstance(part, Group)), default=-1)
        if last < 0:
            return None
        group = doc.parts[last]
        assert isinstance(group, Group)
        return "".join(flat(part) for part in doc.parts[:last]) + group.open
    return None


def signature(prefix: str, params: Sequence[str], returns: str, indent: str, *, body_on_same_line: str = "") -> str:
    """``def name(params) -> returns:`` on one line if it fits, else one parameter per line.

    ``prefix`` is ``def name``; ``body_on_same_line`` is appended after the colon (``" ..."`` in
    stubs, where ruff keeps the ellipsis body on the signature's line).
    """
    one_line = f"{indent}{prefix}({', '.join(params)}) -> {returns}:{body_on_same_line}"
    if _fits(0, one_line, 0):
        return one_line
    inner = indent + INDENT
    lines = [f"{indent}{prefix}("]
    lines.extend(f"{inner}{param}," for param in params)
    lines.append(f"{indent}) -> {returns}:{body_on_same_line}")
    return "\n".join(lines)
