#!/usr/bin/env bash
# Install the built wheel into fresh virtualenvs (no Rust toolchain, no source tree on the path)
# and run an end-to-end smoke test from them: the abi3 wheel must work on every Python >= 3.10
# found here.
set -euo pipefail
cd "$(dirname "$0")/.."
wheel=$(ls dist/anclax_fast-*manylinux*.whl)
interpreters=(python3)
# A name on PATH may be a pyenv shim for a version that is installed but not enabled (it fails
# when run), so each candidate must actually start before it is used.
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
for v in 3.10 3.12 3.13; do
    for candidate in $(command -v "python$v" || true) "$pyenv_root"/versions/"$v".*/bin/python; do
        if [ -x "$candidate" ] && "$candidate" -c 'import venv' >/dev/null 2>&1; then
            interpreters+=("$candidate")
            break
        fi
    done
done
for python in "${interpreters[@]}"; do
    env_dir=$(mktemp -d)
    "$python" -m venv "$env_dir"
    "$env_dir/bin/python" -m pip install -q --upgrade pip
    "$env_dir/bin/python" -m pip install -q "$wheel"
    echo "--- smoke test on $("$env_dir/bin/python" --version)"
    (cd "$env_dir" && PATH="$env_dir/bin:$PATH" "$env_dir/bin/python" "$OLDPWD/scripts/smoke.py")
    rm -rf "$env_dir"
done
