"""publish --wait in one process while other maintainers decide in theirs, all through
the CLI: with two approvers the first approval does not end the wait and the second
does (exit 0); a rejection with a reason ends it with exit 9, and the stager's message
and the reason show in list, view and the history."""

from __future__ import annotations

import json
import time

import pytest
from helpers import make_crew, make_package


def _two_approvers(crew):
    assert crew.run(crew.alice, "owner", "add", "pkg", "bob").returncode == 0
    assert crew.run(crew.alice, "policy", "set", "pkg", "--approvers", "2").returncode == 0


@pytest.fixture
def waiting(tmp_path, registry_server):
    crew = make_crew(tmp_path, registry_server, _two_approvers)

    def publish_and_wait(version, message, *args):
        pkg = make_package(crew.home / f"pkg-{version}", name="pkg", version=version)
        proc = crew.start(crew.alice, "publish", "--wait", "-m", message, *args, cwd=pkg)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listed = crew.run(crew.bob, "list", "pkg", "--json")
            items = [i for i in json.loads(listed.stdout or "[]") if i["version"] == version]
            if items:
                return proc, items[0]
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.3)
        proc.kill()
        raise AssertionError("never staged")

    crew.publish_and_wait = publish_and_wait
    return crew


def _finish(proc, timeout=90):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_wait_sees_the_second_maintainers_approval(waiting):
    crew = waiting
    proc, item = crew.publish_and_wait("1.1.0", "release 1.1.0: see PR #34")
    assert item["message"] == "release 1.1.0: see PR #34"
    first = crew.run(crew.bob, "approve", item["id"], "--otp", crew.code(crew.bob))
    assert first.returncode == 0 and "1 of 2 approvals" in first.stdout, first.stderr
    time.sleep(2.5)  # more than one poll: a recorded approval is not the end
    assert proc.poll() is None
    second = crew.run(crew.alice, "approve", item["id"], "--otp", crew.code(crew.alice))
    assert second.returncode == 0, second.stderr
    code, out, err = _finish(proc)
    assert code == 0, err
    assert "pkg@1.1.0 was approved and published." in out
    assert "1.1.0" in crew.reg.request("GET", "pkg").json()["versions"]


def test_wait_sees_another_maintainers_rejection_and_its_reason(waiting):
    crew = waiting
    proc, item = crew.publish_and_wait("1.2.0", "try the new parser", "--json")
    viewed = crew.run(crew.bob, "view", item["id"])
    assert "try the new parser" in viewed.stdout
    rejected = crew.run(
        crew.bob,
        "reject",
        item["id"],
        "--reason",
        "breaks the CLI on Windows",
        "--otp",
        crew.code(crew.bob),
    )
    assert rejected.returncode == 0, rejected.stderr
    code, out, err = _finish(proc)
    assert code == 9, err
    assert json.loads(out)["pkg"]["wait"] == "rejected"
    assert "EREJECTED" in err

    events = json.loads(crew.run(crew.alice, "history", "pkg", "--json").stdout)
    reject = next(e for e in events if e["event"] == "reject")
    assert reject["actor"] == "bob" and reject["id"] == item["id"]
    assert reject["detail"] == {"reason": "breaks the CLI on Windows"}
    stage = next(e for e in events if e["event"] == "stage" and e["id"] == item["id"])
    assert stage["detail"]["message"] == "try the new parser"
    table = crew.run(crew.alice, "history", "pkg").stdout
    assert "reason: breaks the CLI on Windows" in table
    assert "message: try the new parser" in table
