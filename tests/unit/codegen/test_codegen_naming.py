from __future__ import annotations

import keyword

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anclax_fast.naming import attribute_name, is_task_name, pascal_case, snake_case, split_words


@pytest.mark.parametrize(
    ("name", "snake"),
    [
        ("deleteOpaqueKey", "delete_opaque_key"),
        ("SendEmail", "send_email"),
        ("keyID", "key_id"),
        ("HTTPServer", "http_server"),
        ("getHTTPResponseCode", "get_http_response_code"),
        ("keyIDs", "key_ids"),
        ("URLs", "urls"),
        ("int32Value", "int32_value"),
        ("base64Data", "base64_data"),
        ("v2Name", "v2_name"),
        ("HTTP2Server", "http2_server"),
        ("2fa", "2fa"),
        ("user-name", "user_name"),
        ("user.name", "user_name"),
        ("already_snake", "already_snake"),
        ("a__b", "a_b"),
        ("_private", "private"),
        ("ABC", "abc"),
        ("名前ID", "名前_id"),
        ("", ""),
    ],
)
def test_snake_case(name: str, snake: str) -> None:
    assert snake_case(name) == snake


@pytest.mark.parametrize(
    ("name", "pascal"),
    [("delete_opaque_key", "DeleteOpaqueKey"), ("deleteOpaqueKey", "DeleteOpaqueKey"), ("http_server", "HttpServer")],
)
def test_pascal_case(name: str, pascal: str) -> None:
    assert pascal_case(name) == pascal


@pytest.mark.parametrize(
    ("wire", "attribute"),
    [
        ("keyID", "key_id"),
        ("class", "class_"),
        ("from", "from_"),
        ("json", "json_"),
        ("model_config", "model_config_"),
        ("str", "str_"),
        ("datetime", "datetime_"),
        ("l", "l_"),
        ("id", "id"),
        ("type", "type"),
        ("2fa", "field_2fa"),
        ("---", "field"),
    ],
)
def test_attribute_name(wire: str, attribute: str) -> None:
    assert attribute_name(wire) == attribute


@pytest.mark.parametrize(
    ("name", "valid"),
    [("SendEmail", True), ("a1_b", True), ("send-email", False), ("1a", False), ("", False), ("_a", False)],
)
def test_is_task_name(name: str, valid: bool) -> None:
    assert is_task_name(name) is valid


@given(st.text(max_size=30))
def test_attribute_names_are_usable_identifiers(wire: str) -> None:
    name = attribute_name(wire)
    assert name.isidentifier()
    assert not keyword.iskeyword(name)
    assert not name.startswith("_")  # pydantic would make it a private attribute


@given(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True))
def test_snake_case_of_task_names_is_stable(name: str) -> None:
    snake = snake_case(name)
    assert snake == snake_case(snake)
    assert snake.replace("_", "").isalnum()
    assert split_words(snake) == snake.split("_")
