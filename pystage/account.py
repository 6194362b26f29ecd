"""Account operations over a RegistryClient: login (web and couch), whoami, logout.

No terminal I/O here: prompts and notices are callables passed in by the CLI.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pystage.config import nerf_dart
from pystage.credentials import (
    KEYRING_SERVICE,
    keyring_backend,
    keyring_delete,
    keyring_get,
    keyring_store,
    no_keyring_error,
    remove_credentials_from_npmrc,
    save_token_to_npmrc,
)
from pystage.errors import PystageError
from pystage.http import RegistryClient


def _couch_path(username: str) -> str:
    return f"-/user/org.couchdb.user:{quote(username, safe='')}"


def login_couch(client: RegistryClient, username: str, password: str) -> str:
    """npm-profile's loginCouch: PUT the user document; on 409 re-PUT at its revision."""
    client.add_secret(password)
    body = {
        "_id": f"org.couchdb.user:{username}",
        "name": username,
        "password": password,
        "type": "user",
        "roles": [],
        "date": _dt.datetime.now(_dt.timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
    }
    try:
        data = client.json("PUT", _couch_path(username), json=body, expect=(200, 201))
    except PystageError as err:
        if err.code == "E400":
            raise PystageError(
                "E400", f'there is no user with the username "{username}"', err.hint
            ) from None
        if err.code == "E401":
            raise PystageError("E401", err.message, "check the user name and password") from None
        if err.code != "E409":
            raise
        data = _login_existing(client, username, password, body)
    token = data.get("token") if isinstance(data, dict) else None
    if not token:
        raise PystageError("ELOGIN", "the registry accepted the login but sent no token")
    client.add_secret(token)
    return token


def _login_existing(
    client: RegistryClient, username: str, password: str, body: dict[str, Any]
) -> Any:  # the registry's answer (JSON)
    import base64

    basic = base64.b64encode(f"{username}:{password}".encode()).decode()
    auth = {"authorization": f"Basic {basic}"}
    client.add_secret(basic)
    current = client.json("GET", _couch_path(username), params={"write": "true"}, headers=auth)
    for k, v in (current or {}).items():
        if not body.get(k) or k == "roles":
            body[k] = v
    return client.json(
        "PUT",
        f"{_couch_path(username)}/-rev/{body.get('_rev')}",
        json=body,
        headers=auth,
        expect=(200, 201),
    )


def login_web(
    client: RegistryClient,
    *,
    notify: Callable[[str], None],
    open_url: Callable[[str], None],
    timeout: float = 300.0,
) -> str | None:
    """npm-profile's web login; None when the registry does not offer it (npm's ENYI)."""
    from pystage.otp import is_plain_url, wait_for_web_auth

    try:
        content = client.json("POST", "-/v1/login", json={}, expect=(200, 201))
    except PystageError as err:
        status = getattr(err, "status", None)
        if status is not None and (400 <= status <= 499 or status == 500):
            return None
        raise
    if (
        not isinstance(content, dict)
        or not is_plain_url(content.get("loginUrl"))
        or not is_plain_url(content.get("doneUrl"))
    ):
        raise PystageError("EWEBAUTH", "invalid response from the web login endpoint")

    def poll(url: str) -> tuple[int, Mapping[str, str], Any]:
        resp = client.request("GET", url, expect=(200, 202), otp_ok=False)
        try:
            data = resp.json()
        except ValueError:
            data = None
        return resp.status_code, resp.headers, data

    token = wait_for_web_auth(
        content["loginUrl"],
        content["doneUrl"],
        poll,
        notify=notify,
        open_url=open_url,
        timeout=timeout,
        sleep=client.sleep,
        message="Login at:",
    )
    client.add_secret(token)
    return token


def whoami(client: RegistryClient) -> str:
    """The user name the registry associates with our credential (npm's get-identity)."""
    if not client.has_credential():
        raise PystageError(
            "ENEEDAUTH",
            f"this command requires you to be logged in to {client.registry}",
            f"run `pystage login --registry {client.registry}`",
        )
    data = client.json("GET", "-/whoami", otp_ok=False)
    if isinstance(data, dict) and isinstance(data.get("username"), str) and data["username"]:
        return data["username"]
    raise PystageError(
        "ENEEDAUTH",
        "this command requires you to be logged in",
        "the registry did not name a user for this credential",
    )


@dataclass
class Stored:
    where: str  # "keyring" or the npmrc path
    registry: str


def ensure_keyring() -> None:
    if keyring_backend() is None:
        raise no_keyring_error()


def store_token(registry: str, token: str, *, npmrc_path: str | None) -> Stored:
    """Keyring by default; the user npmrc (0600) when ``npmrc_path`` is given."""
    if npmrc_path:
        save_token_to_npmrc(npmrc_path, registry, token)
        return Stored(npmrc_path, registry)
    keyring_store(KEYRING_SERVICE, nerf_dart(registry), token)
    return Stored("keyring", registry)


@dataclass
class LogoutResult:
    registry: str
    revoked: bool
    removed_from: list[str]
    revoke_error: str | None = None
    left_in: str | None = None  # a source we cannot edit (environment)


def logout(client: RegistryClient) -> LogoutResult:
    """npm's logout: revoke the token on the registry, then forget it where it was stored."""
    registry = client.registry
    cred = client.credentials.for_url(registry)
    if cred is None or not (cred.token or cred.basic):
        raise PystageError("ENEEDAUTH", f"not logged in to {registry}, so can't log out!")
    result = LogoutResult(registry, False, [])
    if cred.token:
        try:
            client.request("DELETE", f"-/user/token/{quote(cred.token, safe='')}", otp_ok=True)
            result.revoked = True
        except PystageError as err:
            if err.code not in ("E401", "E403", "E404"):
                raise
            # already revoked or unknown: still forget it locally
            result.revoke_error = err.message
    if cred.source.startswith("config:"):
        where = cred.source.split(":", 1)[1]
        if cred.file:
            if remove_credentials_from_npmrc(cred.file, cred.reg_key):
                result.removed_from.append(cred.file)
        else:
            result.left_in = "environment" if where == "env" else where
    elif cred.source == "env":
        result.left_in = "PYSTAGE_TOKEN"
    if keyring_get(KEYRING_SERVICE, cred.reg_key) is not None and keyring_delete(
        KEYRING_SERVICE, cred.reg_key
    ):
        result.removed_from.append("keyring")
    return result
