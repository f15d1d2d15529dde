"""Write a generated package to disk, or compare it with what is there (``--check``).

The output directory belongs to the generator: files it wrote carry the header
(:data:`~.render.HEADER_PREFIX`) and are replaced or removed freely; any other file in it stops
the write, so that a mistyped ``--out`` never overwrites hand-written code. ``__pycache__`` and
hidden files are left alone.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from anclax_fast.codegen.render import HEADER_PREFIX, GeneratedFile
from anclax_fast.errors import AnclaxError

__all__ = ["Drift", "OutputDirectoryError", "WriteResult", "check_package", "write_package"]


class OutputDirectoryError(AnclaxError):
    """The output directory holds files the generator did not write (or is not a directory)."""


@dataclass(frozen=True)
class WriteResult:
    written: list[str] = field(default_factory=list[str])
    unchanged: list[str] = field(default_factory=list[str])
    removed: list[str] = field(default_factory=list[str])


@dataclass(frozen=True)
class Drift:
    """How the files on disk differ from a fresh generate."""

    changed: list[str] = field(default_factory=list[str])
    missing: list[str] = field(default_factory=list[str])
    extra: list[str] = field(default_factory=list[str])
    diff: str = ""

    @property
    def stale(self) -> bool:
        return bool(self.changed or self.missing or self.extra)


def _existing(out: Path) -> dict[str, Path]:
    """The files of ``out`` that matter (not ``__pycache__``, not hidden), by name."""
    if not out.exists():
        return {}
    if not out.is_dir():
        raise OutputDirectoryError(f"{out} exists and is not a directory")
    found: dict[str, Path] = {}
    for entry in sorted(out.iterdir()):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        found[entry.name] = entry
    return found


def _is_generated(path: Path) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as file:
        return file.read(len(HEADER_PREFIX)) == HEADER_PREFIX.encode()


def write_package(out: Path, files: Sequence[GeneratedFile]) -> WriteResult:
    """Write ``files`` into ``out`` (created if needed), only those whose content changed, and
    remove generated files that are no longer part of the package."""
    existing = _existing(out)
    wanted = {f.path for f in files}
    foreign = sorted(name for name, path in existing.items() if not _is_generated(path))
    if foreign:
        listed = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise OutputDirectoryError(
            f"refusing to write into {out}: it holds files anclax-fast did not generate ({listed}); "
            "the output directory must contain only generated files"
        )
    result = WriteResult()
    out.mkdir(parents=True, exist_ok=True)
    for generated in files:
        target = out / generated.path
        data = generated.content.encode("utf-8")
        if target.is_file() and target.read_bytes() == data:
            result.unchanged.append(generated.path)
            continue
        _atomic_write(target, data)
        result.written.append(generated.path)
    for name in sorted(set(existing) - wanted):
        existing[name].unlink()
        result.removed.append(name)
    return result


def _atomic_write(target: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_package(out: Path, files: Sequence[GeneratedFile], *, label: str) -> Drift:
    """Compare ``files`` with the directory; ``label`` names it in the diff (``taskgen``)."""
    existing = _existing(out)
    drift = Drift()
    chunks: list[str] = []
    prefix = f"{label.strip('/')}/" if label.strip("/") else ""
    for generated in files:
        path = existing.get(generated.path)
        if path is None or not path.is_file():
            drift.missing.append(generated.path)
            old: list[str] = []
            from_name = "/dev/null"
        else:
            current = path.read_bytes().decode("utf-8", errors="replace")
            if current == generated.content:
                continue
            drift.changed.append(generated.path)
            old = current.splitlines(keepends=True)
            from_name = f"a/{prefix}{generated.path}"
        new = generated.content.splitlines(keepends=True)
        chunks.extend(difflib.unified_diff(old, new, from_name, f"b/{prefix}{generated.path}"))
    for name in sorted(set(existing) - {f.path for f in files}):
        drift.extra.append(name)
        path = existing[name]
        old = path.read_bytes().decode("utf-8", errors="replace").splitlines(keepends=True) if path.is_file() else []
        chunks.extend(difflib.unified_diff(old, [], f"a/{prefix}{name}", "/dev/null"))
    return Drift(drift.changed, drift.missing, drift.extra, "".join(_terminated(chunk) for chunk in chunks))


def _terminated(line: str) -> str:
    return line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
