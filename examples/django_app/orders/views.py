# pyright: reportMissingModuleSource=false
"""``POST /orders``: the order and its receipt task commit together, or neither exists."""

from __future__ import annotations

import json

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from orders.models import Order
from orders.tasks import send_receipt


class InvalidOrder(Exception):
    pass


@require_POST
def create_order(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    try:
        with transaction.atomic():
            order = Order.objects.create(email=data["email"], total_cents=data["total_cents"])
            receipt = send_receipt.enqueue(order.id)  # in this transaction
            if order.total_cents <= 0:
                raise InvalidOrder("an order must cost something")  # rolls back the order and the task
    except InvalidOrder as err:
        return JsonResponse({"error": str(err)}, status=400)
    return JsonResponse({"id": order.id, "receipt": receipt.id}, status=201)
