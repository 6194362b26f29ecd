"""The HTTP/1.1 transport against raw loopback servers that answer byte for byte:
framing (Content-Length, chunked, until close), gzip, 1xx, keep-alive reuse and a
server closing an idle connection, timeouts, bodies, header safety, CONNECT."""

from __future__ import annotations

import gzip
import io
import socket
import threading

import pytest

from pystage import transport as t


class RawServer:
    """Accepts connections; ``handler(conn, reader, n)`` scripts each one (n counts them)."""

    def __init__(self, handler) -> None:
        self.handler = handler
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.requests: list[tuple[bytes, dict[str, str], bytes]] = []
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            th = threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True)
            th.start()
            self._threads.append(th)

    def _serve(self, conn, n) -> None:
        with conn, conn.makefile("rb") as reader:
            try:
                self.handler(conn, reader, n, self)
            except OSError:
                pass

    def read_request(self, reader):
        """One request: (request line, headers, body by Content-Length or chunked)."""
        line = reader.readline()
        if not line:
            return None
        headers = {}
        while (h := reader.readline()) not in (b"\r\n", b""):
            name, _, value = h.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if "content-length" in headers:
            body = reader.read(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            while size := int(reader.readline().strip(), 16):
                body += reader.read(size)
                reader.readline()
            reader.readline()
        self.requests.append((line.rstrip(), headers, body))
        return line, headers, body

    def close(self) -> None:
        self.sock.close()


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


def answer(status=200, body=b"", headers=()):
    head = [f"HTTP/1.1 {status} OK", f"content-length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def keep_alive(*answers):
    """A handler answering every request on a connection, in turn, with ``answers``."""

    def handler(conn, reader, n, server):
        for reply in answers:
            if server.read_request(reader) is None:
                return
            conn.sendall(reply)

    return handler


def test_keep_alive_connections_are_reused(raw_server):
    server = raw_server(keep_alive(answer(body=b"one"), answer(body=b"two")))
    transport = t.Transport()
    assert transport.request("GET", server.url + "/a").content == b"one"
    assert transport.request("GET", server.url + "/b").content == b"two"
    assert server.connections == 1
    assert [r[0] for r in server.requests] == [b"GET /a HTTP/1.1", b"GET /b HTTP/1.1"]
    assert server.requests[0][1]["host"] == f"127.0.0.1:{server.port}"


def test_an_idle_connection_the_server_closed_is_replaced(raw_server):
    def handler(conn, reader, n, server):
        server.read_request(reader)
        conn.sendall(answer(body=f"conn {n}".encode()))
        # then the server closes the keep-alive connection (as on an idle timeout)

    server = raw_server(handler)
    transport = t.Transport()
    assert transport.request("GET", server.url + "/").content == b"conn 1"
    assert transport.request("GET", server.url + "/").content == b"conn 2"
    assert server.connections == 2


def test_a_reused_connection_closed_without_an_answer_repeats_a_get_once(raw_server):
    def handler(conn, reader, n, server):
        server.read_request(reader)
        if n == 1:
            conn.sendall(answer(body=b"first"))
            server.read_request(reader)  # the second request arrives, and the server quits
            conn.shutdown(socket.SHUT_RDWR)
            return
        conn.sendall(answer(body=b"fresh"))

    server = raw_server(handler)
    transport = t.Transport()
    transport.request("GET", server.url + "/")
    # the server still looks alive when the request goes out; its close comes after
    transport._idle[next(iter(transport._idle))][0].dropped = lambda: False
    assert transport.request("GET", server.url + "/").content == b"fresh"


def test_a_post_is_never_repeated_on_a_connection_that_broke(raw_server):
    def handler(conn, reader, n, server):
        server.read_request(reader)
        if n == 1:
            conn.sendall(answer(body=b"first"))
            server.read_request(reader)
            conn.shutdown(socket.SHUT_RDWR)
            return
        conn.sendall(answer(body=b"repeated!"))

    server = raw_server(handler)
    transport = t.Transport()
    transport.request("GET", server.url + "/")
    transport._idle[next(iter(transport._idle))][0].dropped = lambda: False
    with pytest.raises(t.ConnectionBroken) as err:
        transport.request("POST", server.url + "/approve", data=b"{}")
    assert err.value.sent
    assert server.connections == 1


def test_chunked_and_gzip_answers_are_decoded(raw_server):
    payload = b'{"items": []}' * 500
    packed = gzip.compress(payload)
    chunks = b"".join(
        b"%x;ext=1\r\n" % len(packed[i : i + 100]) + packed[i : i + 100] + b"\r\n"
        for i in range(0, len(packed), 100)
    )
    reply = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-encoding: gzip\r\n\r\n"
        + chunks
        + b"0\r\nx-trailer: yes\r\n\r\n"
    )
    server = raw_server(keep_alive(reply, answer(body=b"next")))
    transport = t.Transport(headers={"accept-encoding": "gzip"})
    resp = transport.request("GET", server.url + "/")
    assert resp.content == payload
    assert server.requests[0][1]["accept-encoding"] == "gzip"
    # the trailer was consumed: the connection carries the next request
    assert transport.request("GET", server.url + "/").content == b"next"
    assert server.connections == 1


def test_a_body_read_until_close_and_an_interim_100_answer(raw_server):
    def handler(conn, reader, n, server):
        server.read_request(reader)
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nx-a: 1\r\nx-a: 2\r\n\r\nall")

    server = raw_server(handler)
    resp = t.Transport().request("GET", server.url + "/")
    assert (resp.status_code, resp.content) == (200, b"all")
    assert resp.headers["X-A"] == "1, 2" and "x-a" in resp.headers


def test_head_and_204_answers_have_no_body(raw_server):
    server = raw_server(
        keep_alive(
            b"HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            answer(body=b"after"),
        )
    )
    transport = t.Transport()
    assert transport.request("HEAD", server.url + "/").content == b""
    assert transport.request("DELETE", server.url + "/").status_code == 204
    assert transport.request("GET", server.url + "/").content == b"after"
    assert server.connections == 1


def test_an_answer_shorter_than_its_length_is_a_broken_connection(raw_server):
    def handler(conn, reader, n, server):
        server.read_request(reader)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort")

    server = raw_server(handler)
    with pytest.raises(t.ConnectionBroken, match="5 bytes early"):
        t.Transport().request("GET", server.url + "/")


@pytest.mark.parametrize(
    "reply",
    [b"garbage\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"],
)
def test_a_malformed_answer_is_a_broken_connection(raw_server, reply):
    def handler(conn, reader, n, server):
        server.read_request(reader)
        conn.sendall(reply)

    server = raw_server(handler)
    with pytest.raises(t.ConnectionBroken):
        t.Transport().request("GET", server.url + "/")


def test_a_silent_server_is_a_read_timeout(raw_server):
    done = threading.Event()

    def handler(conn, reader, n, server):
        server.read_request(reader)
        done.wait(5)

    server = raw_server(handler)
    with pytest.raises(t.ReadTimeout) as err:
        t.Transport().request("GET", server.url + "/", timeout=(5, 0.2))
    done.set()
    assert err.value.sent


def test_refused_and_unresolvable_hosts_fail_before_sending():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(t.ConnectError) as err:
        t.Transport().request("GET", f"http://127.0.0.1:{port}/")
    assert not err.value.sent
    with pytest.raises(t.NameNotResolved):
        t.Transport().request("GET", "http://no-such-host.invalid/")


@pytest.mark.parametrize(
    "data, framing",
    [
        (b"x" * 200_000, "content-length"),
        ("text body", "content-length"),
        (io.BytesIO(b"from a stream"), "transfer-encoding"),
        ((piece for piece in [b"gen", b"", b"erated"]), "transfer-encoding"),
    ],
)
def test_request_bodies(raw_server, data, framing):
    server = raw_server(keep_alive(answer(status=201)))
    resp = t.Transport().request("PUT", server.url + "/x", data=data, params={"a": "b c"})
    assert resp.status_code == 201
    line, headers, body = server.requests[0]
    assert line == b"PUT /x?a=b+c HTTP/1.1"
    assert framing in headers
    assert headers.get("transfer-encoding", "chunked") == "chunked"
    expected = {bytes: lambda d: d, str: str.encode}.get(type(data))
    if expected:
        assert body == expected(data)
    else:
        assert body in (b"from a stream", b"generated")


def test_a_sized_iterable_goes_with_its_length(raw_server, tmp_path):
    class Sized:
        def __len__(self):
            return 6

        def __iter__(self):
            yield b"abc"
            yield b"def"

    server = raw_server(keep_alive(answer()))
    t.Transport().request("POST", server.url + "/", data=Sized())
    assert server.requests[0][1]["content-length"] == "6"
    assert server.requests[0][2] == b"abcdef"
    path = tmp_path / "f"
    path.write_bytes(b"file bytes")
    server = raw_server(keep_alive(answer()))
    with open(path, "rb") as fh:
        t.Transport().request("POST", server.url + "/", data=fh)
    assert server.requests[0][1]["content-length"] == "10"


@pytest.mark.parametrize(
    "headers",
    [{"npm-otp": "123456\r\nx-evil: 1"}, {"x\nname": "v"}, {"authorization": "Bearer \x00"}],
)
def test_line_breaks_in_headers_are_refused_before_connecting(headers):
    with pytest.raises(t.InvalidRequest) as err:
        t.Transport().request("GET", "http://127.0.0.1:9/", headers=headers)
    assert not err.value.sent


def test_streamed_answers_are_read_in_pieces_and_an_abandoned_one_is_not_reused(raw_server):
    big = bytes(range(256)) * 1024
    server = raw_server(keep_alive(answer(body=big), answer(body=b"again")))
    transport = t.Transport()
    resp = transport.request("GET", server.url + "/", stream=True)
    assert b"".join(resp.iter_content(1000)) == big
    assert transport.request("GET", server.url + "/").content == b"again"
    assert server.connections == 1
    server = raw_server(keep_alive(answer(body=big), answer(body=b"x")))
    resp = transport.request("GET", server.url + "/", stream=True)
    next(resp.iter_content(10))
    resp.close()  # the rest of the body is still on the wire: that connection is dropped
    assert transport.request("GET", server.url + "/").content == big  # a new connection's first
    assert server.connections == 2


def test_a_proxy_refusing_the_tunnel_is_a_proxy_error(raw_server):
    def handler(conn, reader, n, server):
        server.read_request(reader)
        conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n")

    proxy = raw_server(handler)
    with pytest.raises(t.ProxyError, match="407"):
        t.Transport().request(
            "GET", "https://registry.example/", proxy=f"http://u:p%40ss@127.0.0.1:{proxy.port}"
        )
    line, headers, _ = proxy.requests[0]
    assert line == b"CONNECT registry.example:443 HTTP/1.1"
    assert headers["proxy-authorization"] == "Basic dTpwQHNz"


def test_http_through_a_proxy_uses_the_absolute_form(raw_server):
    proxy = raw_server(keep_alive(answer(body=b"via proxy")))
    resp = t.Transport().request(
        "GET", "http://registry.example:8080/pkg?x=1", proxy=f"http://127.0.0.1:{proxy.port}"
    )
    assert resp.content == b"via proxy"
    line, headers, _ = proxy.requests[0]
    assert line == b"GET http://registry.example:8080/pkg?x=1 HTTP/1.1"
    assert headers["host"] == "registry.example:8080"
    assert "proxy-authorization" not in headers


def test_a_download_cut_short_is_a_one_line_error_and_leaves_no_file(raw_server, tmp_path):
    from pystage.config import load_config
    from pystage.errors import PystageError
    from pystage.http import RegistryClient
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
    (tmp_path / ".npmrc").write_text("fetch-retries=0\n")
    config = load_config(cwd=tmp_path, env={"HOME": str(tmp_path)})
    client = RegistryClient(config, registry=server.url + "/", use_keyring=False, interactive=False)
    with pytest.raises(PystageError) as err:
        download_staged(client, "abc", output=str(out))
    assert err.value.code == "ECONNRESET"
    assert "/-/stage/abc/tarball" in err.value.message
    assert list(out.iterdir()) == []


def test_an_invalid_content_length_is_a_broken_connection_that_is_not_reused(raw_server):
    closed = threading.Event()

    def handler(conn, reader, n, server):
        while server.read_request(reader) is not None:
            bad = b"HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\n"
            conn.sendall(bad if n == 1 else answer(body=b"fine"))
        if n == 1:
            closed.set()  # the client hung up on the connection it could not read

    server = raw_server(handler)
    transport = t.Transport()
    with pytest.raises(t.ConnectionBroken, match="content-length"):
        transport.request("GET", server.url + "/")
    assert closed.wait(5)
    assert transport.request("GET", server.url + "/").content == b"fine"
    assert server.connections == 2


def test_a_tls_alert_asking_for_a_client_certificate_is_named():
    import ssl

    class Alert(ssl.SSLError):
        reason = "TLSV13_ALERT_CERTIFICATE_REQUIRED"

    assert t._certificate_required(Alert(1, "tlsv13 alert certificate required"))
    assert not t._certificate_required(ConnectionResetError(104, "reset"))


def test_an_internationalized_host_name_goes_out_in_its_idna_form(raw_server):
    proxy = raw_server(keep_alive(answer(body=b"ok")))
    t.Transport().request("GET", "http://bücher.example/x", proxy=f"http://127.0.0.1:{proxy.port}")
    line, headers, _ = proxy.requests[0]
    assert line == b"GET http://xn--bcher-kva.example/x HTTP/1.1"
    assert headers["host"] == "xn--bcher-kva.example"
