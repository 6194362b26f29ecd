"""publish --wait: another process approves (exit 0) or rejects (exit 9) the staged
version, or nobody does (exit 124); on the embedded registry, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from helpers import StreamLines, make_package


@pytest.fixture
def waiting(tmp_path, registry_server):
    user = registry_server.add_user("alice")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)

    def start(name, *args, version="1.0.0"):
        registry_server.publish(user, name, "0.0.1")
        pkg = make_package(tmp_path / name, name=name, version=version)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pystage",
                "publish",
                "--wait",
                *args,
                "--registry",
                registry_server.url,
                "--userconfig",
                str(npmrc),
            ],
            cwd=pkg,
            env={**os.environ, "NO_COLOR": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # read as it comes, so a test can wait for the "Waiting up to" line
        proc.out, proc.err = StreamLines(proc.stdout), StreamLines(proc.stderr)
        return proc

    def staged_id(name):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            items = registry_server.request("GET", "-/stage", user).json()["items"]
            for item in items:
                if item["packageName"] == name:
                    return item["id"]
            time.sleep(0.2)
        raise AssertionError(f"{name} was never staged")

    return registry_server, user, start, staged_id


def _finish(proc, timeout=60):
    proc.wait(timeout)
    return proc.returncode, proc.out.text(), proc.err.text()


def test_wait_sees_an_approval_by_another_process(waiting):
    server, user, start, staged_id = waiting
    proc = start("wait-ok")
    stage_id = staged_id("wait-ok")
    assert proc.err.wait_for("Waiting up to"), proc.err.lines
    assert proc.poll() is None
    server.request("POST", f"-/stage/{stage_id}/approve", user).raise_for_status()
    code, out, err = _finish(proc)
    assert code == 0, err
    assert "wait-ok@1.0.0 was approved and published." in out
    assert "Waiting up to 3600 s" in err


def test_wait_sees_a_rejection_exit_9(waiting):
    server, user, start, staged_id = waiting
    proc = start("wait-no", "--json")
    stage_id = staged_id("wait-no")
    server.request("DELETE", f"-/stage/{stage_id}", user).raise_for_status()
    code, out, err = _finish(proc)
    assert code == 9, err
    assert json.loads(err[err.index("{") :])["error"]["code"] == "EREJECTED"
    data = json.loads(out)  # one JSON document, the outcome inside
    assert data["wait-no"]["stageId"] == stage_id and data["wait-no"]["wait"] == "rejected"


def test_wait_gives_up_exit_124(waiting):
    server, user, start, staged_id = waiting
    began = time.monotonic()
    proc = start("wait-late", "--wait-timeout", "2s")
    code, out, err = _finish(proc)
    assert code == 124, err
    assert "pystage error EWAITTIMEOUT" in err and "still staged" in err
    assert time.monotonic() - began < 30
    staged_id("wait-late")  # still there, approvable later


def test_wait_options_are_checked_before_anything_is_staged(tmp_path, run_pystage):
    pkg = make_package(tmp_path / "p", name="wait-bad")
    for args in (
        ("--wait", "--wait-timeout", "soon"),
        ("--wait", "--wait-timeout", "0"),
        ("--wait-timeout", "5"),
        ("--wait", "--dry-run"),
        ("-m", "bad\x07bell"),
        ("--include-workspace-root",),
    ):
        result = run_pystage("publish", *args, "--registry", "http://127.0.0.1:9/", cwd=pkg)
        assert result.returncode == 2, (args, result.stderr)
        assert "ECONNREFUSED" not in result.stderr
