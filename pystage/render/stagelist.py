"""The layouts of ``pystage list``: what a person reads at a terminal of any width, what a
script reads from a pipe, and the two forms that show every field (``--long``, ``--wide``).

Every cell is registry text: it is escaped (``safe``) before its width is measured, so
what is measured is what is shown. No Rich import at module level: ``rich.text.Text``
and ``rich.cells.cell_len`` are loaded by the functions that draw.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pystage.render import safe
from pystage.stageitem import NPM_ITEM_KEYS, stage_item_fields

GAP = "  "
INDENT = "  "
# the columns of the piped table (scripts cut them; unchanged since 0.1.0)
PIPED_COLUMNS = ("id", "package", "version", "tag", "staged at", "staged by")
# fields the terminal layouts show in their own places (the rest: --long, --wide, --json)
_SHOWN_KEYS = set(NPM_ITEM_KEYS) | {"message", "approvals", "approvalsRequired"}
_ISO_MINUTE = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?(Z|[+-]00:?00)$")


def cell(value: Any) -> str:
    """A field's value as one line of inert text (npm's rendering of non-strings)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)  # ASCII-only: every control character is a JSON escape
    return safe(value)


def short_date(value: Any) -> str:
    """``2026-01-02T03:04:05.000Z`` as ``2026-01-02 03:04Z`` (UTC, to the minute); any
    other text as it was sent (escaped)."""
    if isinstance(value, str):
        match = _ISO_MINUTE.match(value)
        if match:
            return f"{match.group(1)} {match.group(2)}Z"
    return cell(value)


def staged_by(item: dict) -> str:
    actor, actor_type = item.get("actor"), item.get("actorType")
    if actor is None:
        return ""
    return f"{cell(actor)} ({cell(actor_type)})" if actor_type else cell(actor)


def spec(item: dict) -> str:
    return f"{cell(item.get('packageName'))}@{cell(item.get('version'))}"


def note(item: dict) -> str:
    """What else a reviewer wants at a glance: approvals of a multi-approver policy, the
    stager's message (its first line)."""
    parts = []
    approvals, required = item.get("approvals"), item.get("approvalsRequired")
    if isinstance(required, int) and not isinstance(required, bool) and required > 1:
        have = len(approvals) if isinstance(approvals, list) else 0
        parts.append(f"{have} of {required} approvals")
    message = item.get("message")
    if isinstance(message, str) and message.strip():
        parts.append(safe(message.strip().splitlines()[0]))
    return "; ".join(parts)


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells, with an ellipsis when it was cut."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return set_cell_size(text, width - 1) + "…"


# -- at a terminal -------------------------------------------------------------------------


def terminal_lines(items: list[dict], width: int) -> list:
    """One aligned line per item when the whole row fits ``width``; otherwise two lines
    per item: ``name@version  tag  staged by``, then the id (whole: every command takes
    it), the date and the note, indented. Returns Rich ``Text`` lines."""
    from rich.cells import cell_len
    from rich.text import Text

    rows = [
        (
            cell(i.get("id")),
            short_date(i.get("createdAt")),
            spec(i),
            cell(i.get("tag")),
            staged_by(i),
        )
        for i in items
    ]
    notes = [note(i) for i in items]
    header = ("id", "staged", "package@version", "tag", "staged by")
    widths = [max(cell_len(r[n]) for r in (*rows, header)) for n in range(len(header))]
    row_width = sum(widths) + len(GAP) * (len(widths) - 1)
    styles = ("dim", "", "bold", "cyan", "")
    if row_width <= width:
        room = width - row_width - len(GAP)
        with_notes = any(notes) and room >= 10
        lines = []
        for row, extra, is_header in [(header, "note" if with_notes else "", True)] + [
            (r, n, False) for r, n in zip(rows, notes, strict=True)
        ]:
            line = Text()
            for n, (value, w) in enumerate(zip(row, widths, strict=True)):
                last = n == len(row) - 1 and not (with_notes and extra)
                line.append(value if last else _pad(value, w), "bold" if is_header else styles[n])
                if not last:
                    line.append(GAP)
            if with_notes and extra:
                line.append(fit(extra, room), "bold" if is_header else "italic")
            lines.append(line)
        return lines
    lines = []
    for row, extra in zip(rows, notes, strict=True):
        ident, date, name, tag, by = row
        first = Text()
        first.append(name, "bold")
        if tag:
            first.append(GAP)
            first.append(tag, "cyan")
        if by:
            first.append(GAP + by)
        second = Text(INDENT)
        second.append(ident, "dim")
        second.append(GAP + date)
        if extra:
            room = width - cell_len(second.plain) - len(GAP)
            if room >= 10:
                second.append(GAP)
                second.append(fit(extra, room), "italic")
        lines += [first, second]
    return lines


def _pad(text: str, width: int) -> str:
    from rich.cells import cell_len

    return text + " " * (width - cell_len(text))


# -- in a pipe -------------------------------------------------------------------------------


def piped_rows(items: list[dict]) -> list[list[str]]:
    """The table a script reads: a header, then whole values (no date shortening, no cut)."""
    rows = [list(PIPED_COLUMNS)]
    for i in items:
        rows.append(
            [
                cell(i.get("id")),
                cell(i.get("packageName")),
                cell(i.get("version")),
                cell(i.get("tag")),
                cell(i.get("createdAt")),
                staged_by(i),
            ]
        )
    return rows


def aligned(rows: list[list[str]]) -> list[str]:
    """Rows as space-aligned columns, no line ending in spaces (they break ``cut``, diffs
    and copy-paste)."""
    from rich.cells import cell_len

    widths = [max(cell_len(r[n]) for r in rows) for n in range(len(rows[0]))]
    return [GAP.join(_pad(v, w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]


# -- every field -------------------------------------------------------------------------------


def wide_rows(items: list[dict]) -> list[list[str]]:
    """``--wide``: one line per item with a column for every field any item has, npm's
    known fields first (as ``view`` names them), then the others as the registry sent
    them, in the order they first appear."""
    columns: list[str] = []
    for item in items:
        for key, _ in stage_item_fields(item):
            if key not in columns:
                columns.append(key)
    # a field a registry sends can be named anything: the header is escaped like a value
    rows = [[safe(c) for c in columns]]
    for item in items:
        fields = dict(stage_item_fields(item))
        rows.append([cell(fields.get(c)) for c in columns])
    return rows


def long_blocks(items: list[dict]) -> list[list[tuple[str, str]]]:
    """``--long``: each item as ``view`` shows it (npm's key: value lines, every field)."""
    return [[(safe(k), cell(v)) for k, v in stage_item_fields(item)] for item in items]


def unshown_fields(items: list[dict]) -> list[str]:
    """Fields some item has that the default layouts do not show (``--long`` does), their
    names escaped."""
    names: list[str] = []
    for item in items:
        for key, value in item.items():
            if key not in _SHOWN_KEYS and value is not None and safe(key) not in names:
                names.append(safe(key))
    return names
