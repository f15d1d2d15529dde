"""Where the database is: ``ANCLAX_DSN`` (a libpq URL), used by anclax and, with the driver
named, by SQLAlchemy."""

from __future__ import annotations

import os


def dsn() -> str:
    return os.environ["ANCLAX_DSN"]


def sqlalchemy_url(driver: str) -> str:
    return dsn().replace("postgresql://", f"postgresql+{driver}://", 1)
