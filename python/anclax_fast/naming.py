"""How names in ``api/tasks.yaml`` become Python names.

Task names and JSON property names keep their spelling on the wire; Python code uses
``snake_case`` for methods and attributes and ``PascalCase`` for classes::

    >>> snake_case("deleteOpaqueKey"), snake_case("keyID"), snake_case("HTTPServer")
    ('delete_opaque_key', 'key_id', 'http_server')
    >>> pascal_case("delete_opaque_key")
    'DeleteOpaqueKey'

The generator and the runtime (worker dispatch, ``anclax-fast tasks``) share these functions, so
``execute_<name>`` means the same method everywhere.
"""

from __future__ import annotations

import functools
import keyword
import re
import unicodedata

__all__ = [
    "RESERVED_ATTRIBUTES",
    "attribute_name",
    "is_task_name",
    "pascal_case",
    "snake_case",
    "split_words",
]

TASK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

# One word of a camelCase/PascalCase/snake_case name. In order of preference: an acronym with a
# plural "s" ("IDs" in "keyIDs"), an acronym ("HTTP" in "HTTPServer"), a capitalised or lowercase
# word, a run of digits, and any other letters (non-ASCII scripts have no case to split on).
_WORD = re.compile(r"[A-Z]{2,}s(?![a-z])|[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^\W_A-Za-z0-9]+")

# Attribute names a generated model may not use as they are, each gets a trailing underscore:
# - Python keywords (``class``, ``from``), which cannot be attribute names at all;
# - the lowercase names generated models use in annotations, which a field of that name would
#   shadow inside the class body (``str: str`` breaks every later ``str`` annotation);
# - ``l``, which ruff rejects as ambiguous (E741) in code it would otherwise accept;
# - the public attributes of ``pydantic.BaseModel``, which a field would shadow. Spelled out
#   (pydantic 2.x) rather than computed from ``dir(BaseModel)``, so the output does not change
#   with the installed pydantic version.
_ANNOTATION_NAMES = frozenset({"bool", "datetime", "dict", "float", "int", "list", "str", "uuid"})
_BASEMODEL_ATTRIBUTES = frozenset(
    {
        "construct",
        "copy",
        "dict",
        "from_orm",
        "json",
        "model_computed_fields",
        "model_config",
        "model_construct",
        "model_copy",
        "model_dump",
        "model_dump_json",
        "model_extra",
        "model_fields",
        "model_fields_set",
        "model_json_schema",
        "model_parametrized_name",
        "model_post_init",
        "model_rebuild",
        "model_validate",
        "model_validate_json",
        "model_validate_strings",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "update_forward_refs",
        "validate",
    }
)
RESERVED_ATTRIBUTES = frozenset(keyword.kwlist) | _ANNOTATION_NAMES | _BASEMODEL_ATTRIBUTES | {"l"}


def is_task_name(name: str) -> bool:
    """Whether ``name`` is a valid task name: ``[A-Za-z][A-Za-z0-9_]*``."""
    return TASK_NAME.fullmatch(name) is not None


@functools.lru_cache(maxsize=65536)  # a spec repeats its property names; generate asks often
def _words(name: str) -> tuple[str, ...]:
    words: list[str] = []
    # Characters that cannot continue a Python identifier (some digits and symbols of other
    # scripts count as word characters) separate words, like punctuation.
    text = "".join(char if f"a{char}".isidentifier() else " " for char in unicodedata.normalize("NFKC", name))
    for chunk in re.split(r"[\W_]+", text):
        for index, word in enumerate(_WORD.findall(chunk)):
            if index > 0 and (word.isdigit() or (words[-1][-1].isdigit() and word[0].islower())):
                words[-1] += word
            else:
                words.append(word)
    return tuple(words)


def split_words(name: str) -> list[str]:
    """The words of a name, split at underscores, other punctuation and case changes.

    A run of digits belongs to the word before it, and so do lowercase letters right after digits
    (``int32Value`` → ``int32``, ``Value``; ``2fa`` → ``2fa``); letters of scripts without case stay
    together (``名前``).
    """
    return list(_words(name))


def snake_case(name: str) -> str:
    """``deleteOpaqueKey`` → ``delete_opaque_key``; ``HTTPServer`` → ``http_server``.

    Returns ``""`` when the name has no letters or digits at all.
    """
    return "_".join(word.lower() for word in split_words(name))


def pascal_case(name: str) -> str:
    """``delete_opaque_key`` (or ``deleteOpaqueKey``) → ``DeleteOpaqueKey``; ``http_server`` → ``HttpServer``."""
    return "".join(word[:1].upper() + word[1:].lower() for word in split_words(name))


def attribute_name(wire_name: str) -> str:
    """The Python attribute for a JSON property name: snake_case, and always a usable identifier.

    A name that starts with a digit gets a ``field_`` prefix (``2fa`` → ``field_2fa``), one with
    no letters or digits becomes ``field``, and reserved names (:data:`RESERVED_ATTRIBUTES`) get a
    trailing underscore (``class`` → ``class_``, ``json`` → ``json_``). Distinct wire names can
    still map to the same attribute (``userId`` and ``user_id``); callers must check for that.
    """
    name = snake_case(wire_name) or "field"
    if not name[0].isidentifier():
        name = f"field_{name}"
    if name in RESERVED_ATTRIBUTES:
        name += "_"
    return name
