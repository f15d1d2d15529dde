"""Producers that enqueue throughout the run, and the ledger of acknowledged enqueues.

Only an enqueue whose call *returned* counts as acknowledged: its id goes in the ledger, and the
checker requires that task to exist and to reach its expected state. A call that raised (the
database restarting, a connection terminated) is retried with the same arguments; if the failed
call had committed anyway, the table holds an extra, unacknowledged row, which the checker still
holds to the same rules (every row must end in its expected state) but does not count as lost.
Unique-tag enqueues make the retry idempotent: the same tag returns the same id.
"""

from __future__ import annotations

import collections
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from anclax_fast import AnclaxError, Client, ConfigurationError, TaskAlreadyExists
from anclax_fast.runner import TaskRunnerBase
from tests.chaos.config import ChaosConfig
from tests.chaos.tasks import CHAOS_SPEC, ChaosParams

T = TypeVar("T")


class ChaosRunner(TaskRunnerBase):
    def run(self, name: str, params: ChaosParams, **options: Any) -> int:
        return self._enqueue(CHAOS_SPEC.task(name), params, **options)

    def run_many(self, name: str, params: Sequence[ChaosParams]) -> list[int]:
        return self._enqueue_many(CHAOS_SPEC.task(name), params)


@dataclass
class Ledger:
    """What the producers were told: acknowledged task ids (with their names) and unique tags."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: list[tuple[int, str]] = field(default_factory=list[tuple[int, str]])
    tag_acks: list[tuple[str, int]] = field(default_factory=list[tuple[str, int]])
    calls: int = 0
    failed_calls: int = 0
    # Tasks in calls that raised (whether or not they committed).
    unacknowledged: int = 0
    errors: collections.Counter[str] = field(default_factory=collections.Counter[str])

    def ack(self, name: str, ids: Sequence[int], tag: str | None = None) -> None:
        with self.lock:
            self.calls += 1
            self.acked.extend((task_id, name) for task_id in ids)
            if tag is not None:
                self.tag_acks.append((tag, ids[0]))

    def failure(self, tasks: int, err: BaseException) -> None:
        with self.lock:
            self.calls += 1
            self.failed_calls += 1
            self.unacknowledged += tasks
            self.errors[f"{type(err).__name__}: {str(err)[:120]}"] += 1

    def by_name(self) -> collections.Counter[str]:
        """Distinct acknowledged tasks per name (a re-enqueued unique tag counts once)."""
        with self.lock:
            return collections.Counter(name for _, name in set(self.acked))


class Enqueuer:
    """Enqueue with retries until acknowledged (or `give_up` is set); records into the ledger."""

    def __init__(self, client: Client, ledger: Ledger, give_up: threading.Event) -> None:
        self._runner = ChaosRunner(client)
        self._ledger = ledger
        self._give_up = give_up

    def _retry(self, tasks: int, call: Callable[[], T]) -> T | None:
        delay = 0.05
        while not self._give_up.is_set():
            try:
                return call()
            except (ConfigurationError, TaskAlreadyExists):
                raise  # a harness bug, not a fault
            except AnclaxError as err:
                self._ledger.failure(tasks, err)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        return None

    def one(self, name: str, params: ChaosParams, unique_tag: str | None = None) -> int | None:
        task_id = self._retry(1, lambda: self._runner.run(name, params, unique_tag=unique_tag))
        if task_id is not None:
            self._ledger.ack(name, [task_id], unique_tag)
        return task_id

    def many(self, name: str, params: Sequence[ChaosParams]) -> list[int] | None:
        ids = self._retry(len(params), lambda: self._runner.run_many(name, params))
        if ids is not None:
            self._ledger.ack(name, ids)
        return ids


class Producer(threading.Thread):
    """Enqueues its share of the workload at an even pace until its share is done or it is stopped."""

    def __init__(self, index: int, config: ChaosConfig, enqueuer: Enqueuer, stop: threading.Event) -> None:
        super().__init__(name=f"producer-{index}", daemon=True)
        self._index = index
        self._config = config
        self._enqueuer = enqueuer
        self._stop_requested = stop
        # Seeded, so the mix of a run is reproducible (its timing is not).
        self._rng = random.Random(config.seed * 1000 + index + 1)
        self._tags: list[str] = []
        self.produced = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._produce()
        except BaseException as err:  # reported by the run, which fails on it
            self.error = err

    def _produce(self) -> None:
        config = self._config
        share = config.tasks // config.producers + (1 if self._index < config.tasks % config.producers else 0)
        rate = share / config.duration
        started = time.monotonic()
        while self.produced < share and not self._stop_requested.is_set():
            due = min(share, int(rate * (time.monotonic() - started)) + 1)
            if self.produced >= due:
                time.sleep(0.02)
                continue
            self.produced += self._enqueue_some(due - self.produced)

    def _enqueue_some(self, wanted: int) -> int:
        mix = self._config.mix
        kinds = ["quick", "slow", "flaky", "doomed", "fatal", "unique"]
        weights = [mix.quick, mix.slow, mix.flaky, mix.doomed, mix.fatal, mix.unique]
        kind = self._rng.choices(kinds, weights)[0]
        rng = self._rng
        if kind == "quick":
            count = min(wanted, rng.randint(1, mix.batch))
            batch = [ChaosParams(n=self.produced + i) for i in range(count)]
            return count if self._enqueuer.many("Quick", batch) is not None else 0
        if kind == "slow":
            params = ChaosParams(n=self.produced, sleep=round(rng.uniform(0.05, mix.slow_max_sleep), 3))
            return int(self._enqueuer.one("Slow", params) is not None)
        if kind == "flaky":
            params = ChaosParams(n=self.produced, fail_times=rng.randint(1, 3))
            return int(self._enqueuer.one("Flaky", params) is not None)
        if kind in ("doomed", "fatal"):
            name = "Doomed" if kind == "doomed" else "Fatal"
            return int(self._enqueuer.one(name, ChaosParams(n=self.produced)) is not None)
        # A unique tag: usually a new one, sometimes one this producer used before (must return its id).
        if self._tags and rng.random() < 0.3:
            tag = rng.choice(self._tags)
            self._enqueuer.one("Quick", ChaosParams(n=self.produced, note=tag), unique_tag=tag)
            return 0  # no new task
        tag = f"chaos-{self._config.seed}-{self._index}-{len(self._tags)}"
        self._tags.append(tag)
        return int(self._enqueuer.one("Quick", ChaosParams(n=self.produced, note=tag), unique_tag=tag) is not None)
