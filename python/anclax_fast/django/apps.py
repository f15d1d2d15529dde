# pyright: reportMissingModuleSource=false
# (Django 6 runs in its own environment; linting sees django-stubs only.)
"""The Django app of the integration: it brings the ``anclax_worker`` management command."""

from __future__ import annotations

from django.apps import AppConfig


class AnclaxConfig(AppConfig):
    name = "anclax_fast.django"
    label = "anclax_fast"
    verbose_name = "anclax-fast"
