"""The HTTP session under the registry client: one ``requests.Session`` (urllib3 underneath).

requests does the protocol (framing, keep-alive pools, chunked and gzip bodies,
CONNECT tunnels, TLS inside an https proxy's TLS, SOCKS through PySocks, IDNA
host names); this module adds what npm's settings need and requests lacks:

- the trust npm computes (``tls.py``: inline ``ca``, a ``cafile`` that replaces
  the default roots, ``NODE_EXTRA_CA_CERTS``), one ssl context per client
  certificate, also for the TLS to an https:// proxy;
- answers read under a total deadline (npm's ``fetch-timeout``) and a size
  ceiling, so an endless or trickling answer ends and memory stays bounded;
  streamed bodies (tarballs) get a stall timeout instead;
- network failures classified by exception type and errno into
  ``NetworkFailure`` (what happened, whether it may be retried, whether the
  request can have reached the server).

It is imported only by commands that talk to a registry: requests costs ~100 ms
of start-up, which ``--version``, ``--help``, ``pack`` and ``publish --dry-run``
never pay. Retries are not here: urllib3 is told to retry nothing, and the
client's one policy (``http.py``) decides.
"""

from __future__ import annotations

import errno
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pystage.tls import TlsSettings, client_context

if TYPE_CHECKING:
    import ssl

    from pystage.errors import PystageError

_E = TypeVar("_E", bound=BaseException)

CHUNK = 64 * 1024
# the largest JSON answer read into memory; a packument of a package with
# thousands of versions is a few MB, a stage list page far less
MAX_JSON_BYTES = 64 * 1024 * 1024


class NetworkFailure(Exception):
    """A request that got no usable answer. ``kind`` is npm's error code for it
    (ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ECONNRESET, ECERT, EPROXY, EFETCH,
    EBADRESPONSE); ``sent`` whether the request can have reached the server."""

    def __init__(
        self,
        kind: str,
        url: str,
        detail: str = "",
        *,
        sent: bool = True,
        retryable: bool = True,
        proxy_status: int | None = None,
        proxy_reason: str = "",
        client_certificate_required: bool = False,
    ) -> None:
        super().__init__(detail or kind)
        self.kind = kind
        self.url = url
        self.detail = detail
        self.sent = sent
        self.retryable = retryable
        self.proxy_status = proxy_status
        self.proxy_reason = proxy_reason
        self.client_certificate_required = client_certificate_required


class JSONTooDeep(ValueError):
    """A JSON answer nested past Python's recursion limit (a ValueError: invalid JSON
    to every caller that only asks whether it could be read)."""


class Deadline:
    """The time left for one logical request (``None``: no total deadline). ``cut``:
    the watchdog shut the connection when it passed (what a read then returns, an
    error or a short body, is the deadline's doing)."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.at = None if not seconds else clock() + seconds
        self.cut = False

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - self._clock()

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0


class Watchdog:
    """The total deadline, enforced whatever the request is blocked in.

    Socket timeouts bound each read, not their sum, and http.client reads the status
    line and the headers (urllib3 the chunk-size lines) a socket read at a time: a
    server sending one byte every 100 ms never trips them. So, while a request is in
    flight (``with Watchdog(deadline):`` around sending it and, unless streamed,
    reading its body), a timer waits for the deadline; if it passes first, the timer
    shuts the socket of the connection the request got from its pool, which ends the
    blocked read at once, and marks the deadline ``cut``. One timer thread per
    request, and only when there is a deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self._lock = threading.Lock()
        self._armed = True
        self._conn: Any = None
        self._timer: threading.Timer | None = None
        self._outer: Watchdog | None = None

    def __enter__(self) -> Watchdog:
        # a request made while sending another (an OIDC exchange for its credential)
        # has its own watchdog, and gives the outer one back when done
        self._outer = getattr(_in_flight, "watchdog", None)
        _in_flight.watchdog = self
        left = self.deadline.remaining()
        if left is not None:
            self._timer = threading.Timer(max(left, 0.0), self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:  # a timer firing now waits, then finds nothing to shut
            self._armed = False
            self._conn = None
        if self._timer is not None:
            self._timer.cancel()
        _in_flight.watchdog = self._outer

    def watch(self, conn: Any) -> None:
        with self._lock:
            self._conn = conn

    def _fire(self) -> None:
        with self._lock:
            if not self._armed:
                return
            self.deadline.cut = True
            _shut(getattr(self._conn, "sock", None))


_in_flight = threading.local()  # the Watchdog of the request this thread is sending


def _shut(sock: Any) -> None:
    """Shut a connection's socket for reading and writing (a read blocked in another
    thread returns at once); the TLS-in-TLS wrapper of an https proxy holds its
    socket as ``.socket``."""
    import socket

    while sock is not None and not isinstance(sock, socket.socket):
        sock = getattr(sock, "socket", None)
    if sock is not None:
        try:
            # the plain socket's shutdown, also for an SSLSocket: its own would drop
            # the TLS state under the reading thread's feet
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:  # already closed
            pass


def _watch_pool(pool: Any) -> None:
    """Tell the request's Watchdog which connection ``pool`` hands it (urllib3 picks a
    connection inside ``urlopen``; ``_get_conn`` is where it does)."""
    if getattr(pool, "_pystage_watched", False):
        return
    get_conn = pool._get_conn

    def get_conn_watched(timeout: float | None = None) -> Any:
        conn = get_conn(timeout=timeout)
        watchdog = getattr(_in_flight, "watchdog", None)
        if watchdog is not None:
            watchdog.watch(conn)
        return conn

    setattr(pool, "_get_conn", get_conn_watched)  # noqa: B010 - an instance's method
    pool._pystage_watched = True


# -- the session ---------------------------------------------------------------


class _TrustAdapter(HTTPAdapter):
    """requests' adapter with pystage's ssl contexts (one per client certificate) for
    registries and https:// proxies alike, and no retries of its own."""

    def __init__(self, tls: TlsSettings) -> None:
        self._tls = tls
        self._contexts: dict[Any, Any] = {}
        super().__init__(max_retries=Retry(total=0, read=False, redirect=False))

    def context_for(self, cert: tuple[str, str] | None) -> ssl.SSLContext:
        key = tuple(cert) if cert else None
        if key not in self._contexts:
            self._contexts[key] = client_context(self._tls, cert)
        return self._contexts[key]

    def build_connection_pool_key_attributes(
        self,
        request: requests.PreparedRequest,
        verify: bool | str,
        cert: str | tuple[str, str] | None = None,
    ) -> tuple[Any, Any]:  # requests' stub types them as its private TypedDicts
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if host_params.get("scheme") == "https":
            # the context carries trust and the client certificate: pools are keyed by it
            pool_kwargs = {
                # the client passes (certfile, keyfile) or None, never one combined file
                "ssl_context": self.context_for(cert),  # type: ignore[arg-type]
                "cert_reqs": "CERT_REQUIRED" if self._tls.verify else "CERT_NONE",
            }
        return host_params, pool_kwargs

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: Mapping[str, str] | None = None,
        cert: Any = None,
    ) -> Any:
        pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
        _watch_pool(pool)  # direct, through a proxy or SOCKS alike
        return pool

    def cert_verify(self, conn: Any, url: str, verify: bool | str, cert: Any) -> None:
        # requests would load certifi's bundle into the connection (on top of a
        # configured ca that must replace it) and the certificate files: the
        # context already holds both
        return None

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        if proxy.lower().startswith("https:") and "proxy_ssl_context" not in proxy_kwargs:
            # npm's agent trusts an https proxy by the same ca/cafile/strict-ssl settings
            proxy_kwargs["proxy_ssl_context"] = self.context_for(None)
        return super().proxy_manager_for(proxy, **proxy_kwargs)


class _UrlUserinfoAuth(requests.auth.AuthBase):
    """Node's rule for a URL's ``user:password@``: Basic auth, unless the request
    already has an Authorization header (requests would always replace it), with
    the pair in UTF-8 as Node's Buffer makes it (requests' HTTPBasicAuth encodes
    latin-1: another password on the wire than npm's, and one the redactor, which
    masks what npm would send, would not know)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if "authorization" not in r.headers:
            user, password = requests.utils.get_auth_from_url(r.url or "")
            if user or password:
                import base64

                pair = f"{user}:{password}".encode()
                r.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return r


class _Session(requests.Session):
    def get_redirect_target(self, resp: requests.Response) -> None:
        # the client follows redirects itself (credentials recomputed per hop); requests
        # would otherwise parse a Location even with allow_redirects=False, and fail on
        # a malformed one before the client could say so
        return None


def new_session(tls: TlsSettings, headers: Mapping[str, str]) -> requests.Session:
    if not tls.verify:
        # strict-ssl=false is the user's explicit choice: npm says nothing about it either
        import warnings

        warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
    session = _Session()
    # no ~/.netrc, no proxy or CA variables but npm's: the client says what to use
    session.trust_env = False
    session.auth = _UrlUserinfoAuth()
    session.headers.update(headers)
    adapter = _TrustAdapter(tls)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


# -- answers -------------------------------------------------------------------


class Answer:
    """One HTTP answer. Non-streamed answers are read whole (under the deadline and the
    size ceiling) before the client looks at them; streamed ones are read by the caller
    through ``iter_content``, whose failures are the client's one-line errors."""

    def __init__(
        self, resp: requests.Response, on_failure: Callable[[NetworkFailure], PystageError]
    ) -> None:
        self._resp = resp
        self._on_failure = on_failure  # NetworkFailure -> PystageError
        self._content: bytes | None = None
        self.status_code: int = resp.status_code
        self.reason: str = resp.reason or ""
        self.headers = resp.headers
        self.url: str = resp.url

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    def read_all(self, deadline: Deadline, limit: int = MAX_JSON_BYTES) -> None:
        """Read the whole body now, giving up at the deadline or past ``limit`` bytes."""
        if self._content is not None:
            return
        declared = self.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            self.close()
            raise self._on_failure(_too_large(self.url, limit))
        raw = self._resp.raw
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                if deadline.expired():
                    raise _deadline_passed(self.url)
                _shorten_read_timeout(raw, deadline)
                # read1: what one socket read brings, so a trickle cannot hold us past
                # the deadline (read(n) waits until n bytes are in)
                # (urllib3's read1 returns b"" only at the end, and checks Content-Length)
                piece = raw.read1(CHUNK, decode_content=True)
                if not piece:
                    break
                size += len(piece)
                if size > limit:
                    raise _too_large(self.url, limit)
                parts.append(piece)
        except NetworkFailure as exc:
            self.close()
            raise self._on_failure(exc) from None
        except Exception as exc:
            self.close()
            failure = classify(exc, self.url, reading=True)
            if failure is None:
                raise
            if deadline.cut or (failure.kind == "ETIMEDOUT" and deadline.expired()):
                failure = _deadline_passed(self.url)
            raise self._on_failure(failure) from None
        if deadline.cut:  # the watchdog ended the body: what was read is not all of it
            self.close()
            raise self._on_failure(_deadline_passed(self.url))
        self._content = b"".join(parts)
        self._resp.close()

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = b"".join(self.iter_content(CHUNK))
        return self._content

    @property
    def text(self) -> str:
        charset = _charset(self.headers.get("content-type", ""))
        if charset is None:
            # undeclared: UTF-8 when the bytes are, else latin-1 (an error page from an
            # old proxy or server often is)
            try:
                return self.content.decode("utf-8")
            except UnicodeDecodeError:
                return self.content.decode("latin-1")
        return self.content.decode(charset, "replace")

    def json(self) -> Any:
        import json

        try:
            if _charset(self.headers.get("content-type", "")) is None:
                return json.loads(self.content)
            return json.loads(self.text)
        except RecursionError:
            # 100,000 "[" exhaust json's recursion: invalid for us, never a crash
            raise JSONTooDeep("the JSON answer is nested too deeply to read") from None

    def iter_content(
        self, chunk_size: int = CHUNK, decode_unicode: bool = False
    ) -> Iterator[bytes]:
        if self._content is not None:
            yield self._content
            return
        try:
            yield from self._resp.iter_content(chunk_size)
        except Exception as exc:
            failure = classify(exc, self.url, reading=True)
            if failure is None:
                raise
            raise self._on_failure(failure) from None

    def close(self) -> None:
        self._resp.close()


def _shorten_read_timeout(raw: Any, deadline: Deadline) -> None:
    """Wait no longer than the deadline for the next piece of a non-streamed body."""
    left = deadline.remaining()
    if left is None:
        return
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is not None:
        current = sock.gettimeout()
        wait = max(left, 0.001)
        if current is None or wait < current:
            sock.settimeout(wait)


def _charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            import codecs

            try:
                return codecs.lookup(value.strip("\"' ")).name
            except LookupError:
                break
    return None


def _too_large(url: str, limit: int) -> NetworkFailure:
    return NetworkFailure(
        "EBADRESPONSE",
        url,
        f"the answer is larger than {limit // (1024 * 1024)} MiB",
        retryable=False,
    )


def _deadline_passed(url: str) -> NetworkFailure:
    return NetworkFailure("ETIMEDOUT", url, "fetch-timeout")


# -- failures --------------------------------------------------------------------


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (requests and urllib3 nest them in args,
    ``reason`` and ``__context__``)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        for inner in (getattr(e, "reason", None), e.__cause__, e.__context__, *e.args):
            if isinstance(inner, BaseException):
                todo.append(inner)


def _find(exc: BaseException, kind: type[_E]) -> _E | None:
    for e in _chain(exc):
        if isinstance(e, kind):
            return e
    return None


# http.client reports a refused CONNECT only as OSError("Tunnel connection failed:
# 407 Proxy Authentication Required"): its text is the one place the status is
_TUNNEL_STATUS = re.compile(r"Tunnel connection failed: (\d{3}) ?(.*)")


def classify(exc: BaseException, url: str, *, reading: bool = False) -> NetworkFailure | None:
    """The NetworkFailure for an exception raised by requests/urllib3, or None when it
    is not a network failure (a bug)."""
    import socket
    import ssl

    exc_ = requests.exceptions
    u3 = urllib3.exceptions
    if not isinstance(exc, (exc_.RequestException, u3.HTTPError, OSError)):
        return None
    if isinstance(exc, (exc_.InvalidHeader, exc_.InvalidURL, exc_.InvalidSchema)) or isinstance(
        exc, (exc_.MissingSchema, u3.LocationParseError, exc_.InvalidJSONError)
    ):
        return NetworkFailure("EFETCH", url, str(exc), sent=False, retryable=False)
    if isinstance(exc, exc_.ProxyError) or _find(exc, u3.ProxyError):
        tunnel = None
        for e in _chain(exc):
            if isinstance(e, OSError) and e.args and isinstance(e.args[0], str):
                tunnel = _TUNNEL_STATUS.match(e.args[0]) or tunnel
        if tunnel:
            return NetworkFailure(
                "EPROXY",
                url,
                sent=False,
                retryable=False,
                proxy_status=int(tunnel.group(1)),
                proxy_reason=tunnel.group(2).strip(),
            )
        if _find(exc, ssl.SSLError) is None:
            refused = _find(exc, ConnectionRefusedError) is not None
            return NetworkFailure(
                "EPROXY", url, "refused" if refused else "broken", sent=False, retryable=True
            )
    tls = _find(exc, ssl.SSLError)
    if tls is not None and not isinstance(tls, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        reason = str(getattr(tls, "reason", "") or "").upper()
        return NetworkFailure(
            "ECERT",
            url,
            str(tls),
            sent=False,
            retryable=False,
            client_certificate_required="CERTIFICATE_REQUIRED" in reason,
        )
    if _find(exc, socket.gaierror) is not None:
        # npm does not retry ENOTFOUND either: a bad name, or offline
        return NetworkFailure("ENOTFOUND", url, sent=False, retryable=False)
    # before the timeouts: urllib3's NewConnectionError is a ConnectTimeoutError subclass
    if _find(exc, ConnectionRefusedError) is not None or _errno(exc) == errno.ECONNREFUSED:
        return NetworkFailure("ECONNREFUSED", url, sent=False)
    if _find(exc, u3.NewConnectionError) is not None and _find(exc, socket.timeout) is None:
        return NetworkFailure("ECONNREFUSED", url, sent=False)
    if isinstance(exc, exc_.ConnectTimeout) or _find(exc, u3.ConnectTimeoutError):
        return NetworkFailure("ETIMEDOUT", url, "connect", sent=False)
    if (
        isinstance(exc, exc_.ReadTimeout)
        or _find(exc, u3.ReadTimeoutError)
        or _find(exc, socket.timeout)
    ):
        return NetworkFailure("ETIMEDOUT", url, "read")
    if isinstance(exc, exc_.ContentDecodingError) or _find(exc, u3.DecodeError):
        return NetworkFailure("ECONNRESET", url, "undecodable body", retryable=True)
    # resets, a connection closed before or during the answer, malformed framing
    return NetworkFailure("ECONNRESET", url, "reset" if reading else str(exc))


def _errno(exc: BaseException) -> int | None:
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno:
            return e.errno
    return None
