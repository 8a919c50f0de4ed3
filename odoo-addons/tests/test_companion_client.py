"""CompanionClient (plain Python + requests) against the REAL middleware (COMPANION_URL)."""

import logging
import os
import socket
import time

import pytest
import requests

from odoo_companion.models.companion_client import (
    CompanionAuthError,
    CompanionClient,
    CompanionError,
    CompanionUnavailable,
)

NULL_GUID = "00000000-0000-0000-0000-000000000000"


def test_middleware_environment_is_set():
    """Fails (never skips) when the suite is run without a middleware to talk to."""
    missing = [n for n in ("COMPANION_URL", "COMPANION_API_KEY", "COMPANION_READONLY_KEY") if not os.environ.get(n)]
    assert missing == [], "set %s: run `npx vitest run tests/odoo-addons.test.ts`" % ", ".join(missing)


@pytest.fixture
def client(companion_url, companion_api_key):
    with CompanionClient(companion_url, companion_api_key, timeout=(5, 20)) as c:
        yield c


def test_endpoint_is_derived_from_the_base_url(companion_url, companion_api_key):
    base = companion_url.rstrip("/")
    assert CompanionClient(base, "k").endpoint == base + "/jsonrpc"
    assert CompanionClient(base + "/", "k").endpoint == base + "/jsonrpc"
    assert CompanionClient(base + "/jsonrpc", "k").endpoint == base + "/jsonrpc"
    with pytest.raises(ValueError):
        CompanionClient("", "k")
    with pytest.raises(ValueError):
        CompanionClient(base, "")


def test_projects_get_dos22309(client):
    project = client.call("projects.get", {"name": "DOS22309"})
    assert project["name"] == "DOS22309"
    assert len(project["phases"]) == 2
    assert sum(len(p["elevations"]) for p in project["phases"]) == 17
    defaults = [p for p in project["phases"] if p["is_default"]]
    assert [p["logikal_id"] for p in defaults] == [NULL_GUID]


def test_call_without_params_and_keep_alive_session(client):
    first = client.call("projects.list")
    second = client.call("projects.list", {"first": 1})
    assert {p["name"] for p in first["items"]} == {"DOS22309", "DOS22410"}
    assert len(second["items"]) == 1 and second["next_cursor"]
    assert isinstance(client.session, requests.Session)


def test_discover(client):
    document = client.call("rpc.discover")
    names = {m["name"] for m in document["methods"]}
    assert {"projects.list", "projects.get", "sync.status", "sync.cancel"} <= names


def test_batch_keeps_call_order_and_reports_errors_per_call(client):
    results = client.batch(
        [
            ("projects.get", {"name": "DOS22309", "with_elevations": False}),
            ("no.such.method", None),
            ("projects.list", {"first": 1}),
            ("projects.get", {"id": "not a number"}),
        ]
    )
    assert len(results) == 4
    assert results[0]["name"] == "DOS22309" and len(results[0]["phases"]) == 2
    assert isinstance(results[1], CompanionError) and results[1].code == -32601
    assert len(results[2]["items"]) == 1
    assert isinstance(results[3], CompanionError) and results[3].code == -32602
    assert [p["field"] for p in results[3].field_problems] == ["id"]
    with pytest.raises(CompanionError) as info:
        client.batch([("projects.list", None), ("no.such.method", None)], raise_on_error=True)
    assert info.value.code == -32601
    assert client.batch([]) == []


def test_invalid_params_carry_field_problems(client):
    with pytest.raises(CompanionError) as info:
        client.call("projects.get", {"id": "x", "bogus": 1})
    error = info.value
    assert type(error) is CompanionError
    assert error.code == -32602
    assert error.data["code"] == "BAD_USER_INPUT"
    fields_ = {p["field"] for p in error.field_problems}
    assert fields_ == {"id", "bogus"}
    assert "bogus" in str(error)


def test_not_found(client):
    with pytest.raises(CompanionError) as info:
        client.call("projects.get", {"name": "NO-SUCH-PROJECT"})
    assert info.value.code == -32004
    assert info.value.field_problems == []


def test_bad_key_is_an_auth_error(companion_url):
    with CompanionClient(companion_url, "oc_0000000000_not-a-real-key") as bad:
        with pytest.raises(CompanionAuthError) as info:
            bad.call("projects.list")
        assert info.value.code == -32001
        with pytest.raises(CompanionAuthError):
            bad.batch([("projects.list", None)])


def test_read_only_key_is_forbidden_to_cancel(companion_url, companion_readonly_key):
    with CompanionClient(companion_url, companion_readonly_key) as read_only:
        assert read_only.call("projects.list", {"first": 1})["items"]  # the key itself works
        with pytest.raises(CompanionError) as info:
            read_only.call("sync.cancel", {"run_id": 1})
    error = info.value
    assert not isinstance(error, CompanionAuthError)
    assert error.code == -32003
    assert error.data["requiredScope"] == "sync"


def test_connection_refused_is_unavailable(dead_url):
    client = CompanionClient(dead_url, "some-key", timeout=(2, 2))
    started = time.monotonic()
    with pytest.raises(CompanionUnavailable) as info:
        client.call("projects.list")
    assert time.monotonic() - started < 5
    assert isinstance(info.value, CompanionError) and info.value.code is None
    assert isinstance(info.value.cause, requests.exceptions.ConnectionError)


def test_read_timeout_is_unavailable():
    # A listening socket that never answers: the kernel completes the handshake, nobody replies.
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        client = CompanionClient("http://127.0.0.1:%d" % silent.getsockname()[1], "some-key", timeout=(2, 0.5))
        started = time.monotonic()
        with pytest.raises(CompanionUnavailable) as info:
            client.call("projects.list")
        assert time.monotonic() - started < 3
        assert isinstance(info.value.cause, requests.exceptions.Timeout)
        with pytest.raises(CompanionUnavailable):
            client.batch([("projects.list", None)])
    finally:
        silent.close()


def test_api_key_is_never_logged_or_shown(companion_url, companion_api_key, caplog, dead_url):
    caplog.set_level(logging.DEBUG)
    secret = "oc_1234567890_very-secret-value"
    errors = []
    with CompanionClient(companion_url, companion_api_key) as good:
        good.call("projects.list", {"first": 1})
        try:
            good.call("projects.get", {"bogus": 1})
        except CompanionError as error:
            errors.append(error)
        assert companion_api_key not in repr(good)
    for url in (companion_url, dead_url):
        bad = CompanionClient(url, secret, timeout=(2, 2))
        try:
            bad.call("projects.list")
        except CompanionError as error:
            errors.append(error)
        assert secret not in repr(bad)
    assert [type(e) for e in errors] == [CompanionError, CompanionAuthError, CompanionUnavailable]
    assert caplog.records, "the client should log (without secrets)"
    for text in [caplog.text] + [str(e) + repr(e.data) for e in errors]:
        assert companion_api_key not in text
        assert secret not in text
