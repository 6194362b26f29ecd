"""What a person at a terminal sees: pystage on a real pty of 80 and 200 columns, the
screen rebuilt by a terminal emulator (tests/terminal_screen.py), and checked for what
a user needs: every staged item readable on one or two rows with its id, date,
name@version, tag and who staged it; the confirm question before a rejection or an
approval, with the summary above it and the typed OTP visible; the progress display
of a big upload counting tarball bytes and saying when the registry is verifying."""

from __future__ import annotations

import json
import random

import pytest
from terminal_screen import Terminal

LONG = "@acme/a-rather-long-package-name-for-the-screen"


@pytest.fixture
def registry(registry_server, tmp_path):
    user = registry_server.add_user("alice")
    registry_server.publish(user, LONG, "0.1.0")
    registry_server.publish(user, "tiny", "0.1.0")
    ids = [
        registry_server.stage(user, LONG, "1.0.0-beta.1", tag="beta", message="Beta for PR #12"),
        registry_server.stage(user, "tiny", "0.2.0"),
    ]
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    registry_server.alice, registry_server.npmrc, registry_server.ids = user, npmrc, ids
    return registry_server


def _items(registry, run_pystage):
    listed = run_pystage("list", "--json", "--userconfig", registry.npmrc)
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def _rows_of(lines, stage_id):
    """The screen rows one item takes: the row with its id and, in the two-row form,
    the row above it (name@version, tag, staged by)."""
    at = next(n for n, line in enumerate(lines) if stage_id in line)
    return at


@pytest.mark.parametrize("columns", [80, 200])
def test_list_on_a_terminal_shows_each_item_readably_in_one_or_two_rows(
    registry, run_pystage, tmp_path, columns
):
    items = _items(registry, run_pystage)
    term = Terminal(["list", "--userconfig", registry.npmrc], columns=columns, cwd=tmp_path)
    assert term.finish() == 0, term.text()
    lines = term.lines()
    assert all(len(line) <= columns for line in lines)
    count_line = [line for line in lines if "staged items" in line]
    assert count_line and "pystage list --long also shows: integrity" in count_line[0]
    body = [line for line in lines if line and "staged items" not in line]
    if columns == 80:
        assert len(body) == 2 * len(items)  # two rows an item, no wrapped leftovers
    else:
        assert body[0].split()[:3] == ["id", "staged", "package@version"]
        assert len(body) == 1 + len(items)  # a header and one row an item
    for item in items:
        at = _rows_of(body, item["id"])
        shown = body[at] if columns == 200 else body[at - 1] + " " + body[at]
        date = item["createdAt"][:10] + " " + item["createdAt"][11:16] + "Z"
        for needed in (
            item["id"],
            date,
            f"{item['packageName']}@{item['version']}",
            item["tag"],
            "alice (user)",
        ):
            assert needed in shown, (columns, needed, lines)
    assert "Beta for PR #12" in term.text()


def test_reject_at_a_terminal_shows_what_it_will_delete_and_asks_default_no(
    registry, run_pystage, tmp_path
):
    stage_id = registry.ids[1]
    term = Terminal(["reject", stage_id, "--userconfig", registry.npmrc], columns=80, cwd=tmp_path)
    term.expect(r"Reject tiny@0\.2\.0 for good\? \[y/N\] ")
    term.sendline("")  # Enter: the default, No
    assert term.finish() == 1
    screen = term.text()
    assert "pystage error ECANCELED" in screen, screen
    # the summary, then the warning, then the question, then what happened
    order = [
        screen.index("package name: tiny"),
        screen.index("version: 0.2.0"),
        screen.index("warning Rejecting will permanently delete"),
        screen.index("Reject tiny@0.2.0 for good? [y/N]"),
        screen.index("pystage error ECANCELED: cancelled: nothing was rejected"),
    ]
    assert order == sorted(order), screen
    assert stage_id in [i["id"] for i in _items(registry, run_pystage)]

    term = Terminal(["reject", stage_id, "--userconfig", registry.npmrc], columns=80, cwd=tmp_path)
    term.expect(r"\[y/N\] ")
    term.sendline("y")
    assert term.finish() == 0, term.text()
    assert f"Staged package {stage_id} has been rejected." in term.text()
    assert stage_id not in [i["id"] for i in _items(registry, run_pystage)]


def test_approve_at_a_terminal_asks_then_shows_the_otp_digits_as_typed(
    registry, run_pystage, tmp_path
):
    user = registry.enrol_2fa(registry.alice)
    npmrc = registry.write_npmrc(tmp_path / "npmrc2fa", user)
    stage_id = registry.ids[1]
    term = Terminal(["approve", stage_id, "--userconfig", npmrc], columns=80, cwd=tmp_path)
    term.expect(r"Approve and publish tiny@0\.2\.0\? \[y/N\] ")
    term.sendline("y")
    term.expect("Enter OTP: ")
    code = registry.totp_code(user)
    term.sendline(code)
    assert term.finish() == 0, term.text()
    screen = term.lines()
    assert f"Enter OTP: {code}" in screen  # npm shows the digits; so do we
    # (the result line is longer than 80 columns: the terminal wraps it)
    assert "approved and published successfully" in "".join(screen)


SIZE = 6 * 1024 * 1024  # above progress.MIN_BYTES; random, so the tarball is as big


def test_a_big_upload_shows_a_bar_in_tarball_bytes_then_the_registry_verifying(registry, tmp_path):
    pkg = tmp_path / "big"
    pkg.mkdir()
    (pkg / "package.json").write_text(json.dumps({"name": "tiny", "version": "0.3.0"}))
    (pkg / "blob.bin").write_bytes(random.Random(3).randbytes(SIZE))
    term = Terminal(["publish", pkg, "--userconfig", registry.npmrc], columns=120, cwd=tmp_path)
    assert term.finish(timeout=120) == 0, term.text()
    seen = term.seen
    assert any("packing tiny@0.3.0..." in row for row in seen), sorted(seen)  # the spinner
    bars = [row for row in seen if "staging" in row and "/" in row]
    assert bars, sorted(seen)
    # the tarball is ~6.3 MB; its base64 body would be ~8.4 MB
    totals = {row.split("/")[1].split()[0] for row in bars}
    assert totals and all(6.0 <= float(t) < 7.0 for t in totals), bars
    assert any("waiting for the registry to verify the upload..." in row for row in seen), sorted(
        seen
    )
    final = term.text()
    assert "+ tiny@0.3.0 (staged with id" in final
    assert "waiting for the registry" not in final  # the display is gone once answered
