"""The HTTP API. ``POST /orders`` writes the order and enqueues its receipt in one transaction:
both commit, or (sold out, any error) neither exists."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from anclax_fast import AsyncClient
from shop_api import settings
from shop_api.models import Order, Product
from shop_api.taskgen import AsyncTaskRunner, SendReceiptParameters


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncGenerator[None]:
    engine = create_async_engine(settings.sqlalchemy_url("asyncpg"))
    async with AsyncClient(settings.dsn()) as anclax:
        app.state.sessions = async_sessionmaker(engine, expire_on_commit=False)
        app.state.tasks = AsyncTaskRunner(anclax)
        yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


async def session(request: Request) -> AsyncGenerator[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as s:
        yield s


def tasks(request: Request) -> AsyncTaskRunner:
    runner: AsyncTaskRunner = request.app.state.tasks
    return runner


class OrderIn(BaseModel):
    product_id: int
    email: str


class OrderOut(BaseModel):
    id: int
    receipt_task_id: int


@app.post("/orders", status_code=201)
async def create_order(
    order: OrderIn,
    db: Annotated[AsyncSession, Depends(session)],
    runner: Annotated[AsyncTaskRunner, Depends(tasks)],
) -> OrderOut:
    async with db.begin():
        row = Order(product_id=order.product_id, email=order.email)
        db.add(row)
        await db.flush()  # the order's id
        # The task row is written through the session's connection, in this transaction.
        task_id = await runner.run_send_receipt_with_tx(db, SendReceiptParameters(order_id=row.id))
        row.receipt_task_id = task_id
        taken = await db.scalar(
            update(Product)
            .where(Product.id == order.product_id, Product.stock > 0)
            .values(stock=Product.stock - 1)
            .returning(Product.stock)
        )
        if taken is None:
            # Leaving the block with an exception rolls back the order and its receipt task.
            raise HTTPException(status_code=409, detail="sold out")
    return OrderOut(id=row.id, receipt_task_id=task_id)
