"""Which credential goes with which request URL.

Lookup order for a request (first match wins):

1. a token injected for this client (a fresh login, or a trusted-publishing
   OIDC exchange), and the ``PYSTAGE_TOKEN`` environment variable; both are
   keyed to the client's registry only;
2. npm configuration keyed by nerf-dart (``//host[:port]/path/:_authToken``,
   ``:_auth``, ``:username`` + ``:_password``, ``:certfile`` + ``:keyfile``),
   from flags, ``npm_config_*`` variables, project, user and global npmrc, in
   npm's precedence;
3. the OS keyring (service ``pystage``, username = the registry's nerf-dart),
   where ``pystage login`` stores tokens by default.

Matching follows npm-registry-fetch: the URL's ``//host/path`` is walked up
one segment at a time to the longest key that has a credential; a URL on the
registry's host with no key of its own borrows the registry's credential; any
other host gets nothing. Credentials therefore never leave the host (and path
prefix) they were keyed for.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pystage.config import Config, nerf_dart, url_host
from pystage.errors import PystageError


@dataclass(frozen=True)
class Credential:
    reg_key: str  # the nerf-dart that matched, e.g. //registry.npmjs.org/
    source: str  # "config:<layer>", "keyring", "env", "login", "oidc"
    token: str | None = None
    basic: str | None = None  # base64 of user:password
    username: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    auth_key: str | None = None  # which config key provided it (_authToken, _auth, username)
    file: str | None = None  # the npmrc it was read from (logout removes it there)

    @property
    def authorization(self) -> str | None:
        if self.token:
            return f"Bearer {self.token}"
        if self.basic:
            return f"Basic {self.basic}"
        return None

    @property
    def cert(self) -> tuple[str, str] | None:
        if (
            self.certfile
            and self.keyfile
            and os.path.exists(self.certfile)
            and os.path.exists(self.keyfile)
        ):
            return (self.certfile, self.keyfile)
        return None

    def secrets(self) -> list[str]:
        out = [s for s in (self.token, self.basic) if s]
        if self.basic:
            try:
                decoded = base64.b64decode(self.basic).decode("utf-8", "replace")
                out.append(decoded.split(":", 1)[-1])
            except ValueError:
                pass
        return out

    def __repr__(self) -> str:  # never print secrets, even in a traceback
        return f"Credential(reg_key={self.reg_key!r}, source={self.source!r}, auth_key={self.auth_key!r})"


def same_host(a: str, b: str) -> bool:
    return url_host(a) == url_host(b)


def _candidates(url: str) -> Iterator[str]:
    """npm's regFromURI walk: //host/a/b/ -> //host/a/b -> //host/a/ -> ... -> //host"""
    key = f"//{url_host(url)}{urlsplit(url).path}"
    while len(key) > 2:
        yield key
        key = re.sub(r"([^/]+|/)$", "", key)


def _from_config(config: Config, reg_key: str) -> Credential | None:
    def get(name: str) -> Any:
        return config.get(f"{reg_key}:{name}")

    def layer(name: str) -> str:
        found = config.where(f"{reg_key}:{name}")
        return f"config:{found.where}" if found else "config"

    def file(name: str) -> str | None:
        found = config.where(f"{reg_key}:{name}")
        if found is None or found.where not in ("user", "project", "global"):
            return None
        return found.source

    certfile, keyfile = get("certfile"), get("keyfile")
    cert = (certfile, keyfile) if certfile and keyfile else (None, None)

    def found(key: str, **secret: Any) -> Credential:
        """The credential read from ``{reg_key}:{key}``, with the client certificate."""
        return Credential(
            reg_key,
            layer(key),
            certfile=cert[0],
            keyfile=cert[1],
            auth_key=key,
            file=file(key),
            **secret,
        )

    if get("_authToken"):
        return found("_authToken", token=str(get("_authToken")))
    if get("_auth"):
        auth = str(get("_auth"))
        try:
            user = base64.b64decode(auth).decode("utf-8", "replace").split(":", 1)[0]
        except ValueError:
            user = None
        return found("_auth", basic=auth, username=user)
    if get("username") and get("_password"):
        user = str(get("username"))
        try:
            password = base64.b64decode(str(get("_password"))).decode("utf-8")
        except ValueError:
            raise PystageError("ECONFIG", f"{reg_key}:_password is not valid base64") from None
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        return found("username", basic=basic, username=user)
    if cert[0]:
        return found("certfile")
    return None


def legacy_auth_problems(config: Config) -> list[str]:
    """npm 11's check for credentials not keyed to a registry (ERR_INVALID_AUTH).

    npm refuses to run with them rather than guess where they may be sent, so
    pystage does too: ignoring them would only say "not logged in"."""
    problems = []
    reg_key = nerf_dart(config.registry)
    for layer in config.layers:
        if layer.where not in ("global", "user", "project"):
            continue
        data = layer.data
        for key in ("_authtoken", "-authtoken"):
            if data.get(key):
                problems.append(f"`{key}` is not allowed in {layer.where} config")
        for key in ("_auth", "_authToken", "username", "_password"):
            if not data.get(key):
                continue
            other = {"username": "_password", "_password": "username"}.get(key)
            if other and not data.get(other):
                problems.append(f"`{key}` is not allowed in {layer.where} config")
            else:
                problems.append(
                    f"`{key}` must be renamed to `{reg_key}:{key}` in {layer.where} config"
                )
    return problems


def check_legacy_auth(config: Config) -> None:
    problems = legacy_auth_problems(config)
    if problems:
        raise PystageError(
            "ERR_INVALID_AUTH",
            "Invalid auth configuration found: " + ", ".join(problems),
            "credentials must be keyed to their registry (//host/path/:key); "
            "`npm config fix` repairs the file",
        )


def config_credential_for(config: Config, url: str) -> Credential | None:
    for key in _candidates(url):
        cred = _from_config(config, key)
        if cred:
            return cred
    return None


def keyring_credential_for(url: str) -> Credential | None:
    from pystage.credentials.keyring_store import KEYRING_SERVICE, keyring_backend

    backend = keyring_backend()
    if backend is None:
        return None
    for key in _candidates(url):
        if not key.endswith("/"):
            continue
        try:
            token = backend.get_password(KEYRING_SERVICE, key)
        except Exception:  # a broken backend must not break a request that needs no auth
            return None
        if token:
            return Credential(key, "keyring", token=token, auth_key="keyring")
    return None


class CredentialResolver:
    """Resolves the credential for each URL a client requests.

    ``registry`` is the client's base registry; ``token`` an explicit token
    (login, OIDC) keyed to it. Results are cached per URL prefix.
    """

    def __init__(
        self,
        config: Config,
        registry: str,
        *,
        token: str | None = None,
        token_source: str = "login",
        use_keyring: bool = True,
    ) -> None:
        self.config = config
        self.registry = registry
        self.registry_key = nerf_dart(registry)
        self.use_keyring = use_keyring
        self._explicit: Credential | None = None
        env_token = config.env.get("PYSTAGE_TOKEN")
        if token:
            self._explicit = Credential(
                self.registry_key, token_source, token=token, auth_key="_authToken"
            )
        elif env_token:
            self._explicit = Credential(
                self.registry_key, "env", token=env_token, auth_key="PYSTAGE_TOKEN"
            )
        self._cache: dict[str, Credential | None] = {}

    def set_token(self, token: str, source: str = "login") -> None:
        self._explicit = Credential(self.registry_key, source, token=token, auth_key="_authToken")
        self._cache.clear()

    def for_url(self, url: str) -> Credential | None:
        if url in self._cache:
            return self._cache[url]
        cred = self._lookup(url)
        if cred is None and url != self.registry and same_host(url, self.registry):
            # npm: no auth of its own, but on the registry's host -> the registry's auth
            cred = self._lookup(self.registry)
        self._cache[url] = cred
        return cred

    def _lookup(self, url: str) -> Credential | None:
        if self._explicit and _under(url, self._explicit.reg_key):
            return self._explicit
        cred = config_credential_for(self.config, url)
        if cred is None and self.use_keyring:
            cred = keyring_credential_for(url)
        return cred

    def secrets(self) -> list[str]:
        out: list[str] = []
        for cred in [self._explicit, *self._cache.values()]:
            if cred:
                out.extend(cred.secrets())
        return out


def _under(url: str, reg_key: str) -> bool:
    here = f"//{url_host(url)}{urlsplit(url).path}"
    return here.startswith(reg_key) or here + "/" == reg_key
