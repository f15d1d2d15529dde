"""The dashboard: ``anclax-fast ui``, or ``create_app(client)`` mounted in an ASGI application.

Needs the ``ui`` extra (``pip install 'anclax-fast[ui]'``): Starlette, and uvicorn to serve it
on its own. See docs/ui.md.
"""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("starlette") is None:  # pragma: no cover - depends on how it was installed
    raise ImportError("the anclax-fast dashboard needs the 'ui' extra: pip install 'anclax-fast[ui]'")

from anclax_fast.ui.app import create_app

__all__ = ["create_app"]
