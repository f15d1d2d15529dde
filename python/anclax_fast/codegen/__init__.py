"""The code generator behind ``anclax-fast generate``: a spec file → a typed Python package.

Three stages, each its own module: :mod:`.load` reads and validates the YAML into an IR
(collecting every problem with its position), :mod:`.render` turns the IR into files through the
templates in ``templates/``, and :mod:`.output` writes them or compares them with what is on disk.
"""

from anclax_fast.codegen.load import LoadedSpec, display_path, load_spec, load_spec_text
from anclax_fast.codegen.output import Drift, OutputDirectoryError, WriteResult, check_package, write_package
from anclax_fast.codegen.render import GeneratedFile, render_package

__all__ = [
    "Drift",
    "GeneratedFile",
    "LoadedSpec",
    "OutputDirectoryError",
    "WriteResult",
    "check_package",
    "display_path",
    "load_spec",
    "load_spec_text",
    "render_package",
    "write_package",
]
