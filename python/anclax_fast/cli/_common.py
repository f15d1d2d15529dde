"""What the commands share: exit codes, messages, the project file (``anclax.yaml``)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import yaml

__all__ = [
    "EXIT_OK",
    "EXIT_STALE",
    "EXIT_USAGE",
    "PROJECT_FILE",
    "Project",
    "ProjectError",
    "Subcommands",
    "error",
    "info",
]

EXIT_OK = 0
EXIT_STALE = 1
EXIT_USAGE = 2

PROJECT_FILE = "anclax.yaml"


class Subcommands(Protocol):
    """What ``ArgumentParser.add_subparsers()`` returns, as far as a command module needs it."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def info(message: str) -> None:
    """Progress and summaries go to stderr, so that stdout carries only data (diffs)."""
    print(message, file=sys.stderr)


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


class ProjectError(Exception):
    """``anclax.yaml`` is unreadable or holds a value of the wrong type."""


@dataclass(frozen=True)
class Project:
    """Settings from ``anclax.yaml`` in the current directory (all optional):

    ``spec`` — the task spec (default ``api/tasks.yaml``); ``out`` — where ``generate`` writes
    the package (default ``taskgen``). Relative paths are relative to the directory of the file.
    Other keys belong to other commands and are ignored here.
    """

    file: Path | None = None
    spec: Path | None = None
    out: Path | None = None

    @classmethod
    def load(cls, directory: Path | None = None) -> Project:
        path = (directory or Path()) / PROJECT_FILE
        if not path.is_file():
            return cls()
        try:
            data: object = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise ProjectError(f"cannot read {path}: {err}") from None
        if data is None:
            return cls(path)
        if not isinstance(data, dict):
            raise ProjectError(f"{path} must hold a mapping of settings, such as 'spec: api/tasks.yaml'")
        values = cast("dict[str, object]", data)
        settings: dict[str, Path | None] = {}
        for key in ("spec", "out"):
            value = values.get(key)
            if value is not None and not isinstance(value, str):
                raise ProjectError(f"{path}: '{key}' must be a path (a string), not {value!r}")
            settings[key] = path.parent / value if isinstance(value, str) and value else None
        return cls(path, settings["spec"], settings["out"])
