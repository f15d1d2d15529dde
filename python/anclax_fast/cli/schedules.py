"""``anclax-fast schedules``: list, pause, resume and trigger cron schedules."""

from __future__ import annotations

import argparse

from anclax_fast.cli._common import EXIT_OK, Subcommands, info
from anclax_fast.cli._runtime import add_dsn_argument, guarded
from anclax_fast.client import Client
from anclax_fast.errors import ScheduleNotFound

__all__ = ["EXIT_NOT_FOUND", "register"]

EXIT_NOT_FOUND = 6

_EPILOG = """\
exit codes:
  0  success
  2  usage error or invalid DSN
  3  the database is unreachable
  6  no such schedule"""


def register(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "schedules",
        help="list, pause, resume or trigger cron schedules",
        description="Inspect and control cron schedules. A schedule is named by its task name, and by its "
        "unique tag when the application registered several (run_<task>(..., unique_tag=...)).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="every schedule with its next fire", epilog=_EPILOG)
    add_dsn_argument(listing)
    listing.set_defaults(run=guarded(run_list))

    for verb, text in (
        ("pause", "pause a schedule: no fires until it is resumed (its next fire waits paused)"),
        ("resume", "resume a paused schedule; fire times missed while paused are skipped, not caught up"),
        ("trigger", "run a schedule's task once now, outside its cron times"),
    ):
        action = actions.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".", epilog=_EPILOG)
        add_dsn_argument(action)
        action.add_argument("task_name", metavar="TASK", help="the schedule's task name")
        action.add_argument("--unique-tag", metavar="TAG", default=None, help="the schedule's unique tag, if any")
        action.set_defaults(run=guarded(run_action), verb=verb)


def run_list(args: argparse.Namespace) -> int:
    with Client(args.dsn) as client:
        schedules = client.schedules()
    headers = ["TASK", "UNIQUE TAG", "CRON", "STATE", "NEXT FIRE (UTC)", "NEXT TASK"]
    rows = [
        [
            s.task_name,
            s.unique_tag or "-",
            s.cron_expression,
            "paused" if s.paused else "active",
            s.next_fire_at.strftime("%Y-%m-%d %H:%M:%S") if not s.paused else "-",
            str(s.next_task_id) if s.next_task_id is not None else "-",
        ]
        for s in schedules
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if not schedules:
        info("no schedules")
    return EXIT_OK


def run_action(args: argparse.Namespace) -> int:
    which = args.task_name + (f" ({args.unique_tag})" if args.unique_tag else "")
    with Client(args.dsn) as client:
        try:
            if args.verb == "pause":
                changed = client.pause_schedule(args.task_name, args.unique_tag)
                info(f"schedule {which} paused" if changed else f"schedule {which} was paused already")
            elif args.verb == "resume":
                changed = client.resume_schedule(args.task_name, args.unique_tag)
                info(f"schedule {which} resumed" if changed else f"schedule {which} was not paused")
            else:
                task_id = client.trigger_schedule(args.task_name, args.unique_tag)
                info(f"schedule {which} triggered: task {task_id}")
                print(task_id)
        except ScheduleNotFound as err:
            info(str(err))
            return EXIT_NOT_FOUND
    return EXIT_OK
