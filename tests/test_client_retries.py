"""The client's one retry policy, in-process (``responses``): what is retried, how long
it waits between tries (npm's fetch-retry-* settings, or the answer's Retry-After) and
what is never repeated. No socket is opened and no real time passes: the client's
``sleep`` records the waits."""

from __future__ import annotations

import socket
import ssl
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests
import responses
from helpers import make

from pystage.errors import PystageError, RegistryHTTPError

REGISTRY = "http://registry.test/"
STAGE = REGISTRY + "-/stage"
# npm's defaults are 10 s, x10, at most 60 s; these make each wait distinct
POLICY = {
    "fetch-retries": 3,
    "fetch-retry-mintimeout": 1000,
    "fetch-retry-factor": 2,
    "fetch-retry-maxtimeout": 5000,
}


@pytest.fixture
def registry():
    with responses.RequestsMock() as mock:
        yield mock


def _client(tmp_path, **config):
    waits: list[float] = []
    client = make(tmp_path, REGISTRY, **{**POLICY, **config})
    client.sleep = waits.append
    return client, waits


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_a_get_is_tried_again_after_a_transient_status(tmp_path, registry, status):
    registry.get(STAGE, status=status, json={"error": "busy"})
    registry.get(STAGE, json={"items": []})
    client, waits = _client(tmp_path)
    assert client.json("GET", "-/stage") == {"items": []}
    assert len(registry.calls) == 2 and waits == [1.0]


def test_waits_grow_by_the_factor_up_to_the_maximum(tmp_path, registry):
    for _ in range(4):
        registry.get(STAGE, status=503)
    client, waits = _client(tmp_path, **{"fetch-retries": 3, "fetch-retry-maxtimeout": 3000})
    with pytest.raises(RegistryHTTPError) as err:
        client.request("GET", "-/stage")
    assert err.value.code == "E503" and err.value.status == 503
    # 1 s, 1 x 2, 1 x 2^2 = 4 capped at 3
    assert waits == [1.0, 2.0, 3.0]
    assert len(registry.calls) == 4  # the first try and fetch-retries more


def test_fetch_retries_zero_sends_once(tmp_path, registry):
    registry.get(STAGE, status=503)
    client, waits = _client(tmp_path, **{"fetch-retries": 0})
    with pytest.raises(RegistryHTTPError):
        client.request("GET", "-/stage")
    assert len(registry.calls) == 1 and waits == []


def test_retry_after_in_seconds_replaces_the_backoff(tmp_path, registry):
    registry.get(STAGE, status=429, headers={"retry-after": "2"})
    registry.get(STAGE, status=503, headers={"retry-after": "0"})
    registry.get(STAGE, json={"items": []})
    client, waits = _client(tmp_path)
    client.json("GET", "-/stage")
    assert waits == [2.0, 0.0]


def test_retry_after_as_an_http_date(tmp_path, registry):
    when = datetime.now(timezone.utc) + timedelta(seconds=40)
    registry.get(STAGE, status=503, headers={"retry-after": format_datetime(when, usegmt=True)})
    registry.get(STAGE, json={"items": []})
    client, waits = _client(tmp_path, **{"fetch-retry-maxtimeout": 60000})
    client.json("GET", "-/stage")
    # the date is to the second: 39-40 s from now, less the time this test took
    assert len(waits) == 1 and 30.0 <= waits[0] <= 40.0


def test_an_unreadable_retry_after_falls_back_to_the_backoff(tmp_path, registry):
    registry.get(STAGE, status=503, headers={"retry-after": "soon"})
    registry.get(STAGE, json={"items": []})
    client, waits = _client(tmp_path)
    client.json("GET", "-/stage")
    assert waits == [1.0]


def test_a_retry_after_longer_than_the_maximum_wait_is_not_waited_for(tmp_path, registry):
    # e.g. a lockout of 5 minutes: a shorter wait would be refused again, so the
    # answer is shown at once
    registry.get(STAGE, status=429, headers={"retry-after": "300"}, json={"error": "locked"})
    client, waits = _client(tmp_path)
    with pytest.raises(RegistryHTTPError) as err:
        client.request("GET", "-/stage")
    assert err.value.code == "E429" and "locked" in err.value.message
    assert len(registry.calls) == 1 and waits == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_other_statuses_are_not_retried(tmp_path, registry, status):
    registry.get(STAGE, status=status, json={"error": "no"})
    client, waits = _client(tmp_path)
    with pytest.raises(RegistryHTTPError) as err:
        client.request("GET", "-/stage")
    assert err.value.status == status
    assert len(registry.calls) == 1 and waits == []


def test_a_post_is_not_repeated_after_a_transient_status(tmp_path, registry):
    # the server may have acted on it: staging twice is worse than one error
    registry.post(STAGE, status=503)
    client, waits = _client(tmp_path)
    with pytest.raises(RegistryHTTPError) as err:
        client.request("POST", "-/stage", json={"a": 1})
    assert err.value.code == "E503" and err.value.method == "POST"
    assert len(registry.calls) == 1 and waits == []


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_idempotent_writes_are_retried(tmp_path, registry, method):
    registry.add(method, STAGE, status=502)
    registry.add(method, STAGE, json={"ok": True})
    client, waits = _client(tmp_path)
    assert client.json(method, "-/stage", json={"a": 1}) == {"ok": True}
    assert [c.request.body for c in registry.calls] == [b'{"a": 1}', b'{"a": 1}']
    assert waits == [1.0]


def _refused() -> requests.ConnectionError:
    return requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))


def test_a_get_is_retried_after_a_network_failure_then_reported(tmp_path, registry):
    for _ in range(4):
        registry.get(STAGE, body=requests.ConnectionError("Connection aborted"))
    client, waits = _client(tmp_path)
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/stage")
    assert err.value.code == "ECONNRESET"
    assert len(registry.calls) == 4 and waits == [1.0, 2.0, 4.0]


def test_a_post_that_cannot_have_reached_the_server_is_retried(tmp_path, registry):
    registry.post(STAGE, body=_refused())
    registry.post(STAGE, json={"ok": True})
    client, waits = _client(tmp_path)
    assert client.json("POST", "-/stage", json={"a": 1}) == {"ok": True}
    assert len(registry.calls) == 2 and waits == [1.0]


@pytest.mark.parametrize(
    "failure",
    [
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("Connection aborted"),
    ],
    ids=["read-timeout", "reset"],
)
def test_a_post_that_may_have_reached_the_server_is_not_retried(tmp_path, registry, failure):
    registry.post(STAGE, body=failure)
    client, waits = _client(tmp_path)
    with pytest.raises(PystageError):
        client.request("POST", "-/stage", json={"a": 1})
    assert len(registry.calls) == 1 and waits == []


@pytest.mark.parametrize(
    "failure,code",
    [
        (requests.ConnectionError(socket.gaierror(-2, "Name or service not known")), "ENOTFOUND"),
        (
            requests.exceptions.SSLError(
                ssl.SSLCertVerificationError(1, "certificate verify failed")
            ),
            "ECERT",
        ),
        (requests.exceptions.InvalidHeader("bad header"), "EFETCH"),
    ],
    ids=["unknown-name", "certificate", "invalid-request"],
)
def test_failures_that_would_fail_again_are_not_retried(tmp_path, registry, failure, code):
    registry.get(STAGE, body=failure)
    client, waits = _client(tmp_path)
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/stage")
    assert err.value.code == code
    assert len(registry.calls) == 1 and waits == []


def test_a_streamed_body_is_not_sent_twice(tmp_path, registry):
    # a one-shot stream (no seek) cannot be replayed: the failure is reported
    class OneShot:
        def __init__(self):
            self.chunks = [b"abc"]

        def read(self, n=-1):
            return self.chunks.pop() if self.chunks else b""

    registry.put(STAGE, body=_refused())
    client, waits = _client(tmp_path)
    with pytest.raises(PystageError) as err:
        client.request("PUT", "-/stage", data=OneShot(), headers={"content-length": "3"})
    assert err.value.code == "ECONNREFUSED"
    assert len(registry.calls) == 1 and waits == []


def test_a_seekable_body_is_sent_again_from_where_it_started(tmp_path, registry):
    import io

    received = []

    def answer(request):
        received.append(request.body)  # responses reads a file body as it would be sent
        return (503, {}, "") if len(received) == 1 else (200, {}, '{"ok": true}')

    registry.add_callback("PUT", STAGE, callback=answer)
    client, _ = _client(tmp_path)
    body = io.BytesIO(b"xxxx" + b"payload")
    body.seek(4)  # a file positioned past a header the caller wrote elsewhere
    assert client.json("PUT", "-/stage", data=body) == {"ok": True}
    assert received == [b"payload", b"payload"]
