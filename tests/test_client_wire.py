"""The registry client over real sockets, where only a connection shows the behaviour:
keep-alive reuse, framing urllib3 must refuse, a download cut short, a silent or
trickling server, header injection, proxies (absolute form, CONNECT, IDNA)."""

from __future__ import annotations

import gzip
import threading
import time

import pytest
from helpers import RawServer, answer, keep_alive, make

from pystage.errors import PystageError


@pytest.fixture
def raw_server():
    servers = []

    def start(handler):
        server = RawServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_consecutive_requests_reuse_one_connection(tmp_path, raw_server):
    server = raw_server(keep_alive(answer(body=b'{"a": 1}'), answer(body=b'{"b": 2}')))
    client = make(tmp_path, server.url + "/")
    assert client.json("GET", "-/a") == {"a": 1}
    assert client.json("GET", "-/b") == {"b": 2}
    assert server.connections == 1
    assert server.requests[0][1]["host"] == f"127.0.0.1:{server.port}"


def test_chunked_gzip_answers_are_decoded_and_the_connection_kept(tmp_path, raw_server):
    payload = b'{"items": []}'
    packed = gzip.compress(payload)
    reply = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-encoding: gzip\r\n\r\n"
        + b"%x\r\n" % len(packed)
        + packed
        + b"\r\n0\r\n\r\n"
    )
    server = raw_server(keep_alive(reply, answer(body=b"{}")))
    client = make(tmp_path, server.url + "/")
    assert client.json("GET", "-/x") == {"items": []}
    assert "gzip" in server.requests[0][1]["accept-encoding"]
    assert client.json("GET", "-/y") == {}
    assert server.connections == 1


@pytest.mark.parametrize(
    "reply",
    [
        # what the own transport once accepted and urllib3 refuses (issue 12's probe)
        b"HTTP/1.1 200 OK\r\ncontent-length: 5, 10\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        b"garbage\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
    ],
    ids=["conflicting-length", "short", "bad-chunk-size", "garbage", "bad-status"],
)
def test_malformed_framing_is_a_network_error_never_a_wrong_body(tmp_path, raw_server, reply):
    def handler(conn, reader, n, server):
        server.read_request(reader)
        conn.sendall(reply)  # then close: a short body shows as such, not as a wait

    server = raw_server(handler)
    client = make(tmp_path, server.url + "/", **{"fetch-retries": 0, "fetch-timeout": 5000})
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/x")
    assert err.value.code in ("ECONNRESET", "EFETCH")
    assert err.value.message.startswith("request to ")


def test_a_download_cut_short_is_a_one_line_error_and_leaves_no_file(tmp_path, raw_server):
    from pystage.staging import download_staged

    def handler(conn, reader, n, server):
        server.read_request(reader)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n"
            b"content-length: 100000\r\n\r\n" + b"\x1f\x8b" + b"\0" * 5000
        )

    server = raw_server(handler)
    out = tmp_path / "out"
    out.mkdir()
    client = make(tmp_path, server.url + "/", **{"fetch-retries": 0})
    with pytest.raises(PystageError) as err:
        download_staged(client, "abc", output=str(out))
    assert err.value.code == "ECONNRESET"
    assert "/-/stage/abc/tarball" in err.value.message
    assert list(out.iterdir()) == []


def test_a_silent_server_is_etimedout_at_fetch_timeout(tmp_path, raw_server):
    done = threading.Event()

    def handler(conn, reader, n, server):
        server.read_request(reader)
        done.wait(10)

    server = raw_server(handler)
    client = make(tmp_path, server.url + "/", **{"fetch-retries": 0, "fetch-timeout": 300})
    started = time.monotonic()
    with pytest.raises(PystageError) as err:
        client.request("GET", "-/x")
    done.set()
    assert err.value.code == "ETIMEDOUT"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "headers",
    [{"npm-otp": "123456\r\nx-evil: 1"}, {"x\nname": "v"}, {"authorization": "Bearer \x00"}],
)
def test_line_breaks_in_headers_are_refused_before_connecting(tmp_path, raw_server, headers):
    server = raw_server(keep_alive(answer(body=b"{}")))
    with pytest.raises(PystageError) as err:
        make(tmp_path, server.url + "/").request("GET", "-/x", headers=headers)
    assert err.value.code == "EFETCH"
    assert server.requests == []


def test_http_through_a_proxy_uses_the_absolute_form_and_idna(tmp_path, raw_server):
    proxy = raw_server(keep_alive(answer(body=b"{}")))
    client = make(
        tmp_path,
        "http://bücher.example:8080/",
        npmrc="",
        proxy=f"http://127.0.0.1:{proxy.port}",
    )
    assert client.json("GET", "pkg?x=1") == {}
    line, headers, _ = proxy.requests[0]
    assert line == b"GET http://xn--bcher-kva.example:8080/pkg?x=1 HTTP/1.1"
    assert headers["host"] == "xn--bcher-kva.example:8080"


def test_a_tls_alert_asking_for_a_client_certificate_is_named():
    import ssl

    from pystage.session import classify

    class Alert(ssl.SSLError):
        reason = "TLSV13_ALERT_CERTIFICATE_REQUIRED"

    failure = classify(Alert(1, "tlsv13 alert certificate required"), "https://r.example/")
    assert failure.kind == "ECERT" and failure.client_certificate_required
    assert not failure.retryable
    reset = classify(ConnectionResetError(104, "reset"), "https://r.example/")
    assert reset.kind == "ECONNRESET"
