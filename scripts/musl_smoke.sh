#!/usr/bin/env bash
# Install the musllinux wheel into a fresh virtualenv of a CPython linked against musl and run the
# end-to-end smoke test from it: MUSL_PYTHON=/path/to/musl/python3 bash scripts/musl_smoke.sh
#
# Not part of CI: no musl CPython can be installed here (no Alpine packages or images), and
# building one takes a quarter of an hour. The one this was run with was built from Debian's
# source packages (apt-get source, with deb-src enabled) of python3.11 (3.11.2), zlib, libffi and
# openssl, each compiled with musl-gcc (Debian's musl-tools) through a wrapper that answers
# `-print-multiarch` with x86_64-linux-musl, with the kernel's linux/, asm/ and asm-generic/
# headers on the include path, and `dpkg-architecture` hidden from CPython's setup.py (it would
# add glibc's include directory); anclax_fast needs ctypes and ssl from it (prometheus_client
# imports ssl). Its pip installs offline: the dependencies' musllinux wheels are downloaded
# beforehand by this machine's pip. The database is an embedded PostgreSQL started by the
# project's virtualenv (make install), its DSN passed on, so the musl Python needs no server.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
: "${MUSL_PYTHON:?set MUSL_PYTHON to a CPython (3.10+) built against musl}"
wheel=$(ls "$root"/dist/anclax_fast-*musllinux_1_2_x86_64.whl)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! "$MUSL_PYTHON" -c 'import sys, sysconfig; assert "musl" in sysconfig.get_config_var("HOST_GNU_TYPE"), sys.exit(1)'; then
    echo "error: $MUSL_PYTHON is not linked against musl" >&2
    exit 1
fi
version=$("$MUSL_PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')

echo "--- downloading the dependencies' musllinux wheels for CPython $version"
python3 -m pip download -q --only-binary=:all: --platform musllinux_1_2_x86_64 --platform musllinux_1_1_x86_64 \
    --python-version "$version" --implementation cp -d "$work/wheelhouse" "$wheel"

echo "--- installing into a fresh virtualenv of $("$MUSL_PYTHON" --version) (offline)"
"$MUSL_PYTHON" -m venv "$work/env"
"$work/env/bin/python" -m pip install -q --no-index --find-links "$work/wheelhouse" "$wheel"
"$work/env/bin/python" -c 'import anclax_fast._core as core; print("loaded", core.__file__)'

echo "--- smoke test, on an embedded PostgreSQL started by .venv"
mkfifo "$work/dsn" "$work/hold"
# The server runs until its stdin closes: the script holds the write end open (fd 9) until it ends.
"$root/.venv/bin/python" -c '
import sys
from anclax_fast.testing import EmbeddedPostgres
with EmbeddedPostgres() as pg:
    with open(sys.argv[1], "w") as out:
        out.write(pg.dsn + "\n")
    sys.stdin.read()
' "$work/dsn" <"$work/hold" &
database=$!
exec 9>"$work/hold"
trap 'exec 9>&-; wait $database; rm -rf "$work"' EXIT
exec 8<>"$work/dsn"
read -t 120 -r dsn <&8 || { echo "error: the embedded PostgreSQL did not start" >&2; exit 1; }
(cd "$work/env" && ANCLAX_SMOKE_DSN=$dsn PATH="$work/env/bin:$PATH" "$work/env/bin/python" "$root/scripts/smoke.py") \
    >"$work/smoke.log" 2>&1 || { cat "$work/smoke.log"; exit 1; }
grep -E '^anclax-fast |smoke test passed' "$work/smoke.log"
