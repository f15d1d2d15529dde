"""Parameter models reject what the schema does not allow. Each ``# expect-error`` line must be
reported by both mypy and basedpyright, and nothing else may be."""

from __future__ import annotations

from codegen.golden.tutorial import (
    DeleteOpaqueKeyParameters,
    ProcessDailyReportsParameters,
    SendEmailParameters,
    SendNotificationParameters,
)

wrong_type = SendEmailParameters(user_id="42", template_id="welcome")  # expect-error
missing = SendEmailParameters(user_id=42)  # expect-error
wire_name = DeleteOpaqueKeyParameters(keyID=1)  # expect-error
unknown_field = SendEmailParameters(user_id=1, template_id="x", template="y")  # expect-error
not_in_enum = SendNotificationParameters(user_id=1, message="m", priority="urgent")  # expect-error
not_a_date = ProcessDailyReportsParameters(date="2024-05-01")  # expect-error
attribute: str = DeleteOpaqueKeyParameters(key_id=1).key_id  # expect-error
