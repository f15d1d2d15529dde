"""The soak: ``python -m tests.chaos --minutes 30 --tasks 1000000 [--seed N] [--report PATH]``.

Exits 0 when every invariant held, 1 otherwise; the report (Markdown) goes to ``--report``
(default docs/reliability-soak.md) and its verdict and violations to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import sys
from pathlib import Path

from tests.chaos.config import ChaosConfig
from tests.chaos.plan import describe_plan, fault_plan
from tests.chaos.run import run_chaos


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description="The chaos soak of anclax-fast.")
    parser.add_argument("--minutes", type=float, default=30.0, help="how long faults and producers run")
    parser.add_argument("--tasks", type=int, default=1_000_000, help="tasks to enqueue over the run")
    parser.add_argument("--workers", type=int, default=4, help="worker processes")
    parser.add_argument("--seed", type=int, default=None, help="fault-schedule seed (random when omitted)")
    parser.add_argument("--report", type=Path, default=Path("docs/reliability-soak.md"))
    parser.add_argument("--logs", type=Path, default=None, help="directory for logs (default: a temporary one)")
    parser.add_argument("--smoke", action="store_true", help="the CI smoke configuration instead of a soak")
    parser.add_argument("--plan-only", action="store_true", help="print the fault schedule and exit")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    if args.smoke:
        config = ChaosConfig.smoke(seed)
    else:
        config = ChaosConfig.soak(seed, minutes=args.minutes, tasks=args.tasks, workers=args.workers)
    config = dataclasses.replace(config, directory=args.logs, report=args.report)
    if args.plan_only:
        print(f"seed {seed}")
        print(describe_plan(fault_plan(config)))
        return 0
    result = run_chaos(config)
    for violation in result.violations():
        print(f"VIOLATED {violation.name} ({violation.count}): {violation.rule}", file=sys.stderr)
        for ident, detail in violation.samples:
            print(f"    {ident}: {detail}", file=sys.stderr)
    print(f"seed {seed}: {'PASSED' if result.passed else 'FAILED'}", file=sys.stderr)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
