"""pystage list's layouts: one or two readable lines per item at any terminal width,
whole-valued columns in a pipe, every field with --long and --wide (npm's known fields
first, the rest as sent, escaped), only ids under -q, --json whole.

The terminal layout is drawn here at fixed widths (what Rich measures at a terminal);
tests/test_terminal_screens.py looks at the same output on a real pseudo-terminal."""

from __future__ import annotations

import json

import pytest
from helpers import staged_item, write_npmrc

from pystage.render.stagelist import short_date, terminal_lines

LONG_NAME = "@acme/some-long-package-name"
NASTY = "a\x1b[2J\rb\u202ec[bold]d[/]"


def _items():
    return [
        staged_item(
            LONG_NAME,
            "1.0.0-beta.1",
            stage_id="0f3c2a4e-1111-4222-8333-944445555666",
            integrity="sha512-abc",
            message="Release 1.0 (PR #12)\nsecond line",
            approvals=[{"actor": "bob", "at": "2026-01-02T04:00:00.000Z"}],
            approvalsRequired=2,
        ),
        staged_item(
            "demo",
            "2.0.0",
            stage_id="1f3c2a4e-1111-4222-8333-944445555666",
            actor="github-actions[bot]",
            actorType="bot",
            tag="next",
        ),
    ]


def _screen(items, width: int) -> list[str]:
    return [line.plain for line in terminal_lines(items, width)]


@pytest.mark.parametrize("width", [80, 100, 120, 132, 160, 200, 300])
def test_every_item_takes_one_or_two_lines_within_the_width_and_shows_what_a_user_needs(width):
    items = _items()
    lines = _screen(items, width)
    assert all(len(line) <= width for line in lines), lines
    assert len(lines) in (len(items) + 1, 2 * len(items))  # a table with a header, or pairs
    per_item = 1 if len(lines) == len(items) + 1 else 2
    body = lines[1:] if per_item == 1 else lines
    for n, item in enumerate(items):
        shown = " ".join(body[n * per_item : (n + 1) * per_item])
        # the whole id (every command takes it), the date, name@version, tag, who
        for needed in (
            item["id"],
            "2026-01-02 03:04Z",
            f"{item['packageName']}@{item['version']}",
            item["tag"],
            f"{item['actor']} ({item['actorType']})",
        ):
            assert needed in shown, (width, needed, lines)
    assert not [line for line in lines if line != line.rstrip()]


def test_narrow_terminals_get_two_lines_per_item_and_wide_ones_a_table():
    assert len(_screen(_items(), 80)) == 4
    wide = _screen(_items(), 200)
    assert len(wide) == 3 and wide[0].split()[:3] == ["id", "staged", "package@version"]


def test_the_note_shows_approvals_and_the_message_first_line_cut_to_fit():
    at_80 = _screen(_items(), 80)
    assert "1 of 2 approvals" in at_80[1]
    assert "second line" not in "\n".join(at_80)
    at_200 = _screen(_items(), 200)
    assert "1 of 2 approvals; Release 1.0 (PR #12)" in at_200[1]
    squeezed = _screen([{**_items()[0], "message": "x" * 500}], 90)
    assert len(squeezed[1]) <= 90 and squeezed[1].endswith("…")


def test_hostile_text_is_escaped_before_it_is_measured_and_shown():
    item = staged_item(f"pkg{NASTY}", "1.0.0", tag=NASTY, actor=NASTY, message=NASTY)
    for width in (80, 200):
        text = "\n".join(_screen([item], width))
        assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
        assert "\\x1b[2J\\rb\\u202ec[bold]d[/]" in text


def test_dates_are_shortened_only_when_they_are_iso_utc():
    assert short_date("2026-01-02T03:04:05.000Z") == "2026-01-02 03:04Z"
    assert short_date("2026-01-02T03:04:05+01:00") == "2026-01-02T03:04:05+01:00"
    assert short_date("yesterday\x1b[2J") == "yesterday\\x1b[2J"
    assert short_date(None) == ""


# -- the command, against the scripted stage server -------------------------------------------


@pytest.fixture
def ours(tmp_path, stage_server, run_pystage):
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)

    def run(*args, **kw):
        return run_pystage(*args, "--registry", stage_server.url, "--userconfig", npmrc, **kw)

    run.server = stage_server
    return run


def test_quiet_list_prints_only_the_ids_one_a_line(ours):
    ours.server.state.items = _items()
    result = ours("-q", "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [i["id"] for i in _items()]
    assert result.stderr == ""
    ours.server.state.items = []
    assert ours("list", "-q").stdout == ""


def test_long_shows_every_field_of_every_item_known_ones_first(ours):
    items = _items()
    items[1]["x-custom" + NASTY] = {"nested": NASTY}
    ours.server.state.items = items
    result = ours("list", "--long")
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.split("\n\n")
    assert len(blocks) == 2
    first = blocks[0].splitlines()
    assert first[:6] == [
        f"id: {items[0]['id']}",
        f"package name: {LONG_NAME}",
        "version: 1.0.0-beta.1",
        "tag: latest",
        "date staged: 2026-01-02T03:04:05.000Z",
        "staged by: alice (user)",
    ]
    assert "integrity: sha512-abc" in first
    assert "approvalsRequired: 2" in first
    assert "message: Release 1.0 (PR #12)\\nsecond line" in first
    second = blocks[1]
    assert "x-customa\\x1b[2J\\rb\\u202ec[bold]d[/]: " in second
    assert "\x1b" not in result.stdout


def test_wide_has_a_column_for_every_field_any_item_has(ours):
    items = _items()
    items[1]["region" + NASTY] = "eu"
    ours.server.state.items = items
    result = ours("list", "--wide")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    columns = header.split("  ")
    columns = [c.strip() for c in columns if c.strip()]
    assert columns[:7] == [
        "id",
        "package name",
        "version",
        "tag",
        "date staged",
        "staged by",
        "shasum",
    ]
    for name in ("integrity", "message", "approvals", "approvalsRequired"):
        assert name in columns
    assert "regiona\\x1b[2J\\rb\\u202ec[bold]d[/]" in header
    assert len(rows) == 2 and rows[1].rstrip().endswith("eu")
    assert "\x1b" not in result.stdout


def test_the_count_line_offers_the_fields_the_table_leaves_out(ours):
    items = _items()
    items[0]["region"] = "eu"
    ours.server.state.items = items
    result = ours("list")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        "2 staged items (pystage list --long also shows: integrity, region)"
    )
    only_known = [staged_item("demo", "1.0.0")]
    ours.server.state.items = only_known
    assert ours("list").stderr.strip() == "1 staged item"


def test_json_stays_the_registry_answer_whole(ours):
    items = _items()
    items[0]["anything"] = [1, {"new": True}]
    ours.server.state.items = items
    for flags in ((), ("--long",), ("--wide",), ("-q",)):
        result = ours("list", "--json", *flags)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == items
