# pyright: reportMissingModuleSource=false
#!/usr/bin/env python
"""Django's command-line utility for this example (``python manage.py anclax_worker``, ...)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_shop.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
