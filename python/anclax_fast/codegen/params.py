"""Task parameter schemas (a JSON Schema subset) → parameter types and models (SEMANTICS.md §1.1).

Supported: ``type`` (one type, or one plus ``"null"``), ``nullable``, ``enum``/``const`` (as
``Literal``), ``format`` (``date``, ``date-time``, ``uuid``; integer widths), string, number and
array constraints, ``properties``/``required``/``additionalProperties``, ``items``, ``default``
(plain scalars) and ``$ref`` to a named schema of the same file. Annotations (``title``,
``examples``, ``deprecated``, ``x-*``...) are accepted and ignored.

Rejected with an explanation, because a typed model cannot represent them faithfully: ``oneOf``,
``anyOf``, ``allOf``, ``not``, conditionals, tuple arrays, ``uniqueItems``, pattern or
size-limited objects, recursive ``$ref``. Every other keyword is reported as unknown, so a typo
such as ``maxlength`` does not silently drop a constraint.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, cast

import pydantic

from anclax_fast.codegen.ir import (
    Constrained,
    DictOf,
    Enum,
    Extra,
    FieldIR,
    ListOf,
    ModelIR,
    ModelRef,
    Nullable,
    ParamType,
    Scalar,
    ScalarKind,
)
from anclax_fast.codegen.schema import json_type_name, where
from anclax_fast.codegen.source import Path, SourceDoc, is_list, is_mapping
from anclax_fast.errors import SpecProblem
from anclax_fast.naming import attribute_name, pascal_case

__all__ = ["COMPONENT_ROOTS", "NamePool", "ParamsBuilder", "TaskParams"]

# Where shared schemas live in the spec file, as (JSON pointer prefix, path of the mapping).
COMPONENT_ROOTS: tuple[tuple[str, Path], ...] = (
    ("#/components/schemas/", ("components", "schemas")),
    ("#/definitions/", ("definitions",)),
    ("#/$defs/", ("$defs",)),
)
# The Go original's shorthand (``#schemas/Name``) for ``#/components/schemas/Name``.
_SHORTHAND = "#schemas/"

_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "examples",
        "example",
        "deprecated",
        "$comment",
        "readOnly",
        "writeOnly",
        "$schema",
        "contentEncoding",
        "contentMediaType",
    }
)
_GENERAL = frozenset({"type", "enum", "const", "default", "nullable", "$ref"})
_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset({"format", "minLength", "maxLength", "pattern"}),
    "integer": frozenset({"format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}),
    "number": frozenset({"format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}),
    "boolean": frozenset(),
    "null": frozenset(),
    "array": frozenset({"items", "minItems", "maxItems", "uniqueItems"}),
    "object": frozenset({"properties", "required", "additionalProperties"}),
}
_KNOWN = _ANNOTATIONS | _GENERAL | frozenset(keyword for keywords in _BY_TYPE.values() for keyword in keywords)
_UNSUPPORTED = {
    "oneOf": "unions are not supported; use one object with optional properties",
    "anyOf": "unions are not supported; use one object with optional properties",
    "allOf": "schema composition is not supported; write the properties out (or use $ref)",
    "not": "negated schemas are not supported",
    "if": "conditional schemas are not supported",
    "then": "conditional schemas are not supported",
    "else": "conditional schemas are not supported",
    "prefixItems": "tuple arrays are not supported; use an object",
    "contains": "'contains' is not supported",
    "minContains": "'minContains' is not supported",
    "maxContains": "'maxContains' is not supported",
    "patternProperties": "pattern properties are not supported; use additionalProperties with a schema",
    "propertyNames": "'propertyNames' is not supported",
    "minProperties": "'minProperties' is not supported",
    "maxProperties": "'maxProperties' is not supported",
    "dependentRequired": "dependent properties are not supported",
    "dependentSchemas": "dependent properties are not supported",
    "dependencies": "dependent properties are not supported",
    "unevaluatedProperties": "'unevaluatedProperties' is not supported; use additionalProperties",
    "unevaluatedItems": "'unevaluatedItems' is not supported",
    "$defs": "define shared schemas at the top level of the spec, under components.schemas",
    "definitions": "define shared schemas at the top level of the spec, under components.schemas",
    "$id": "schema identifiers are not supported; reference shared schemas with $ref",
    "$anchor": "anchors are not supported; reference shared schemas with $ref",
    "$dynamicRef": "dynamic references are not supported",
    "$dynamicAnchor": "dynamic references are not supported",
}

_STRING_FORMATS: dict[str, ScalarKind] = {"date": "date", "date-time": "datetime", "uuid": "uuid"}
# Formats JSON Schema and OpenAPI define that stay plain ``str`` (validating them would need extra
# dependencies such as email-validator); listed so that only unknown formats get a note.
_PLAIN_STRING_FORMATS = frozenset(
    {
        "email",
        "idn-email",
        "hostname",
        "idn-hostname",
        "ipv4",
        "ipv6",
        "uri",
        "uri-reference",
        "iri",
        "iri-reference",
        "uri-template",
        "json-pointer",
        "relative-json-pointer",
        "regex",
        "time",
        "duration",
        "password",
        "byte",
        "binary",
    }
)
_INT_FORMATS: dict[str, tuple[int, int]] = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
_NUMBER_FORMATS = frozenset({"float", "double"})
_SIMPLE_KINDS: dict[str, ScalarKind] = {"boolean": "bool", "null": "none"}
# What the values of keywords must be (as the JSON Schema metaschema says); the keywords that
# carry numbers, lists of names or schemas are checked where they are read.
_KEYWORD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "title": ((str,), "a string"),
    "description": ((str,), "a string"),
    "format": ((str,), "a string"),
    "$comment": ((str,), "a string"),
    "$schema": ((str,), "a string"),
    "contentEncoding": ((str,), "a string"),
    "contentMediaType": ((str,), "a string"),
    "examples": ((list,), "a list"),
    "deprecated": ((bool,), "true or false"),
    "readOnly": ((bool,), "true or false"),
    "writeOnly": ((bool,), "true or false"),
    "nullable": ((bool,), "true or false"),
    "properties": ((dict,), "a mapping of property names to schemas"),
    "additionalProperties": ((bool, dict), "true, false or a schema"),
}
_ABSENT = object()
_MAX_DEPTH = 32


class _Invalid(Exception):
    """A schema is unusable (its problem is recorded); reading resumes with the next schema."""


class NamePool:
    """Python names already used in the generated modules; hands out free ones."""

    def __init__(self, reserved: frozenset[str] = frozenset()) -> None:
        self._taken = set(reserved)

    def __contains__(self, name: str) -> bool:
        return name in self._taken

    def take(self, name: str) -> bool:
        """Take ``name``; False if it was taken already."""
        if name in self._taken:
            return False
        self._taken.add(name)
        return True

    def claim(self, base: str) -> str:
        """``base``, or ``base2``, ``base3``... whichever is free first."""
        name, number = base, 1
        while name in self._taken:
            number += 1
            name = f"{base}{number}"
        self._taken.add(name)
        return name


@dataclass(frozen=True, slots=True)
class TaskParams:
    """What a task's ``parameters`` turned into."""

    params_class: str
    alias_of: str | None
    optional: bool
    schema: Mapping[str, object] | None


@dataclass
class _Component:
    pointer: str
    name: str
    path: Path
    schema: object
    state: str = "new"  # new → active (being resolved) → done
    type: ParamType | None = None
    refs: set[str] = field(default_factory=set[str])


class ParamsBuilder:
    """Builds parameter types for every task of one spec, sharing component models and names."""

    def __init__(self, doc: SourceDoc, pool: NamePool) -> None:
        self.doc = doc
        self.pool = pool
        self.problems: list[SpecProblem] = []
        self.notes: list[SpecProblem] = []
        self.models: list[ModelIR] = []
        self.constrained: list[Constrained] = []
        self._components: dict[str, _Component] = {}
        self._refs_in_progress: list[set[str]] = []
        self._models_by_name: dict[str, ModelIR] = {}
        for fmt in _INT_FORMATS:
            pool.take(_format_alias(fmt))
        for prefix, path in COMPONENT_ROOTS:
            table = _lookup(doc.data, path)
            if is_mapping(table):
                for name, schema in table.items():
                    self._components[prefix + _escape_pointer(name)] = _Component(
                        prefix + _escape_pointer(name), name, (*path, name), schema
                    )

    # -- tasks ------------------------------------------------------------------------------------

    def task(self, params_class: str, task_name: str, schema: object, path: Path) -> TaskParams | None:
        """The parameters of one task; ``params_class`` is already taken in the pool."""
        origin = f"Parameters of the ``{task_name}`` task."
        if schema is None:
            self._add_model(ModelIR(params_class, f"{origin} It takes none.", ()))
            return TaskParams(params_class, None, optional=True, schema=None)
        if not is_mapping(schema):
            self._reject(f"{where(self.doc.data, path)} must be a mapping (a JSON Schema)", path)
            return None
        self._refs_in_progress.append(set())
        try:
            result = self._task_schema(params_class, origin, schema, path)
        except _Invalid:
            result = None
        finally:
            refs = self._refs_in_progress.pop()
        if result is None:
            return None
        alias_of, optional = result
        return TaskParams(params_class, alias_of, optional, self._standalone_schema(schema, refs))

    def _task_schema(
        self, params_class: str, origin: str, schema: dict[str, object], path: Path
    ) -> tuple[str | None, bool] | None:
        if "$ref" in schema:
            return self._task_ref(params_class, origin, schema, path)
        kind = self._kind(schema, path)
        if kind != "object" or "enum" in schema or "const" in schema or schema.get("nullable") is True:
            raise self._invalid(
                f"{where(self.doc.data, path)} must be an object schema (type: object), not {kind}", path
            )
        if not self._check_keywords(schema, path, "object"):
            raise _Invalid
        description = _description(schema)
        docstring = f"{origin}\n\n{description}" if description else origin
        properties = schema.get("properties")
        if is_mapping(properties) and properties:
            model = self._object_model(params_class, docstring, schema, path)
            if model is None:
                raise _Invalid
            return None, not any(f.required for f in model.fields)
        extra = schema.get("additionalProperties", True)
        if is_mapping(extra):
            raise self._invalid(
                f"{where(self.doc.data, (*path, 'additionalProperties'))}: a schema for the values of task "
                "parameters is not supported (put the mapping in a property)",
                (*path, "additionalProperties"),
            )
        if not self._check_required(schema, path, {})[1]:
            raise _Invalid
        if extra is False:
            self._add_model(ModelIR(params_class, docstring, (), extra="forbid"))
        else:
            self._add_model(ModelIR(params_class, f"{docstring}\n\nAny JSON object.", (), "allow", free_form=True))
        return None, True

    def _task_ref(
        self, params_class: str, origin: str, schema: dict[str, object], path: Path
    ) -> tuple[str | None, bool] | None:
        """Task parameters that are a ``$ref``: an alias of the shared model, or, for a shared
        object without properties, a free-form model of the task's own."""
        target = self._ref(schema, path)
        inner = target.inner if isinstance(target, Nullable) else target
        if inner is None:
            return None
        if isinstance(inner, ModelRef):
            shared = self._models_by_name[inner.name]
            return inner.name, not any(f.required for f in shared.fields)
        if not isinstance(inner, DictOf):
            raise self._invalid(
                f"{where(self.doc.data, path)} must describe an object (it refers to a non-object)", path
            )
        self._add_model(ModelIR(params_class, f"{origin} Any JSON object.", (), extra="allow", free_form=True))
        return None, True

    def check_unused_components(self) -> None:
        """Validate shared schemas no task refers to, so their mistakes are reported too."""
        for component in self._components.values():
            if component.state == "new":
                self._resolve(component, component.path)

    # -- schemas ----------------------------------------------------------------------------------

    def _type(self, schema: object, path: Path, hint: str, origin: str, depth: int = 0) -> ParamType | None:
        """The type of one schema, or None when it is unusable (its problems are recorded)."""
        try:
            return self._read(schema, path, hint, origin, depth)
        except _Invalid:
            return None

    def _read(self, schema: object, path: Path, hint: str, origin: str, depth: int) -> ParamType | None:
        if depth > _MAX_DEPTH:
            raise self._invalid(f"{where(self.doc.data, path)} is nested more than {_MAX_DEPTH} levels deep", path)
        if not is_mapping(schema):
            raise self._invalid(
                f"{where(self.doc.data, path)} must be a mapping (a JSON Schema), not {json_type_name(schema)}", path
            )
        if "$ref" in schema:
            return self._ref(schema, path)
        kind = self._kind(schema, path)
        if not self._check_keywords(schema, path, kind):
            return None
        nullable = self._nullable(schema)
        result: ParamType | None
        if "enum" in schema or "const" in schema:
            # Constraints next to an enum add nothing to the Literal, but must still be valid.
            if not self._number_constraints(schema, path, []) or not self._string_constraints(
                schema, path, Scalar("str"), []
            ):
                return None
            result = self._enum(schema, path, kind)
            if isinstance(result, Nullable):
                return result
        elif kind == "object":
            result = self._object(schema, path, hint, origin, depth)
        elif kind == "array":
            result = self._array(schema, path, hint, origin, depth)
        else:
            result = self._scalar(schema, path, kind, hint)
        return _with_null(result) if nullable else result

    def _kind(self, schema: dict[str, object], path: Path) -> str:
        """The one non-null JSON type of ``schema`` (inferred when ``type`` is absent), or
        ``"any"`` for a schema that allows anything."""
        if "type" not in schema:
            return self._infer_kind(schema, path)
        declared = schema["type"]
        names = [declared] if isinstance(declared, str) else declared
        if not is_list(names) or not names or not all(isinstance(n, str) for n in names):
            raise self._invalid(
                f"{where(self.doc.data, (*path, 'type'))} must be a type name or a list of type names",
                (*path, "type"),
            )
        names = cast("list[str]", names)
        for name in names:
            if name not in _BY_TYPE:
                known = ", ".join(_BY_TYPE)
                raise self._invalid(
                    f"unknown type {name!r} in {where(self.doc.data, path)} (known: {known})", (*path, "type")
                )
        kinds = sorted(set(names) - {"null"})
        if len(kinds) > 1:
            raise self._invalid(
                f"{where(self.doc.data, path)} allows several types ({', '.join(kinds)}); unions are not "
                "supported, use one type",
                (*path, "type"),
            )
        return kinds[0] if kinds else "null"

    def _infer_kind(self, schema: dict[str, object], path: Path) -> str:
        if "enum" in schema or "const" in schema:
            values = schema.get("enum", [schema.get("const")])
            if is_list(values):
                kinds = {_value_kind(v) for v in values} - {"null"}
                if len(kinds) == 1:
                    return kinds.pop()
            return "any"
        candidates = sorted(
            kind for kind, keywords in _BY_TYPE.items() if keywords & schema.keys() and kind != "number"
        )
        if not candidates:
            return "any"
        if len(candidates) == 1:
            return candidates[0]
        raise self._invalid(f"{where(self.doc.data, path)} has no 'type' and its keywords do not say which", path)

    def _check_keywords(self, schema: dict[str, object], path: Path, kind: str) -> bool:
        ok = True
        allowed = _ANNOTATIONS | _GENERAL | _BY_TYPE.get(kind, frozenset())
        for key in schema:
            if key in allowed or key.startswith("x-"):
                continue
            key_path = (*path, key)
            if key in _UNSUPPORTED:
                message = f"{key!r} in {where(self.doc.data, path)}: {_UNSUPPORTED[key]}"
            elif key in _KNOWN:
                owners = [name for name, keywords in _BY_TYPE.items() if key in keywords]
                message = (
                    f"{key!r} applies to {' and '.join(owners)} schemas, not to {kind} ({where(self.doc.data, path)})"
                )
            else:
                close = difflib.get_close_matches(key, sorted(_KNOWN), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                message = f"unknown JSON Schema keyword {key!r} in {where(self.doc.data, path)}{hint}"
            ok = self._reject(message, key_path, at_key=True)
        for key, (types, expected) in _KEYWORD_TYPES.items():
            value = schema.get(key, _ABSENT)
            if value is not _ABSENT and (
                not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
            ):
                ok = self._reject(f"{where(self.doc.data, (*path, key))} must be {expected}", (*path, key))
        return ok

    def _nullable(self, schema: dict[str, object]) -> bool:
        declared = schema.get("type")
        in_type = is_list(declared) and "null" in declared
        return schema.get("nullable") is True or in_type

    def _enum(self, schema: dict[str, object], path: Path, kind: str) -> ParamType | None:
        key = "enum" if "enum" in schema else "const"
        raw = schema[key] if key == "enum" else [schema["const"]]
        key_path = (*path, key)
        if not is_list(raw) or not raw:
            raise self._invalid(f"{where(self.doc.data, key_path)} must be a non-empty list", key_path)
        values: list[str | int | bool] = []
        with_null = False
        ok = True
        for index, value in enumerate(raw):
            item_path = (*key_path, index) if key == "enum" else key_path
            if value is None:
                with_null = True
                continue
            value_kind = _value_kind(value)
            if value_kind not in {"string", "integer", "boolean"}:
                ok = self._reject(
                    f"{where(self.doc.data, item_path)}: enum values must be strings, integers or booleans, "
                    f"not {json_type_name(value)}",
                    item_path,
                )
            elif kind not in {"any", value_kind}:
                ok = self._reject(
                    f"{where(self.doc.data, item_path)}: {value!r} is not of the schema's type ({kind})", item_path
                )
            elif any(type(value) is type(seen) and value == seen for seen in values):
                ok = self._reject(f"{where(self.doc.data, item_path)}: duplicate enum value {value!r}", item_path)
            else:
                values.append(cast("str | int | bool", value))
        if not ok:
            return None
        if not values:
            return Scalar("none")
        result: ParamType = Enum(tuple(values))
        return Nullable(result) if with_null or self._nullable(schema) else result

    def _scalar(self, schema: dict[str, object], path: Path, kind: str, hint: str) -> ParamType | None:
        fmt = schema.get("format")
        fmt = fmt if isinstance(fmt, str) else None
        if kind == "string":
            return self._string(schema, path, fmt, hint)
        if kind in {"integer", "number"}:
            return self._number(schema, path, kind, fmt, hint)
        return Scalar(_SIMPLE_KINDS.get(kind, "any"))

    def _string(self, schema: dict[str, object], path: Path, fmt: str | None, hint: str) -> ParamType | None:
        result = Scalar(_STRING_FORMATS.get(fmt, "str") if fmt else "str")
        if fmt and fmt not in _STRING_FORMATS and fmt not in _PLAIN_STRING_FORMATS:
            self._note_format(fmt, path, sorted({*_STRING_FORMATS, *_PLAIN_STRING_FORMATS}))
        constraints: list[tuple[str, int | float | str]] = []
        if not self._string_constraints(schema, path, result, constraints):
            return None
        return self._constrained(result, constraints, hint) if constraints else result

    def _number(self, schema: dict[str, object], path: Path, kind: str, fmt: str | None, hint: str) -> ParamType | None:
        result = Scalar("int" if kind == "integer" else "float")
        bounds = _INT_FORMATS.get(fmt) if kind == "integer" and fmt else None
        if fmt and bounds is None and fmt not in _NUMBER_FORMATS:
            self._note_format(fmt, path, sorted(_INT_FORMATS) if kind == "integer" else sorted(_NUMBER_FORMATS))
        constraints: list[tuple[str, int | float | str]] = []
        if not self._number_constraints(schema, path, constraints):
            return None
        if bounds is None:
            return self._constrained(result, constraints, hint) if constraints else result
        if constraints:
            return self._constrained(result, _merge_bounds(constraints, bounds), hint)
        alias = _format_alias(fmt or "")
        shared = next((c for c in self.constrained if c.alias == alias), None)
        if shared is None:
            shared = Constrained(result, (("ge", bounds[0]), ("le", bounds[1])), alias, shared=True)
            self.constrained.append(shared)
        return shared

    def _constrained(
        self, inner: ParamType, constraints: list[tuple[str, int | float | str]], hint: str
    ) -> Constrained:
        constrained = Constrained(inner, tuple(constraints), self.pool.claim(f"_{hint}"))
        self.constrained.append(constrained)
        return constrained

    def _string_constraints(
        self, schema: dict[str, object], path: Path, result: Scalar, out: list[tuple[str, int | float | str]]
    ) -> bool:
        ok = True
        for key, kwarg in (("minLength", "min_length"), ("maxLength", "max_length")):
            if key in schema:
                value = schema[key]
                if not _is_count(value):
                    ok = self._reject(f"{where(self.doc.data, (*path, key))} must be an integer >= 0", (*path, key))
                else:
                    out.append((kwarg, cast("int", value)))
        if "pattern" in schema:
            pattern = schema["pattern"]
            error = _pattern_error(pattern) if isinstance(pattern, str) else "must be a string"
            if error is not None:
                ok = self._reject(f"{where(self.doc.data, (*path, 'pattern'))}: {error}", (*path, "pattern"))
            else:
                out.append(("pattern", cast("str", pattern)))
        if out and result.kind != "str":
            ok = self._reject(
                f"{where(self.doc.data, path)}: length and pattern constraints apply to plain strings, "
                f"not to format {schema.get('format')!r}",
                path,
            )
        return ok

    def _number_constraints(
        self, schema: dict[str, object], path: Path, out: list[tuple[str, int | float | str]]
    ) -> bool:
        ok = True
        for key, kwarg in (
            ("minimum", "ge"),
            ("maximum", "le"),
            ("exclusiveMinimum", "gt"),
            ("exclusiveMaximum", "lt"),
            ("multipleOf", "multiple_of"),
        ):
            if key not in schema:
                continue
            value = schema[key]
            if isinstance(value, bool) and key.startswith("exclusive"):
                ok = self._reject(
                    f"{where(self.doc.data, (*path, key))} must be a number (the draft 2020-12 form, "
                    f"e.g. {key}: 0), not a boolean",
                    (*path, key),
                )
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                ok = self._reject(f"{where(self.doc.data, (*path, key))} must be a number", (*path, key))
            elif key == "multipleOf" and value <= 0:
                ok = self._reject(f"{where(self.doc.data, (*path, key))} must be greater than 0", (*path, key))
            else:
                out.append((kwarg, value))
        return ok

    def _array(self, schema: dict[str, object], path: Path, hint: str, origin: str, depth: int) -> ParamType | None:
        items = schema.get("items", {})
        if is_list(items):
            raise self._invalid(
                f"{where(self.doc.data, (*path, 'items'))}: tuple arrays (a list of item schemas) are not "
                "supported; use an object",
                (*path, "items"),
            )
        unique = schema.get("uniqueItems", False)
        if unique is not False:
            raise self._invalid(
                f"{where(self.doc.data, (*path, 'uniqueItems'))}: uniqueItems is not supported (lists may "
                "repeat values; check uniqueness in the executor)",
                (*path, "uniqueItems"),
            )
        constraints: list[tuple[str, int | float | str]] = []
        for key, kwarg in (("minItems", "min_length"), ("maxItems", "max_length")):
            if key in schema:
                if not _is_count(schema[key]):
                    raise self._invalid(f"{where(self.doc.data, (*path, key))} must be an integer >= 0", (*path, key))
                constraints.append((kwarg, cast("int", schema[key])))
        item = self._type(items, (*path, "items"), f"{hint}Item", f"item of {origin}", depth + 1)
        if item is None:
            return None
        return self._constrained(ListOf(item), constraints, hint) if constraints else ListOf(item)

    def _object(self, schema: dict[str, object], path: Path, hint: str, origin: str, depth: int) -> ParamType | None:
        properties = schema.get("properties")
        if properties is not None and not is_mapping(properties):
            raise self._invalid(
                f"{where(self.doc.data, (*path, 'properties'))} must be a mapping", (*path, "properties")
            )
        if properties:
            description = _description(schema) or f"The {origin}."
            model = self._object_model(self.pool.claim(hint), description, schema, path, depth)
            return None if model is None else ModelRef(model.name)
        extra = schema.get("additionalProperties", True)
        extra_path = (*path, "additionalProperties")
        if not self._check_required(schema, path, {})[1]:
            raise _Invalid
        if extra is True:
            return DictOf(Scalar("any"))
        if extra is False:
            raise self._invalid(
                f"{where(self.doc.data, path)} allows no properties at all; give it properties or drop "
                "additionalProperties: false",
                extra_path,
            )
        value = self._type(extra, extra_path, f"{hint}Value", f"value of {origin}", depth + 1)
        return None if value is None else DictOf(value)

    def _object_model(
        self, name: str, docstring: str, schema: dict[str, object], path: Path, depth: int = 0
    ) -> ModelIR | None:
        properties = schema["properties"]
        assert is_mapping(properties)
        extra_setting = schema.get("additionalProperties")
        extra: Extra = "ignore"
        if extra_setting is False:
            extra = "forbid"
        elif extra_setting is True:
            extra = "allow"
        elif extra_setting is not None:
            raise self._invalid(
                f"{where(self.doc.data, (*path, 'additionalProperties'))}: a schema for additional properties "
                "is not supported next to 'properties' (use true, false, or a property holding a mapping)",
                (*path, "additionalProperties"),
            )
        required, ok = self._check_required(schema, path, properties)
        fields: list[FieldIR] = []
        by_attribute: dict[str, str] = {}
        for wire, prop in properties.items():
            prop_path = (*path, "properties", wire)
            attribute = attribute_name(wire)
            if attribute in by_attribute:
                ok = self._reject(
                    f"properties {by_attribute[attribute]!r} and {wire!r} of {where(self.doc.data, path)} "
                    f"both become the Python attribute {attribute!r}; rename one",
                    prop_path,
                    at_key=True,
                )
                continue
            by_attribute[attribute] = wire
            field_type = self._type(
                prop, prop_path, f"{name}{pascal_case(wire) or 'Field'}", f"``{wire}`` of :class:`{name}`", depth + 1
            )
            if field_type is None:
                ok = False
                continue
            prop_schema = prop if is_mapping(prop) else {}
            is_required = wire in required
            try:
                has_default, default = self._default(prop_schema, prop_path, field_type, is_required)
            except _Invalid:
                ok = False
                continue
            fields.append(
                FieldIR(wire, attribute, field_type, is_required, _description(prop_schema), has_default, default)
            )
        if not ok:
            return None
        model = ModelIR(name, docstring, tuple(fields), extra)
        self._add_model(model)
        return model

    def _check_required(
        self, schema: dict[str, object], path: Path, properties: Mapping[str, object]
    ) -> tuple[set[str], bool]:
        """The names in ``required``, and whether the list is valid (its problems are recorded;
        the caller goes on checking the properties)."""
        required = schema.get("required", [])
        key_path = (*path, "required")
        if not is_list(required) or not all(isinstance(r, str) for r in required):
            return set(), self._reject(f"{where(self.doc.data, key_path)} must be a list of property names", key_path)
        names: set[str] = set()
        ok = True
        for index, name in enumerate(cast("list[str]", required)):
            if name in names:
                ok = self._reject(f"{name!r} is listed twice in {where(self.doc.data, key_path)}", (*key_path, index))
            elif name not in properties:
                ok = self._reject(
                    f"required property {name!r} is not defined in the properties of {where(self.doc.data, path)}",
                    (*key_path, index),
                )
            names.add(name)
        return names, ok

    def _default(
        self, schema: dict[str, object], path: Path, field_type: ParamType, required: bool
    ) -> tuple[bool, str | int | float | bool | None]:
        if "default" not in schema:
            return False, None
        value = schema["default"]
        key_path = (*path, "default")
        if required:
            self.notes.append(
                self.doc.problem(
                    f"the default of {where(self.doc.data, path)} is never used: the property is required", key_path
                )
            )
            return False, None
        base = field_type.inner if isinstance(field_type, (Nullable, Constrained)) else field_type
        base = base.inner if isinstance(base, Constrained) else base
        plain = isinstance(base, Enum) or (isinstance(base, Scalar) and base.kind in {"str", "int", "float", "bool"})
        if not plain:
            raise self._invalid(
                f"{where(self.doc.data, key_path)}: defaults are supported for plain strings, numbers, booleans "
                "and enums only",
                key_path,
            )
        if value is None:
            return False, None
        error = _default_error(value, field_type)
        if error is not None:
            raise self._invalid(f"{where(self.doc.data, key_path)} is invalid: {error}", key_path)
        return True, cast("str | int | float | bool", value)

    # -- references -------------------------------------------------------------------------------

    def _ref(self, schema: dict[str, object], path: Path) -> ParamType | None:
        ref = schema["$ref"]
        ref_path = (*path, "$ref")
        if not isinstance(ref, str):
            raise self._invalid(f"{where(self.doc.data, ref_path)} must be a string", ref_path)
        extra = sorted(set(schema) - _ANNOTATIONS - {"$ref", "nullable"})
        extra = [key for key in extra if not key.startswith("x-")]
        if extra:
            raise self._invalid(
                f"{where(self.doc.data, path)}: only 'description' and 'nullable' may stand next to $ref "
                f"(found {', '.join(repr(k) for k in extra)})",
                (*path, extra[0]),
                at_key=True,
            )
        pointer = _canonical(ref)
        if pointer is None:
            supported = "'#/components/schemas/<Name>', '#/definitions/<Name>', '#/$defs/<Name>' or '#schemas/<Name>'"
            raise self._invalid(f"unsupported $ref {ref!r}: only {supported} in the same file are supported", ref_path)
        component = self._components.get(pointer)
        if component is None:
            names = sorted(
                c.name
                for c in self._components.values()
                if c.pointer.rsplit("/", 1)[0] + "/" == pointer.rsplit("/", 1)[0] + "/"
            )
            close = difflib.get_close_matches(_unescape_pointer(pointer.rsplit("/", 1)[1]), names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self._invalid(f"unresolvable $ref {ref!r}: no schema of that name in this file{hint}", ref_path)
        for refs in self._refs_in_progress:
            refs.add(pointer)
            refs.update(component.refs)
        if component.state == "active":
            raise self._invalid(f"recursive $ref {ref!r} is not supported (a schema that contains itself)", ref_path)
        result = self._resolve(component, ref_path)
        if result is not None and schema.get("nullable") is True and not isinstance(result, Nullable):
            return Nullable(result)
        return result

    def _resolve(self, component: _Component, ref_path: Path) -> ParamType | None:
        del ref_path
        if component.state == "done":
            for refs in self._refs_in_progress:
                refs.update(component.refs)
            return component.type
        component.state = "active"
        self._refs_in_progress.append(component.refs)
        try:
            hint = pascal_case(component.name) or "Schema"
            if not hint[0].isalpha():
                hint = f"Schema{hint}"
            component.type = self._type(component.schema, component.path, hint, f"shared schema ``{component.name}``")
        finally:
            self._refs_in_progress.pop()
            component.state = "done"
        for refs in self._refs_in_progress:
            refs.update(component.refs)
        return component.type

    def _standalone_schema(self, schema: dict[str, object], refs: set[str]) -> dict[str, object]:
        """The task's schema with the shared schemas it uses, in their original places, so that
        its ``$ref`` pointers resolve against it alone (``TaskDef.parameters``)."""
        result = _normalize_refs(schema)
        assert is_mapping(result)
        for pointer in sorted(refs, key=lambda p: (_root_order(p), p)):
            component = self._components[pointer]
            container = result
            for part in component.path[:-1]:
                child = container.setdefault(str(part), {})
                assert is_mapping(child)
                container = child
            container[component.name] = _normalize_refs(component.schema)
        return result

    # -- helpers ----------------------------------------------------------------------------------

    def _add_model(self, model: ModelIR) -> None:
        self.models.append(model)
        self._models_by_name[model.name] = model

    def _note_format(self, fmt: str, path: Path, known: list[str]) -> None:
        close = difflib.get_close_matches(fmt, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        self.notes.append(
            self.doc.problem(
                f"unknown format {fmt!r} in {where(self.doc.data, path)} is not validated{hint}", (*path, "format")
            )
        )

    def _invalid(self, message: str, path: Path, *, at_key: bool = False) -> _Invalid:
        """Record a problem; ``raise self._invalid(...)`` abandons the schema being read."""
        self.problems.append(self.doc.problem(message, path, at_key=at_key))
        return _Invalid()

    def _reject(self, message: str, path: Path, *, at_key: bool = False) -> bool:
        """Record a problem; ``ok = self._reject(...)`` marks a failed check and reading goes on,
        so that the other mistakes of the same schema are reported too."""
        self.problems.append(self.doc.problem(message, path, at_key=at_key))
        return False


def _lookup(data: object, path: Path) -> object:
    value = data
    for part in path:
        if not is_mapping(value):
            return None
        value = value.get(str(part))
    return value


_PLAIN_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}
_LIMITS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "ge": ("less than the minimum", lambda value, limit: value >= limit),
    "gt": ("not greater than", lambda value, limit: value > limit),
    "le": ("greater than the maximum", lambda value, limit: value <= limit),
    "lt": ("not less than", lambda value, limit: value < limit),
}


def _default_error(value: object, t: ParamType) -> str | None:
    """Why ``value`` is not a valid default for a field of (plain) type ``t``, if it is not: the
    model would take an invalid default without complaint (pydantic does not validate defaults)."""
    inner = t.inner if isinstance(t, Nullable) else t
    constraints = inner.constraints if isinstance(inner, Constrained) else ()
    inner = inner.inner if isinstance(inner, Constrained) else inner
    if isinstance(inner, Enum):
        if any(type(value) is type(option) and value == option for option in inner.values):
            return None
        return f"{value!r} is not one of {list(inner.values)!r}"
    kind = cast("Scalar", inner).kind
    if (isinstance(value, bool) and kind != "bool") or not isinstance(value, _PLAIN_TYPES[kind]):
        return f"{value!r} is not {_ARTICLES[kind]}"
    return next((error for name, limit in constraints if (error := _violation(value, name, limit))), None)


def _violation(value: object, name: str, limit: int | float | str) -> str | None:
    """How ``value`` breaks the constraint ``name`` (a pydantic ``Field`` argument), if it does."""
    if name in _LIMITS:
        message, holds = _LIMITS[name]
        broken = not holds(cast("float", value), cast("float", limit))
    elif name == "multiple_of":
        message, broken = "not a multiple of", cast("float", value) % cast("float", limit) != 0
    elif name == "min_length":
        message, broken = "shorter than", len(cast("str", value)) < cast("int", limit)
    elif name == "max_length":
        message, broken = "longer than", len(cast("str", value)) > cast("int", limit)
    else:
        message, broken = "not matching", re.search(cast("str", limit), cast("str", value)) is None
    return f"{value!r} is {message} {limit!r}" if broken else None


_ARTICLES = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}


def _with_null(result: ParamType | None) -> ParamType | None:
    """``result | None``, unless it already allows None (None and Any do)."""
    if result is None or isinstance(result, Nullable) or result in (Scalar("none"), Scalar("any")):
        return result
    return Nullable(result)


def _format_alias(fmt: str) -> str:
    """``_Int32``: the alias of an integer format's range."""
    return f"_{fmt[0].upper()}{fmt[1:]}"


def _escape_pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _unescape_pointer(text: str) -> str:
    return text.replace("~1", "/").replace("~0", "~")


def _canonical(ref: str) -> str | None:
    if ref.startswith(_SHORTHAND):
        ref = "#/components/schemas/" + ref[len(_SHORTHAND) :]
    for prefix, _ in COMPONENT_ROOTS:
        if ref.startswith(prefix):
            name = ref[len(prefix) :]
            return ref if name and "/" not in name else None
    return None


def _root_order(pointer: str) -> int:
    return next(i for i, (prefix, _) in enumerate(COMPONENT_ROOTS) if pointer.startswith(prefix))


def _normalize_refs(value: object) -> object:
    """A deep copy with the ``#schemas/`` shorthand spelled out."""
    if is_mapping(value):
        copy: dict[str, object] = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(_SHORTHAND):
                copy[key] = "#/components/schemas/" + item[len(_SHORTHAND) :]
            else:
                copy[key] = _normalize_refs(item)
        return copy
    if is_list(value):
        return [_normalize_refs(item) for item in value]
    return value


def _description(schema: dict[str, object]) -> str | None:
    description = schema.get("description")
    return description.strip() or None if isinstance(description, str) else None


def _value_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if is_mapping(value) else "array"


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _merge_bounds(
    constraints: list[tuple[str, int | float | str]], bounds: tuple[int, int]
) -> list[tuple[str, int | float | str]]:
    """Explicit bounds narrowed to an integer format's range (``format: int32`` + ``minimum: 0``)."""
    result = dict(constraints)
    low = result.get("ge")
    high = result.get("le")
    result["ge"] = bounds[0] if low is None else max(cast("float", low), bounds[0])
    result["le"] = bounds[1] if high is None else min(cast("float", high), bounds[1])
    return sorted(result.items(), key=lambda item: _CONSTRAINT_ORDER.index(item[0]))


_CONSTRAINT_ORDER = ("ge", "gt", "le", "lt", "multiple_of", "min_length", "max_length", "pattern")


def _pattern_error(pattern: str) -> str | None:
    """Why pydantic (whose default regex engine is Rust's) would reject ``pattern``, if it would."""
    try:
        pydantic.TypeAdapter(Annotated[str, pydantic.Field(pattern=pattern)])
    except Exception as err:  # pydantic reports a bad pattern as SchemaError or re.error
        first = str(err).strip().splitlines()
        return f"invalid regular expression {pattern!r}: {first[-1] if first else err}"
    return None
