"""The systems the harness can run. Adding one is a driver file plus one line in SYSTEMS."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.Enum):
    OURS = "ours"  # anclax-fast: the system the ratios are about
    CEILING = "ceiling"  # raw SQL, no framework: the upper bound on one Postgres
    PEER = "peer"  # what a Python team would pick instead


@dataclass(frozen=True)
class System:
    name: str  # the driver module benches/drivers/<name>.py, the database bench_<name>, the venv name
    label: str  # how reports name it
    kind: Kind
    # Pinned packages for its own virtualenv under benches/.venvs/<name>; empty: the project's .venv.
    requirements: tuple[str, ...] = ()
    min_python: tuple[int, int] = (3, 10)


OURS = "anclax_fast"

SYSTEMS: tuple[System, ...] = (
    System("ceiling", "raw SQL ceiling", Kind.CEILING),
    System(
        "procrastinate",
        "Procrastinate",
        Kind.PEER,
        requirements=("procrastinate==3.10.0", "psycopg[binary]==3.3.9"),
    ),
    System(
        "pgqueuer",
        "PgQueuer",
        Kind.PEER,
        requirements=("pgqueuer==1.6.0", "asyncpg==0.32.0", "uvloop==0.23.0"),
    ),
    System("awa", "awa-pg", Kind.PEER, requirements=("awa-pg==0.6.9",)),
    System("oban", "oban-py", Kind.PEER, requirements=("oban==0.7.0",), min_python=(3, 12)),
    System(OURS, "anclax-fast", Kind.OURS),
)


def by_name(names: list[str]) -> list[System]:
    known = {system.name: system for system in SYSTEMS}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown system(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in names]
