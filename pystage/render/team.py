"""Output of the team commands: owner, policy, token, history.

Everything a registry sends (user names, emails, token names, reasons, messages)
is printed through ``safe``; results go to stdout, notes to stderr. A created
token is printed once, on stdout, and nowhere else.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pystage.durations import format_duration
from pystage.render import print_json, safe


def _out(text: str) -> None:
    sys.stdout.write(safe(text) + "\n")
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(safe(text) + "\n")
    sys.stderr.flush()


def _rows(rows: list[list[str]]) -> None:
    """Columns padded to their widest cell (as the terminal counts it, wide characters
    too), no trailing spaces; every cell escaped."""
    from pystage.render.stagelist import aligned

    for line in aligned([[safe(c) for c in row] for row in rows]):
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


class TeamRenderer:
    def __init__(self, json_mode: bool = False, quiet: bool = False) -> None:
        self.json_mode = json_mode
        self.quiet = quiet

    def json(self, data: Any) -> None:
        print_json(data)

    def notice(self, text: str) -> None:
        if not self.quiet:
            _err(text)

    # -- owner ------------------------------------------------------------------------
    def owners(self, package: str, owners: list[dict]) -> None:
        if self.json_mode:
            return self.json(owners)
        if not owners:
            return _out("no admin found")  # npm's words
        for owner in owners:  # npm owner ls: "name <email>"
            _out(f"{owner['name']} <{owner['email']}>")

    def owner_change(self, change) -> None:
        if self.json_mode:
            return self.json(change.to_json())
        if change.changed:
            sign = "+" if change.action == "add" else "-"
            return _out(f"{sign} {change.user} ({change.package})")  # npm's line
        if change.action == "add":
            self.notice(f"{change.user} already is an owner of {change.package}: nothing changed")
        else:
            self.notice(f"{change.user} is not an owner of {change.package}: nothing changed")

    # -- policy -----------------------------------------------------------------------
    def policy(self, policy: dict) -> None:
        if self.json_mode:
            return self.json(policy)
        approvers = policy["approvers"]
        expire = policy.get("expireAfter")
        _out(f"package: {policy.get('package')}")
        _out(f"approvers: {approvers} (distinct maintainers, each with their own OTP)")
        _out(
            "expire after: "
            + ("never" if expire is None else f"{format_duration(expire)} ({expire} s)")
        )

    # -- token ------------------------------------------------------------------------
    def token_created(self, created: dict) -> None:
        if self.json_mode:
            return self.json(created)
        _out(f"Created token {created['token']}")
        self.notice(f"kind: {_kind(created)}; key: {created.get('key', '')}")
        cidrs = created.get("cidr_whitelist")
        if cidrs:
            self.notice(f"with IP whitelist: {','.join(map(str, cidrs))}")
        self.notice("The token is shown only this once: store it now (a CI secret).")

    def tokens(self, tokens: list[dict]) -> None:
        if self.json_mode:
            return self.json(tokens)
        if not tokens:
            return _out("No tokens.")
        rows = [["id", "token", "kind", "created", "name", "cidr"]]
        for t in tokens:
            cidrs = t.get("cidr_whitelist") or []
            rows.append(
                [
                    str(t.get("key", "")),
                    f"{t.get('token', '')}…",
                    _kind(t),
                    str(t.get("created", ""))[:19],
                    str(t.get("name") or ""),
                    ",".join(map(str, cidrs)) if isinstance(cidrs, list) else str(cidrs),
                ]
            )
        _rows(rows)

    def token_revoked(self, key: str, shown: str) -> None:
        if self.json_mode:
            return self.json([shown])
        _out(f"Removed 1 token ({shown})")

    # -- history ----------------------------------------------------------------------
    def history(self, events: list[dict], package: str | None) -> None:
        if self.json_mode:
            return self.json(events)
        if not events:
            return _out(f"No history for {package}." if package else "No history.")
        rows = [["at", "event", "package", "by", "details"]]
        for e in events:
            spec = str(e.get("package") or "")
            if e.get("version"):
                spec += f"@{e['version']}"
            rows.append(
                [
                    str(e.get("at") or ""),
                    str(e.get("event") or ""),
                    spec,
                    str(e.get("actor") or "(registry)"),
                    describe_event(e),
                ]
            )
        _rows(rows)
        self.notice(f"{len(events)} event{'s' if len(events) != 1 else ''}")


def _kind(token: dict) -> str:
    if token.get("readonly"):
        return "read-only"
    if token.get("stage_only"):
        return "stage-only"
    return "publish"


def describe_event(event: dict) -> str:
    """One line of what the event's ``detail`` says (the known keys in words, others as
    ``key=value``); escaped by the caller."""
    detail = event.get("detail")
    kind = event.get("event")
    parts: list[str] = []
    rest: dict = dict(detail) if isinstance(detail, dict) else {}
    if kind == "approve" and "approval" in rest:
        parts.append(f"approval {rest.pop('approval')} of {rest.pop('of', '?')}")
    elif kind == "reject" and "reason" in rest:
        parts.append(f"reason: {rest.pop('reason')}")
    elif kind == "stage":
        if "message" in rest:
            parts.append(f"message: {rest.pop('message')}")
        if "tag" in rest:
            parts.append(f"tag {rest.pop('tag')}")
    elif kind == "expire" and "expiresAt" in rest:
        parts.append(f"expired at {rest.pop('expiresAt')}")
    elif kind == "publish":
        staged = rest.pop("staged", None)
        parts.append("from the staging area" if staged else "published directly")
        if "tag" in rest:
            parts.append(f"tag {rest.pop('tag')}")
    elif kind == "policy":
        rest.pop("previous", None)
        if "approvers" in rest:
            parts.append(f"approvers {rest.pop('approvers')}")
        if "expireAfter" in rest:
            parts.append(f"expire after {format_duration(rest.pop('expireAfter'))}")
    elif kind in ("owner-add", "owner-rm") and "user" in rest:
        parts.append(str(rest.pop("user")))
    for key, value in rest.items():
        shown = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"{key}={shown}")
    return "; ".join(str(p) for p in parts)
