"""The review page under a team policy: an approval that does not complete the quorum
keeps the version staged and says how many are still wanted, the same maintainer's
second approval is refused with a message, a second maintainer's approval publishes;
the item shows its message, approvals and expiry, and the list its approvals."""

from __future__ import annotations

import html
import re

import pytest
from helpers import WebClient, add_owner, csrf_of, published_versions, set_policy


@pytest.fixture
def team_site(registry_server):
    alice = registry_server.add_user("alice", "alice password")
    bob = registry_server.add_user("bob", "bob password")
    registry_server.publish(alice, "quorum-pkg", "1.0.0")
    assert add_owner(registry_server, alice, "bob", "quorum-pkg").status_code == 200
    answer = set_policy(registry_server, alice, "quorum-pkg", approvers=2, expireAfter=86400)
    assert answer.status_code == 200, answer.text
    return registry_server, alice, bob


def flash_of(page: str) -> str:
    match = re.search(r'<p class="flash (\w+)" role="status">(.*?)</p>', page, re.S)
    assert match, page
    return match.group(1) + ": " + html.unescape(match.group(2))


def approve_on_page(browser: WebClient, stage_id: str):
    token = csrf_of(browser.get(f"stage/{stage_id}").text)
    return browser.post(f"stage/{stage_id}/approve", {"csrf": token})


def test_two_maintainers_approve_on_the_page(team_site):
    server, alice, bob = team_site
    stage_id = server.stage(alice, "quorum-pkg", "1.1.0")
    as_alice = WebClient(server).signed_in(alice)
    as_bob = WebClient(server).signed_in(bob)

    listed = as_alice.get("").text
    assert "0 of 2" in listed

    first = approve_on_page(as_alice, stage_id)
    assert first.status_code == 303 and first.headers["location"].endswith(f"/stage/{stage_id}")
    page = as_alice.get(f"stage/{stage_id}").text
    assert flash_of(page).startswith("ok: approval 1 of 2 recorded for quorum-pkg@1.1.0")
    approvals = re.search(r'<p class="approvals" id="approvals">(.*?)</p>', page, re.S).group(1)
    assert "1 of 2" in approvals and "alice" in approvals and "you have approved" in approvals
    assert "expires" in page
    assert "1.1.0" not in published_versions(server, "quorum-pkg")

    # the same maintainer again: refused, said on the page, not counted
    again = approve_on_page(as_alice, stage_id)
    assert again.status_code == 409
    assert "already approved" in html.unescape(again.text)
    assert "1.1.0" not in published_versions(server, "quorum-pkg")

    # bob's approval completes the quorum
    second = approve_on_page(as_bob, stage_id)
    assert second.status_code == 303 and "history?package=quorum-pkg" in second.headers["location"]
    assert "1.1.0" in published_versions(server, "quorum-pkg")
    history = as_bob.get("history?package=quorum-pkg").text
    assert "approval 1 of 2" in history and "approval 2 of 2" in history


def test_the_item_shows_the_stagers_message(team_site):
    server, alice, _ = team_site
    stage_id = server.stage(alice, "quorum-pkg", "1.2.0", message="release 1.2: <b>fixes</b> #42")
    page = WebClient(server).signed_in(alice).get(f"stage/{stage_id}").text
    assert (
        '<blockquote class="message">release 1.2: &lt;b&gt;fixes&lt;/b&gt; #42</blockquote>' in page
    )
