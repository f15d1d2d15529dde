"""AsyncTaskRunner methods take their own parameter model, the documented overrides and asyncio
transactions only; TaskRunner takes blocking transactions only."""

from __future__ import annotations

import datetime

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from anclax_fast import AsyncClient, Client
from codegen.golden.tutorial import (
    AsyncTaskRunner,
    ProcessOrderParameters,
    SendEmailParameters,
    TaskRunner,
)


async def enqueue(
    client: AsyncClient, sync_client: Client, session: Session, async_session: AsyncSession, conn: psycopg.Connection
) -> None:
    runner = AsyncTaskRunner(client)
    email = SendEmailParameters(user_id=1, template_id="welcome")
    await runner.run_send_email(ProcessOrderParameters(order_id=1))  # expect-error
    await runner.run_send_email(email, retries=3)  # expect-error
    await runner.run_send_email(email, timeout=10)  # expect-error
    await runner.run_send_email(email, if_exists="ignore")  # expect-error
    await runner.run_send_email(email, run_at=datetime.date(2024, 1, 1))  # expect-error
    await runner.run_send_email_many([email], unique_tag="once")  # expect-error
    await runner.run_send_email_with_tx(session, email)  # expect-error
    await runner.run_send_email_with_tx(conn, email)  # expect-error
    await runner.run_send_email_with_tx("BEGIN", email)  # expect-error
    print((await runner.run_send_email(email)).upper())  # expect-error
    TaskRunner(sync_client).run_send_email_with_tx(async_session, email)  # expect-error
    AsyncTaskRunner(sync_client)  # expect-error
