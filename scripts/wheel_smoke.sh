#!/usr/bin/env bash
# Install the built wheel into fresh virtualenvs (no Rust toolchain, no source tree on the path)
# and run an end-to-end smoke test from them: the abi3 wheel must work on every Python >= 3.10
# found here.
set -euo pipefail
cd "$(dirname "$0")/.."
wheel=$(ls dist/anclax_fast-*.whl)
interpreters=(python3)
for v in 3.10 3.12 3.13; do
    candidate=$(command -v "python$v" || ls /root/.pyenv/versions/"$v".*/bin/python 2>/dev/null | head -n 1 || true)
    [ -n "$candidate" ] && interpreters+=("$candidate")
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
