#!/usr/bin/env bash
# `pip install` the sdist the way pip does on a machine no wheel fits, into fresh virtualenvs:
#   1. without Rust on PATH and with maturin's automatic rustup download switched off
#      (MATURIN_NO_INSTALL_RUST=1): the install must fail with a message that says to install Rust;
#   2. without Rust on PATH and the download blocked (RUSTUP_UPDATE_ROOT points at a closed local
#      port, as on a machine without internet access): it must fail, naming rustup;
#   3. with Rust: it must build from source, and the end-to-end smoke test must pass from it.
# Build 3 uses the quick `fast` profile (passed through maturin's PEP 517 config settings) rather
# than the release profile's fat LTO, which `make wheel` already exercises, and reuses this
# checkout's compiled dependencies (CARGO_TARGET_DIR=target). The crate itself must be compiled
# from the sdist's sources: the sdist's files carry a fixed old mtime, so cargo would take the
# checkout's build of the crate as up to date. A profile setting for the crate alone
# (non-incremental) makes its fingerprint differ from that build's, so cargo compiles it again
# (and the next `make install` rebuilds the checkout's; `make sdist-smoke` runs that first).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sdist=$(ls "$root"/dist/anclax_fast-*.tar.gz)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { printf -- '--- %s (at %ss)\n' "$*" "$SECONDS"; }

fresh_venv() {
    "$python" -m venv "$work/$1"
    "$work/$1/bin/python" -m pip install -q --upgrade pip
}

# PATH without any directory that holds cargo (rustup's ~/.cargo/bin, a system cargo).
no_rust_path=$("$python" -c '
import os
dirs = os.environ["PATH"].split(os.pathsep)
print(os.pathsep.join(d for d in dirs if not os.path.exists(os.path.join(d, "cargo"))))')
if PATH=$no_rust_path command -v cargo >/dev/null; then
    echo "error: cannot hide cargo from PATH for the no-Rust checks" >&2
    exit 1
fi

expect_failure_mentioning() {
    local name=$1 pattern=$2
    shift 2
    fresh_venv "$name"
    if env PATH="$no_rust_path" XDG_CACHE_HOME="$work/cache-$name" "$@" \
        "$work/$name/bin/python" -m pip install --no-cache-dir "$sdist" >"$work/$name.log" 2>&1; then
        cat "$work/$name.log"
        echo "error: the sdist installed without Rust ($name)" >&2
        exit 1
    fi
    if ! grep -Eq "$pattern" "$work/$name.log"; then
        cat "$work/$name.log"
        echo "error: the failed install ($name) does not mention /$pattern/" >&2
        exit 1
    fi
    echo "failed as expected; pip's output names Rust:"
    grep -E "$pattern" "$work/$name.log" | sed 's/^/    /'
}

say "sdist without Rust, MATURIN_NO_INSTALL_RUST=1"
expect_failure_mentioning no-rust 'Rust|rustup' env MATURIN_NO_INSTALL_RUST=1

say "sdist without Rust, the rustup download blocked"
expect_failure_mentioning no-download 'rustup' env RUSTUP_UPDATE_ROOT=http://127.0.0.1:9/rustup

say "sdist with Rust: build from source (profile fast, shared target dir)"
fresh_venv with-rust
CARGO_TARGET_DIR="$root/target" "$work/with-rust/bin/python" -m pip install -v --no-cache-dir \
    --config-settings=maturin.build-args="--profile fast --config profile.fast.package.anclax-fast.incremental=false" \
    "$sdist" >"$work/with-rust.log" 2>&1 || { cat "$work/with-rust.log"; exit 1; }
grep -E 'Compiling anclax-fast .*pip-|Finished|Built wheel' "$work/with-rust.log" | sed 's/^ */    /'
grep -q 'Compiling anclax-fast .*pip-' "$work/with-rust.log" || {
    echo "error: cargo reused a build of the crate instead of compiling the sdist (run make sdist-smoke)" >&2
    exit 1
}
say "smoke test of the package built from the sdist"
(cd "$work/with-rust" && PATH="$work/with-rust/bin:$PATH" "$work/with-rust/bin/python" "$root/scripts/smoke.py") \
    >"$work/smoke.log" 2>&1 || { cat "$work/smoke.log"; exit 1; }
grep -E '^anclax-fast |smoke test passed' "$work/smoke.log"
say "done"
