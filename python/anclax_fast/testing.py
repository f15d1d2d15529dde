"""A throwaway PostgreSQL cluster for tests, demos and benchmarks.

:class:`EmbeddedPostgres` runs ``initdb`` and ``postgres`` from the installed server binaries in a
fresh temporary directory, listening on a Unix socket in that directory and on a free localhost
port. When the current process is root, the server runs as an unprivileged OS user (``postgres``
if it exists, else ``nobody``), since Postgres refuses to run as root.

Nothing outlives its owner:

- ``stop()`` (also called by the context manager and at interpreter exit, which includes an
  unhandled Ctrl-C) shuts the server down and removes the directory;
- the postmaster gets ``SIGQUIT`` from the kernel when the process that started it dies any other
  way, even by ``SIGKILL`` (Linux ``PR_SET_PDEATHSIG``). The kernel ties that signal to the
  *thread* that forked the server, so servers are forked by one long-lived thread of the
  process: ``start()`` and ``restart()`` may be called from any thread;
- a directory left behind by a crashed owner is reaped (server killed, files removed) by the
  next ``start()`` on the same machine.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TypeAlias

from anclax_fast.errors import PostgresNotFound

__all__ = ["EmbeddedPostgres", "find_server_bindir"]

_DIR_PREFIX = "anclax-pg-"
_OWNER_FILE = "owner.json"
_PR_SET_PDEATHSIG = 1
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0
# Where distributions put server binaries that are not on PATH (Debian/Ubuntu, source builds, Homebrew).
_VERSIONED_ROOT = Path("/usr/lib/postgresql")
_FIXED_BINDIRS = ("/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin")

# Tuned for tests: durability is irrelevant for a cluster that is deleted afterwards.
TEST_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "128MB",
}

# What the benchmarks use: the settings of ../shared/reference/postgres-queue-notes.md (durable).
BENCH_SETTINGS: Mapping[str, str] = {
    "fsync": "on",
    "synchronous_commit": "on",
    "shared_buffers": "1GB",
    "max_wal_size": "8GB",
    "max_connections": "300",
}


def find_server_bindir() -> Path:
    """Return the directory holding ``postgres`` and ``initdb``, or raise :class:`PostgresNotFound`."""
    candidates: list[Path] = []
    on_path = shutil.which("postgres")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10)
            candidates.append(Path(out.stdout.strip()))
    versioned = sorted(_VERSIONED_ROOT.glob("*/bin"), key=_version_key, reverse=True)
    candidates.extend(versioned)
    candidates.extend(Path(p) for p in _FIXED_BINDIRS)
    for bindir in candidates:
        if (bindir / "postgres").is_file() and (bindir / "initdb").is_file():
            return bindir
    raise PostgresNotFound(
        "no PostgreSQL server binaries found (looked for 'postgres' and 'initdb' on PATH, in "
        "`pg_config --bindir` and in /usr/lib/postgresql/*/bin). Install the server, e.g. "
        "`sudo apt-get install postgresql` on Debian/Ubuntu or `brew install postgresql@15` on macOS, "
        "or point ANCLAX_DSN at an existing database."
    )


def _version_key(path: Path) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in path.parent.name.split("."))
    except ValueError:
        return (0,)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as, or None when not running as root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresNotFound("running as root, but neither a 'postgres' nor a 'nobody' OS user exists to run the server")


def reap_orphans(tmp_root: Path | None = None) -> int:
    """Stop and delete clusters whose owning process is gone. Returns how many were reaped."""
    root = tmp_root or Path(tempfile.gettempdir())
    reaped = 0
    for directory in root.glob(f"{_DIR_PREFIX}*"):
        try:
            owner = json.loads((directory / _OWNER_FILE).read_text())
            owner_pid = int(owner["owner_pid"])
            owner_start = float(owner.get("owner_start", 0))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _pid_alive(owner_pid) and _process_start_time(owner_pid) == owner_start:
            continue
        postmaster = _read_postmaster_pid(directory / "data")
        if postmaster is not None and _pid_alive(postmaster):
            with contextlib.suppress(OSError):
                os.kill(postmaster, signal.SIGQUIT)
            _wait_dead(postmaster, _STOP_TIMEOUT_S)
            with contextlib.suppress(OSError):
                os.kill(postmaster, signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)
        reaped += 1
    return reaped


def _process_start_time(pid: int) -> float:
    """Start time of a process in clock ticks since boot (0 when unknown); guards against pid reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # Field 22 (starttime) follows the parenthesised command name, which may contain spaces.
    fields = stat[stat.rindex(")") + 2 :].split()
    return float(fields[19])


def _read_postmaster_pid(datadir: Path) -> int | None:
    try:
        first = (datadir / "postmaster.pid").read_text().splitlines()[0]
        return int(first)
    except (OSError, ValueError, IndexError):
        return None


def _wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.02)
    return not _pid_alive(pid)


_Outcome: TypeAlias = "subprocess.Popen[bytes] | BaseException"


class _Forker:
    """Runs ``subprocess.Popen`` calls on one daemon thread that lives as long as the process.

    The parent-death signal set by :func:`_die_with_parent` fires when the thread that forked the
    child ends, not the process: a server (re)started from a short-lived thread (a test's fault
    injector, say) would be shot down as soon as that thread returned.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[tuple[Callable[[], subprocess.Popen[bytes]], threading.Event, list[_Outcome]]] = []
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def run(self, call: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        done, result = threading.Event(), list[_Outcome]()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="anclax-pg-forker", daemon=True)
                self._thread.start()
            self._calls.append((call, done, result))
            self._wake.notify()
        done.wait()
        outcome = result[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._calls:
                    self._wake.wait()
                call, done, result = self._calls.pop(0)
            try:
                result.append(call())
            except BaseException as err:  # handed to the caller
                result.append(err)
            done.set()


_FORKER = _Forker()


def _die_with_parent(parent_pid: int) -> None:
    """preexec_fn: ask the kernel to SIGQUIT the postmaster when its parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


class EmbeddedPostgres:
    """A temporary PostgreSQL cluster. Use as a context manager, or call ``start()``/``stop()``.

    ``dsn`` is a libpq URL for the superuser ``postgres`` on database ``postgres`` over TCP.
    """

    def __init__(
        self,
        *,
        settings: Mapping[str, str] | None = None,
        bindir: Path | None = None,
        quiet: bool = True,
    ) -> None:
        self.settings: dict[str, str] = dict(TEST_SETTINGS if settings is None else settings)
        self._bindir = bindir
        self._quiet = quiet
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._port = 0
        self._user: pwd.struct_passwd | None = None
        self._atexit_registered = False

    # -- public surface -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self._port}/postgres"

    def dsn_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self._port}/{database}"

    @property
    def directory(self) -> Path:
        if self._dir is None:
            raise RuntimeError("the cluster is not started")
        return self._dir

    @property
    def datadir(self) -> Path:
        return self.directory / "data"

    @property
    def socket_dir(self) -> Path:
        return self.directory

    @property
    def log_path(self) -> Path:
        return self.directory / "postgres.log"

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_server_bindir()
        return self._bindir

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> EmbeddedPostgres:
        if self.running:
            return self
        bindir = self.bindir
        reap_orphans()
        self._user = _server_user()
        self._dir = Path(tempfile.mkdtemp(prefix=_DIR_PREFIX))
        owner = {"owner_pid": os.getpid(), "owner_start": _process_start_time(os.getpid())}
        (self._dir / _OWNER_FILE).write_text(json.dumps(owner))
        if self._user is not None:
            os.chown(self._dir, self._user.pw_uid, self._user.pw_gid)
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        self._progress("initialising a temporary PostgreSQL cluster")
        self._run_as_server_user(
            [
                str(bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ]
        )
        self._launch()
        return self

    def stop(self) -> None:
        """Shut the server down (fast, then immediate, then kill) and delete its directory."""
        self._shutdown_server()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def restart(self, *, mode: str = "fast") -> None:
        """Stop the server and start it again on the same port and data (for fault-injection tests).

        ``mode`` is ``"fast"`` (SIGINT: clients disconnected, clean shutdown) or ``"immediate"``
        (SIGQUIT: crash-like, recovery on start).
        """
        self._shutdown_server(first_signal=signal.SIGQUIT if mode == "immediate" else signal.SIGINT)
        self._launch(port=self._port)

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------------

    def _progress(self, message: str) -> None:
        if not self._quiet:
            print(f"[anclax-fast] {message}", file=sys.stderr, flush=True)

    def _ids(self) -> tuple[int | None, int | None, list[int] | None]:
        """uid, gid and supplementary groups for the server processes (all None: stay who we are)."""
        if self._user is None:
            return None, None, None
        return self._user.pw_uid, self._user.pw_gid, []

    def _server_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        if self._user is not None:
            env["HOME"] = str(self.directory)
        return env

    def _run_as_server_user(self, argv: list[str]) -> None:
        uid, gid, groups = self._ids()
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=self._server_env(),
            cwd=self.directory,
            check=False,
            user=uid,
            group=gid,
            extra_groups=groups,
        )
        if result.returncode != 0:
            raise PostgresNotFound(
                f"{Path(argv[0]).name} failed with exit code {result.returncode}:\n{result.stdout}{result.stderr}"
            )

    def _launch(self, port: int | None = None) -> None:
        self._port = port or _free_port()
        options = {
            **self.settings,
            "listen_addresses": "127.0.0.1",
            "port": str(self._port),
            "unix_socket_directories": str(self.socket_dir),
            "logging_collector": "off",
        }
        argv = [str(self.bindir / "postgres"), "-D", str(self.datadir)]
        for key, value in options.items():
            argv += ["-c", f"{key}={value}"]
        parent = os.getpid()
        uid, gid, groups = self._ids()
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed right after
        try:
            self._proc = _FORKER.run(
                lambda: subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=self._server_env(),
                    cwd=self.directory,
                    start_new_session=True,  # a Ctrl-C in the terminal is ours to handle, not the server's
                    preexec_fn=lambda: _die_with_parent(parent),  # noqa: PLW1509 - only async-signal-safe calls
                    user=uid,
                    group=gid,
                    extra_groups=groups,
                )
            )
        finally:
            log.close()
        self._wait_ready()
        self._progress(f"PostgreSQL is up on 127.0.0.1:{self._port} (data in {self.directory})")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        pidfile = self.datadir / "postmaster.pid"
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise PostgresNotFound(f"PostgreSQL exited during start-up; its log:\n{self._log_tail()}")
            with contextlib.suppress(OSError):
                lines = pidfile.read_text().splitlines()
                # Line 8 of postmaster.pid is the postmaster status; "ready" once it accepts connections.
                if len(lines) >= 8 and lines[7].strip() == "ready":
                    return
            time.sleep(0.02)
        raise PostgresNotFound(
            f"PostgreSQL did not become ready in {_START_TIMEOUT_S:.0f}s; its log:\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _shutdown_server(self, first_signal: int = signal.SIGINT) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for sig, wait in ((first_signal, _STOP_TIMEOUT_S), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
            if proc.poll() is not None:
                break
            with contextlib.suppress(OSError):
                proc.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=wait)


@contextlib.contextmanager
def embedded_postgres(settings: Mapping[str, str] | None = None, *, quiet: bool = True) -> Generator[EmbeddedPostgres]:
    """Context manager form: ``with embedded_postgres() as pg: use(pg.dsn)``."""
    pg = EmbeddedPostgres(settings=settings, quiet=quiet)
    try:
        yield pg.start()
    finally:
        pg.stop()
