"""Tags: free-form metadata on tasks that ``Client.pause``, ``resume`` and ``cancel`` select by
(docs/control-plane.md). The one place that says what a valid tag is, for the spec validator and
for enqueue options alike."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from anclax_fast.errors import ConfigurationError

__all__ = ["MAX_TAGS", "MAX_TAG_LENGTH", "check_tags", "tag_problem"]

MAX_TAGS = 64
"""At most this many tags per task."""
MAX_TAG_LENGTH = 200
"""At most this many characters per tag."""


def tag_problem(tag: object) -> str | None:
    """What is wrong with ``tag`` (None: nothing)."""
    if not isinstance(tag, str) or not tag:
        return f"a tag is a non-empty string, got {tag!r}"
    if "\x00" in tag:
        # PostgreSQL text cannot hold it: refuse it here, with the tag, not as a driver error.
        return f"a tag cannot contain a NUL character, got {tag!r}"
    if len(tag) > MAX_TAG_LENGTH:
        return f"a tag has at most {MAX_TAG_LENGTH} characters, got {len(tag)} ({tag[:40]!r}...)"
    return None


def check_tags(tags: object, what: str = "tags") -> list[str]:
    """``tags`` checked and canonical (sorted, without duplicates): a sequence (not a string) of at
    most :data:`MAX_TAGS` valid tags. Raises :class:`ConfigurationError` naming what is wrong."""
    if isinstance(tags, (str, bytes)) or not isinstance(tags, Iterable):
        raise ConfigurationError(f"{what} must be a sequence of strings, e.g. {what}=['a', 'b'], got {tags!r}")
    result: set[str] = set()
    for tag in cast("Iterable[object]", tags):
        problem = tag_problem(tag)
        if problem is not None:
            raise ConfigurationError(f"{what}: {problem}")
        result.add(cast("str", tag))
    if len(result) > MAX_TAGS:
        raise ConfigurationError(f"{what}: at most {MAX_TAGS} tags per task, got {len(result)}")
    return sorted(result)
