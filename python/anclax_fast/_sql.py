"""The engine's SQL (shipped by the Rust core) in the placeholder style of other drivers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

__all__ = ["for_psycopg", "row_values"]


def for_psycopg(sql: str) -> str:
    """``$1, $2, ...`` become ``%s`` (positional, in order); ``--`` comments go, since psycopg
    would count placeholders inside them; literal ``%`` is doubled."""
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return re.sub(r"\$\d+", "%s", code.replace("%", "%%"))


def row_values(row: object) -> list[Any]:
    """The values of a row from another driver, in column order, whether it came back as a tuple
    or (with a dict row factory) as a mapping."""
    if row is None:
        raise ValueError("the statement returned no row")
    if isinstance(row, Mapping):
        return list(cast(Mapping[str, Any], row).values())
    return list(cast(Sequence[Any], row))
