"""Token kinds and what each may do: read-only, stage-only, CIDR ranges.

``POST /-/npm/v1/tokens`` asks for a token; ``creation_request`` reads that body
and refuses (400, naming them) the restrictions this registry cannot enforce, so a
token never has more rights than were asked for. ``refusal`` is asked on every
authenticated request: GET and HEAD are reads; a read-only token may do nothing
else, a stage-only token may also stage (``POST /-/stage/package/...``); any token
may revoke itself.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from urllib.parse import unquote

MAX_CIDRS = 64
MAX_TOKEN_NAME = 128
READS = ("GET", "HEAD")

# What npm 11's `npm token create` (lib/commands/token.js) can send that this
# registry does not implement, with words for the 400.
UNSUPPORTED = {
    "packages": "package scoping (--packages)",
    "scopes": "scope scoping (--scopes)",
    "orgs": "organization scoping (--orgs)",
    "orgs_permission": "organization permissions (--orgs-permission)",
    "expires": "expiry (--expires)",
    "bypass_2fa": "bypassing two-factor authentication (--bypass-2fa)",
}
# packages_and_scopes_permission: "read-only" is our read-only token, "read-write"
# our ordinary one; "no-access" would need the scoping above.
PERMISSIONS = {"read-only": True, "read-write": False}


@dataclass(frozen=True)
class TokenRights:
    readonly: bool = False
    stage_only: bool = False
    cidr_whitelist: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "read-only" if self.readonly else "stage-only" if self.stage_only else "publish"


@dataclass(frozen=True)
class TokenRequest:
    password: object
    rights: TokenRights
    name: str | None


class TokenRequestError(ValueError):
    """A token creation body this registry refuses; the message says why."""


def creation_request(body: object) -> TokenRequest:
    if not isinstance(body, dict):
        raise TokenRequestError("the body must be a JSON object with your password")
    unsupported = [
        words
        for field, words in UNSUPPORTED.items()
        if field in body and body[field] not in (None, False, [], "")
    ]
    permission = body.get("packages_and_scopes_permission")
    if permission is not None and permission not in PERMISSIONS:
        unsupported.append(f"packages_and_scopes_permission {permission!r}")
    if body.get("packages_all") not in (None, False, True):
        raise TokenRequestError('"packages_all" must be true or false')
    if unsupported:
        raise TokenRequestError(
            "this registry does not support "
            + ", ".join(unsupported)
            + ": no token was created (it supports readonly, cidr_whitelist and stage_only)"
        )
    readonly = _flag(body, "readonly") or PERMISSIONS.get(permission or "", False)
    stage_only = _flag(body, "stage_only")
    if readonly and stage_only:
        raise TokenRequestError("a token is either read-only or stage-only, not both")
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_TOKEN_NAME):
        raise TokenRequestError(f'"name" must be a string of at most {MAX_TOKEN_NAME} characters')
    return TokenRequest(
        body.get("password"),
        TokenRights(readonly, stage_only, _cidrs(body.get("cidr_whitelist"))),
        name,
    )


def _flag(body: dict, field: str) -> bool:
    value = body.get(field)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise TokenRequestError(f'"{field}" must be true or false')
    return value


def _cidrs(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_CIDRS:
        raise TokenRequestError(f'"cidr_whitelist" must be a list of at most {MAX_CIDRS} ranges')
    ranges = []
    for entry in value:
        try:
            if not isinstance(entry, str) or not entry.isascii():
                raise ValueError
            ranges.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            raise TokenRequestError(
                f"cidr_whitelist entry {str(entry)[:60]!r} is not an IP range such as 192.0.2.0/24"
            ) from None
    return tuple(ranges)


def allows_address(rights: TokenRights, address: str | None) -> bool:
    if not rights.cidr_whitelist:
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False  # no address known (a Unix socket): not inside any range
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d
    return any(ip in ipaddress.ip_network(cidr) for cidr in rights.cidr_whitelist)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def revokes_itself(method: str, path: str, key: str, token_hash: str) -> bool:
    if method != "DELETE":
        return False
    for prefix in ("/-/user/token/", "/-/npm/v1/tokens/token/"):
        if path.startswith(prefix):
            target = unquote(path[len(prefix) :])
            return target == key or _sha256(target) == token_hash
    return False


def refusal(rights: TokenRights, method: str, path: str, revoking_itself: bool) -> str | None:
    """Why a token with ``rights`` may not make this request, or None."""
    if method in READS or revoking_itself:
        return None
    if rights.readonly:
        return "this token is read-only"
    if rights.stage_only and not (method == "POST" and path.startswith("/-/stage/package/")):
        return "this token may only stage"
    return None
