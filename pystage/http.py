"""The registry client: one transport (keep-alive connections), credentials per URL, OTP,
retries, npm error codes.

Redaction of secrets (tokens, passwords, OTPs) lives here too, so every
message and log line that leaves the client goes through one place.
"""

from __future__ import annotations

import io
import json as jsonlib
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urljoin

from pystage import __version__
from pystage.config import Config, url_host
from pystage.credentials import CredentialResolver, same_host
from pystage.errors import PystageError

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_REDIRECTS = 10
OK = (200, 201, 202, 204)

# -- redaction -----------------------------------------------------------------

MASK = "***"
_SECRET_PATTERN_SOURCES = [
    (r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+(:[^/\s@]*)?@", r"\1" + MASK + "@"),
    (r"(?i)\b(bearer|basic)\s+(?!realm\b)[A-Za-z0-9._~+/=-]{4,}", r"\1 " + MASK),
    (r"\bnpm_[A-Za-z0-9]{36}\b", "npm_" + MASK),
    (r"(?i)(:_authToken|:_auth|:_password)\s*=\s*\S+", r"\1=" + MASK),
    (r"(?i)otpauth://\S+", "otpauth://" + MASK),
    (r'(?i)("(?:password|token|otp|secret)"\s*:\s*)"[^"]*"', r'\1"' + MASK + '"'),
]
_compiled: list = []


def _secret_patterns() -> list:
    """Compiled on the first redaction, not at import (a command that fails nowhere
    never needs them)."""
    if not _compiled:
        _compiled.extend((re.compile(p), repl) for p, repl in _SECRET_PATTERN_SOURCES)
    return _compiled


class Redactor:
    """Masks known secret values and anything secret-shaped."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        for s in secrets:
            # very short values would mangle ordinary text; OTP codes have 6+ digits
            if s and len(str(s)) >= 4:
                self._secrets.add(str(s))

    def __call__(self, text: str) -> str:
        if not text:
            return text
        for s in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(s, MASK)
        for pattern, repl in _secret_patterns():
            text = pattern.sub(repl, text)
        return text


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    return Redactor(secrets)(text)


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
    """Talks to one registry (``registry``) and, carefully, to URLs it points at."""

    def __init__(
        self,
        config: Config,
        *,
        registry: str | None = None,
        command: str = "stage",
        otp: str | None = None,
        interactive: bool | None = None,
        package: str | None = None,
        token: str | None = None,
        token_source: str = "login",
        use_keyring: bool = True,
        log: Callable[[str], None] | None = None,
        otp_handler=None,
        transport=None,
    ) -> None:
        from pystage.config import normalize_registry
        from pystage.otp import OtpHandler

        self.config = config
        self.registry = normalize_registry(registry) if registry else config.registry_for(package)
        self.command = command
        self.package = package
        self.credentials = CredentialResolver(
            config, self.registry, token=token, token_source=token_source, use_keyring=use_keyring
        )
        given = otp if otp is not None else config.get("otp")
        self.otp = otp_handler or OtpHandler(
            registry=self.registry,
            given=str(given) if given else None,
            interactive=interactive,
            env=config.env,
        )
        self.redactor = Redactor([given] if given else [])
        self._log = log
        self._transport = transport
        self.retries = _int(config.get("fetch-retries"), 2)
        self.retry_factor = _float(config.get("fetch-retry-factor"), 10)
        self.retry_min = _float(config.get("fetch-retry-mintimeout"), 10000) / 1000
        self.retry_max = _float(config.get("fetch-retry-maxtimeout"), 60000) / 1000
        self.timeout = _float(config.get("fetch-timeout"), 300000) / 1000 or None
        self.sleep = time.sleep

    # -- plumbing ----------------------------------------------------------------
    @property
    def transport(self):
        if self._transport is None:
            from pystage.transport import Transport

            # no ~/.netrc, no proxy variables but npm's (proxy_for), no CA variables:
            # the transport knows only what it is given
            self._transport = Transport(
                headers={"user-agent": user_agent(), "accept-encoding": "gzip"},
                tls_context=self._tls_context,
            )
        return self._transport

    def _tls_context(self, cert):
        from pystage.tls import client_context

        return client_context(self.config, cert)

    def proxy_for_url(self, url: str) -> str | None:
        from pystage.proxy import proxy_for

        proxy = proxy_for(url, self.config.get, self.config.env)
        if proxy:
            self.redactor.add(*_userinfo_secrets(proxy))
        return proxy

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def url(self, path: str) -> str:
        if re.match(r"^[a-z][a-z0-9+.-]*://", path, re.I):
            return path
        return self.registry + path.lstrip("/")

    def set_token(self, token: str, source: str = "login") -> None:
        """Use ``token`` for this registry from now on (after a login or an OIDC exchange)."""
        self.credentials.set_token(token, source)
        self.redactor.add(token)

    def has_credential(self, url: str | None = None) -> bool:
        cred = self.credentials.for_url(url or self.registry)
        return bool(cred and (cred.authorization or cred.cert))

    def log(self, message: str) -> None:
        if self._log:
            self._log(self.redactor(message))

    # -- requests ------------------------------------------------------------------
    def json(self, method: str, path: str, **kw) -> Any:
        resp = self.request(method, path, **kw)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise PystageError(
                "EJSONPARSE",
                f"invalid JSON from {self.redactor(resp.url)} ({resp.status_code}): "
                f"{self.redactor(_snippet(resp.text))}",
            ) from None

    def request(
        self,
        method: str,
        path: str,
        *,
        params=None,
        json=None,
        data=None,
        headers=None,
        stream: bool = False,
        expect=OK,
        otp_ok: bool = True,
        timeout=None,
    ):
        method = method.upper()
        url = self.url(path)
        extra = dict(headers or {})
        if json is not None:
            data = jsonlib.dumps(json).encode("utf-8")
            extra.setdefault("content-type", "application/json")
            self._note_body_secrets(json)
        body = _Body(data)
        otp = self.otp.given
        resp = self._send(method, url, params, body, extra, otp, stream, timeout)
        if otp_ok and _is_otp_challenge(resp):
            resp = self._answer_challenge(
                method, url, params, body, extra, stream, timeout, resp, otp
            )
        return self._check(method, url, resp, expect)

    def _answer_challenge(self, method, url, params, body, extra, stream, timeout, resp, sent):
        if not body.replayable:
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
            resp = self._send(method, url, params, body, extra, code, stream, timeout)
            if not _is_otp_challenge(resp):
                return resp
            if attempt == 0:
                code = self.otp.retry_after_refusal(self._registry_message(resp))
        raise self._error(
            method, url, resp, code="EOTP", message="the registry refused the one-time password"
        )

    def _poll(self, url: str):
        resp = self._send("GET", self.url(url), None, _Body(None), {}, None, False, None)
        if resp.status_code >= 400:
            self._check("GET", url, resp, OK)
        return resp.status_code, resp.headers, _body_json(resp)

    def _send(self, method, url, params, body, extra, otp, stream, timeout):
        """One logical request: redirects (auth recomputed per hop) and retries."""
        from pystage.transport import TransportError

        attempt = 0
        while True:
            start = time.monotonic()
            try:
                resp = self._send_following_redirects(
                    method, url, params, body, extra, otp, stream, timeout
                )
            except TransportError as exc:
                err = self._network_error(method, url, exc)
                if (
                    attempt < self.retries
                    and exc.retryable
                    and body.replayable
                    and (method in IDEMPOTENT or not exc.sent)
                ):
                    attempt += 1
                    self.log(f"http {method} {url} {err.code}, retry #{attempt}")
                    self._backoff(attempt, None)
                    continue
                raise err from None
            elapsed = int((time.monotonic() - start) * 1000)
            self.log(
                f"http {method} {resp.status_code} {resp.url} {elapsed}ms"
                + (f" attempt #{attempt + 1}" if attempt else "")
            )
            if (
                resp.status_code in RETRY_STATUSES
                and attempt < self.retries
                and method in IDEMPOTENT
                and body.replayable
            ):
                retry_after = _retry_after_seconds(resp.headers.get("retry-after"))
                if retry_after is not None and retry_after > self.retry_max:
                    # e.g. an account locked for 5 minutes: a shorter wait is a sure refusal
                    return resp
                attempt += 1
                resp.close()
                self._backoff(attempt, retry_after)
                continue
            return resp

    def _send_following_redirects(self, method, url, params, body, extra, otp, stream, timeout):
        for _ in range(MAX_REDIRECTS + 1):
            headers = self._headers_for(url, extra, otp)
            cred = self.credentials.for_url(url)
            resp = self.transport.request(
                method,
                url,
                params=params,
                data=body.payload(),
                headers=headers,
                stream=stream,
                timeout=self._timeouts(timeout),
                proxy=self.proxy_for_url(url),
                cert=cred.cert if cred else None,
            )
            resp.on_error = lambda exc, method=method: self._network_error(method, exc.url, exc)
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
                if not same_host(location, url):
                    # explicit auth/OTP headers belong to the original host only
                    extra = {
                        k: v
                        for k, v in extra.items()
                        if k.lower() not in ("authorization", "npm-otp")
                    }
                    otp = None
                url = location
                continue
            return resp
        raise PystageError("EMAXREDIRECT", f"too many redirects for {self.redactor(url)}")

    def _headers_for(self, url: str, extra: Mapping[str, str], otp: str | None) -> dict:
        headers = {"npm-command": self.command}
        auth_type = self.config.get("auth-type")
        if auth_type:
            headers["npm-auth-type"] = str(auth_type)
        cred = self.credentials.for_url(url)
        if cred and cred.authorization:
            headers["authorization"] = cred.authorization
            self.redactor.add(*cred.secrets())
        if otp:
            headers["npm-otp"] = otp
        headers.update(extra)
        return headers

    def _timeouts(self, timeout):
        if timeout is not None:
            return timeout
        read = self.timeout
        return (min(30.0, read) if read else 30.0, read)

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        wait = retry_after
        if wait is None:
            wait = min(self.retry_min * (self.retry_factor ** (attempt - 1)), self.retry_max)
        self.sleep(min(max(wait, 0.0), self.retry_max))

    def _note_body_secrets(self, payload: Any) -> None:
        if isinstance(payload, Mapping):
            for k, v in payload.items():
                if k in ("password", "token", "otp", "secret") and isinstance(v, str):
                    self.redactor.add(v)
                elif isinstance(v, Mapping):
                    self._note_body_secrets(v)

    # -- errors --------------------------------------------------------------------
    def _check(self, method, url, resp, expect):
        if resp.status_code in expect:
            return resp
        raise self._error(method, url, resp)

    def _registry_message(self, resp) -> str:
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
        return self.redactor(_snippet(text))

    def _error(
        self, method, url, resp, *, code: str | None = None, message: str | None = None
    ) -> PystageError:
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
        err = PystageError(code, self.redactor(message), self.redactor(hint) if hint else hint)
        err.status = status
        err.body = _body_json(resp)
        return err

    def _network_error(self, method, url, exc) -> PystageError:
        from pystage import transport as t

        # after a redirect, the URL that failed is not the one first asked for
        url = exc.url or url
        where = self.redactor(url)
        target = url_host(url)  # never the userinfo of a URL
        text = str(exc)
        if isinstance(exc, t.ProxyError) and exc.status:
            proxy = self.proxy_for_url(url) or ""
            hint = "check the proxy / https-proxy settings"
            if exc.status == 407:
                hint = (
                    "the proxy wants credentials: put them in its URL, "
                    "e.g. https-proxy=http://user:password@proxy:3128"
                )
            return PystageError(
                f"E{exc.status}",
                f"{exc.status} {exc.reason} - the proxy {url_host(proxy)} refused to open "
                f"a tunnel to {target}".replace("  ", " "),
                hint,
            )
        if isinstance(exc, t.ProxyError):
            proxy = self.proxy_for_url(url) or ""
            return PystageError(
                "ECONNREFUSED" if "refused" in text.lower() else "ECONNRESET",
                f"request to {where} failed, reason: the proxy "
                f"{url_host(proxy) if proxy else ''} did not connect it".replace("  ", " "),
                "check the proxy / https-proxy / noproxy settings and the "
                "HTTPS_PROXY / HTTP_PROXY / NO_PROXY variables",
            )
        if isinstance(exc, t.TLSError):
            code = "ECERT"
        elif isinstance(exc, (t.ConnectTimeout, t.ReadTimeout)):
            code = "ETIMEDOUT"
        elif isinstance(exc, t.NameNotResolved):
            code = "ENOTFOUND"
        elif isinstance(exc, t.InvalidRequest):
            code = "EFETCH"
        elif isinstance(exc, t.ConnectError):
            code = "ECONNRESET" if "reset" in text.lower() else "ECONNREFUSED"
        else:
            code = "ECONNRESET"
        reason = {
            "ECONNREFUSED": f"connect ECONNREFUSED {target}",
            "ENOTFOUND": f"getaddrinfo ENOTFOUND {target.split(':')[0]}",
            "ETIMEDOUT": "timed out",
            "ECONNRESET": "socket hang up",
            "ECERT": "certificate verification failed",
        }.get(code, self.redactor(text))
        hints = {
            "ECONNREFUSED": f"is the registry at {self.redactor(self.registry)} running?",
            "ENOTFOUND": "check the registry URL and your network",
            "ETIMEDOUT": "the registry did not answer in time; try again later",
            "ECERT": "set cafile=<path> in your npmrc for a private CA",
        }
        if getattr(exc, "client_certificate_required", False):
            reason = "the registry requires a client certificate"
            from pystage.config import nerf_dart

            dart = nerf_dart(self.registry if same_host(url, self.registry) else url)
            hints["ECERT"] = f"set {dart}:certfile=<path> and {dart}:keyfile=<path> in your npmrc"
        return PystageError(code, f"request to {where} failed, reason: {reason}", hints.get(code))


# -- helpers -------------------------------------------------------------------


class _Body:
    """A request body: bytes (replayable), a seekable file (replayable), or a stream (not)."""

    def __init__(self, data) -> None:
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

    def payload(self):
        if self.used and self.start is not None:
            self.data.seek(self.start)
        self.used = True
        return self.data


def _header_text(value: str) -> str:
    """A header value read as latin-1 whose bytes are UTF-8 (a Location with a non-ASCII
    path), as text; otherwise as it is."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _is_otp_challenge(resp) -> bool:
    if resp.status_code != 401:
        return False
    www = resp.headers.get("www-authenticate")
    if www:
        return "otp" in [s.strip().lower() for s in www.split(",")]
    try:
        return "one-time pass" in resp.text
    except Exception:
        return False


def _body_json(resp) -> Any:
    try:
        if _is_binary(resp):
            return None
        return resp.json()
    except (ValueError, RuntimeError):
        return None


def _is_binary(resp) -> bool:
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


def _userinfo_secrets(url: str) -> list[str]:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    return [unquote(s) for s in (parts.username, parts.password) if s]


def _int(v, default):
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def _float(v, default):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def stderr_logger(redactor: Redactor | None = None) -> Callable[[str], None]:
    def log(message: str) -> None:
        sys.stderr.write(f"pystage {message}\n")
        sys.stderr.flush()

    return log
