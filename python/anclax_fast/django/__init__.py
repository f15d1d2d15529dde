# pyright: reportMissingModuleSource=false
# (Django 6 runs in its own environment; linting sees django-stubs only.)
"""anclax-fast as a backend of Django's task framework (``django.tasks``, Django 6+).

.. code-block:: python

    INSTALLED_APPS = [..., "anclax_fast.django"]  # the anclax_worker management command
    TASKS = {"default": {"BACKEND": "anclax_fast.django.AnclaxBackend", "OPTIONS": {...}}}

See ``docs/integrations.md``.
"""

from anclax_fast.django.backend import AnclaxBackend

__all__ = ["AnclaxBackend"]
