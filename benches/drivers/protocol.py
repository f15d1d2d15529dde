"""The JSON protocol between the harness and a driver process (stdlib only: it runs in every venv).

The harness starts ``<venv python> -m benches.drivers <system>`` with the repository root as the
working directory, writes one :class:`Request` as JSON on stdin, and reads the last line of stdout,
which is one JSON object: a :class:`Reply`. Anything else the driver prints (progress, a peer's
logging) goes to stderr and is kept only for error messages.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

# The scenarios, in the order the harness runs them (steady_half needs drain_1p's result).
ENQUEUE_SINGLE = "enqueue_single"
ENQUEUE_BULK = "enqueue_bulk"
DRAIN_1P = "drain_1p"
DRAIN_NP = "drain_np"
STEADY = "steady"
STEADY_HALF = "steady_half"
SLEEP_IO = "sleep_io"
SCENARIOS = (ENQUEUE_SINGLE, ENQUEUE_BULK, DRAIN_1P, DRAIN_NP, STEADY, STEADY_HALF, SLEEP_IO)

# The operations a driver answers.
OP_DESCRIBE = "describe"  # versions, settings, doc links, scenarios it cannot run; no database
OP_INSTALL = "install"  # install the system's schema into `dsn` (the harness copies it per run)
OP_RUN = "run"  # run one scenario once on `dsn` (a fresh copy of the installed database)


@dataclasses.dataclass
class Request:
    op: str
    dsn: str = ""
    scenario: str = ""
    n: int = 0  # jobs to enqueue or drain (enqueue_*, drain_*, sleep_io)
    processes: int = 1  # worker processes (drain_*, steady*, sleep_io)
    concurrency: int = 0  # jobs in flight per worker process; 0 = the system's tuned default
    batch_size: int = 1000  # jobs per call of the system's batch API (enqueue_bulk and pre-filling)
    rate: float = 0.0  # producer rate in jobs/s (steady*)
    duration_s: float = 0.0  # producer duration (steady*)
    warmup_s: float = 0.0  # jobs sent in the first warmup_s are left out of the latency figures (steady*)
    sleep_s: float = 0.0  # how long each job sleeps (sleep_io); 0 = a no-op job
    timeout_s: float = 300.0  # give up waiting for the jobs after this long (the run is then INVALID)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Request:
        raw: dict[str, Any] = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


@dataclasses.dataclass
class Verification:
    """Did every job run exactly once and end in the system's success state?"""

    valid: bool
    expected: int
    executed_distinct: int = 0  # distinct payloads the handler saw (workers count them in-process)
    duplicates: int = 0  # executions beyond the first of the same payload
    missing: int = 0  # payloads never executed
    finished_in_db: int = 0  # jobs in the system's success state, counted in the database afterwards
    db_states: dict[str, int] = dataclasses.field(default_factory=dict)  # every job row by state
    detail: str = ""


@dataclasses.dataclass
class Reply:
    """One line of JSON. ``ok`` false means the driver failed; ``not_applicable`` means it cannot run it."""

    ok: bool
    error: str = ""
    not_applicable: str = ""
    # describe
    version: str = ""
    packages: dict[str, str] = dataclasses.field(default_factory=dict)
    settings: dict[str, str] = dataclasses.field(default_factory=dict)
    docs: list[str] = dataclasses.field(default_factory=list)
    unsupported: dict[str, str] = dataclasses.field(default_factory=dict)  # scenario -> reason
    python: str = ""
    # run
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    verification: Verification | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Reply:
        raw: dict[str, Any] = json.loads(text)
        verification: dict[str, Any] | None = raw.pop("verification", None)
        known = {f.name for f in dataclasses.fields(cls)}
        reply = cls(**{k: v for k, v in raw.items() if k in known})
        if verification is not None:
            reply.verification = Verification(**verification)
        return reply
