"""The chaos suite: a fleet of worker processes, a workload, seeded faults, and invariant checks.

Modules, in the order a run uses them:

- ``tasks``: the chaos spec (task definitions with known expected outcomes) and the executor the
  worker processes run, which logs every execution to a per-process file;
- ``worker``: the worker process (``python -m tests.chaos.worker``);
- ``config``: the knobs of a run (``ChaosConfig.smoke()`` for CI, ``soak()`` for long runs);
- ``plan``: the seeded fault schedule (pure: the same seed gives the same schedule);
- ``fleet``: starting, killing, freezing and stopping worker processes;
- ``workload``: producers that enqueue throughout and keep the ledger of acknowledged enqueues;
- ``faults``: executes the plan against the fleet and the Postgres cluster;
- ``observe``: loads the ledger, the execution logs and the fleet's history into the database;
- ``invariants``: the checks, as SQL over the final state (each names the tasks that violate it);
- ``report``: the Markdown/text report;
- ``run``: puts it together (``run_chaos``); ``__main__`` is the soak's command line.

The exact definitions of what is checked are in ``invariants`` and in docs/reliability.md.
"""
