# pyright: reportMissingModuleSource=false
"""Settings of the example shop: one PostgreSQL database (``ANCLAX_DSN``) holding both the shop's
tables and the ``anclax`` schema, so tasks are enqueued in the shop's own transactions."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

_dsn = urlsplit(os.environ["ANCLAX_DSN"])

SECRET_KEY = "example-only"  # an example, never deployed
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "django_shop.urls"
INSTALLED_APPS = ["anclax_fast.django", "orders"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _dsn.path.lstrip("/"),
        "USER": unquote(_dsn.username or ""),
        "PASSWORD": unquote(_dsn.password or ""),
        "HOST": _dsn.hostname or "",
        "PORT": _dsn.port or "",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    # Tasks are written in the transaction of the code that enqueues them.
    "default": {
        "BACKEND": "anclax_fast.django.AnclaxBackend",
        "QUEUES": ["default", "emails"],
        "OPTIONS": {"RETRY": {"interval": "100ms", "max_attempts": 3}, "TIMEOUT": "1m"},
    },
    # The same database, but tasks wait for the atomic() block to commit before they are written.
    "after_commit": {
        "BACKEND": "anclax_fast.django.AnclaxBackend",
        "OPTIONS": {"ENQUEUE_ON_COMMIT": True},
    },
}
