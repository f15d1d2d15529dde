"""The DSN password never appears in logs, exception messages, tracebacks or ``repr``s.

The passwords contain characters that are special in URLs and in key/value DSNs (``:@/?#%&'"``
and a space), given percent-encoded in URLs and quoted in key/value strings; a leak is looked
for in every form the password could take (as given, decoded, encoded).
"""

from __future__ import annotations

import subprocess
import sys
import traceback
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anclax_fast import AnclaxError, Client, ConfigurationError, DatabaseError, DatabaseUnavailable, Worker
from anclax_fast._core import redact_dsn
from tests.chaos.fleet import REPO_ROOT
from tests.security.conftest import APP_PASSWORD, OWNER_PASSWORD, SecureCluster, url
from tests.support import SPEC, Recorder

WRONG_PASSWORD = "Wrong-s3cret:@/?#%&'\" pw"


def forms(password: str) -> set[str]:
    """The ways a password can be written down: as is, URL-encoded (two flavours), quoted."""
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    return {password, quote(password, safe=""), quote(password), f"'{escaped}'"}


SECRETS = forms(APP_PASSWORD) | forms(OWNER_PASSWORD) | forms(WRONG_PASSWORD)


def leaks(text: str) -> list[str]:
    return sorted(secret for secret in SECRETS if secret in text)


def key_value(password: str, port: int, **extra: str) -> str:
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    options = " ".join(f"{key}={value}" for key, value in extra.items())
    return f"host=127.0.0.1 port={port} user=anclax_app password='{escaped}' dbname=app {options}".strip()


def described(err: BaseException) -> str:
    """Everything an error shows: message, repr, traceback with its chained causes."""
    return "\n".join([str(err), repr(err), *traceback.format_exception(err)])


pytestmark = pytest.mark.postgres


def test_both_dsn_forms_connect_and_their_reprs_hide_the_password(secure_cluster: SecureCluster) -> None:
    for dsn in (secure_cluster.app_dsn, key_value(APP_PASSWORD, secure_cluster.port)):
        with Client(dsn) as client:
            with client.transaction() as tx:
                assert tx.fetchval("SELECT current_user") == "anclax_app"
            shown = " ".join([repr(client), str(client), client.dsn, repr(client.core), redact_dsn(dsn)])
            assert leaks(shown) == [], shown
            assert "***" in client.dsn


@pytest.mark.parametrize("form", ["url", "key-value"])
def test_a_wrong_password_is_an_error_that_does_not_show_either_password(
    secure_cluster: SecureCluster, form: str
) -> None:
    dsn = (
        url("anclax_app", WRONG_PASSWORD, secure_cluster.port)
        if form == "url"
        else key_value(WRONG_PASSWORD, secure_cluster.port)
    )
    with Client(dsn) as client, pytest.raises(DatabaseError) as err:
        client.task(1)
    assert "password authentication failed" in str(err.value)
    assert leaks(described(err.value)) == []
    with Client(dsn) as client, pytest.raises(DatabaseError) as err:
        Worker(client, Recorder(), SPEC, auto_migrate=False).start()
    assert leaks(described(err.value)) == []


def test_an_unreachable_server_is_an_error_that_does_not_show_the_password() -> None:
    dsn = url("anclax_app", APP_PASSWORD, port=1)
    with Client(dsn) as client, pytest.raises(DatabaseUnavailable) as err:
        client.task(1)
    assert leaks(described(err.value)) == []


@pytest.mark.parametrize(
    "dsn",
    [
        url("anclax_app", APP_PASSWORD, port=5432).replace(":5432/", ":notaport/"),
        url("anclax_app", APP_PASSWORD, port=5432) + "?sslmode=bogus",
        key_value(APP_PASSWORD, 5432, sslmode="bogus"),
        key_value(APP_PASSWORD, 5432).replace("port=5432", "port=notaport"),
        f"postgresql://anclax_app:{quote(APP_PASSWORD, safe='')}@[::1/app",
    ],
    ids=["url-bad-port", "url-bad-option", "kv-bad-option", "kv-bad-port", "url-broken-host"],
)
def test_an_invalid_dsn_is_an_error_that_does_not_show_the_password(dsn: str) -> None:
    with pytest.raises(AnclaxError) as err:
        Client(dsn).task(1)
    assert isinstance(err.value, (ConfigurationError, DatabaseError))
    assert leaks(described(err.value)) == []


@pytest.mark.slow
def test_logs_of_a_worker_s_life_and_of_failed_connections_do_not_show_the_password(
    secure_cluster: SecureCluster,
) -> None:
    wrong = url("anclax_app", WRONG_PASSWORD, secure_cluster.port)
    unreachable = url("anclax_app", APP_PASSWORD, port=1)
    probe = subprocess.run(
        [sys.executable, "-m", "tests.security.log_probe", secure_cluster.app_dsn, wrong, unreachable],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = probe.stdout + probe.stderr
    assert probe.returncode == 0, output
    # The probe saw what it was meant to: a worker's life at DEBUG, and both failures.
    assert "STATUS completed" in output
    assert "started" in output
    assert "stopped" in output
    assert "password authentication failed" in output
    assert "the worker could not start" in output
    assert leaks(output) == [], output


PASSWORDS = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=30).map(
    lambda tail: "Pw#" + tail  # a prefix that nothing else in a DSN contains, so a leak is unambiguous
)


@settings(max_examples=500)
@given(
    password=PASSWORDS, user=st.sampled_from(["app", "a.b", "user_1"]), query=st.sampled_from(["", "?sslmode=disable"])
)
def test_redaction_removes_any_password_from_a_url(password: str, user: str, query: str) -> None:
    dsn = f"postgresql://{user}:{quote(password, safe='')}@db.example:5432/app{query}"
    redacted = redact_dsn(dsn)
    assert redacted == f"postgresql://{user}:***@db.example:5432/app{query}"


@settings(max_examples=500)
@given(password=PASSWORDS, before=st.booleans())
def test_redaction_removes_any_quoted_password_from_key_values(password: str, before: bool) -> None:
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    options = ["host=db.example", "user=app", f"password='{escaped}'", "dbname=app"]
    if before:
        options.insert(0, options.pop(2))
    redacted = redact_dsn(" ".join(options))
    assert "Pw#" not in redacted, redacted
    assert "password=***" in redacted
    assert "host=db.example" in redacted
    assert "dbname=app" in redacted


@settings(max_examples=300)
@given(password=PASSWORDS)
def test_redaction_removes_a_password_given_as_a_url_parameter(password: str) -> None:
    redacted = redact_dsn(f"postgresql://app@db.example/app?sslmode=disable&password={quote(password, safe='')}")
    assert "Pw" not in redacted, redacted
