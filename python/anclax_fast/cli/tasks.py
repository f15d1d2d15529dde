"""``anclax-fast tasks``: list, show, cancel, pause, resume, wait for and retry tasks."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone

from anclax_fast.cli._common import EXIT_OK, EXIT_USAGE, Subcommands, info
from anclax_fast.cli._runtime import CommandError, add_dsn_argument, guarded
from anclax_fast.client import LIST_WINDOW, Client
from anclax_fast.errors import TaskNotFound, WaitTimeout
from anclax_fast.filters import TaskFilter, parse_moment
from anclax_fast.records import TaskInfo

__all__ = ["EXIT_NOT_COMPLETED", "EXIT_NOT_FOUND", "register"]

EXIT_NOT_FOUND = 6
EXIT_NOT_COMPLETED = 7

_STATUSES = ("pending", "running", "paused", "completed", "failed", "cancelled")

_EPILOG = """\
exit codes:
  0  success (wait: the task completed)
  2  usage error or invalid DSN
  3  the database is unreachable
  6  no such task
  7  wait: the task failed or was cancelled, or the timeout passed"""


def register(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "tasks",
        help="list, show, cancel, wait for or retry tasks",
        description="Inspect and control tasks in the queue.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="the most recent tasks as a table", epilog=_EPILOG)
    add_dsn_argument(listing)
    listing.add_argument("--status", choices=_STATUSES, help="only tasks in this status")
    listing.add_argument("--name", help="only tasks with this name")
    listing.add_argument("--limit", type=int, default=50, help="how many rows (default 50)")
    listing.add_argument("--before", type=int, default=None, metavar="ID", help="only tasks with an id below ID")
    listing.set_defaults(run=guarded(run_list))

    show = actions.add_parser("show", help="one task, its parameters and its events", epilog=_EPILOG)
    add_dsn_argument(show)
    show.add_argument("task_id", type=int, metavar="ID")
    show.set_defaults(run=guarded(run_show))

    cancel = actions.add_parser(
        "cancel",
        help="cancel a task and its descendants, or the tasks with given tags (a running one stops when it returns)",
        epilog=_EPILOG,
    )
    add_dsn_argument(cancel)
    cancel.add_argument("task_id", type=int, nargs="?", metavar="ID")
    cancel.add_argument(
        "--tag", action="append", dest="tags", metavar="TAG", help="tasks carrying this tag (repeatable: all of them)"
    )
    cancel.add_argument("--no-cascade", action="store_true", help="leave the descendants (children by parent id) alone")
    cancel.set_defaults(run=guarded(run_cancel))

    for verb, text in (
        (
            "pause",
            "pause tasks: pending ones wait, running ones finish their attempt and then wait instead of retrying",
        ),
        ("resume", "resume paused tasks (they become pending again) or a paused task name"),
    ):
        control = actions.add_parser(
            verb,
            help=text,
            description=f"{text[0].upper()}{text[1:]}. Give exactly one of: task ids, --unique-tag, --tag, --name.",
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_dsn_argument(control)
        control.add_argument("task_ids", type=int, nargs="*", metavar="ID", help="these tasks")
        control.add_argument("--unique-tag", metavar="TAG", help="the task with this unique tag")
        control.add_argument(
            "--tag",
            action="append",
            dest="tags",
            metavar="TAG",
            help="tasks carrying this tag (repeatable: all of them)",
        )
        control.add_argument(
            "--name", metavar="TASK", help="every task of this name, and (pause) every new one until resumed"
        )
        control.set_defaults(run=guarded(run_pause if verb == "pause" else run_resume), verb=verb)

    wait = actions.add_parser("wait", help="block until a task is completed, failed or cancelled", epilog=_EPILOG)
    add_dsn_argument(wait)
    wait.add_argument("task_id", type=int, metavar="ID")
    wait.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    wait.set_defaults(run=guarded(run_wait))

    retry = actions.add_parser(
        "retry",
        help="send failed (or cancelled) tasks back to the queue, with a fresh attempt budget",
        description="Retry the tasks with the given ids, or every task matching the options. It counts them "
        "first; --dry-run stops there, and without --yes it asks before retrying (and refuses when it cannot ask).",
        epilog=_EPILOG,
    )
    add_dsn_argument(retry)
    retry.add_argument("task_ids", type=int, nargs="*", metavar="ID", help="these tasks (instead of a filter)")
    retry.add_argument(
        "--status",
        choices=("failed", "cancelled"),
        action="append",
        help="tasks in this status (repeatable; default failed)",
    )
    retry.add_argument("--name", help="only tasks with this name")
    retry.add_argument("--label", help="only tasks with this label")
    retry.add_argument("--error-contains", metavar="TEXT", help="only tasks whose last error contains TEXT")
    retry.add_argument("--since", metavar="WHEN", help="finished since: 1h, 30m, 2d, or 2026-11-30T12:00 (UTC)")
    retry.add_argument("--until", metavar="WHEN", help="finished before WHEN")
    retry.add_argument("--dry-run", action="store_true", help="only count the tasks that would be retried")
    retry.add_argument("--yes", action="store_true", help="retry without asking")
    retry.set_defaults(run=guarded(run_retry))


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _attempts(task: TaskInfo) -> str:
    return f"{task.attempts}/{'∞' if task.max_attempts < 0 else task.max_attempts}"


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def run_list(args: argparse.Namespace) -> int:
    with Client(args.dsn) as client:
        tasks = client.tasks(status=args.status, name=args.name, limit=args.limit, before_id=args.before)
        start = args.before
        if start is None and len(tasks) < args.limit and (args.status or args.name):
            newest = client.tasks(limit=1)
            start = newest[0].id + 1 if newest else None
    rows = [
        [
            str(t.id),
            t.status,
            t.name,
            _attempts(t),
            _when(t.run_at),
            (t.last_error or "").splitlines()[0][:60] if t.last_error else "",
        ]
        for t in tasks
    ]
    print(_table(rows, ["ID", "STATUS", "NAME", "ATTEMPTS", "RUN AT (UTC)", "LAST ERROR"]))
    if not tasks:
        info("no tasks match")
    # A filtered listing looks at a window of ids (Client.tasks): say where it stopped.
    if len(tasks) < args.limit and (args.status or args.name) and start is not None and start > LIST_WINDOW:
        info(f"(looked at ids from {start - LIST_WINDOW} up; --before {start - LIST_WINDOW} looks further back)")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    with Client(args.dsn) as client:
        try:
            task = client.task(args.task_id)
        except TaskNotFound as err:
            info(str(err))
            return EXIT_NOT_FOUND
        events = client.events(args.task_id)
    fields = [
        ("id", str(task.id)),
        ("name", task.name),
        ("status", task.status + (" (cancel requested)" if task.cancel_requested else "")),
        ("attempts", _attempts(task)),
        ("priority", str(task.priority)),
        ("labels", ", ".join(task.labels) or "-"),
        ("run at", _when(task.run_at)),
        ("started at", _when(task.started_at)),
        ("finished at", _when(task.finished_at)),
        ("timeout", str(task.timeout)),
        ("retry intervals", ", ".join(str(d) for d in task.retry_intervals) or "-"),
        ("unique tag", task.unique_tag or "-"),
        ("parent", str(task.parent_id) if task.parent_id else "-"),
        ("worker", str(task.worker_id) if task.worker_id else "-"),
        ("created at", _when(task.created_at)),
        ("last error", task.last_error or "-"),
    ]
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        print(f"{key.rjust(width)}: {value}")
    print(f"{'parameters'.rjust(width)}: {json.dumps(dict(task.params), indent=2, ensure_ascii=False)}")
    print(f"\nevents ({len(events)}):")
    for event in events:
        attempt = f" attempt {event.attempt}" if event.attempt is not None else ""
        print(f"  {_when(event.created_at)}  {event.kind}{attempt}: {event.message or ''}")
        if event.traceback:
            for line in event.traceback.rstrip().splitlines():
                print(f"      {line}")
    return EXIT_OK


def run_cancel(args: argparse.Namespace) -> int:
    if (args.task_id is None) == (args.tags is None):
        raise CommandError("give a task id or --tag, not both and not neither", EXIT_USAGE)
    with Client(args.dsn) as client:
        try:
            changed = client.cancel(args.task_id, tags=args.tags, cascade=not args.no_cascade)
            status = client.task(args.task_id).status if args.task_id is not None else None
        except TaskNotFound as err:
            info(str(err))
            return EXIT_NOT_FOUND
    for task_id in changed:
        print(task_id)
    if args.task_id is not None and args.task_id not in changed:
        info(
            f"task {args.task_id} is already {status}; nothing to cancel"
            + (" (descendants: see above)" if changed else "")
        )
    elif status == "running":
        info(f"task {args.task_id} is running: it sees ctx.cancelled and ends cancelled when it returns")
    if args.task_id is None or changed:
        info(f"cancelled {len(changed)} task(s) (running ones end cancelled when their attempt returns)")
    return EXIT_OK


def run_pause(args: argparse.Namespace) -> int:
    with Client(args.dsn) as client:
        try:
            changed = client.pause(
                task_ids=args.task_ids or None, unique_tag=args.unique_tag, tags=args.tags, task_name=args.name
            )
        except TaskNotFound as err:
            info(str(err))
            return EXIT_NOT_FOUND
    if args.name is not None:
        info(
            f"task name {args.name!r} is paused: its new tasks wait until `anclax-fast tasks resume --name {args.name}`"
        )
    info(f"paused {changed} task(s) (running ones finish their attempt first)")
    print(changed)
    return EXIT_OK


def run_resume(args: argparse.Namespace) -> int:
    with Client(args.dsn) as client:
        try:
            changed = client.resume(
                task_ids=args.task_ids or None, unique_tag=args.unique_tag, tags=args.tags, task_name=args.name
            )
        except TaskNotFound as err:
            info(str(err))
            return EXIT_NOT_FOUND
    if args.name is not None:
        info(f"task name {args.name!r} is no longer paused")
    info(f"resumed {changed} task(s)")
    print(changed)
    return EXIT_OK


def run_wait(args: argparse.Namespace) -> int:
    with Client(args.dsn) as client:
        try:
            task = client.wait(args.task_id, timeout=args.timeout)
        except TaskNotFound as err:
            info(str(err))
            return EXIT_NOT_FOUND
        except WaitTimeout as err:
            info(str(err))
            return EXIT_NOT_COMPLETED
    print(task.status)
    if task.status != "completed":
        if task.last_error:
            print(task.last_error, file=sys.stderr)
        return EXIT_NOT_COMPLETED
    return EXIT_OK


def _retry_target(args: argparse.Namespace) -> TaskFilter | list[int]:
    filtering = any(
        value is not None for value in (args.status, args.name, args.label, args.error_contains, args.since, args.until)
    )
    if args.task_ids and filtering:
        raise CommandError("give task ids or filter options, not both", EXIT_USAGE)
    if args.task_ids:
        return list(args.task_ids)
    now = datetime.now(timezone.utc)
    return TaskFilter(
        status=tuple(args.status or ("failed",)),
        name=args.name,
        label=args.label,
        error_contains=args.error_contains,
        since=parse_moment(args.since, now, "--since") if args.since else None,
        until=parse_moment(args.until, now, "--until") if args.until else None,
    )


def run_retry(args: argparse.Namespace) -> int:
    target = _retry_target(args)
    with Client(args.dsn) as client:
        matching = client.retry(target, dry_run=True)
        info(f"{matching} task(s) to retry")
        if args.dry_run or matching == 0:
            print(matching)
            return EXIT_OK
        if not args.yes:
            if not sys.stdin.isatty():
                raise CommandError(
                    f"{matching} task(s) match: add --yes to retry them (or --dry-run to count)", EXIT_USAGE
                )
            answer = input(f"retry {matching} task(s)? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                info("nothing retried")
                return EXIT_OK
        retried = client.retry(target)
    info(f"retried {retried} task(s): they are pending again, due now")
    print(retried)
    return EXIT_OK
