#!/usr/bin/env bash
# A virtualenv with Django 6 for the django.tasks backend's tests and examples/django_app: Django 6
# needs Python 3.12+, which the project's own .venv may not be. It imports anclax_fast from this
# checkout (python/, with the extension `make install` built there), so nothing is built twice.
# Idempotent; prints the virtualenv's python. DJANGO_VENV overrides its place (.venv-django).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${DJANGO_VENV:-.venv-django}
# Pinned like the dependency groups in pyproject.toml (anclax_fast's runtime dependencies, Django,
# the psycopg driver Django uses, pytest).
REQUIREMENTS=(
    "django==6.1.3" "psycopg[binary]==3.3.9" "pytest==9.2.0"
    "pydantic==2.14.4" "typing-extensions==4.16.0" "PyYAML==6.0.4" "jsonschema==4.26.0" "Jinja2==3.1.6"
    "prometheus-client==0.26.0"
)
stamp="$VENV/.django-stamp"
wanted="${REQUIREMENTS[*]}"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    python=""
    pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
    # A name on PATH may be a pyenv shim for a version that is not enabled: each must start.
    for v in 3.12 3.13 3.14; do
        for candidate in $(command -v "python$v" || true) "$pyenv_root"/versions/"$v".*/bin/python; do
            if [ -x "$candidate" ] && "$candidate" -c 'import venv' >/dev/null 2>&1; then
                python=$candidate
                break 2
            fi
        done
    done
    if [ -z "$python" ]; then
        echo "error: Django 6 needs Python 3.12 or newer, and none was found (python3.12, python3.13, pyenv)." >&2
        exit 1
    fi
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${REQUIREMENTS[@]}" >&2
    site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
    echo "$PWD/python" > "$site/anclax_fast.pth"
    echo "$wanted" > "$stamp"
fi
echo "$PWD/$VENV/bin/python"
