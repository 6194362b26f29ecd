"""The registry client: one requests session (``session.py``), credentials per URL,
redirects, retries, OTP challenges, npm's error codes.

It takes plain values (``ClientSettings``, frozen, made once per command by
``context.make_client``) and its collaborators: the credential resolver, an
OTP provider (None: an OTP challenge is EOTP), and callbacks for ``-v`` lines
and the registry's ``npm-notice`` header. It never prints and never reads
configuration; every message it makes goes through its redactor.

Retries live here, in one place: urllib3 is told to retry nothing. Like
npm-registry-fetch: idempotent requests (and any request that cannot have
reached the server) are tried ``fetch-retries`` more times after a network
failure or a 408/429/5xx, waiting ``fetch-retry-mintimeout`` x
``fetch-retry-factor``^n (at most ``fetch-retry-maxtimeout``) or the
answer's Retry-After. ``fetch-timeout`` is a total deadline for each attempt
(its redirects included), as npm's is per fetch: an answer that trickles or
never ends is cut off there. A streamed download has a stall timeout instead
(no socket read may wait longer than ``fetch-timeout``).
"""

from __future__ import annotations

import io
import json as jsonlib
import re
import time
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from pystage import __version__
from pystage.config import url_host
from pystage.credentials.lookup import same_host
from pystage.errors import PystageError, RegistryHTTPError
from pystage.proxy import ProxySettings, proxy_for
from pystage.redact import Redactor, redact  # noqa: F401 - redact: re-exported for callers
from pystage.tls import TlsSettings

if TYPE_CHECKING:  # imported late, by the first request (start-up: see session.py)
    import requests

    from pystage.credentials.lookup import CredentialResolver
    from pystage.otp import OtpHandler
    from pystage.session import Answer, NetworkFailure

    # a request's timeout: seconds for connect and read alike, or (connect, read)
    Timeout = float | tuple[float, float | None] | None

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_REDIRECTS = 10
OK = (200, 201, 202, 204)
CONNECT_TIMEOUT = 30.0
_UNSAFE_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True)
class ClientSettings:
    """Everything the client needs from the configuration, read once."""

    registry: str
    command: str = "stage"
    auth_type: str | None = None
    retries: int = 2  # fetch-retries
    retry_factor: float = 10.0  # fetch-retry-factor
    retry_min: float = 10.0  # fetch-retry-mintimeout, seconds
    retry_max: float = 60.0  # fetch-retry-maxtimeout, seconds
    timeout: float | None = 300.0  # fetch-timeout, seconds (None or 0: none)
    max_json_bytes: int = 64 * 1024 * 1024
    proxy: ProxySettings = field(default_factory=ProxySettings)
    tls: TlsSettings = field(default_factory=TlsSettings)


# -- identity ------------------------------------------------------------------


def user_agent() -> str:
    """``pystage/<v> python/<v> <os> <arch>``, with npm's names for os and arch."""
    import platform

    system = {"Windows": "win32"}.get(platform.system(), platform.system().lower() or "unknown")
    machine = platform.machine().lower()
    arch = {
        "x86_64": "x64",
        "amd64": "x64",
        "aarch64": "arm64",
        "i386": "ia32",
        "i686": "ia32",
        "armv7l": "arm",
    }.get(machine, machine or "unknown")
    return f"pystage/{__version__} python/{platform.python_version()} {system} {arch}"


# -- the client ----------------------------------------------------------------


class RegistryClient:
    """Talks to one registry (``settings.registry``) and, carefully, to URLs it points at."""

    def __init__(
        self,
        settings: ClientSettings,
        credentials: CredentialResolver,
        *,
        otp: OtpHandler | None = None,
        log: Callable[[str], None] | None = None,
        notice: Callable[[str], None] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.settings = settings
        self.registry = settings.registry
        self.command = settings.command
        self.credentials = credentials  # a CredentialResolver: for_url(url) -> Credential
        self.otp = otp  # an OtpHandler, or None: a challenge is EOTP
        self.redactor = redactor or Redactor()
        if otp is not None and otp.given:
            self.redactor.add(otp.given)
        self._log = log
        self._notice = notice
        self._session: requests.Session | None = None
        self.sleep = time.sleep
        # the pause before a retry, when the caller wants it said (the CLI's "retrying in
        # N s"); other waits (web-login polling) use ``sleep`` and say nothing
        self.retry_pause: Callable[[float], None] | None = None

    # -- plumbing ----------------------------------------------------------------
    @property
    def session(self) -> requests.Session:
        if self._session is None:
            from pystage.session import new_session

            self._session = new_session(
                self.settings.tls, {"user-agent": user_agent(), "accept-encoding": "gzip"}
            )
        return self._session

    def proxy_for_url(self, url: str) -> str | None:
        return proxy_for(url, self.settings.proxy)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        if re.match(r"^[a-z][a-z0-9+.-]*://", path, re.I):
            return path
        return self.registry + path.lstrip("/")

    def set_token(self, token: str, source: str = "login") -> None:
        """Use ``token`` for this registry from now on (after a login or an OIDC exchange)."""
        self.credentials.set_token(token, source)
        self.redactor.add(token)

    def add_secret(self, *secrets: str | None) -> None:
        """Mask ``secrets`` in everything this client (and the process) says from now on."""
        self.redactor.add(*secrets)

    def has_credential(self, url: str | None = None) -> bool:
        cred = self.credentials.for_url(url or self.registry)
        return bool(cred and (cred.authorization or cred.cert))

    def log(self, message: str) -> None:
        if self._log:
            self._log(self.redactor(message))

    # -- requests ------------------------------------------------------------------
    def json(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.request(method, path, **kw)
        if resp.status_code == 204 or not resp.content:
            return None
        from pystage.session import JSONTooDeep

        try:
            return resp.json()
        except JSONTooDeep as exc:
            raise PystageError(
                "EBADRESPONSE", f"{exc} ({self.redactor(resp.url)}, {resp.status_code})"
            ) from None
        except ValueError:
            raise PystageError(
                "EJSONPARSE",
                f"invalid JSON from {self.redactor(resp.url)} ({resp.status_code}): "
                # masked before it is cut: a cut could leave a secret's first half
                f"{_snippet(self.redactor(resp.text))}",
            ) from None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        expect: Container[int] = OK,
        otp_ok: bool = True,
        timeout: Timeout = None,
    ) -> Answer:
        """One logical request; an answer whose status is not in ``expect`` raises
        RegistryHTTPError. ``stream``: the body is read by the caller (``iter_content``)
        with a stall timeout; otherwise it is read here, under the deadline."""
        method = method.upper()
        url = self.url(path)
        extra = dict(headers or {})
        # a code the caller sends itself (a batch's next code) is masked as the handler's are
        self.redactor.add(*(v for k, v in extra.items() if k.lower() == "npm-otp"))
        if json is not None:
            data = jsonlib.dumps(json).encode("utf-8")
            extra.setdefault("content-type", "application/json")
            self._note_body_secrets(json)
        body = _Body(data)
        call = _Call(method, url, params, body, extra, stream, timeout)
        otp = self.otp.given if self.otp is not None else None
        resp = self._send(call, otp)
        if otp_ok and _is_otp_challenge(resp):
            resp = self._answer_challenge(call, resp, otp)
        return self._check(method, url, resp, expect)

    def _answer_challenge(self, call: _Call, resp: Answer, sent: str | None) -> Answer:
        if self.otp is None:
            raise self._error(call.method, call.url, resp, code="EOTP")
        if not call.body.replayable:
            raise PystageError(
                "EOTP",
                "the registry asked for a one-time password and this request cannot be repeated",
                "pass --otp=<code> from your authenticator app",
            )
        if sent:  # a code went with the request and the registry refused it
            code = self.otp.retry_after_refusal(self._registry_message(resp))
        else:
            code = self.otp.challenge(_body_json(resp), self._poll)
        for attempt in range(2):  # the code obtained, then at most one more ask
            if code is None:
                break
            self.redactor.add(code)
            resp = self._send(call, code)
            if not _is_otp_challenge(resp):
                return resp
            if attempt == 0:
                code = self.otp.retry_after_refusal(self._registry_message(resp))
        raise self._error(
            call.method,
            call.url,
            resp,
            code="EOTP",
            message="the registry refused the one-time password",
        )

    def _poll(self, url: str) -> tuple[int, Mapping[str, str], Any]:
        resp = self.request("GET", url, expect=range(100, 600), otp_ok=False)
        if resp.status_code >= 400:
            self._check("GET", url, resp, OK)
        return resp.status_code, resp.headers, _body_json(resp)

    def _send(self, call: _Call, otp: str | None) -> Answer:
        """One logical request: redirects (auth recomputed per hop) and retries."""
        from pystage.session import Deadline, NetworkFailure, Watchdog

        attempt = 0
        while True:
            start = time.monotonic()
            # the deadline covers the whole answer, or a streamed one up to its headers
            # (the body then has the stall timeout: no read waits past fetch-timeout)
            call.deadline = Deadline(self._total_timeout(call.timeout))
            try:
                with Watchdog(call.deadline):
                    resp = self._send_following_redirects(call, otp)
            except NetworkFailure as exc:
                err = self._network_error(call.method, call.url, exc)
                if (
                    attempt < self.settings.retries
                    and exc.retryable
                    and call.body.replayable
                    and (call.method in IDEMPOTENT or not exc.sent)
                ):
                    attempt += 1
                    self.log(f"http {call.method} {call.url} {err.code}, retry #{attempt}")
                    self._backoff(attempt, None)
                    continue
                raise err from None
            elapsed = int((time.monotonic() - start) * 1000)
            self.log(
                f"http {call.method} {resp.status_code} {resp.url} {elapsed}ms"
                + (f" attempt #{attempt + 1}" if attempt else "")
            )
            self._show_notice(resp)
            if (
                resp.status_code in RETRY_STATUSES
                and attempt < self.settings.retries
                and call.method in IDEMPOTENT
                and call.body.replayable
            ):
                retry_after = _retry_after_seconds(resp.headers.get("retry-after"))
                if retry_after is not None and retry_after > self.settings.retry_max:
                    # e.g. an account locked for 5 minutes: a shorter wait is a sure refusal
                    return resp
                attempt += 1
                resp.close()
                self._backoff(attempt, retry_after)
                continue
            return resp

    def _send_following_redirects(self, call: _Call, otp: str | None) -> Answer:
        from pystage.session import Answer, NetworkFailure, classify

        method, url, body, params, extra = call.method, call.url, call.body, call.params, call.extra
        anonymous = False  # after a redirect from https to http: no credential goes in clear
        for _ in range(MAX_REDIRECTS + 1):
            if call.deadline.expired():
                raise NetworkFailure("ETIMEDOUT", url, "fetch-timeout")
            headers = self._headers_for(url, extra, otp, method, anonymous)
            cred = None if anonymous else self.credentials.for_url(url)
            proxy = self.proxy_for_url(url)
            try:
                raw = self.session.request(
                    method,
                    url,
                    params=params,
                    data=body.payload(),
                    headers=headers,
                    stream=True,
                    timeout=self._timeouts(call),
                    allow_redirects=False,
                    proxies={"http": proxy, "https": proxy} if proxy else {},
                    verify=self.settings.tls.verify,
                    cert=cred.cert if cred else None,
                )
            except Exception as exc:
                if call.deadline.cut:  # the watchdog shut the connection at the deadline
                    raise NetworkFailure("ETIMEDOUT", url, "fetch-timeout") from None
                failure = classify(exc, url)
                if failure is None:
                    raise
                raise failure from None
            if call.deadline.cut:
                # cut in the headers, which http.client then takes as complete
                raw.close()
                raise NetworkFailure("ETIMEDOUT", url, "fetch-timeout")
            resp = Answer(
                raw,
                # the defaults bind this hop's method and URL (mypy cannot type such a lambda)
                lambda exc, m=method, u=url: self._network_error(m, exc.url or u, exc),  # type: ignore[misc]
            )
            if resp.status_code in (301, 302, 303, 307, 308) and resp.headers.get("location"):
                location = _header_text(resp.headers["location"])
                resp.close()
                try:
                    location = urljoin(resp.url, location)
                    url_host(location)
                except ValueError:
                    raise PystageError(
                        "EFETCH",
                        f"{self.redactor(resp.url)} redirected to an "
                        f"invalid URL: {self.redactor(location)}",
                    ) from None
                self.log(f"http {method} {resp.status_code} {resp.url} -> {location}")
                if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
                    method, body = "GET", _Body(None)
                params = None  # already part of the Location
                downgrade = _scheme(url) == "https" and _scheme(location) != "https"
                if downgrade:
                    # pystage's decision (docs/security.md): no credential in clear. npm's
                    # fetch drops Authorization only when the host name changes, and the
                    # nerf-darts ignore the scheme, so it would send the token over plain
                    # http to the same host. Once a hop was in clear, the rest of the chain
                    # goes anonymous too (anyone on the path may have written its Location)
                    anonymous = True
                if downgrade or not same_host(location, url):
                    # explicit auth/OTP headers belong to the original host only
                    extra = {
                        k: v
                        for k, v in extra.items()
                        if k.lower() not in ("authorization", "npm-otp")
                    }
                    otp = None
                url = location
                continue
            if not call.stream:
                resp.read_all(call.deadline, self.settings.max_json_bytes)
            return resp
        raise PystageError("EMAXREDIRECT", f"too many redirects for {self.redactor(url)}")

    def _headers_for(
        self,
        url: str,
        extra: Mapping[str, str],
        otp: str | None,
        method: str,
        anonymous: bool = False,
    ) -> dict[str, str]:
        headers = {"npm-command": self.command}
        if self.settings.auth_type:
            headers["npm-auth-type"] = self.settings.auth_type
        cred = None if anonymous else self.credentials.for_url(url)
        if cred and cred.authorization:
            headers["authorization"] = cred.authorization
            self.redactor.add_sent(*cred.secrets())  # masked in results too
        if otp:
            headers["npm-otp"] = otp
        headers.update(extra)
        for name, value in headers.items():
            # a line break would start a header of the sender's choosing, a NUL cut one
            # short; requests checks line breaks only. The value is not shown: it may be
            # a secret
            if _UNSAFE_HEADER.search(name) or _UNSAFE_HEADER.search(str(value)):
                raise PystageError(
                    "EFETCH",
                    f"request to {self.redactor(url)} not sent: the {name.strip()!r} header "
                    "holds a control character",
                )
        return headers

    def _total_timeout(self, timeout: Timeout) -> float | None:
        if timeout is not None:
            return timeout[1] if isinstance(timeout, tuple) else timeout
        return self.settings.timeout

    def _timeouts(self, call: _Call) -> tuple[float, float | None]:
        """(connect, read) for one attempt: never past the request's deadline."""
        if call.timeout is not None:
            connect, read = (
                call.timeout if isinstance(call.timeout, tuple) else (call.timeout, call.timeout)
            )
        else:
            read = self.settings.timeout
            connect = min(CONNECT_TIMEOUT, read) if read else CONNECT_TIMEOUT
        left = call.deadline.remaining()
        if left is not None:
            left = max(left, 0.001)
            connect = min(connect, left) if connect else left
            read = min(read, left) if read else left
        return connect, read

    def _wait_for(self, attempt: int, retry_after: float | None) -> float:
        s = self.settings
        wait = retry_after
        if wait is None:
            wait = min(s.retry_min * (s.retry_factor ** (attempt - 1)), s.retry_max)
        return min(max(wait, 0.0), s.retry_max)

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        (self.retry_pause or self.sleep)(self._wait_for(attempt, retry_after))

    def _note_body_secrets(self, payload: Any) -> None:
        if isinstance(payload, Mapping):
            for k, v in payload.items():
                if k in ("password", "token", "otp", "secret") and isinstance(v, str):
                    self.redactor.add(v)
                elif isinstance(v, Mapping):
                    self._note_body_secrets(v)

    def _show_notice(self, resp: Answer) -> None:
        """npm-registry-fetch logs a registry's ``npm-notice`` header (Verdaccio sends
        one with an OTP challenge) as ``npm notice``; so does pystage, through the
        callback ``cli/`` gave (which escapes it: it is registry text)."""
        text = resp.headers.get("npm-notice")
        if text and self._notice:
            self._notice(self.redactor(_header_text(text)))

    # -- errors --------------------------------------------------------------------
    def _check(self, method: str, url: str, resp: Answer, expect: Container[int]) -> Answer:
        if resp.status_code in expect:
            return resp
        raise self._error(method, url, resp)

    def _registry_message(self, resp: Answer) -> str:
        data = _body_json(resp)
        if isinstance(data, Mapping):
            for key in ("error", "message", "reason", "detail"):
                val = data.get(key)
                if isinstance(val, str) and val:
                    return self.redactor(val)
            return ""
        text = resp.text if not _is_binary(resp) else ""
        if "html" in resp.headers.get("content-type", "").lower() or text.lstrip()[:1] == "<":
            text = _html_text(text)
        return _snippet(self.redactor(text))  # masked before it is cut (a secret's half)

    def _error(
        self,
        method: str,
        url: str,
        resp: Answer,
        *,
        code: str | None = None,
        message: str | None = None,
    ) -> RegistryHTTPError:
        status = resp.status_code
        where = self.redactor(resp.url or url)
        registry_text = self._registry_message(resp)
        hint = None
        www = resp.headers.get("www-authenticate", "")
        if code is None:
            if status == 401 and www:
                tokens = [s.strip().lower() for s in www.split(",")]
                if "ipaddress" in tokens:
                    code, message = "EAUTHIP", "login is not allowed from your IP address"
                elif "otp" in tokens:
                    code = "EOTP"
                else:
                    code = "E401"
                    message = f"unable to authenticate, need: {www}"
            elif status == 401 and "one-time pass" in (resp.text or ""):
                code = "EOTP"
            else:
                code = f"E{status}"
        if code == "EOTP":
            message = message or "OTP required for authentication"
            hint = "pass --otp=<code> from your authenticator app"
        if message is None:
            reason = resp.reason or ""
            message = f"{status} {reason} - {method} {where}".replace("  ", " ")
        if registry_text and registry_text not in message:
            message += f" - {registry_text}"
        if code == "E401" and not self.has_credential(url):
            hint = f"you are not logged in to {self.registry}: run `pystage login --registry {self.registry}`"
        elif code == "E401":
            hint = "your token was refused: it may be expired or revoked; run `pystage login`"
        elif code == "E403":
            hint = hint or "you may lack permission for this package, or need to log in again"
        elif code == "E404" and not self.has_credential(url):
            hint = "private packages and staged versions are only visible when logged in"
        return RegistryHTTPError(
            code,
            self.redactor(message),
            self.redactor(hint) if hint else hint,
            status=status,
            method=method,
            url=where,
            body=_body_json(resp),
        )

    def _network_error(self, method: str, url: str, exc: NetworkFailure) -> PystageError:
        # after a redirect, the URL that failed is not the one first asked for
        url = exc.url or url
        where = self.redactor(url)
        target = url_host(url)  # never the userinfo of a URL
        code = exc.kind
        if code == "EPROXY" and exc.proxy_status:
            proxy = self.proxy_for_url(url) or ""
            hint = "check the proxy / https-proxy settings"
            if exc.proxy_status == 407:
                hint = (
                    "the proxy wants credentials: put them in its URL, "
                    "e.g. https-proxy=http://user:password@proxy:3128"
                )
            return PystageError(
                f"E{exc.proxy_status}",
                f"{exc.proxy_status} {exc.proxy_reason} - the proxy {url_host(proxy)} refused "
                f"to open a tunnel to {target}".replace("  ", " "),
                hint,
            )
        if code == "EPROXY":
            proxy = self.proxy_for_url(url) or ""
            return PystageError(
                "ECONNREFUSED" if exc.detail == "refused" else "ECONNRESET",
                f"request to {where} failed, reason: the proxy "
                f"{url_host(proxy) if proxy else ''} did not connect it".replace("  ", " "),
                "check the proxy / https-proxy / noproxy settings and the "
                "HTTPS_PROXY / HTTP_PROXY / NO_PROXY variables",
            )
        timeout_ms = int((self.settings.timeout or 0) * 1000)
        reason = {
            "ECONNREFUSED": f"connect ECONNREFUSED {target}",
            "ENOTFOUND": f"getaddrinfo ENOTFOUND {target.split(':')[0]}",
            "ETIMEDOUT": (
                f"no complete answer within fetch-timeout ({timeout_ms} ms)"
                if exc.detail == "fetch-timeout"
                else "timed out"
            ),
            "ECONNRESET": "socket hang up",
            "ECERT": "certificate verification failed",
        }.get(code, self.redactor(exc.detail))
        hints = {
            "ECONNREFUSED": f"is the registry at {self.redactor(self.registry)} running?",
            "ENOTFOUND": "check the registry URL and your network",
            "ETIMEDOUT": "the registry did not answer in time; try again later",
            "ECERT": "set cafile=<path> in your npmrc for a private CA",
        }
        if exc.detail == "fetch-timeout":
            hints["ETIMEDOUT"] = (
                "the registry's answer did not end in time; raise fetch-timeout if it is "
                "merely slow"
            )
        if exc.client_certificate_required:
            reason = "the registry requires a client certificate"
            from pystage.config import nerf_dart

            dart = nerf_dart(self.registry if same_host(url, self.registry) else url)
            hints["ECERT"] = f"set {dart}:certfile=<path> and {dart}:keyfile=<path> in your npmrc"
        return PystageError(code, f"request to {where} failed, reason: {reason}", hints.get(code))


class _Call:
    """One logical request, as the retry and OTP loops repeat it."""

    def __init__(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: _Body,
        extra: dict[str, str],
        stream: bool,
        timeout: Timeout,
    ) -> None:
        self.method = method
        self.url = url
        self.params = params
        self.body = body
        self.extra = extra
        self.stream = stream
        self.timeout = timeout
        self.deadline: Any = None


# -- helpers -------------------------------------------------------------------


class _Body:
    """A request body: bytes (replayable), a seekable file (replayable), or a stream (not)."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.start = None
        if hasattr(data, "seek") and hasattr(data, "tell"):
            try:
                self.start = data.tell()
            except (OSError, io.UnsupportedOperation):
                self.start = None
        self.used = False

    @property
    def replayable(self) -> bool:
        return (
            self.data is None
            or isinstance(self.data, (bytes, bytearray, str))
            or self.start is not None
            or not self.used
        )

    def payload(self) -> Any:
        if self.used and self.start is not None:
            self.data.seek(self.start)
        self.used = True
        return self.data


def _scheme(url: str) -> str:
    return url.split(":", 1)[0].lower()


def _header_text(value: str) -> str:
    """A header value read as latin-1 whose bytes are UTF-8 (a Location with a non-ASCII
    path), as text; otherwise as it is."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _is_otp_challenge(resp: Answer) -> bool:
    if resp.status_code != 401:
        return False
    www = resp.headers.get("www-authenticate")
    if www:
        return "otp" in [s.strip().lower() for s in www.split(",")]
    try:
        return "one-time pass" in resp.text
    except Exception:
        return False


def _body_json(resp: Answer) -> Any:
    try:
        if _is_binary(resp):
            return None
        return resp.json()
    except (ValueError, RuntimeError):
        return None


def _is_binary(resp: Answer) -> bool:
    ctype = resp.headers.get("content-type", "")
    return "octet-stream" in ctype or "gzip" in ctype and "json" not in ctype


def _html_text(page: str) -> str:
    """An HTML error page (a proxy's 502, a login wall) as text: its title, else its words."""
    import html

    title = re.search(r"<title[^>]*>(.*?)</title>", page, re.I | re.S)
    if title and title.group(1).strip():
        return html.unescape(title.group(1))
    page = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", page)
    return html.unescape(re.sub(r"<[^>]*>", " ", page))


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"
