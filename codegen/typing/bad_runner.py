"""TaskRunner methods accept their own parameter model and the documented overrides only."""

from __future__ import annotations

import datetime

from anclax_fast import Client
from codegen.golden.tutorial import (
    ProcessOrderParameters,
    SendEmailParameters,
    SendNotificationParameters,
    TaskRunner,
)


def enqueue(client: Client) -> None:
    runner = TaskRunner(client)
    email = SendEmailParameters(user_id=1, template_id="welcome")
    runner.run_send_email(ProcessOrderParameters(order_id=1))  # expect-error
    runner.run_send_email(email, retries=3)  # expect-error
    runner.run_send_email(email, timeout=10)  # expect-error
    runner.run_send_email(email, if_exists="ignore")  # expect-error
    runner.run_send_email(email, run_at=datetime.date(2024, 1, 1))  # expect-error
    runner.run_send_email()  # expect-error
    runner.run_send_email_many([email], unique_tag="once")  # expect-error
    runner.run_send_email_with_tx("BEGIN", email)  # expect-error
    runner.run_send_notification(SendNotificationParameters(user_id=1, message="m"), priority="high")  # expect-error
    runner.run_sendemail(email)  # expect-error
    runner.run_send_email(email, tags=[1, 2])  # expect-error
