"""Helpers the test modules share (imported by them, never by conftest or another test).

- ``make``: a RegistryClient for a test registry, logged in with TOKEN, retries not sleeping;
- ``RawServer``: a loopback socket server scripted byte for byte, for what only a
  real connection shows (framing, resets, trickles, proxies).
"""

from __future__ import annotations

import socket
import threading

from pystage.config import load_config
from pystage.context import client_from_config
from pystage.otp import OtpHandler

TOKEN = "npm_" + "A" * 36
_TOKEN_LINE = object()


def token_line(registry: str) -> str:
    return f"{registry.split(':', 1)[1]}:_authToken={TOKEN}\n"  # //127.0.0.1:PORT/


def make(
    tmp_path,
    registry,
    npmrc=_TOKEN_LINE,
    otp=None,
    prompt=None,
    interactive=False,
    log=None,
    env=None,
    **cli,
):
    """A client for ``registry`` (a scripted server's url), logged in with TOKEN unless
    ``npmrc`` says otherwise; retries never sleep."""
    rc = tmp_path / "npmrc"
    rc.write_text(token_line(registry) if npmrc is _TOKEN_LINE else npmrc)
    config = load_config(
        cwd=tmp_path,
        env={"HOME": str(tmp_path), **(env or {})},
        cli={
            "registry": registry,
            "userconfig": str(rc),
            "globalconfig": str(tmp_path / "g"),
            **cli,
        },
    )
    handler = OtpHandler(
        registry=registry,
        given=otp,
        interactive=interactive,
        env={},
        prompt=prompt,
        notify=lambda m: None,
        opener=lambda u: None,
        use_stored_secret=False,
        sleep=lambda s: None,
    )
    client = client_from_config(config, otp=otp, otp_handler=handler, log=log, use_keyring=False)
    client.sleep = lambda s: None
    return client


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


def closed_port() -> int:
    """A loopback port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
