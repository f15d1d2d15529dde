"""Facts about the machine a run happened on, for the report header."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

from benches.harness.plan import nproc


def describe_machine() -> dict[str, str]:
    return {
        "nproc": str(nproc()),
        "cpu": _cpu_model(),
        "memory": _memory(),
        "load average at start": _load_average(),
        "kernel": f"{platform.system()} {platform.release()}",
        "harness python": sys.version.split()[0],
    }


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for line in out.splitlines():
        if line.strip().startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    try:  # no lscpu: /proc/cpuinfo has the same string
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def _load_average() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"
