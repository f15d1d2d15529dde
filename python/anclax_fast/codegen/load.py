"""Load a spec file: YAML → structure check → semantic checks → IR, collecting every problem.

:func:`load_spec` either returns the IR (with notes worth printing) or raises
:class:`~anclax_fast.errors.SpecError` listing all problems, sorted by position, each as
``file:line:col: message``. The last check builds the parameter models (the same source
``generate`` writes to ``models.py``) and validates each ``cronjob.parameters`` with them, exactly
as a worker will validate every fire.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path as FilePath
from types import ModuleType
from typing import cast

from pydantic import BaseModel, ValidationError

from anclax_fast.codegen.gcpause import without_cyclic_gc
from anclax_fast.codegen.ir import Constrained, DictOf, ListOf, ModelIR, ModelRef, Nullable, ParamType, SpecIR, TaskIR
from anclax_fast.codegen.render import render_models_module
from anclax_fast.codegen.schema import check_structure, where
from anclax_fast.codegen.source import Path, SourceDoc, is_list, is_mapping, parse_yaml, walk
from anclax_fast.codegen.validate import build_ir
from anclax_fast.errors import SpecError, SpecProblem
from anclax_fast.spec import FIRE_PLACEHOLDERS, PLACEHOLDER, CronJob

__all__ = ["LoadedSpec", "build_models", "display_path", "load_spec", "load_spec_text"]

# Cron parameters are validated as of this fire time (any would do: it only fills placeholders).
SAMPLE_FIRE_TIME = datetime(2024, 1, 1, 2, 0, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class LoadedSpec:
    ir: SpecIR
    notes: tuple[SpecProblem, ...]


def display_path(path: FilePath) -> str:
    """How a path appears in messages and generated headers: relative to the current directory
    when it is inside it, with forward slashes, so the output does not depend on the machine."""
    if path.is_absolute():
        try:
            path = path.relative_to(FilePath.cwd())
        except ValueError:
            return path.as_posix()
    return FilePath(os.path.normpath(path)).as_posix()


def load_spec(path: FilePath, *, source: str | None = None) -> LoadedSpec:
    """Load and validate the spec file at ``path``. ``source`` is how the file is named in
    messages and in the output (default: :func:`display_path`). Raises ``OSError`` when the file
    cannot be read, :class:`SpecError` when it is invalid."""
    name = source if source is not None else display_path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SpecError(
            [SpecProblem(f"the file is not UTF-8 text ({err.reason} at byte {err.start})", name, 1, 1)]
        ) from None
    return load_spec_text(text, name)


@without_cyclic_gc
def load_spec_text(text: str, source: str) -> LoadedSpec:
    """Load and validate spec ``text``; ``source`` names it in messages."""
    doc = parse_yaml(text, source)
    problems = list(doc.problems)
    if doc.data is None and not problems:
        problems.append(SpecProblem("the spec is empty; it needs a 'tasks' list", source, 1, 1))
    if problems and doc.data is None:
        raise SpecError(_sorted(problems))
    structure_problems, broken = check_structure(doc)
    problems.extend(structure_problems)
    ir, semantic_problems = build_ir(doc, broken, source)
    problems.extend(semantic_problems)
    notes = list(ir.notes)
    cron_tasks = [task.name for task in ir.tasks if task.cron is not None and task.cron.parameters is not None]
    if any(task.cron is not None for task in ir.tasks):
        models = build_models(ir, only=cron_tasks)
        cron_problems, cron_notes = _check_cron_parameters(doc, ir, models)
        problems.extend(cron_problems)
        notes.extend(cron_notes)
    if problems:
        raise SpecError(_sorted(problems))
    return LoadedSpec(ir, tuple(_sorted(notes)))


def _sorted(problems: list[SpecProblem]) -> list[SpecProblem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line or 0, p.col or 0))


def build_models(ir: SpecIR, *, only: Collection[str] | None = None) -> dict[str, type[BaseModel]]:
    """Execute the ``models.py`` that ``generate`` would write and return, per task name, its
    parameter model class; with ``only``, just the models those tasks need (cron parameters are
    checked with a few models of a large spec, not all of them).

    The code runs as a module of its own, registered in ``sys.modules`` as an imported module would
    be (pydantic looks names up through the module of a class), and compiled without this
    module's ``from __future__ import annotations``, which would turn its annotations into strings.
    """
    if only is not None:
        ir = _subset(ir, set(only))
    name = f"anclax_fast._spec_models_{next(_module_numbers)}"
    module = ModuleType(name, f"Parameter models of {ir.source}")
    sys.modules[name] = module
    code = compile(render_models_module(ir), f"<models of {ir.source}>", "exec", dont_inherit=True)
    try:
        exec(code, module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return {task.name: cast("type[BaseModel]", module.__dict__[task.params_class]) for task in ir.tasks}


_module_numbers = itertools.count(1)


def _subset(ir: SpecIR, task_names: set[str]) -> SpecIR:
    """The IR with only the given tasks and the models their parameters use."""
    tasks = tuple(task for task in ir.tasks if task.name in task_names)
    by_name = {model.name: model for model in ir.models}
    needed: set[str] = set()
    pending = [task.params_alias_of or task.params_class for task in tasks]
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(ref for f in by_name[name].fields for ref in _model_refs(f.type))
    return replace(ir, tasks=tasks, models=tuple(model for model in ir.models if model.name in needed))


def _model_refs(t: ParamType) -> list[str]:
    if isinstance(t, ModelRef):
        return [t.name]
    if isinstance(t, (Nullable, Constrained)):
        return _model_refs(t.inner)
    if isinstance(t, ListOf):
        return _model_refs(t.item)
    if isinstance(t, DictOf):
        return _model_refs(t.value)
    return []


def _task_path(doc: SourceDoc, name: str) -> Path:
    tasks = doc.data.get("tasks") if is_mapping(doc.data) else None
    for index, entry in enumerate(tasks if is_list(tasks) else []):
        if is_mapping(entry) and entry.get("name") == name:
            return ("tasks", index)
    raise LookupError(name)


def _check_cron_parameters(
    doc: SourceDoc, ir: SpecIR, models: Mapping[str, type[BaseModel]]
) -> tuple[list[SpecProblem], list[SpecProblem]]:
    problems: list[SpecProblem] = []
    notes: list[SpecProblem] = []
    by_name = {model.name: model for model in ir.models}
    for task in ir.tasks:
        if task.cron is None:
            continue
        cron_path = (*_task_path(doc, task.name), "cronjob")
        model = by_name[task.params_alias_of or task.params_class]
        if task.cron.parameters is None:
            if task.app_started:
                required = ", ".join(f.wire_name for f in model.fields if f.required)
                notes.append(
                    doc.problem(
                        f"note: {task.name} is a cron task whose required parameters ({required}) are not in "
                        f"cronjob.parameters; its schedule starts when the application calls "
                        f"run_{task.snake}(...)",
                        cron_path,
                        at_key=True,
                    )
                )
            continue
        params_path = (*cron_path, "parameters")
        problems.extend(_placeholder_problems(doc, task.cron.parameters, params_path))
        problems.extend(_unknown_keys(doc, by_name, ModelRef(model.name), task.cron.parameters, params_path))
        rendered = CronJob(task.cron.expression, task.cron.parameters).render_parameters(SAMPLE_FIRE_TIME)
        try:
            models[task.name].model_validate_json(json.dumps(rendered))
        except ValidationError as err:
            problems.extend(_validation_problems(doc, task, err, params_path))
    return problems, notes


def _placeholder_problems(doc: SourceDoc, parameters: Mapping[str, object], path: Path) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    for sub_path, value in walk(parameters, path):
        if isinstance(value, str):
            for match in PLACEHOLDER.finditer(value):
                if match.group(0) not in FIRE_PLACEHOLDERS:
                    supported = " and ".join(FIRE_PLACEHOLDERS)
                    message = f"unknown placeholder {match.group(0)} in {where(doc.data, sub_path)}"
                    problems.append(doc.problem(f"{message} (supported: {supported})", sub_path))
    return problems


def _unknown_keys(
    doc: SourceDoc, models: Mapping[str, ModelIR], t: ParamType, value: object, path: Path
) -> list[SpecProblem]:
    """Keys of ``value`` that the schema does not define: a worker would drop them silently, so in
    a spec (written next to the schema) they are almost certainly typos."""
    if isinstance(t, (Nullable, Constrained)):
        return _unknown_keys(doc, models, t.inner, value, path)
    problems: list[SpecProblem] = []
    if isinstance(t, ModelRef) and is_mapping(value):
        model = models[t.name]
        fields = {f.wire_name: f for f in model.fields}
        if model.free_form or model.extra == "allow":
            return problems
        for key, item in value.items():
            known = fields.get(key)
            if known is None:
                allowed = ", ".join(fields) or "none"
                problems.append(
                    doc.problem(
                        f"unknown parameter {key!r} in {where(doc.data, path)} (parameters: {allowed})",
                        (*path, key),
                        at_key=True,
                    )
                )
            else:
                problems.extend(_unknown_keys(doc, models, known.type, item, (*path, key)))
    elif isinstance(t, ListOf) and is_list(value):
        for index, item in enumerate(value):
            problems.extend(_unknown_keys(doc, models, t.item, item, (*path, index)))
    elif isinstance(t, DictOf) and is_mapping(value):
        for key, item in value.items():
            problems.extend(_unknown_keys(doc, models, t.value, item, (*path, key)))
    return problems


def _validation_problems(doc: SourceDoc, task: TaskIR, err: ValidationError, path: Path) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    for error in err.errors(include_url=False):
        loc: Path = tuple(error["loc"])
        where_text = where(doc.data, (*path, *loc)) if loc else where(doc.data, path)
        if error["type"] == "missing" and len(loc) == 1:
            message = (
                f"{where(doc.data, path)} misses the required parameter {loc[0]!r} (or leave out "
                f"cronjob.parameters, and the application starts the schedule with run_{task.snake}(...))"
            )
        elif error["type"] == "missing":
            message = f"{where_text} is missing"
        else:
            message = f"{where_text}: {error['msg']}"
        problems.append(doc.problem(message, (*path, *loc)))
    return problems
