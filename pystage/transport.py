"""HTTP/1.1 over plain sockets: what the registry client sends its requests through.

Why not requests or http.client: importing requests costs ~100 ms and http.client
~25 ms (its email parser) on every start-up, more than issue 6 allows a whole
`pystage list --json`. The registry client needs little of HTTP: one request at a
time, keep-alive connections, Content-Length or chunked bodies, gzip, proxies
(absolute-form for http, CONNECT tunnels for https, SOCKS through PySocks) and TLS
with the trust npm's settings give. Redirects, retries, credentials and error codes
are the client's business (pystage.http); this module never follows a redirect.
"""

from __future__ import annotations

import base64
import io
import select
import socket
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

CHUNK = 64 * 1024
MAX_LINE = 64 * 1024
MAX_HEADERS = 256
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"  # with the unreserved: what stays as it is


# -- errors ----------------------------------------------------------------------


class TransportError(Exception):
    """A request that got no (complete) answer. ``sent`` is False when nothing can
    have reached the server, so any request may safely be tried again; ``retryable``
    is False when trying again cannot help (a certificate, a name, a refused proxy)."""

    sent = True
    retryable = True

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class ConnectError(TransportError):
    sent = False


class NameNotResolved(ConnectError):
    retryable = False  # npm does not retry ENOTFOUND either: a bad name, or offline


class ConnectTimeout(ConnectError):
    pass


class ProxyError(ConnectError):
    status: int | None = None  # the proxy's answer to CONNECT, when it refused the tunnel
    reason = ""


class TLSError(ConnectError):
    retryable = False
    client_certificate_required = False


class InvalidRequest(ConnectError):
    """A URL or header value that cannot be sent (e.g. a line break in a header)."""

    retryable = False


class ReadTimeout(TransportError):
    pass


class ConnectionBroken(TransportError):
    """Reset, closed, or a malformed answer, after the request went out."""


# -- responses --------------------------------------------------------------------


class Headers(Mapping):
    """Case-insensitive response headers; a repeated header's values joined by ", "."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            key = name.lower()
            if key in self._items:
                value = f"{self._items[key][1]}, {value}"
            self._items[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class Response:
    def __init__(self, url: str, status: int, reason: str, headers: Headers, body) -> None:
        self.url = url
        self.status_code = status
        self.reason = reason
        self.headers = headers
        self._body = body  # a _BodyReader, or None once read
        self._content: bytes | None = None
        # what a failure while a streamed body is read becomes (the client's error)
        self.on_error = None

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    def iter_content(
        self, chunk_size: int = CHUNK, decode_unicode: bool = False
    ) -> Iterator[bytes]:
        if self._content is not None:
            yield self._content
            return
        body, self._body = self._body, None
        if body is None:
            raise RuntimeError("the response body was already consumed")
        try:
            yield from body.decoded(chunk_size)
        except TransportError as exc:
            if self.on_error is None:
                raise
            raise self.on_error(exc) from None

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = b"".join(self.iter_content())
        return self._content

    @property
    def text(self) -> str:
        charset = _charset(self.headers.get("content-type", ""))
        if charset is None:
            # undeclared: UTF-8 when the bytes are, else latin-1 (what requests took
            # text/* to be; an error page from an old proxy or server often is)
            try:
                return self.content.decode("utf-8")
            except UnicodeDecodeError:
                charset = "latin-1"
        return self.content.decode(charset, "replace")

    def json(self) -> Any:
        import json

        return json.loads(self.content)

    def close(self) -> None:
        if self._body is not None:
            self._body.abandon()
            self._body = None


def _charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            import codecs

            name = value.strip("\"' ")
            try:
                return codecs.lookup(name).name
            except LookupError:
                break
    return None


# -- connections ------------------------------------------------------------------


class _Connection:
    def __init__(self, sock: socket.socket, key: tuple) -> None:
        self.sock = sock
        self.key = key
        self.reader = sock.makefile("rb")
        self.used = False  # has carried a request already (a reused keep-alive connection)

    def dropped(self) -> bool:
        """An idle keep-alive connection the server has closed (or sent junk on)."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        for thing in (self.reader, self.sock):
            try:
                thing.close()
            except OSError:
                pass


class _BodyReader:
    """Reads one response body off a connection by its framing, then hands the
    connection back to the pool (or closes it when it cannot carry another request)."""

    def __init__(self, transport, conn, headers: Headers, no_body: bool, keep: bool, url: str):
        self.transport = transport
        self.conn = conn
        self.url = url
        self.keep = keep
        te = headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length")
        self.chunked = "chunked" in te and not no_body
        self.remaining: int | None = None
        if no_body:
            self.remaining = 0
        elif not self.chunked and length is not None:
            try:
                self.remaining = int(length.split(",")[0].strip())
            except ValueError:
                raise ConnectionBroken(f"invalid content-length: {length!r}", url) from None
            if self.remaining < 0:
                raise ConnectionBroken(f"invalid content-length: {length!r}", url)
        elif not self.chunked:
            self.keep = False  # the body ends when the server closes the connection
        encoding = headers.get("content-encoding", "").strip().lower()
        self.decoder = None
        if not no_body and encoding in ("gzip", "x-gzip"):
            self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif not no_body and encoding == "deflate":
            self.decoder = _DeflateDecoder()
        self.done = False
        if self.remaining == 0 and not self.chunked:
            self._finish()

    def raw(self, size: int) -> Iterator[bytes]:
        reader = self.conn.reader if self.conn else None
        try:
            if self.chunked:
                while True:
                    line = reader.readline(MAX_LINE)
                    if not line.endswith(b"\n"):
                        raise ConnectionBroken("the chunked answer ended early", self.url)
                    try:
                        left = int(line.split(b";")[0].strip(), 16)
                    except ValueError:
                        raise ConnectionBroken(
                            "invalid chunk size in the answer", self.url
                        ) from None
                    if left == 0:
                        while reader.readline(MAX_LINE).strip():  # trailers
                            pass
                        break
                    while left:
                        data = reader.read(min(size, left))
                        if not data:
                            raise ConnectionBroken("the chunked answer ended early", self.url)
                        left -= len(data)
                        yield data
                    reader.readline(MAX_LINE)
            elif self.remaining is not None:
                while self.remaining:
                    data = reader.read1(min(size, self.remaining))
                    if not data:
                        raise ConnectionBroken(
                            f"the answer ended {self.remaining} bytes early", self.url
                        )
                    self.remaining -= len(data)
                    yield data
            elif reader is not None:
                while data := reader.read1(size):
                    yield data
        except TimeoutError:
            self.abandon()
            raise ReadTimeout("timed out reading the answer", self.url) from None
        except OSError as exc:
            self.abandon()
            raise ConnectionBroken(f"the connection broke: {exc}", self.url) from None
        except ConnectionBroken:
            self.abandon()
            raise
        self._finish()

    def decoded(self, size: int) -> Iterator[bytes]:
        for data in self.raw(size):
            if self.decoder is not None:
                try:
                    data = self.decoder.decompress(data)
                except zlib.error as exc:
                    self.abandon()
                    raise ConnectionBroken(
                        f"the answer's compression is broken: {exc}", self.url
                    ) from None
            if data:
                yield data
        if self.decoder is not None:
            tail = self.decoder.flush()
            if tail:
                yield tail

    def _finish(self) -> None:
        if self.done:
            return
        self.done = True
        if self.conn is not None:
            if self.keep:
                self.transport._release(self.conn)
            else:
                self.conn.close()
            self.conn = None

    def abandon(self) -> None:
        """The caller stopped reading: the connection cannot carry another request."""
        if not self.done:
            self.done = True
            if self.conn is not None:
                self.conn.close()
                self.conn = None


class _DeflateDecoder:
    """``deflate`` as servers send it: zlib-wrapped as the RFC says, or raw."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj()
        self._first = True

    def decompress(self, data: bytes) -> bytes:
        if self._first:
            self._first = False
            try:
                return self._d.decompress(data)
            except zlib.error:
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._d.decompress(data)

    def flush(self) -> bytes:
        return self._d.flush()


# -- the transport ----------------------------------------------------------------


class Transport:
    """Keep-alive connections per (scheme, host, port, proxy, client certificate).

    ``tls_context(cert)`` builds the ssl context for https connections (trust per
    npm's settings; ``cert`` a (certfile, keyfile) pair or None); it is called on the
    first https connection only, so a plain-http registry never imports ssl."""

    def __init__(self, *, headers: Mapping[str, str] = (), tls_context=None) -> None:
        self.headers = dict(headers)
        self._tls_context = tls_context
        self._contexts: dict = {}
        self._idle: dict[tuple, list[_Connection]] = {}

    # -- public
    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data=None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        timeout=None,
        proxy: str | None = None,
        cert: tuple[str, str] | None = None,
    ) -> Response:
        method = method.upper()
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        target = _Target(url)
        connect_timeout, read_timeout = _timeouts(timeout)
        body, length = _body(data)
        head = self._head(method, target, headers or {}, length, proxy)
        key = (target.scheme, target.host, target.port, proxy or "", cert)
        for attempt in (0, 1):
            conn = self._connection(key, target, proxy, cert, connect_timeout)
            reused = conn.used
            conn.used = True
            try:
                conn.sock.settimeout(read_timeout)
                try:
                    _send(conn.sock, head, body, length)
                except OSError as exc:
                    # a server may answer before the body is all in (a 413 for a publish
                    # over its limit, a 401) and close: that answer is what the user must
                    # see, not the broken pipe; the connection then carries nothing more
                    early = (
                        None if isinstance(exc, TimeoutError) else _early_answer(conn, method, url)
                    )
                    if early is None:
                        raise
                    status, reason, resp_headers, keep = early
                else:
                    status, reason, resp_headers, keep = _read_head(conn.reader, method, url)
            except (TransportError, OSError) as exc:
                conn.close()
                if isinstance(exc, TimeoutError):
                    raise ReadTimeout("timed out waiting for the answer", url) from None
                if _certificate_required(exc):
                    # TLS 1.3: the server's refusal arrives with its first answer
                    err = TLSError("the server requires a client certificate", url)
                    err.client_certificate_required = True
                    raise err from None
                # a keep-alive connection the server closed just as it was reused:
                # nothing was answered, so a request that may be repeated is sent again
                if reused and attempt == 0 and method in IDEMPOTENT and _replayable(data):
                    body, _ = _body(data)
                    continue
                if isinstance(exc, TransportError):
                    exc.url = exc.url or url
                    raise
                raise ConnectionBroken(f"the connection broke: {exc}", url) from None
            break
        no_body = method == "HEAD" or status in (204, 304)
        try:
            reader = _BodyReader(self, conn, resp_headers, no_body, keep, url)
        except TransportError:
            conn.close()
            raise
        resp = Response(url, status, reason, resp_headers, reader)
        if not stream:
            resp.content  # noqa: B018 - read now, and free the connection
        return resp

    def close(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    # -- connections
    def _release(self, conn: _Connection) -> None:
        self._idle.setdefault(conn.key, []).append(conn)

    def _connection(self, key, target, proxy, cert, timeout) -> _Connection:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.dropped():
                return conn
            conn.close()
        sock = self._open(target, proxy, cert, timeout)
        return _Connection(sock, key)

    def _open(self, target, proxy, cert, timeout) -> socket.socket:
        if not proxy:
            sock = _connect(target.host, target.port, timeout, target.url)
        else:
            sock = self._through_proxy(target, proxy, timeout)
        if target.scheme == "https":
            sock = self._wrap_tls(sock, target.host, cert, timeout, target.url)
        return sock

    def _through_proxy(self, target, proxy: str, timeout) -> socket.socket:
        p = _Target(proxy)
        if p.scheme.startswith("socks"):
            return _socks(p, target, timeout)
        try:
            sock = _connect(p.host, p.port, timeout, target.url)
        except ConnectError as exc:
            raise ProxyError(f"cannot connect to the proxy: {exc}", target.url) from None
        if p.scheme == "https":
            # trusted as npm's settings say, like the registry; no client certificate
            sock = self._wrap_tls(sock, p.host, None, timeout, target.url)
        if target.scheme == "https":
            _tunnel(sock, target, p, timeout)
        return sock

    def _wrap_tls(self, sock, host: str, cert, timeout, url: str):
        import ssl

        context = self._contexts.get(cert)
        if context is None:
            try:
                context = self._contexts[cert] = self._tls_context(cert)
            except BaseException:
                sock.close()  # a server waiting for our handshake must not wait forever
                raise
        try:
            sock.settimeout(timeout)
            if isinstance(sock, ssl.SSLSocket):  # a tunnel through an https:// proxy
                return _TlsInTls(sock, context, host.strip("[]"))
            return context.wrap_socket(sock, server_hostname=host.strip("[]"))
        except (ssl.SSLError, ssl.CertificateError) as exc:
            sock.close()
            raise TLSError(f"TLS handshake with {host} failed: {exc}", url) from None
        except TimeoutError:
            sock.close()
            raise ConnectTimeout(f"TLS handshake with {host} timed out", url) from None
        except OSError as exc:
            sock.close()
            raise ConnectError(f"TLS handshake with {host} failed: {exc}", url) from None

    def _head(self, method, target, headers, length, proxy) -> bytes:
        merged: dict[str, tuple[str, str]] = {}
        defaults = {"host": target.netloc, **self.headers}
        defaults.setdefault("accept", "*/*")
        for source in (defaults, headers):
            for name, value in source.items():
                if value is None:
                    merged.pop(name.lower(), None)
                else:
                    merged[name.lower()] = (name, str(value))
        if length is not None:
            if length or method not in ("GET", "HEAD"):
                merged["content-length"] = ("content-length", str(length))
        else:
            merged["transfer-encoding"] = ("transfer-encoding", "chunked")
        request_target = target.path
        if proxy and target.scheme == "http" and not proxy.lower().startswith("socks"):
            request_target = target.absolute
            p = _Target(proxy)
            if p.userinfo:
                merged["proxy-authorization"] = ("proxy-authorization", p.basic_auth)
        lines = [f"{method} {request_target} HTTP/1.1"]
        for name, value in merged.values():
            if _unsafe(name) or _unsafe(value):
                raise InvalidRequest(
                    f"invalid header {name!r}: line breaks are not allowed", target.url
                )
            lines.append(f"{name}: {value}")
        try:
            return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidRequest(
                "a header value holds characters HTTP cannot carry", target.url
            ) from None


class _TlsInTls:
    """TLS with the registry inside the TLS connection to an https:// proxy: ssl's
    memory-BIO object over the outer socket, offering what the transport uses of a
    socket (sendall, makefile, settimeout, fileno, close)."""

    def __init__(self, outer, context, hostname: str) -> None:
        import ssl

        self._ssl = ssl
        self.outer = outer
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out, server_hostname=hostname)
        self._run(self._tls.do_handshake)

    def _run(self, operation, *args):
        while True:
            try:
                result = operation(*args)
            except self._ssl.SSLWantReadError:
                self._flush()
                data = self.outer.recv(CHUNK)
                if data:
                    self._in.write(data)
                else:
                    self._in.write_eof()
                continue
            self._flush()
            return result

    def _flush(self) -> None:
        data = self._out.read()
        if data:
            self.outer.sendall(data)

    def sendall(self, data) -> None:
        view = memoryview(data)
        while len(view):
            view = view[self._run(self._tls.write, view) :]

    def recv_into(self, buffer, nbytes: int = 0) -> int:
        try:
            return self._run(self._tls.read, nbytes or len(buffer), buffer)
        except (self._ssl.SSLZeroReturnError, self._ssl.SSLEOFError):
            return 0

    def makefile(self, mode: str = "rb"):
        return io.BufferedReader(_TlsInTlsReader(self))

    def settimeout(self, timeout) -> None:
        self.outer.settimeout(timeout)

    def fileno(self) -> int:
        return self.outer.fileno()

    def close(self) -> None:
        self.outer.close()


class _TlsInTlsReader(io.RawIOBase):
    def __init__(self, tls: _TlsInTls) -> None:
        self._tls = tls

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._tls.recv_into(buffer)


class _Target:
    def __init__(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise InvalidRequest(f"invalid URL {url!r}: {exc}", url) from None
        self.url = url
        self.scheme = parts.scheme.lower()
        if self.scheme not in ("http", "https", "socks4", "socks4a", "socks5", "socks5h"):
            raise InvalidRequest(f"unsupported URL scheme {parts.scheme!r}", url)
        if not parts.hostname:
            raise InvalidRequest(f"invalid URL {url!r}: no host", url)
        host = parts.hostname
        if not host.isascii():  # an internationalized name goes out in its ASCII (IDNA) form
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise InvalidRequest(f"invalid host name in {url!r}", url) from None
        self.host = host
        default = {"http": 80, "https": 443}.get(self.scheme, 1080)
        self.port = port or default
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.netloc = host if self.port == default else f"{host}:{self.port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if _unsafe(path):
            raise InvalidRequest(f"invalid URL {url!r}", url)
        # what a request line cannot carry (spaces, non-ASCII as UTF-8) is escaped, as
        # requests and WHATWG URLs do; escapes already there stay
        self.path = quote(path, safe=_URL_SAFE)
        self.absolute = f"{self.scheme}://{self.netloc}{self.path}"
        self.host_port = f"{host}:{self.port}"
        self.userinfo = (unquote(parts.username or ""), unquote(parts.password or ""))
        if not any(self.userinfo):
            self.userinfo = None

    @property
    def basic_auth(self) -> str:
        user, password = self.userinfo
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _certificate_required(exc: BaseException) -> bool:
    return "CERTIFICATE_REQUIRED" in str(getattr(exc, "reason", "") or "").upper()


def _unsafe(text: str) -> bool:
    return "\r" in text or "\n" in text or "\x00" in text


def _timeouts(timeout) -> tuple[float | None, float | None]:
    if isinstance(timeout, tuple):
        return timeout
    return timeout, timeout


def _connect(host: str, port: int, timeout, url: str) -> socket.socket:
    try:
        # an ASCII name as bytes: a str would load the idna codec (~1 ms of start-up)
        name = host.encode("ascii") if host.isascii() else host
        sock = socket.create_connection((name, port), timeout=timeout)
    except socket.gaierror as exc:
        raise NameNotResolved(f"getaddrinfo failed for {host}: {exc}", url) from None
    except TimeoutError:
        raise ConnectTimeout(f"connecting to {host}:{port} timed out", url) from None
    except OSError as exc:
        raise ConnectError(f"connect to {host}:{port} failed: {exc}", url) from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _tunnel(sock: socket.socket, target: _Target, proxy: _Target, timeout) -> None:
    lines = [f"CONNECT {target.host_port} HTTP/1.1", f"host: {target.host_port}"]
    if proxy.userinfo:
        lines.append(f"proxy-authorization: {proxy.basic_auth}")
    try:
        sock.settimeout(timeout)
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        # the server says nothing before the TLS client hello, so the reader cannot
        # have buffered anything past the proxy's answer
        with sock.makefile("rb") as reader:
            status, reason, _, _ = _read_head(reader, "CONNECT", target.url)
    except TransportError as exc:
        sock.close()
        raise ProxyError(f"the proxy did not open a tunnel: {exc}", target.url) from None
    except OSError as exc:
        sock.close()
        raise ProxyError(f"the proxy did not open a tunnel: {exc}", target.url) from None
    if not 200 <= status < 300:
        sock.close()
        err = ProxyError(f"the proxy answered {status} {reason} to CONNECT", target.url)
        err.status, err.reason, err.retryable = status, reason, False
        raise err


def _socks(proxy: _Target, target: _Target, timeout) -> socket.socket:
    try:
        import socks
    except ImportError:
        raise ProxyError("socks proxies need the PySocks package", target.url) from None
    kind = {"socks4": socks.SOCKS4, "socks4a": socks.SOCKS4}.get(proxy.scheme, socks.SOCKS5)
    user, password = proxy.userinfo or (None, None)
    try:
        return socks.create_connection(
            (target.host, target.port),
            timeout=timeout,
            proxy_type=kind,
            proxy_addr=proxy.host,
            proxy_port=proxy.port,
            proxy_rdns=proxy.scheme in ("socks4a", "socks5h"),
            proxy_username=user or None,
            proxy_password=password or None,
        )
    except (socks.ProxyError, OSError) as exc:
        raise ProxyError(f"the socks proxy did not connect: {exc}", target.url) from None


def _body(data) -> tuple[Any, int | None]:
    """(what to send, its length or None for chunked)."""
    if data is None:
        return None, 0
    if isinstance(data, str):
        data = data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return data, len(data)
    if hasattr(data, "read"):
        import os

        try:
            size = os.fstat(data.fileno()).st_size - data.tell()
        except (OSError, AttributeError, ValueError):
            size = None
        return data, size
    try:
        return data, len(data)  # a sized iterable (the streamed publish document)
    except TypeError:
        return data, None


def _replayable(data) -> bool:
    return data is None or isinstance(data, (bytes, bytearray, memoryview, str))


def _send(sock: socket.socket, head: bytes, body, length: int | None) -> None:
    if body is None or isinstance(body, (bytes, bytearray, memoryview)):
        body = body or b""
        if len(body) < CHUNK:  # one packet for the usual small request
            sock.sendall(head + bytes(body))
        else:
            sock.sendall(head)
            sock.sendall(body)
        return
    sock.sendall(head)
    if hasattr(body, "read"):
        pieces = iter(lambda: body.read(CHUNK), b"")
    else:
        pieces = iter(body)
    sent = 0
    for piece in pieces:
        if isinstance(piece, str):
            piece = piece.encode("utf-8")
        if not piece:
            continue
        if length is None:
            sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        else:
            sock.sendall(piece)
        sent += len(piece)
    if length is None:
        sock.sendall(b"0\r\n\r\n")
    elif sent != length:
        raise ConnectionBroken(f"the request body was {sent} bytes, not the {length} announced")


def _early_answer(
    conn: _Connection, method: str, url: str
) -> tuple[int, str, Headers, bool] | None:
    """The answer a server sent before it stopped reading the request, if it did."""
    try:
        status, reason, headers, _ = _read_head(conn.reader, method, url)
    except (TransportError, OSError):
        return None
    return status, reason, headers, False


def _read_head(reader, method: str, url: str) -> tuple[int, str, Headers, bool]:
    """The status line and headers of the next final (non-1xx) answer."""
    while True:
        line = reader.readline(MAX_LINE + 1)
        if not line:
            raise ConnectionBroken("the server closed the connection without answering", url)
        if len(line) > MAX_LINE:
            raise ConnectionBroken("the answer's status line is too long", url)
        parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        version = parts[0]
        if not version.startswith("HTTP/") or len(parts) < 2 or not parts[1].isdigit():
            raise ConnectionBroken(f"not an HTTP answer: {line[:80]!r}", url)
        status = int(parts[1])
        reason = parts[2].strip() if len(parts) > 2 else ""
        pairs = []
        while True:
            hline = reader.readline(MAX_LINE + 1)
            if not hline:
                raise ConnectionBroken("the answer's headers ended early", url)
            if len(hline) > MAX_LINE or len(pairs) >= MAX_HEADERS:
                raise ConnectionBroken("the answer's headers are too long", url)
            if hline in (b"\r\n", b"\n"):
                break
            text = hline.decode("latin-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and pairs:  # an obsolete folded line
                pairs[-1] = (pairs[-1][0], pairs[-1][1] + " " + text.strip())
                continue
            name, sep, value = text.partition(":")
            if not sep or not name.strip():
                raise ConnectionBroken(f"malformed header line in the answer: {text[:80]!r}", url)
            pairs.append((name.strip(), value.strip()))
        if 100 <= status < 200 and status != 101:
            continue  # 100 Continue and friends: the real answer follows
        headers = Headers(pairs)
        connection = headers.get("connection", "").lower()
        keep = "close" not in connection and (version != "HTTP/1.0" or "keep-alive" in connection)
        return status, reason, headers, keep
