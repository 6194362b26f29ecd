"""The team commands' registry operations: owners, approval policies, tokens, history.

Plain functions over a RegistryClient; no terminal I/O. Owners and tokens speak
npm's own wire (``npm owner``, ``npm token``), so they work against any registry
that has those endpoints; policies and the history are the embedded registry's
extensions (``/-/pystage/...``), and a registry without them is told apart from a
package the caller cannot see (both are 404s) by asking for the history root.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import quote, urlsplit

from pystage.errors import PystageError, UsageError
from pystage.staging import check_actor, escape_name

MAX_PAGES = 100  # a token list or history that pages on past this is a broken registry
HISTORY_PER_PAGE = 100


# -- owners (npm owner ls/add/rm) ------------------------------------------------------
class OwnerChange:
    """What ``owner add/rm`` did: ``changed`` is False when there was nothing to do."""

    __slots__ = ("action", "package", "user", "changed", "maintainers")

    def __init__(self, action, package, user, changed, maintainers) -> None:
        self.action = action
        self.package = package
        self.user = user
        self.changed = changed
        self.maintainers = maintainers

    def to_json(self) -> dict:
        return {
            "package": self.package,
            "user": self.user,
            "action": self.action,
            "changed": self.changed,
            "maintainers": self.maintainers,
        }


def _packument(client, package: str) -> dict:
    try:
        doc = client.json(
            "GET",
            f"/{escape_name(package)}",
            otp_ok=False,
            # the full document: the abbreviated one has no maintainers or _rev
            headers={"accept": "application/json"},
        )
    except PystageError as err:
        if err.code == "E404":
            raise PystageError(
                "E404",
                f"no package {package} on {client.registry}",
                "check the name (owner takes PACKAGE first, then USER)",
            ) from None
        raise
    if not isinstance(doc, dict):
        raise PystageError("EBADRESPONSE", f"the registry sent no package document for {package}")
    return doc


def _maintainers(doc: dict) -> list[dict]:
    found = doc.get("maintainers")
    if not isinstance(found, list):
        return []
    out = []
    for entry in found:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            email = entry.get("email")
            out.append({"name": entry["name"], "email": email if isinstance(email, str) else ""})
    return out


def list_owners(client, package: str) -> list[dict]:
    """The package's maintainers ``[{name, email}]``, from its packument, as npm reads them."""
    return _maintainers(_packument(client, package))


def _user(client, name: str) -> dict:
    try:
        data = client.json("GET", f"/-/user/org.couchdb.user:{quote(name, safe='')}", otp_ok=False)
    except PystageError as err:
        if err.code == "E404":
            raise PystageError(
                "E404", f"no user {name} on {client.registry}", "check the spelling"
            ) from None
        raise
    data = data if isinstance(data, dict) else {}
    email = data.get("email")
    shown = data.get("name")
    return {
        "name": shown if isinstance(shown, str) and shown else name,
        "email": email if isinstance(email, str) else "",
    }


def change_owner(client, action: str, package: str, user: str) -> OwnerChange:
    """``npm owner add/rm``'s requests, in its order: the user, the packument, then the PUT
    of ``{_id, _rev, maintainers}`` to ``/<name>/-rev/<rev>`` (the OTP challenge is the
    client's). Adding an owner twice, or removing a non-owner, changes nothing."""
    assert action in ("add", "rm"), action
    user = check_actor(user)
    wanted = _user(client, user)
    doc = _packument(client, package)
    owners = _maintainers(doc)
    names = [o["name"] for o in owners]
    if action == "add":
        if wanted["name"] in names:
            return OwnerChange(action, package, user, False, owners)
        maintainers = [*owners, wanted]
    else:
        if wanted["name"] not in names:
            return OwnerChange(action, package, user, False, owners)
        maintainers = [o for o in owners if o["name"] != wanted["name"]]
        if not maintainers:
            raise PystageError(
                "EOWNERRM",
                "cannot remove all owners of a package",
                "add someone else first",
            )
    rev = doc.get("_rev")
    if not isinstance(rev, str) or not rev:
        raise PystageError(
            "EBADRESPONSE",
            f"the package document of {package} has no _rev: this registry cannot change owners",
        )
    client.json(
        "PUT",
        f"/{escape_name(package)}/-rev/{quote(rev, safe='')}",
        json={"_id": doc.get("_id", package), "_rev": rev, "maintainers": maintainers},
        expect=(200, 201),
    )
    return OwnerChange(action, package, user, True, maintainers)


# -- the embedded registry's extensions -------------------------------------------------
def _unsupported(client, what: str) -> PystageError:
    return PystageError(
        "ENOTSUPPORTED",
        f"{client.registry} has no {what}",
        "approval policies and the history are pystage's embedded registry's "
        "(pystage registry serve); npmjs.com and Verdaccio do not have them",
    )


def _has_team_api(client) -> bool:
    """Whether the registry has ``/-/pystage/history`` (any logged-in user may read it)."""
    try:
        client.json("GET", "/-/pystage/history", params={"perPage": 1}, otp_ok=False)
    except PystageError as err:
        if err.code in ("E404", "E405", "E501"):
            return False
        raise
    return True


def _not_found(client, package: str, what: str) -> PystageError:
    if not _has_team_api(client):
        return _unsupported(client, what)
    return PystageError(
        "E404",
        f"no package {package} that you maintain on {client.registry}",
        "check the name; only its maintainers see a package's " + what,
    )


def _policy_path(package: str) -> str:
    return f"/-/pystage/policy/{escape_name(package)}"


def show_policy(client, package: str) -> dict:
    return _policy_call(client, "GET", package, otp_ok=False)


def set_policy(
    client, package: str, *, approvers: int | None = None, expire_after: object = ...
) -> dict:
    """PUT the keys given (``expire_after``: seconds, or None for never; ``...``: keep);
    the registry asks for the maintainer's one-time password (the client answers)."""
    body: dict = {}
    if approvers is not None:
        body["approvers"] = approvers
    if expire_after is not ...:
        body["expireAfter"] = expire_after
    if not body:
        raise UsageError(
            "nothing to change", "pass --approvers N and/or --expire-after DURATION (or never)"
        )
    return _policy_call(client, "PUT", package, json=body)


def _policy_call(client, method: str, package: str, **request: Any) -> dict:
    """The policy endpoint, read or written: a registry without it (404/405) is said as
    such, and the answer is checked before it is shown."""
    try:
        policy = client.json(method, _policy_path(package), **request)
    except PystageError as err:
        if err.code in ("E404", "E405"):
            raise _not_found(client, package, "approval policy") from None
        raise
    return _checked_policy(policy, package)


def _checked_policy(policy, package: str) -> dict:
    approvers = policy.get("approvers") if isinstance(policy, dict) else None
    expire = policy.get("expireAfter") if isinstance(policy, dict) else None
    if (
        not isinstance(approvers, int)
        or isinstance(approvers, bool)
        or not (expire is None or (isinstance(expire, int) and not isinstance(expire, bool)))
    ):
        raise PystageError("EBADRESPONSE", f"the registry sent no valid policy for {package}")
    return policy


def history(client, package: str | None, limit: int | None = None) -> list[dict]:
    """Events newest first (all pages, or the newest ``limit``)."""
    events: list[dict] = []
    per_page = min(limit or HISTORY_PER_PAGE, HISTORY_PER_PAGE)
    for page in range(MAX_PAGES):
        params: dict[str, int | str] = {"page": page, "perPage": per_page}
        if package:
            params["package"] = package
        try:
            res = client.json("GET", "/-/pystage/history", params=params, otp_ok=False)
        except PystageError as err:
            if err.code in ("E404", "E405"):
                if package is None:
                    raise _unsupported(client, "history") from None
                raise _not_found(client, package, "history") from None
            raise
        batch = res.get("events") if isinstance(res, dict) else None
        if not isinstance(batch, list) or not all(isinstance(e, dict) for e in batch):
            raise PystageError("EBADRESPONSE", 'the registry\'s history has no "events" array')
        events.extend(batch)
        total = res.get("total")
        if limit is not None and len(events) >= limit:
            return events[:limit]
        if len(batch) < per_page or not isinstance(total, int) or len(events) >= total:
            return events
    raise PystageError(
        "EBADRESPONSE", f"the registry's history goes on past {MAX_PAGES} pages", "pass --limit"
    )


# -- tokens (npm token create/list/revoke) ------------------------------------------------
def check_cidrs(ranges: tuple[str, ...] | list[str]) -> list[str]:
    """``--cidr`` values (repeatable, or comma-separated as npm takes them), checked
    before any request. Written as typed: the registry normalizes."""
    out: list[str] = []
    for value in ranges:
        for part in str(value).split(","):
            part = part.strip()
            if not part:
                continue
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise UsageError(
                    f"{part!r} is not an IP range", "write a range as 192.0.2.0/24 (or one address)"
                ) from None
            out.append(part)
    return out


def create_token(
    client,
    password: str,
    *,
    readonly: bool = False,
    stage_only: bool = False,
    cidrs: list[str] | None = None,
    name: str | None = None,
) -> dict:
    """POST /-/npm/v1/tokens; the answer holds the token, shown once. A registry that
    made a token with more rights than were asked for (one that ignores ``stage_only``,
    or a CIDR list) has it revoked at once, and this is an error."""
    client.add_secret(password)
    body: dict = {"password": password}
    if readonly:
        body["readonly"] = True
    if stage_only:
        body["stage_only"] = True  # the embedded registry's; others may ignore it (see below)
    if cidrs:
        body["cidr_whitelist"] = cidrs
    if name:
        body["name"] = name
    created = client.json("POST", "/-/npm/v1/tokens", json=body, expect=(200, 201))
    token = created.get("token") if isinstance(created, dict) else None
    if not isinstance(token, str) or not token:
        raise PystageError("EBADRESPONSE", "the registry answered, but sent no token")
    client.add_secret(token)
    missing = _rights_missing(created, readonly=readonly, stage_only=stage_only, cidrs=cidrs)
    if missing:
        revoked = _revoke_quietly(client, created)
        raise PystageError(
            "ENOTSUPPORTED",
            f"{client.registry} does not support {missing}: it made a token without that "
            + ("restriction, which was revoked at once" if revoked else "restriction"),
            None if revoked else "revoke it yourself: pystage token list, pystage token revoke",
        )
    return created


def _rights_missing(created: dict, *, readonly, stage_only, cidrs) -> str | None:
    if stage_only and created.get("stage_only") is not True:
        return "stage-only tokens"
    if readonly and created.get("readonly") is not True:
        return "read-only tokens"
    if cidrs and not created.get("cidr_whitelist"):
        return "CIDR-limited tokens"
    return None


def _revoke_quietly(client, created: dict) -> bool:
    target = created.get("key") or created.get("token")
    try:
        client.request("DELETE", f"/-/npm/v1/tokens/token/{quote(str(target), safe='')}")
    except PystageError:
        return False
    return True


def list_tokens(client) -> list[dict]:
    """Every token of the caller (npm's paginated ``objects``, following ``urls.next``
    on this registry only)."""
    tokens: list[dict] = []
    href: str | None = "/-/npm/v1/tokens"
    for _ in range(MAX_PAGES):
        res = client.json("GET", href, otp_ok=False)
        objects = res.get("objects") if isinstance(res, dict) else None
        if not isinstance(objects, list) or not all(isinstance(t, dict) for t in objects):
            raise PystageError("EBADRESPONSE", 'the registry\'s token list has no "objects" array')
        tokens.extend(objects)
        urls = res.get("urls")
        href = urls.get("next") if isinstance(urls, dict) else None
        if not href:
            return tokens
        if not isinstance(href, str) or _origin(client.url(href)) != _origin(client.registry):
            raise PystageError(
                "EBADRESPONSE", "the registry's token list points its next page elsewhere"
            )
    raise PystageError("EBADRESPONSE", f"the registry's token list goes on past {MAX_PAGES} pages")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def find_token_key(tokens: list[dict], ref: str) -> str:
    """The key ``ref`` names, as npm's ``token revoke`` matches: a unique key prefix, or
    the token's value (whose listed preview it starts with). Unknown or ambiguous: an
    error, before anything is revoked."""
    keys: list[str] = [t["key"] for t in tokens if isinstance(t.get("key"), str)]
    matches = [k for k in keys if k.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise PystageError(
            "EAMBIGUOUS",
            f'token id "{ref}" matches {len(matches)} tokens',
            "give more of the key, as `pystage token list` shows it",
        )
    for token in tokens:
        preview = token.get("token")
        if isinstance(preview, str) and len(preview) >= 4 and ref.startswith(preview):
            return ref  # the value itself: the registry finds the token by it
    raise PystageError(
        "E404", f'no token with id "{ref}"', "`pystage token list` shows your tokens' ids"
    )


def revoke_token(client, ref: str) -> str:
    """DELETE /-/npm/v1/tokens/token/<key>; returns the key (or value) revoked."""
    ref = ref.strip()
    if not ref:
        raise UsageError("no token id given", "pass the id that `pystage token list` shows")
    tokens = list_tokens(client)
    key = find_token_key(tokens, ref)
    if key not in {t.get("key") for t in tokens}:
        client.add_secret(key)  # a token's value, not its key: never shown in -v lines
    client.request("DELETE", f"/-/npm/v1/tokens/token/{quote(key, safe='')}")
    return key
