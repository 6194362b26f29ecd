"""A policy with a short expiry, set through the CLI: the staged version shows its
expiresAt, is discarded by the registry's sweep when nobody approves it, and the
history says it expired; an approval after that is refused."""

from __future__ import annotations

import json
import time

import pytest
from helpers import make_crew, make_package, start_registry


@pytest.fixture
def sweeping(tmp_path):
    reg = start_registry(tmp_path / "registry", extra_args=("--expiry-sweep", "0.2"))
    try:
        yield make_crew(
            tmp_path,
            reg,
            lambda crew: crew.run(crew.alice, "policy", "set", "pkg", "--expire-after", "2s"),
        )
    finally:
        reg.stop()


def test_an_unapproved_version_expires_and_the_history_says_so(sweeping):
    crew = sweeping
    shown = json.loads(crew.run(crew.alice, "policy", "show", "pkg", "--json").stdout)
    assert shown["expireAfter"] == 2
    assert "expire after: 2s (2 s)" in crew.run(crew.alice, "policy", "show", "pkg").stdout
    pkg = make_package(crew.home / "pkg", name="pkg", version="1.1.0")
    staged = crew.run(crew.alice, "publish", "--json", "-m", "short-lived", cwd=pkg)
    assert staged.returncode == 0, staged.stderr
    stage_id = json.loads(staged.stdout)["pkg"]["stageId"]
    item = json.loads(crew.run(crew.alice, "view", stage_id, "--json").stdout)
    assert item["expiresAt"] > item["createdAt"]

    # discarded by the sweep (or, at the latest, when the history is read: it expires what
    # is due first); either way the history records it
    deadline = time.monotonic() + 20
    while True:
        events = json.loads(crew.run(crew.alice, "history", "pkg", "--json").stdout)
        if events[0]["event"] == "expire" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert events[0]["event"] == "expire", events
    assert events[0]["id"] == stage_id and events[0]["actor"] is None
    assert events[0]["detail"] == {"expiresAt": item["expiresAt"]}
    table = crew.run(crew.alice, "history", "pkg").stdout
    assert f"expired at {item['expiresAt']}" in table and "(registry)" in table

    listed = crew.run(crew.alice, "list", "pkg", "--json")
    assert json.loads(listed.stdout) == []
    late = crew.run(crew.alice, "approve", stage_id, "--otp", crew.code(crew.alice))
    assert late.returncode in (4, 5), late.stderr
    assert "1.1.0" not in crew.reg.request("GET", "pkg").json()["versions"]


def test_never_switches_expiry_off(sweeping):
    crew = sweeping
    off = crew.run(
        crew.alice,
        "policy",
        "set",
        "pkg",
        "--expire-after",
        "never",
        "--otp",
        crew.code(crew.alice),
        "--json",
    )
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout)["expireAfter"] is None
    history = json.loads(crew.run(crew.alice, "history", "pkg", "--json", "--limit", "1").stdout)
    assert len(history) == 1 and history[0]["event"] == "policy"
    assert history[0]["detail"]["previous"]["expireAfter"] == 2
