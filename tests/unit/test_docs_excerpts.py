"""The code in docs/integrations.md is the examples' code: every fenced block that names a file
(```python examples/...```) appears in that file, character for character."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "integrations.md"
FENCE = re.compile(r"^```\w+ (\S+)\n(.*?)^```$", re.M | re.S)
EXCERPTS = FENCE.findall(PAGE.read_text(encoding="utf-8"))


def test_the_page_quotes_both_examples() -> None:
    quoted = {path.split("/")[1] for path, _ in EXCERPTS}
    assert quoted == {"fastapi_app", "django_app"}


@pytest.mark.parametrize(("path", "body"), EXCERPTS, ids=[f"{path}:{i}" for i, (path, _) in enumerate(EXCERPTS)])
def test_excerpt_is_in_its_file(path: str, body: str) -> None:
    assert body in (REPO / path).read_text(encoding="utf-8"), f"docs/integrations.md quotes {path} inexactly"
