"""The scripted loopback server (tests/fixtures_scripted.py) does what its docstring says.

Driven with the standard library's http.client and raw sockets, so these hold
whatever HTTP client pystage itself uses.
"""

from __future__ import annotations

import http.client
import json
import socket

import pytest


def conn(srv, timeout=5):
    return http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)


def get_bodies(srv, *paths):
    """GET each path in turn on one connection; the bodies answered."""
    c = conn(srv)
    bodies = []
    for path in paths:
        c.request("GET", path)
        bodies.append(c.getresponse().read())
    return bodies


def test_answers_in_order_per_path_and_the_last_repeats(scripted_server):
    scripted_server.get("-/a", status=503)
    scripted_server.get("/-/a", json={"n": 2})
    scripted_server.post(scripted_server.url + "-/a", body="posted", status=201)
    c = conn(scripted_server)
    got = []
    for method in ("GET", "GET", "POST", "GET"):
        c.request(method, "/-/a")
        r = c.getresponse()
        got.append((r.status, r.read(), r.getheader("content-type")))
    assert got == [
        (503, b"", None),
        (200, b'{"n": 2}', "application/json"),
        (201, b"posted", "text/plain; charset=utf-8"),
        (200, b'{"n": 2}', "application/json"),
    ]
    # one keep-alive connection carried all four
    assert [c.connection for c in scripted_server.calls] == [1, 1, 1, 1]


def test_records_method_path_query_headers_and_body(scripted_server):
    scripted_server.put("-/x", json={})
    c = conn(scripted_server)
    c.request("PUT", "/-/x?a=1&b=2", body=b"payload", headers={"NPM-OTP": "123456"})
    assert c.getresponse().status == 200
    (call,) = scripted_server.calls
    assert (call.method, call.path, call.query, call.body) == (
        "PUT",
        "/-/x?a=1&b=2",
        "a=1&b=2",
        b"payload",
    )
    assert call.headers["npm-otp"] == call.headers["Npm-Otp"] == "123456"
    assert "NPM-OTP" in call.headers and "authorization" not in call.headers


def test_chunked_request_body_is_read_and_the_connection_stays_usable(scripted_server):
    scripted_server.post("-/up", status=201)
    scripted_server.get("-/after", json=[1])
    c = conn(scripted_server)
    c.request("POST", "/-/up", body=iter([b"ab", b"cd"]), encode_chunked=True)
    r = c.getresponse()
    r.read()
    c.request("GET", "/-/after")
    assert c.getresponse().read() == b"[1]"
    assert [x.body for x in scripted_server.calls] == [b"abcd", b""]
    assert scripted_server.calls[1].connection == scripted_server.calls[0].connection


def test_query_specific_answer_wins_over_the_bare_path(scripted_server):
    scripted_server.get("-/q", json="any")
    scripted_server.get("-/q?page=2", json="two")
    assert get_bodies(scripted_server, "/-/q?page=1", "/-/q?page=2") == [b'"any"', b'"two"']


def test_percent_escapes_match_in_either_case(scripted_server):
    scripted_server.get("-/p/@s%2fpkg", json="lower")
    scripted_server.get("-/p/@t%2Fpkg", json="upper")
    bodies = get_bodies(scripted_server, "/-/p/@s%2Fpkg", "/-/p/@t%2fpkg")
    assert bodies == [b'"lower"', b'"upper"']
    assert [x.path for x in scripted_server.calls] == ["/-/p/@s%2Fpkg", "/-/p/@t%2fpkg"]


def test_unqueued_request_gets_a_500_naming_it_and_is_remembered(scripted_server):
    c = conn(scripted_server)
    c.request("DELETE", "/-/nothing?x=1")
    r = c.getresponse()
    assert r.status == 500
    assert "nothing queued for DELETE /-/nothing?x=1" in json.loads(r.read())["error"]
    assert [x.path for x in scripted_server.unmatched] == ["/-/nothing?x=1"]
    scripted_server.allow_unmatched = True  # this test wanted it


def test_reset_reads_the_request_then_hangs_up(scripted_server):
    scripted_server.post("-/r", reset=True)
    c = conn(scripted_server)
    c.request("POST", "/-/r", body=b"{}")
    with pytest.raises(http.client.RemoteDisconnected):
        c.getresponse()
    assert scripted_server.calls[0].body == b"{}"


def test_delay_outlasts_a_short_read_timeout(scripted_server):
    scripted_server.get("-/slow", delay=30, json={})
    c = conn(scripted_server, timeout=0.2)
    c.request("GET", "/-/slow")
    with pytest.raises(TimeoutError):
        c.getresponse()
    # teardown cuts the 30 s delay short (the suite's timeout would catch a hang)


def test_raw_bytes_are_written_as_they_are_then_the_connection_closes(scripted_server):
    raw = b"HTTP/1.1 200 OK\r\nX-Odd:  spaced \r\n\r\nno length, ends at close"
    scripted_server.get("-/raw", raw=raw)
    with socket.create_connection(("127.0.0.1", scripted_server.port), timeout=5) as s:
        s.sendall(b"GET /-/raw HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := s.recv(4096):
            received += chunk
    assert received == raw


def test_close_answers_then_drops_the_connection_unannounced(scripted_server):
    scripted_server.get("-/once", json={}, close=True)
    with socket.create_connection(("127.0.0.1", scripted_server.port), timeout=5) as s:
        s.sendall(b"GET /-/once HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := s.recv(4096):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"connection: close" not in head.lower()
    assert body == b"{}"
    assert scripted_server.wait_closed(1)


def test_wait_closed_waits_for_the_server_to_close(scripted_server):
    scripted_server.get("-/keep", json={})
    c = conn(scripted_server)
    c.request("GET", "/-/keep")
    c.getresponse().read()
    assert not scripted_server.wait_closed(1, timeout=0.05)  # kept alive
    assert not scripted_server.wait_closed(2, timeout=0.05)  # never opened
    c.close()
    assert scripted_server.wait_closed(1)


def test_two_servers_are_two_hosts(scripted_servers):
    a, b = scripted_servers(), scripted_servers()
    assert a.port != b.port and a.url != b.url
