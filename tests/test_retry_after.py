"""Retry-After end to end (the CLI against a registry asking it to wait): a short one is
honoured and retried, one beyond fetch-retry-maxtimeout is not retried (a locked
account's 429 made reject hang for minutes for a certain refusal)."""

from __future__ import annotations

import json
import time

import pytest
from helpers import (
    STAGE_ID,
    assert_clean_failure,
)


def test_reject_while_the_account_is_locked_fails_at_once(registry_server, run_pystage, tmp_path):
    # A locked account answers 429 with retry-after: 300. DELETE is idempotent, so the
    # client retried it, sleeping a minute each time: two minutes for a certain refusal.
    alice = registry_server.add_user("alice", tfa=True)
    registry_server.publish(alice, "pkg", "1.0.0")
    stage_id = registry_server.stage(alice, "pkg", "1.1.0")
    for _ in range(6):
        registry_server.request("POST", f"-/stage/{stage_id}/approve", alice, otp="000000")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", alice)
    started = time.monotonic()
    result = run_pystage(
        "reject",
        stage_id,
        "--otp",
        registry_server.totp_code(alice),
        "--userconfig",
        npmrc,
        timeout=100,
    )
    elapsed = time.monotonic() - started
    assert_clean_failure(result, "E429")
    assert "locked" in result.stderr
    assert elapsed < 20
    assert registry_server.request("GET", f"-/stage/{stage_id}", alice).status_code == 200


@pytest.mark.parametrize("retry_after", ["300", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_a_retry_after_beyond_the_longest_wait_is_not_retried(scripted_cli, retry_after):
    scripted_cli.script[("GET", f"/-/stage/{STAGE_ID}")] = (
        503,
        {"retry-after": retry_after},
        {"error": "down for maintenance"},
    )
    started = time.monotonic()
    result = scripted_cli.run("view", STAGE_ID)
    assert_clean_failure(result, "E503")
    assert "down for maintenance" in result.stderr
    assert time.monotonic() - started < 15
    assert len(scripted_cli.requests) == 1


def test_a_short_retry_after_is_honoured_and_retried(scripted_cli):
    answers = iter(
        [
            (429, {"retry-after": "0"}, {"error": "slow down"}),
            (200, {}, {"id": STAGE_ID, "packageName": "pkg", "version": "1.0.0"}),
        ]
    )
    scripted_cli.script[("GET", f"/-/stage/{STAGE_ID}")] = lambda req: next(answers)
    result = scripted_cli.run("view", STAGE_ID, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == STAGE_ID
    assert len(scripted_cli.requests) == 2
