"""Python source for literal values and docstrings, spelled the way ``ruff format`` spells them."""

from __future__ import annotations

__all__ = ["docstring", "number", "string"]

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable() or char == " ":
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def string(value: str) -> str:
    """A string literal: double quotes unless the text holds more double than single quotes
    (ruff's preference), unprintable characters escaped, everything else kept as is."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'  # the common case, without looking at each character
    quote = "'" if value.count('"') > value.count("'") else '"'
    body = "".join(f"\\{char}" if char == quote else _escape(char) for char in value)
    return f"{quote}{body}{quote}"


def number(value: float) -> str:
    """An int or float literal; floats in ``repr`` form with ruff's exponent spelling (``1e20``)."""
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    if text in {"inf", "-inf", "nan"}:
        raise ValueError(f"no literal for non-finite float {value!r}")
    return text.replace("e+", "e")


def docstring(text: str, indent: str) -> str:
    """A docstring at ``indent`` for ``text`` (stripped, tabs expanded, lines right-trimmed).

    One line stays on one line; several get the closing quotes on a line of their own. Text that
    would end the literal early or confuse ruff's docstring formatting is escaped.
    """
    lines = [line.rstrip() for line in text.expandtabs(4).strip().split("\n")]
    body_lines = [line if _plain(line) else "".join(_docstring_char(char) for char in line) for line in lines]
    body_lines = _dedent(body_lines)
    first = body_lines[0].lstrip()
    if first.startswith('"'):
        first = "\\" + first
    body_lines[0] = first
    if len(body_lines) == 1:
        if first.endswith('"') and not _escaped_at_end(first):
            first = first[:-1] + '\\"'
        return f'{indent}"""{first}"""'
    rest = [f"{indent}{line}" if line else "" for line in body_lines[1:]]
    return "\n".join([f'{indent}"""{first}', *rest, f'{indent}"""'])


def _escaped_at_end(line: str) -> bool:
    """Whether the last character of ``line`` is escaped: an odd run of backslashes before it
    (``\\\\"`` is an escaped backslash, then a bare quote that would end the literal)."""
    body = line[:-1]
    return (len(body) - len(body.rstrip("\\"))) % 2 == 1


def _plain(line: str) -> bool:
    return line.isascii() and line.isprintable() and "\\" not in line


def _docstring_char(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char == '"':
        return '"'
    return _escape(char)


def _dedent(lines: list[str]) -> list[str]:
    """Remove the indentation common to all lines but the first (ruff re-indents them anyway)."""
    indents = [len(line) - len(line.lstrip(" ")) for line in lines[1:] if line.strip()]
    common = min(indents, default=0)
    result = [lines[0]]
    result.extend(line[common:] if line.strip() else "" for line in lines[1:])
    # Triple quotes inside the text would end the literal.
    return [line.replace('"""', '\\"\\"\\"') for line in result]
