#!/usr/bin/env bash
# Prepares this checkout on a fresh machine: PostgreSQL server binaries (apt, when missing and
# running as root), a virtualenv in .venv with the pinned dev dependencies, and the compiled
# extension (maturin develop --release). Idempotent: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

have_pg_server() {
    command -v postgres >/dev/null 2>&1 && return 0
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/postgres" ]; then return 0; fi
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

if ! have_pg_server; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing PostgreSQL server binaries with apt (none found)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq postgresql >/dev/null
    else
        echo "error: no PostgreSQL server binaries found (looked in PATH, pg_config --bindir, /usr/lib/postgresql/*/bin)." >&2
        echo "       install them, e.g. 'sudo apt-get install postgresql' or 'brew install postgresql@15'." >&2
        exit 1
    fi
fi

if ! command -v cargo >/dev/null; then
    echo "error: cargo not found; install Rust from https://rustup.rs (needed to build the extension from source)." >&2
    exit 1
fi

stamp="$VENV/.deps-stamp"
if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv $VENV"
    "$PY" -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing Python dependencies into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q --group dev
    touch "$stamp"
fi

# BUILD_PROFILE: "fast" (default: optimized, quick to build) or "release" (fat LTO, for benchmarks).
PROFILE=${BUILD_PROFILE:-fast}
say "building the Rust extension (profile $PROFILE; the first build takes a few minutes)"
# maturin develop also installs the package's runtime dependencies into the virtualenv.
if ! VIRTUAL_ENV="$PWD/$VENV" "$VENV/bin/maturin" develop --profile "$PROFILE" >"$VENV/.build.log" 2>&1; then
    cat "$VENV/.build.log" >&2
    echo "error: building the extension failed (log above, also in $VENV/.build.log)" >&2
    exit 1
fi
