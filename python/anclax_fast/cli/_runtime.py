"""What the runtime commands share: DSN resolution, the spec, APP loading, error reporting."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from anclax_fast.cli._common import EXIT_USAGE, Project, ProjectError, error
from anclax_fast.errors import (
    ConfigurationError,
    DatabaseError,
    DatabaseUnavailable,
    ExecutorIncomplete,
    SchemaNotMigrated,
    SpecError,
    WorkerFailed,
)
from anclax_fast.spec import Spec

__all__ = [
    "EXIT_APP",
    "EXIT_CRASHING",
    "EXIT_DATABASE",
    "EXIT_WORKER_FAILED",
    "CommandError",
    "add_dsn_argument",
    "guarded",
    "load_app",
    "load_spec_for",
    "resolve_spec_path",
]

EXIT_DATABASE = 3
"""The database is unreachable, or its schema is missing or from another version."""
EXIT_APP = 4
"""APP cannot be imported, or its executor lacks methods for tasks in the spec."""
EXIT_CRASHING = 5
"""Worker processes keep crashing right after they start."""
EXIT_WORKER_FAILED = 8
"""The worker's engine failed while running (one of its loops panicked or ended)."""

DEFAULT_SPEC = Path("api/tasks.yaml")

T = TypeVar("T")


class CommandError(Exception):
    """A failure already explained to the user; carries the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def add_dsn_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dsn",
        default=None,
        help="PostgreSQL connection string, e.g. postgresql://user:secret@host:5432/db (default: $ANCLAX_DSN)",
    )


def resolve_spec_path(given: Path | None) -> Path:
    if given is not None:
        return given
    try:
        project = Project.load()
    except ProjectError as err:
        raise CommandError(str(err), EXIT_USAGE) from None
    return project.spec or DEFAULT_SPEC


def load_spec_for(given: Path | None) -> Spec:
    """The spec from a YAML file, or from ``module:attribute`` naming a ``Spec`` (e.g. a generated
    package's ``SPEC``, so production images need not carry the YAML)."""
    if given is not None and not given.exists() and ":" in str(given):
        target = _import_attribute(str(given), "--spec")
        if not isinstance(target, Spec):
            raise CommandError(f"--spec {given} is a {type(target).__name__}, not an anclax_fast.Spec", EXIT_USAGE)
        return target
    path = resolve_spec_path(given)
    if not path.is_file():
        raise CommandError(
            f"no task spec at {path} (pass --spec, set 'spec' in anclax.yaml, or run from your project's root)",
            EXIT_USAGE,
        )
    try:
        return Spec.load(path)
    except SpecError as err:
        raise CommandError(f"invalid task spec:\n{err}", EXIT_USAGE) from None


def _import_attribute(reference: str, what: str) -> object:
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise CommandError(
            f"{what} must look like 'module:attribute' (e.g. myapp.tasks:Executor), got {reference!r}", EXIT_APP
        )
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as err:
        raise CommandError(
            f"cannot import {module_name!r} for {what} {reference!r}: {type(err).__name__}: {err} "
            "(run from your project's root, or add it to PYTHONPATH)",
            EXIT_APP,
        ) from None
    try:
        found: object = getattr(module, attribute)
        return found
    except AttributeError:
        raise CommandError(
            f"module {module_name!r} has no attribute {attribute!r} ({what} {reference!r})", EXIT_APP
        ) from None


def load_app(reference: str) -> object:
    """``module:attribute`` → the executor (calling the attribute when it is a class or a
    zero-argument factory)."""
    target = _import_attribute(reference, "APP")
    if isinstance(target, type) or (
        callable(target) and not hasattr(target, "__self__") and _takes_no_arguments(target)
    ):
        try:
            return target()
        except Exception as err:
            raise CommandError(
                f"creating the executor with {reference}() failed: {type(err).__name__}: {err}", EXIT_APP
            ) from None
    return target


def _takes_no_arguments(target: Callable[..., object]) -> bool:
    import inspect  # noqa: PLC0415 - only needed for factories

    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values()
    )


def _unreachable(err: Exception) -> str:
    return (
        f"cannot reach the database: {err}. Is PostgreSQL running, and are --dsn / ANCLAX_DSN "
        "(host, port, user, password, database) right?"
    )


# Most specific first: (error class, exit code, message).
_EXPLANATIONS: tuple[tuple[type[Exception], int, Callable[[Exception], str]], ...] = (
    (ExecutorIncomplete, EXIT_APP, str),
    (ConfigurationError, EXIT_USAGE, str),
    (SchemaNotMigrated, EXIT_DATABASE, str),
    (DatabaseUnavailable, EXIT_DATABASE, _unreachable),
    (DatabaseError, EXIT_DATABASE, lambda err: f"database error: {err}"),
    (WorkerFailed, EXIT_WORKER_FAILED, lambda err: f"the worker failed: {err}"),
)


def _explain(err: Exception) -> tuple[str, int]:
    """The message and exit code for an error the user must act on."""
    if isinstance(err, CommandError):
        return str(err), err.code
    for kind, code, message in _EXPLANATIONS:
        if isinstance(err, kind):
            return message(err), code
    raise err


def guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the library's errors into one clear line and an exit code."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (CommandError, ConfigurationError, DatabaseError, WorkerFailed) as err:
            message, code = _explain(err)
            error(message)
            return code

    return wrapper
