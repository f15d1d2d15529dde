"""Semantic checks of a structurally valid spec, producing the IR (:class:`~.ir.SpecIR`).

The JSON Schema (:mod:`.schema`) has already checked keys and types; paths it found broken are
skipped here so that each mistake is reported once. This module checks what a schema cannot:
unique task names (also after snake-casing, and across every generated method name), durations and
retry intervals (through the Rust parser in :mod:`anclax_fast.retry`), ``maxAttempts``, cron
expressions (through :mod:`anclax_fast.cron`), duplicate events and labels, and the parameter
schemas (:mod:`.params`). Cron parameters are checked against the built models in :mod:`.load`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from anclax_fast.codegen.ir import CronIR, ModelIR, RetryIR, SpecIR, TaskIR
from anclax_fast.codegen.params import NamePool, ParamsBuilder, TaskParams
from anclax_fast.codegen.schema import where
from anclax_fast.codegen.source import Path, SourceDoc, is_list, is_mapping
from anclax_fast.cron import CronSchedule
from anclax_fast.errors import CronError, IntervalError, SpecProblem
from anclax_fast.naming import is_task_name, pascal_case, snake_case
from anclax_fast.retry import parse_duration, parse_interval
from anclax_fast.tags import MAX_TAGS, tag_problem

__all__ = ["MODULE_NAMES", "build_ir", "method_names"]

# Names the generated modules define or import next to the models; a model may not take them.
MODULE_NAMES = frozenset(
    {
        "Annotated",
        "Any",
        "AsyncTaskRunner",
        "AsyncTaskRunnerBase",
        "AsyncTransaction",
        "AwareDatetime",
        "Awaitable",
        "BatchEnqueueOptions",
        "Client",
        "ConfigDict",
        "CronJob",
        "EnqueueOptions",
        "Executor",
        "ExternalTx",
        "False",
        "Field",
        "Literal",
        "None",
        "ParamsModel",
        "Protocol",
        "RetryPolicy",
        "SPEC",
        "Sequence",
        "Spec",
        "SyncTransaction",
        "TYPE_CHECKING",
        "TaskContext",
        "TaskDef",
        "TaskRunner",
        "TaskRunnerBase",
        "True",
        "Tx",
        "TypeAlias",
        "Unpack",
        "Worker",
        "WorkerOptions",
        "datetime",
        "make_worker",
        "models",
        "uuid",
    }
)


def method_names(snake: str) -> tuple[str, ...]:
    """Every method the generated package defines for a task with this snake_case name."""
    return (
        f"execute_{snake}",
        f"on_{snake}_failed",
        f"run_{snake}",
        f"run_{snake}_with_tx",
        f"run_{snake}_many",
    )


@dataclass
class _Named:
    index: int
    path: Path
    entry: dict[str, object]
    name: str
    snake: str
    params_class: str


def build_ir(doc: SourceDoc, broken: set[Path], source: str) -> tuple[SpecIR, list[SpecProblem]]:
    """The IR of ``doc`` and the problems found; the IR is only meaningful without problems."""
    problems: list[SpecProblem] = []
    pool = NamePool(MODULE_NAMES)
    named = list(_named_tasks(doc, broken, pool, problems))
    builder = ParamsBuilder(doc, pool)
    tasks: list[TaskIR] = []
    for task in named:
        params = None
        if not _is_broken(broken, (*task.path, "parameters")):
            params = builder.task(
                task.params_class, task.name, task.entry.get("parameters"), (*task.path, "parameters")
            )
        built = _task(doc, broken, task, params, problems)
        if built is not None:
            tasks.append(built)
    builder.check_unused_components()
    problems.extend(builder.problems)
    ir = SpecIR(
        source=source,
        tasks=tuple(tasks),
        models=tuple(builder.models),
        constrained=tuple(builder.constrained),
        notes=tuple(builder.notes),
    )
    return ir, problems


def _is_broken(broken: set[Path], path: Path) -> bool:
    """Whether the schema check already reported a problem at ``path`` or inside it."""
    return any(path == bad[: len(path)] for bad in broken)


def _named_tasks(doc: SourceDoc, broken: set[Path], pool: NamePool, problems: list[SpecProblem]) -> Iterator[_Named]:
    entries = doc.data.get("tasks") if is_mapping(doc.data) else None
    if not is_list(entries):
        return
    by_name: dict[str, Path] = {}
    by_method: dict[str, str] = {}
    for index, entry in enumerate(entries):
        path: Path = ("tasks", index)
        if not is_mapping(entry) or _is_broken(broken, (*path, "name")):
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not is_task_name(name):
            continue
        name_path = (*path, "name")
        if name in by_name:
            line = doc.mark(by_name[name]).line
            problems.append(doc.problem(f"duplicate task name {name!r} (first defined at line {line})", name_path))
            continue
        by_name[name] = name_path
        snake = snake_case(name)
        clashes = [(method, by_method[method]) for method in method_names(snake) if method in by_method]
        if clashes:
            method, other = clashes[0]
            problems.append(
                doc.problem(
                    f"task {name!r} would generate the method {method}(), which task {other!r} generates "
                    "already; rename one of them",
                    name_path,
                )
            )
            continue
        params_class = f"{pascal_case(snake)}Parameters"
        if not pool.take(params_class):
            problems.append(
                doc.problem(
                    f"task {name!r} would generate the class {params_class}, which another task generates "
                    "already; rename one of them",
                    name_path,
                )
            )
            continue
        for method in method_names(snake):
            by_method[method] = name
        yield _Named(index, path, entry, name, snake, params_class)


def _task(
    doc: SourceDoc, broken: set[Path], task: _Named, params: TaskParams | None, problems: list[SpecProblem]
) -> TaskIR | None:
    entry, path = task.entry, task.path
    retry = _retry(doc, broken, entry, path, problems)
    cron = _cron(doc, broken, entry, path, problems)
    timeout = _timeout(doc, broken, entry, path, problems)
    events = _strings(doc, broken, entry, (*path, "events"), what="event", problems=problems)
    labels = _labels(doc, broken, entry, path, problems)
    tags = _tags(doc, broken, entry, path, problems)
    # A task with problems still gets its IR (discarded in the end) when its parameters are
    # usable, so that its cron parameters are checked too and every problem shows at once.
    if params is None:
        return None
    description = entry.get("description")
    priority = entry.get("priority")
    return TaskIR(
        name=task.name,
        snake=task.snake,
        description=description.strip() or None if isinstance(description, str) else None,
        params_class=task.params_class,
        params_alias_of=params.alias_of,
        params_optional=params.optional,
        schema=params.schema,
        retry=retry,
        cron=cron,
        app_started=cron is not None and cron.parameters is None and not params.optional,
        on_failed="onFailed" in events,
        timeout=timeout,
        labels=tuple(labels),
        priority=priority if isinstance(priority, int) else None,
        tags=tuple(sorted(tags)),
    )


def _retry(
    doc: SourceDoc, broken: set[Path], entry: dict[str, object], path: Path, problems: list[SpecProblem]
) -> RetryIR | None:
    policy = entry.get("retryPolicy")
    retry_path = (*path, "retryPolicy")
    if not is_mapping(policy) or _is_broken(broken, retry_path):
        return None
    interval = cast("str", policy["interval"])
    max_attempts = cast("int", policy["maxAttempts"])
    try:
        parse_interval(interval)
    except IntervalError as err:
        interval_path = (*retry_path, "interval")
        problems.append(doc.problem_in_text(f"{where(doc.data, interval_path)}: {err}", interval_path, err.position))
    if max_attempts != -1 and max_attempts < 1:
        problems.append(
            doc.problem(
                f"{where(doc.data, (*retry_path, 'maxAttempts'))} must be -1 (unlimited) or at least 1 "
                f"(total attempts, the first included), not {max_attempts}",
                (*retry_path, "maxAttempts"),
            )
        )
    return RetryIR(interval, max_attempts)


def _cron(
    doc: SourceDoc, broken: set[Path], entry: dict[str, object], path: Path, problems: list[SpecProblem]
) -> CronIR | None:
    cronjob = entry.get("cronjob")
    cron_path = (*path, "cronjob")
    if not is_mapping(cronjob) or _is_broken(broken, cron_path):
        return None
    expression = cast("str", cronjob["cronExpression"])
    try:
        CronSchedule(expression)
    except CronError as err:
        problems.append(
            doc.problem(f"{where(doc.data, (*cron_path, 'cronExpression'))}: {err}", (*cron_path, "cronExpression"))
        )
    parameters = cronjob.get("parameters")
    return CronIR(expression, parameters if is_mapping(parameters) else None)


def _timeout(
    doc: SourceDoc, broken: set[Path], entry: dict[str, object], path: Path, problems: list[SpecProblem]
) -> timedelta | None:
    text = entry.get("timeout")
    timeout_path = (*path, "timeout")
    if not isinstance(text, str) or _is_broken(broken, timeout_path):
        return None
    try:
        return parse_duration(text)
    except IntervalError as err:
        problems.append(doc.problem_in_text(f"{where(doc.data, timeout_path)}: {err}", timeout_path, err.position))
        return None


def _strings(
    doc: SourceDoc, broken: set[Path], entry: dict[str, object], path: Path, *, what: str, problems: list[SpecProblem]
) -> list[str]:
    values = entry.get(str(path[-1]))
    if not is_list(values) or _is_broken(broken, path):
        return []
    seen: list[str] = []
    for index, value in enumerate(cast("list[str]", values)):
        if value in seen:
            problems.append(doc.problem(f"duplicate {what} {value!r} in {where(doc.data, path)}", (*path, index)))
        else:
            seen.append(value)
    return seen


def _labels(
    doc: SourceDoc, broken: set[Path], entry: dict[str, object], path: Path, problems: list[SpecProblem]
) -> list[str]:
    return _checked_strings(
        doc, broken, entry, path, key="labels", what="label", problem_of=_label_problem, problems=problems
    )


def _label_problem(label: str) -> str | None:
    if not label or any(char.isspace() or char == "," for char in label):
        return "labels are non-empty and contain no whitespace or commas (workers take them as --labels a,b)"
    return None


def _tags(
    doc: SourceDoc, broken: set[Path], entry: dict[str, object], path: Path, problems: list[SpecProblem]
) -> list[str]:
    tags = _checked_strings(doc, broken, entry, path, key="tags", what="tag", problem_of=tag_problem, problems=problems)
    if len(tags) > MAX_TAGS:
        tags_path = (*path, "tags")
        problems.append(
            doc.problem(f"{where(doc.data, tags_path)}: at most {MAX_TAGS} tags per task, got {len(tags)}", tags_path)
        )
    return tags


def _checked_strings(
    doc: SourceDoc,
    broken: set[Path],
    entry: dict[str, object],
    path: Path,
    *,
    key: str,
    what: str,
    problem_of: Callable[[str], str | None],
    problems: list[SpecProblem],
) -> list[str]:
    """A list of strings under ``key`` (see ``_strings``), each also checked by ``problem_of``."""
    key_path = (*path, key)
    strings = _strings(doc, broken, entry, key_path, what=what, problems=problems)
    values = entry.get(key)
    if not is_list(values) or _is_broken(broken, key_path):
        return strings
    for index, value in enumerate(cast("list[str]", values)):
        problem = problem_of(value)
        if problem is not None:
            problems.append(
                doc.problem(f"invalid {what} {value!r} in {where(doc.data, key_path)}: {problem}", (*key_path, index))
            )
    return strings


def models_by_name(ir: SpecIR) -> dict[str, ModelIR]:
    return {model.name: model for model in ir.models}
