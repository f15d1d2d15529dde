"""The engine's SQL (shipped by the Rust core) in the placeholder style of other drivers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, cast

__all__ = ["for_psycopg", "in_paramstyle", "row_values"]

_PLACEHOLDER = re.compile(r"\$(\d+)")


def _without_comments(sql: str) -> str:
    # Drivers that rewrite placeholders would count those inside comments too.
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def for_psycopg(sql: str) -> str:
    """``$1, $2, ...`` become ``%s`` (positional, in order); ``--`` comments go, since psycopg
    would count placeholders inside them; literal ``%`` is doubled."""
    return in_paramstyle(sql, "format")


@cache
def in_paramstyle(sql: str, paramstyle: str) -> str:
    """``sql`` (``$n`` placeholders, each used in order) in a DB-API ``paramstyle`` for positional
    arguments: ``format``/``pyformat`` (``%s``: psycopg, Django), ``numeric_dollar`` (``$n``:
    asyncpg), ``numeric`` (``:n``), ``qmark`` (``?``)."""
    code = _without_comments(sql)
    if paramstyle in ("format", "pyformat"):
        return _PLACEHOLDER.sub("%s", code.replace("%", "%%"))
    if paramstyle == "numeric_dollar":
        return code
    if paramstyle == "numeric":
        return _PLACEHOLDER.sub(r":\1", code)
    if paramstyle == "qmark":
        return _PLACEHOLDER.sub("?", code)
    raise ValueError(f"unsupported DB-API paramstyle {paramstyle!r}")


def row_values(row: object) -> list[Any]:
    """The values of a row from another driver, in column order, whether it came back as a tuple
    or (with a dict row factory) as a mapping."""
    if row is None:
        raise ValueError("the statement returned no row")
    if isinstance(row, Mapping):
        return list(cast(Mapping[str, Any], row).values())
    return list(cast(Sequence[Any], row))
