"""``anclax-fast generate``: the task spec → a typed Python package (or ``--check`` that it is fresh)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from anclax_fast.cli._common import (
    EXIT_OK,
    EXIT_STALE,
    EXIT_USAGE,
    PROJECT_FILE,
    Project,
    ProjectError,
    Subcommands,
    error,
    info,
)
from anclax_fast.codegen import (
    GeneratedFile,
    LoadedSpec,
    OutputDirectoryError,
    check_package,
    display_path,
    load_spec,
    render_package,
    write_package,
)
from anclax_fast.errors import SpecError

__all__ = ["DEFAULT_OUT", "DEFAULT_SPEC", "register", "run"]

DEFAULT_SPEC = Path("api/tasks.yaml")
DEFAULT_OUT = Path("taskgen")

_DESCRIPTION = f"""\
Generate a typed Python package from a task spec: pydantic parameter models, the Executor
protocol, the TaskRunner, make_worker and SPEC, with .pyi stubs that mypy and pyright enforce.

The spec is checked first; every problem is reported as file:line:col: message, and nothing is
written if there is any. The output directory belongs to the generator: files it wrote before
are replaced (only when their content changes) or removed; any other file in it stops the run.

Defaults come from {PROJECT_FILE} in the current directory when it sets 'spec' or 'out'."""

_EPILOG = """\
exit codes:
  0  generated (or, with --check, up to date)
  1  --check: the files on disk differ from a fresh generate (the diff is on stdout)
  2  usage error, missing or invalid spec, or an output directory holding other files"""


def register(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "generate",
        help="generate the typed task package from the spec",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--spec",
        metavar="PATH",
        help=f"the task spec to read (default: 'spec' of {PROJECT_FILE}, else {DEFAULT_SPEC})",
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        help=f"the package directory to write (default: 'out' of {PROJECT_FILE}, else ./{DEFAULT_OUT})",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and print a unified diff if the files on disk are not what "
        "generate would write (changed, missing or extra files), 0 if they are",
    )
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class _Options:
    spec: Path
    spec_origin: str
    out: Path
    check: bool


def _options(args: argparse.Namespace) -> _Options:
    project = Project.load()
    spec_flag = cast("str | None", args.spec)
    out_flag = cast("str | None", args.out)
    if spec_flag is not None:
        spec, origin = Path(spec_flag), "given by --spec"
    elif project.spec is not None:
        spec, origin = project.spec, f"named by 'spec' in {project.file}"
    else:
        spec, origin = DEFAULT_SPEC, f"the default; pass --spec PATH or set 'spec: PATH' in {PROJECT_FILE}"
    out = Path(out_flag) if out_flag is not None else project.out or DEFAULT_OUT
    return _Options(spec, origin, out, bool(cast("bool", args.check)))


def run(args: argparse.Namespace) -> int:
    try:
        options = _options(args)
    except ProjectError as err:
        error(str(err))
        return EXIT_USAGE
    loaded = _load(options)
    if loaded is None:
        return EXIT_USAGE
    for note in loaded.notes:
        print(note, file=sys.stderr)
    return _generate(options, loaded)


def _load(options: _Options) -> LoadedSpec | None:
    """The validated spec, or None once the problems are printed."""
    if not options.spec.is_file():
        error(f"spec file not found: {options.spec} ({options.spec_origin})")
        return None
    try:
        return load_spec(options.spec)
    except SpecError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        count = len(err.problems)
        info(f"{count} problem{'s' if count != 1 else ''} in {display_path(options.spec)}; nothing was written")
    except OSError as err:
        error(f"cannot read {options.spec}: {err.strerror or err}")
    return None


def _generate(options: _Options, loaded: LoadedSpec) -> int:
    out_label = display_path(options.out)
    files = render_package(loaded.ir, out=out_label)
    source = loaded.ir.source
    tasks = len(loaded.ir.tasks)
    try:
        if options.check:
            return _check(options.out, out_label, files, source)
        result = write_package(options.out, files)
    except (OutputDirectoryError, OSError) as err:
        error(str(err))
        return EXIT_USAGE
    changes = f"{len(result.written)} written, {len(result.unchanged)} unchanged"
    if result.removed:
        changes += f", {len(result.removed)} removed ({', '.join(result.removed)})"
    info(f"generated {len(files)} files into {out_label}/ from {source} ({tasks} tasks; {changes})")
    return EXIT_OK


def _check(out: Path, label: str, files: list[GeneratedFile], source: str) -> int:
    drift = check_package(out, files, label=label)
    if not drift.stale:
        info(f"{label}/ is up to date with {source} ({len(files)} files)")
        return EXIT_OK
    sys.stdout.write(drift.diff)
    parts = [f"{len(drift.changed)} changed", f"{len(drift.missing)} missing", f"{len(drift.extra)} extra"]
    info(f"{label}/ is stale ({', '.join(parts)}); run: anclax-fast generate --spec {source} --out {label}")
    return EXIT_STALE
