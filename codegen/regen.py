"""Regenerate the golden record, or check that it is fresh.

``python codegen/regen.py`` (``make generate``) rewrites every package of :data:`GOLDEN` from its
spec; ``python codegen/regen.py --check`` (``make verify-generated``, run by CI) writes nothing and
fails with a diff when any of them differs from a fresh generate. Both go through the
``anclax-fast generate`` command itself, from the repository root.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from anclax_fast.cli import main as anclax_fast

ROOT = Path(__file__).resolve().parent.parent

# (spec, package directory), relative to the repository root.
GOLDEN = (
    ("codegen/specs/tutorial.yaml", "codegen/golden/tutorial"),
    ("codegen/specs/edge_cases.yaml", "codegen/golden/edge_cases"),
    # The demo's package ships in the wheel (anclax_fast.demo) and is checked like the others.
    ("api/tasks.yaml", "python/anclax_fast/demo/taskgen"),
    # The examples' packages.
    ("examples/fastapi_app/api/tasks.yaml", "examples/fastapi_app/shop_api/taskgen"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail with a diff if a package is stale")
    args = parser.parse_args(argv)
    check: bool = args.check
    os.chdir(ROOT)
    worst = 0
    for spec, out in GOLDEN:
        worst = max(worst, anclax_fast(["generate", "--spec", spec, "--out", out, *(["--check"] if check else [])]))
    return worst


if __name__ == "__main__":
    sys.exit(main())
