"""Ctrl-C (SIGINT) ends a command with one line, ``pystage error EINTR: interrupted``,
and exit code 130, wherever it lands: at a prompt or while waiting for the registry;
no traceback and no file left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest
from helpers import RawServer, wait_until_blocked


def test_ctrl_c_at_the_username_prompt_ends_on_its_own_line_with_exit_130(
    tmp_path, registry_server
):
    pexpect = pytest.importorskip("pexpect")
    npmrc = tmp_path / "npmrc"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "pystage", "login", "--auth-type", "legacy", "--save-to-npmrc"]
        + ["--registry", registry_server.url, "--userconfig", str(npmrc)],
        env={**os.environ, "NO_COLOR": "1"},
        encoding="utf-8",
        timeout=10,
    )
    child.expect("Username: ")
    wait_until_blocked(child.pid)  # reading the answer, not just done printing the prompt
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    lines = [line.strip() for line in child.before.splitlines() if line.strip()]
    assert lines[-1] == "pystage error EINTR: interrupted"
    assert "Traceback" not in child.before
    assert not npmrc.exists()


@pytest.fixture
def silent_registry(tmp_path):
    """A registry that reads each request and never answers, and an npmrc pointing at
    it. ``asked`` is set once a whole request has arrived: the client is then waiting
    for the registry's answer."""
    asked, done = threading.Event(), threading.Event()

    def never_answer(conn, reader, n, server):
        if server.read_request(reader) is not None:
            asked.set()
        done.wait()

    server = RawServer(never_answer)
    server.asked = asked
    port = server.port
    server.npmrc = tmp_path / "npmrc"
    server.npmrc.write_text(
        f"registry=http://127.0.0.1:{port}/\n//127.0.0.1:{port}/:_authToken=abc\n"
    )
    yield server
    done.set()
    server.close()


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("download", "77d36ece-bdcb-4f7e-a384-794e1f78e9da"),
        ("approve", "77d36ece-bdcb-4f7e-a384-794e1f78e9da", "--otp", "123456"),
        ("whoami", "--json"),
    ],
)
def test_ctrl_c_during_a_network_wait_is_one_line_and_exit_130(silent_registry, tmp_path, args):
    workdir = tmp_path / "work"
    workdir.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pystage", *args],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "npm_config_userconfig": str(silent_registry.npmrc)},
    )
    try:
        # the request has reached the registry: pystage is waiting for its answer
        assert silent_registry.asked.wait(60), "pystage never sent its request"
        wait_until_blocked(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert out == ""
    if "--json" in args:
        assert json.loads(err)["error"]["code"] == "EINTR"
    else:
        assert err == "pystage error EINTR: interrupted\n"
    assert list(workdir.iterdir()) == []
