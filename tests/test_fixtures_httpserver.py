"""The scripted registries of tests/fixtures_httpserver.py do what their docstring says,
so a test written against them can fail: answers in order per path with the last one
repeating, query and percent-escape matching, what is recorded, the 404 and 500 for
requests nobody scripted. Driven with requests over the real socket."""

from __future__ import annotations

import pytest
import requests


def test_answers_in_order_per_path_and_the_last_repeats(scripted_server):
    scripted_server.get("-/a", status=503)
    scripted_server.get("/-/a", json={"n": 2})
    scripted_server.post(scripted_server.url + "-/a", body="posted", status=201)
    url = scripted_server.url + "-/a"
    with requests.Session() as http:
        got = [
            (r.status_code, r.content, r.headers.get("content-type"))
            for r in (http.get(url), http.get(url), http.post(url), http.get(url))
        ]
    assert got == [
        (503, b"", None),  # no body, no content-type
        (200, b'{"n": 2}', "application/json"),
        (201, b"posted", "text/plain; charset=utf-8"),
        (200, b'{"n": 2}', "application/json"),
    ]


def test_records_method_path_query_headers_and_body(scripted_server):
    scripted_server.put("-/x", json={})
    response = requests.put(
        scripted_server.url + "-/x?a=1&b=2", data=b"payload", headers={"NPM-OTP": "123456"}
    )
    assert response.status_code == 200
    (call,) = scripted_server.calls
    assert (call.method, call.path, call.query, call.body) == (
        "PUT",
        "/-/x?a=1&b=2",
        "a=1&b=2",
        b"payload",
    )
    assert call.headers["npm-otp"] == "123456"


def test_a_query_specific_answer_wins_and_escapes_match_in_either_case(scripted_server):
    scripted_server.get("-/s?page=1", json={"page": 1})
    scripted_server.get("-/s", json={"page": "any"})
    scripted_server.get("@a%2fb", json={"escaped": True})
    base = scripted_server.url
    assert requests.get(base + "-/s?page=1").json() == {"page": 1}
    assert requests.get(base + "-/s?page=2").json() == {"page": "any"}
    assert requests.get(base + "@a%2Fb").json() == {"escaped": True}


def test_an_unscripted_request_is_a_500_naming_it_and_remembered(scripted_servers):
    server = scripted_servers()
    response = requests.delete(server.url + "-/nothing")
    assert response.status_code == 500
    assert "nothing queued for DELETE /-/nothing" in response.json()["error"]
    assert [c.path for c in server.unmatched] == ["/-/nothing"]
    server.unmatched.clear()  # (else it fails this test at teardown, as it should)


def test_two_servers_are_two_hosts(scripted_servers):
    one, two = scripted_servers(), scripted_servers()
    one.get("-/x", json={"server": 1})
    two.get("-/x", json={"server": 2})
    assert one.port != two.port
    assert requests.get(two.url + "-/x").json() == {"server": 2}
    assert requests.get(one.url + "-/x").json() == {"server": 1}


def test_a_recording_server_answers_from_its_script_and_404s_the_rest(recording_server):
    server = recording_server()
    server.script[("POST", "/-/v1/login")] = lambda req: (
        201,
        {"x-seen": "1"},
        {"echo": req["body"].decode()},
    )
    server.script[("GET", "/tarball")] = (200, {"content-type": "application/octet-stream"}, b"tgz")
    answer = requests.post(server.url + "-/v1/login?next=1", data=b"hi")
    assert (answer.status_code, answer.json(), answer.headers["x-seen"]) == (
        201,
        {"echo": "hi"},
        "1",
    )
    assert requests.get(server.url + "tarball").content == b"tgz"
    assert requests.get(server.url + "other").status_code == 404
    assert [(r["method"], r["path"]) for r in server.requests] == [
        ("POST", "/-/v1/login?next=1"),
        ("GET", "/tarball"),
        ("GET", "/other"),
    ]


@pytest.mark.parametrize("keyword", ["reset", "delay", "raw", "close"])
def test_socket_misbehaviour_is_not_offered_here(scripted_server, keyword):
    # resets, delays and raw bytes are helpers.RawServer's job (a real socket script)
    with pytest.raises(TypeError):
        scripted_server.get("-/x", **{keyword: True})
