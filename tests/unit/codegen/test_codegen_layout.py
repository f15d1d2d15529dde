"""The layout engine and literals agree with ``ruff format``: random statements of the shapes the
generator emits are laid out, then ruff must find nothing to change (and Python must read the
literals back as the values they spell)."""

from __future__ import annotations

import ast
import keyword
import subprocess
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anclax_fast.codegen.layout import (
    Concat,
    Doc,
    Group,
    Json,
    Text,
    Union,
    annotated_assignment,
    assignment,
    call,
    signature,
    subscript,
    tuple_of,
    width,
)
from anclax_fast.codegen.literals import docstring, number, string
from tests.unit.codegen.codegen_helpers import VENV_BIN

pytestmark = pytest.mark.slow

identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,40}", fullmatch=True).filter(lambda name: not keyword.iskeyword(name))
class_names = st.from_regex(r"[A-Z][A-Za-z0-9]{2,60}", fullmatch=True)
texts = st.text(st.characters(codec="utf-8"), max_size=60)


@st.composite
def annotation_docs(draw: st.DrawFn, depth: int = 0) -> Doc:
    choice = draw(st.integers(0, 4 if depth < 3 else 0))
    if choice == 0:
        return Text(draw(st.sampled_from(["int", "str", "float", "Any"]) | class_names))
    if choice == 1:
        return subscript("list", [draw(annotation_docs(depth + 1))])
    if choice == 2:
        return subscript("dict", [Text("str"), draw(annotation_docs(depth + 1))])
    if choice == 3:
        values = draw(st.lists(identifiers, min_size=1, max_size=12))
        return subscript("Literal", [Text(string(value)) for value in values])
    return Union((draw(annotation_docs(depth + 1)), Text("None")))


@st.composite
def values(draw: st.DrawFn) -> Doc | None:
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return None
    if choice == 1:
        return Text("None")
    names = draw(
        st.lists(
            st.sampled_from(["default", "validation_alias", "serialization_alias", "pattern"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    return call("Field", [Text(f"{name}={string(draw(texts))}") for name in names])


def _ruff_diff(source: str) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "ruff"), "format", "--isolated", "--diff", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in {0, 1}, result.stderr
    return result.stdout


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(st.tuples(identifiers, annotation_docs(), values()), min_size=1, max_size=30))
def test_annotated_assignments_match_ruff(fields: list[tuple[str, Doc, Doc | None]]) -> None:
    body = "\n".join(annotated_assignment(name, annotation, value, "    ") for name, annotation, value in fields)
    source = f"class Model:\n{body}\n"
    assert _ruff_diff(source) == ""


def test_a_union_inside_a_union_breaks_as_one_chain() -> None:
    # Found by the property above: `Literal[...] | None` nested in `... | None` is the one chain
    # `Literal[...] | None | None` to ruff, which puts every operand on its own line.
    literal = Concat((Text("Literal"), Group("[", tuple(Text('"a"') for _ in range(12)), "]", subscript=True)))
    annotation = Union((Union((literal, Text("None"))), Text("None")))
    source = f"class Model:\n{annotated_assignment('a0', annotation, None, '    ')}\n"
    assert _ruff_diff(source) == ""


@SETTINGS
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
        lambda children: st.lists(children, max_size=5) | st.dictionaries(texts, children, max_size=5),
        max_leaves=30,
    )
)
def test_json_literals_match_ruff_and_read_back(value: object) -> None:
    source = assignment("VALUE", call("f", [Json(value), Text("key=1")])) + "\n"
    assert _ruff_diff(source) == ""
    statement = ast.parse(source).body[0]
    assert isinstance(statement, ast.Assign)
    assert isinstance(statement.value, ast.Call)
    assert ast.literal_eval(statement.value.args[0]) == value


@pytest.mark.parametrize("text", ['\\"', 'a\\\\"', '\\\\\\"', '"', 'a\\"b"'])
def test_a_docstring_ending_in_a_quote_after_backslashes_reads_back(text: str) -> None:
    # Found by the property below: the closing quote after an escaped backslash was left bare.
    source = f"class C:\n{docstring(text, '    ')}\n"
    assert _ruff_diff(source) == ""
    namespace: dict[str, object] = {}
    exec(compile(source, "generated", "exec"), namespace)
    assert vars(namespace["C"])["__doc__"] == text


@SETTINGS
@given(st.lists(texts.filter(lambda text: text.strip() != ""), min_size=1, max_size=20))
def test_docstrings_and_strings_match_ruff_and_read_back(items: list[str]) -> None:
    chunks: list[str] = []
    for index, text in enumerate(items):
        chunks.append(f"class C{index}:\n{docstring(text, '    ')}\n\n    x = {string(text)}\n")
    source = "\n\n".join(chunks)
    assert _ruff_diff(source) == ""
    namespace: dict[str, object] = {}
    exec(compile(source, "generated", "exec"), namespace)
    for index, text in enumerate(items):
        assert vars(namespace[f"C{index}"])["x"] == text


@SETTINGS
@given(
    identifiers,
    st.lists(
        # (A keyword as the name or the annotation, `if: A` or `_: in`, is not Python at all.)
        st.from_regex(r"[a-z_]{1,20}: [A-Za-z]{1,30}", fullmatch=True).filter(
            lambda param: not any(keyword.iskeyword(part) for part in param.split(": "))
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_signatures_match_ruff(name: str, params: list[str]) -> None:
    source = "class C:\n" + signature(f"def {name}", ["self", *params], "None", "    ", body_on_same_line=" ...") + "\n"
    assert _ruff_diff(source) == ""


def test_tuples_of_one_keep_their_comma() -> None:
    assert assignment("X", tuple_of([Text('"gpu"')])) == 'X = ("gpu",)'
    long_items = [Text(string("x" * 30)) for _ in range(3)]
    assert assignment("X", tuple_of(long_items)).endswith(",\n)")


@pytest.mark.parametrize(
    ("value", "text"), [(1e20, "1e20"), (1.5, "1.5"), (-0.0, "-0.0"), (1e-05, "1e-05"), (10, "10")]
)
def test_numbers(value: float, text: str) -> None:
    assert number(value) == text


def test_strings_prefer_double_quotes_and_escape_what_is_unprintable() -> None:
    assert string("plain") == '"plain"'
    assert string('say "hi"') == "'say \"hi\"'"
    assert string("it's") == '"it\'s"'
    assert string("a\nb\t\\\x00\u200b") == '"a\\nb\\t\\\\\\x00\\u200b"'


def test_docstrings() -> None:
    assert docstring("  one line  ", "    ") == '    """one line"""'
    assert docstring('ends with "quote"', "") == '"""ends with "quote\\""""'
    assert docstring("first\n\n    indented\n  less", "  ") == textwrap.indent(
        '"""first\n\n  indented\nless\n"""', "  "
    )
    assert docstring('has """ inside', "") == '"""has \\"\\"\\" inside"""'


def test_width_counts_wide_characters_twice() -> None:
    assert width("abc") == 3
    assert width("删除") == 4
    assert width("e\u0301") == 1
