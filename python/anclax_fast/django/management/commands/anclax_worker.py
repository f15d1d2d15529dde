# pyright: reportMissingModuleSource=false
# (Django 6 runs in its own environment; linting sees django-stubs only.)
"""``manage.py anclax_worker``: run the Django tasks of an ``AnclaxBackend`` until SIGTERM/SIGINT."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from anclax_fast.django.worker import make_worker


class Command(BaseCommand):
    help = "Run the Django tasks of an anclax backend (stops gracefully on SIGTERM/SIGINT)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--backend", default="default", help="the TASKS alias (default: default)")
        parser.add_argument(
            "--queue", action="append", default=[], help="serve this queue besides 'default' (repeatable)"
        )
        parser.add_argument("--concurrency", type=int, default=None, help="executor threads")

    def handle(self, *args: Any, **options: Any) -> None:
        extra = {} if options["concurrency"] is None else {"concurrency": options["concurrency"]}
        worker = make_worker(options["backend"], queues=options["queue"], **extra)
        self.stdout.write(f"anclax worker for TASKS[{options['backend']!r}]: {sorted(worker.spec.models)}")
        self.stdout.flush()
        worker.run()
