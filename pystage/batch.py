"""Approve or reject many staged versions in one go, as pnpm 12's ``stage approve`` does.

pnpm 12 (CHANGELOG of 12.x): "The whole batch is approved with a single one-time
password, and pnpm asks for a new one only once the registry stops accepting it.
Inside a workspace, the selected packages are approved in dependency order, and
a package whose workspace dependency could not be approved is skipped."

Here:
- every id is resolved (and every item fetched) before the first approval, so an
  unknown id or a name@version named twice changes nothing;
- the first request answers the registry's OTP challenge the usual way (--otp, a
  stored TOTP secret, the web flow, a prompt); the code it used goes up front
  with every later request; when the registry refuses it (ours and Verdaccio
  take a code once), ``next_code`` is asked for another (the CLI prompts, or
  waits for the next TOTP window) and the same item is sent again;
- when no further code can be had, the rest of the batch is not attempted
  (every wrong code counts towards the registry's lockout);
- a 202 answer (a policy wants more approvers) is an approval recorded, not a
  failure.

No terminal I/O: ``next_code`` and ``on_result`` come from the caller.
"""

from __future__ import annotations

from collections.abc import Callable

from pystage import staging
from pystage.errors import PystageError, UsageError

PUBLISHED = "published"  # approve answered 200/201: the version is public
RECORDED = "recorded"  # approve answered 202: one approval of several
REJECTED = "rejected"
FAILED = "failed"
SKIPPED = "skipped"  # not sent: a dependency failed, or no OTP was left

# a refused code is replaced at most this often per item (then the item fails)
MAX_CODES_PER_ITEM = 3


class BatchEntry:
    """One staged version of the batch, and what became of it."""

    __slots__ = (
        "ref",
        "stage_id",
        "item",
        "outcome",
        "error",
        "response",
        "skip_reason",
        "report",
        "review_error",
    )

    def __init__(self, ref: str, stage_id: str, item: dict) -> None:
        self.ref = ref
        self.stage_id = stage_id
        self.item = item
        self.outcome: str | None = None
        self.error: PystageError | None = None
        self.response = None
        self.skip_reason: str | None = None
        self.report = None  # the review's Report, when approve reviewed it (review_each)
        self.review_error: PystageError | None = None  # why it could not be reviewed

    @property
    def name(self) -> str:
        return str(self.item.get("packageName") or "")

    @property
    def spec(self) -> str:
        if not self.item:
            return self.stage_id
        return f"{self.item.get('packageName')}@{self.item.get('version')}"

    @property
    def ok(self) -> bool:
        return self.outcome in (PUBLISHED, RECORDED, REJECTED)

    def to_json(self, action: str) -> dict:
        data: dict = {"id": self.stage_id, "action": action, "ok": self.ok}
        data["package"] = self.item.get("packageName")
        data["version"] = self.item.get("version")
        data["outcome"] = self.outcome
        if self.response is not None:
            data["response"] = self.response
        if self.error is not None:
            data["error"] = {"code": self.error.code, "summary": self.error.message}
        if self.skip_reason:
            data["skipped"] = self.skip_reason
        review = self.review_json()
        if review is not None:
            data["review"] = review
        return data

    def review_json(self) -> dict | None:
        """What approve's review found (None when it did not review this entry)."""
        if self.review_error is not None:
            return {"error": {"code": self.review_error.code, "summary": self.review_error.message}}
        if self.report is None:
            return None
        return {"baseline": self.report.baseline, "counts": self.report.counts()}

    def __repr__(self) -> str:
        return f"BatchEntry({self.spec} {self.stage_id} {self.outcome})"


# -- choosing the items ---------------------------------------------------------------


def parse_refs(refs: list[str] | tuple[str, ...]) -> list[staging.StageRef]:
    """Every <ID> checked before any request (a bad one fails the whole command)."""
    return [staging.parse_stage_ref(ref) for ref in refs]


def collect(client, refs: list[staging.StageRef]) -> list[BatchEntry]:
    """The staged item behind each ref (a 404 for any of them fails the command).

    A lone stage id is not looked up: npm sends only the approve (or reject)."""
    entries = []
    for ref in refs:
        stage_id, item = staging.resolve_stage_ref(client, ref)
        if item is None and len(refs) > 1:
            item = staging.view_staged(client, stage_id)
        entries.append(BatchEntry(ref.text, stage_id, item or {}))
    refuse_duplicates(entries)
    return entries


def collect_all(client, package: str | None) -> list[BatchEntry]:
    """Everything staged (of ``package``): ``approve --all [PACKAGE]``."""
    items = staging.list_staged(client, package)
    if package:
        items = [i for i in items if i.get("packageName", package) == package]
    entries = [BatchEntry(str(i.get("id")), str(i.get("id")), i) for i in items]
    for entry in entries:
        if not staging.is_stage_id(entry.stage_id):
            raise PystageError(
                "EBADRESPONSE", f"the registry listed {entry.spec} with an invalid stage id"
            )
    refuse_duplicates(entries)
    return entries


def refuse_duplicates(entries: list[BatchEntry]) -> None:
    """Two entries that are the same name@version (or the same id) cannot both be
    approved: one would publish, the other fail or, worse, win a race."""
    seen: dict[str, BatchEntry] = {}
    for entry in entries:
        first = seen.get(entry.spec)
        if first is not None:
            same = first.stage_id == entry.stage_id
            raise UsageError(
                f"{entry.spec} is named twice in this batch"
                + ("" if same else f" (stage ids {first.stage_id} and {entry.stage_id})"),
                "name each staged version once"
                if same
                else "two items claim the same version: inspect both, approve one, reject the other",
            )
        seen[entry.spec] = entry


def dependency_order(entries: list[BatchEntry], graph: dict[str, set[str]]) -> list[BatchEntry]:
    """Dependencies before their dependents (``graph``: name -> workspace names it needs);
    otherwise the order given. A cycle keeps the given order for its members."""
    names = {e.name for e in entries}
    pending = list(entries)
    ordered: list[BatchEntry] = []
    placed: set[str] = set()
    while pending:
        for entry in pending:
            needs = (graph.get(entry.name, set()) & names) - placed - {entry.name}
            # a dependency still pending (another version of it may be later)
            if not any(p.name in needs for p in pending if p is not entry):
                break
        else:
            # a cycle: take the first (in the given order) that is part of one, so
            # what merely depends on the cycle still waits for it
            pending_names = {p.name for p in pending}
            entry = next(
                (p for p in pending if _in_cycle(p.name, graph, pending_names - placed)),
                pending[0],
            )
        pending.remove(entry)
        ordered.append(entry)
        if not any(p.name == entry.name for p in pending):
            placed.add(entry.name)
    return ordered


def _in_cycle(name: str, graph: dict[str, set[str]], among: set[str]) -> bool:
    seen: set[str] = set()
    todo = [d for d in graph.get(name, ()) if d in among]
    while todo:
        current = todo.pop()
        if current == name:
            return True
        if current not in seen:
            seen.add(current)
            todo.extend(d for d in graph.get(current, ()) if d in among)
    return False


# -- reviewing it first (approve's review gate: pystage/cli/review_gate.py) -------------


def review_each(client, entries: list[BatchEntry], review_one) -> None:
    """``review_one(client, entry)`` -> Report for each entry, before anything is sent;
    a PystageError (baseline gone, registry down) is kept on the entry, never taken
    as a clean review."""
    for entry in entries:
        try:
            entry.report = review_one(client, entry)
        except PystageError as err:
            entry.review_error = err


# -- running it -----------------------------------------------------------------------

NextCode = Callable[[str], "str | None"]


def run(
    client,
    entries: list[BatchEntry],
    action: str,
    *,
    graph: dict[str, set[str]] | None = None,
    reason: str | None = None,
    next_code: NextCode | None = None,
    on_result: Callable[[BatchEntry], None] | None = None,
) -> list[BatchEntry]:
    """Send ``action`` ("approve" or "reject") for each entry in order; never raises for
    one entry's failure (each entry records its outcome)."""
    graph = graph or {}
    code = _given_code(client)
    exhausted: PystageError | None = None
    not_done: dict[str, str] = {}  # name -> spec of a version that did not get through
    for entry in entries:
        blocker = next(
            (not_done[d] for d in sorted(graph.get(entry.name, ())) if d in not_done), None
        )
        if exhausted is not None:
            entry.outcome, entry.skip_reason = SKIPPED, f"not attempted: {exhausted.message}"
        elif action == "approve" and blocker:
            entry.outcome, entry.skip_reason = SKIPPED, f"its dependency {blocker} was not approved"
        else:
            try:
                code = _send(client, entry, action, code, reason, next_code)
            except PystageError as err:
                entry.outcome, entry.error = FAILED, err
                if err.code == "EOTP":
                    exhausted = err  # another code would be refused as well
        if not entry.ok:
            not_done.setdefault(entry.name, entry.spec)
        if on_result:
            on_result(entry)
    return entries


def _send(client, entry, action, code, reason, next_code) -> str | None:
    """One item, with the batch's code; returns the code to use for the next one."""
    refusals = 0
    while True:
        if code is None:
            # the client answers the challenge (prompt, stored secret, web flow...)
            response = _call(client, entry, action, reason, None)
            code = _last_code(client)
        else:
            try:
                response = _call(client, entry, action, reason, code)
            except PystageError as err:
                if not _is_refused_code(err) or next_code is None or refusals >= MAX_CODES_PER_ITEM:
                    raise
                refusals += 1
                new = next_code(err.message)
                if not new:
                    raise
                code = new
                continue
        _record(entry, action, response)
        return code


def _call(client, entry, action, reason, code):
    if action == "approve":
        return staging.approve_staged(client, entry.stage_id, otp=code)
    staging.reject_staged(client, entry.stage_id, otp=code, reason=reason)
    return None


def _record(entry: BatchEntry, action: str, response) -> None:
    entry.response = response
    if action == "reject":
        entry.outcome = REJECTED
    elif isinstance(response, staging.Approval) and not response.published:
        entry.outcome = RECORDED
    else:
        entry.outcome = PUBLISHED
    if isinstance(response, staging.Approval):
        entry.response = response.body


def _is_refused_code(err: PystageError) -> bool:
    return err.code == "EOTP" and getattr(err, "status", None) == 401


def _given_code(client) -> str | None:
    otp = getattr(client, "otp", None)
    return getattr(otp, "given", None)


def _last_code(client) -> str | None:
    """The code the client's OTP handler produced for the last challenge (None when
    the registry asked for none: the batch then sends none)."""
    codes = getattr(getattr(client, "otp", None), "codes", None)
    return codes[-1] if codes else None


def failures(entries: list[BatchEntry]) -> list[BatchEntry]:
    return [e for e in entries if not e.ok]


def summary_error(entries: list[BatchEntry], action: str) -> PystageError | None:
    """The error the command ends with: None when every entry got through; the entry's
    own error for a batch of one; else one line naming each entry that did not."""
    bad = failures(entries)
    if not bad:
        return None
    if len(entries) == 1 and bad[0].error is not None:
        return bad[0].error
    first = next((e.error for e in bad if e.error is not None), None)
    verb = "approved" if action == "approve" else "rejected"
    parts = [f"{e.spec} ({e.error.code if e.error else 'skipped'})" for e in bad]
    return PystageError(
        first.code if first else "EBATCH",
        f"{len(bad)} of {len(entries)} staged versions were not {verb}: {', '.join(parts)}",
        "the lines above say why for each; the others went through",
    )


def parse_selection(text: str, count: int) -> list[int]:
    """A picker's answer ("1 3-5", "2,4", "all") -> 0-based indexes, in the order given."""
    import re

    text = text.strip().lower()
    if text in ("all", "*", "a"):
        return list(range(count))
    chosen: list[int] = []
    for token in re.split(r"[\s,]+", text):
        if not token:
            continue
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", token)
        if not match:
            raise UsageError(f"not a number or a range: {token!r}", "type e.g. 1 3-5, or all")
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if not 1 <= low <= high <= count:
            raise UsageError(
                f"{token} is out of range: pick from 1 to {count}", "type e.g. 1 3-5, or all"
            )
        for number in range(low, high + 1):
            if number - 1 not in chosen:
                chosen.append(number - 1)
    return chosen
