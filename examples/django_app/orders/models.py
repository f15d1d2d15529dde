# pyright: reportMissingModuleSource=false
from __future__ import annotations

from datetime import datetime

from django.db import models


class Order(models.Model):
    id: int  # (the automatic primary key, spelled out for type checkers)
    email: models.EmailField[str, str] = models.EmailField()
    total_cents: models.IntegerField[int, int] = models.IntegerField()
    receipt_sent_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(null=True)
    audited: models.BooleanField[bool, bool] = models.BooleanField(default=False)
