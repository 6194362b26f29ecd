"""Start-up stays lean: each command imports only what it needs.

The start-up budget itself (issue 12: ``--version`` under 50 ms, ``list --json`` at
most half of npm's ``stage list --json``) is measured in benchmarks/ (bench_startup,
bench_list), with npm timed in the same run: wall time on a shared machine is no
test. What these tests pin does not depend on load: which modules each command
loads, so that a command that sends nothing never pays for the HTTP stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import start_registry

SLOW = ("click", "rich", "requests", "keyring", "pyotp")
# what no read-only command needs: Rich (--json prints without it; whoami and view print
# plain lines), keyring (the token is in the npmrc, found first), pyotp (no OTP is asked
# for), and the manifest checks with the packing modules behind them (a name is checked
# by pystage.publishing.names alone), truststore (only with NODE_USE_SYSTEM_CA, at the
# first https connection)
NOT_FOR_READING = (
    "truststore",
    "rich",
    "keyring",
    "pyotp",
    "pystage.packing",
    "pystage.publishing.manifest",
    "pystage.publishing.contents",
)
# the registry client's HTTP stack (requests and urllib3, ~60-100 ms to import): loaded
# late, and only by commands that send a request (bench_list times one that does)
HTTP_STACK = ("requests", "urllib3", "http.cookiejar")


def _run(argv: list[str], cwd, env=None) -> tuple[int, str, set[str]]:
    """Run the console entry point with ``argv`` in a fresh interpreter; return its
    exit status, stdout and every module it imported."""
    code = (
        "import json, sys, io\n"
        "out = io.StringIO(); real = sys.stdout; sys.stdout = out\n"
        f"sys.argv = ['pystage', *{argv!r}]\n"
        "from pystage.cli.entry import main\n"
        "status = 0\n"
        "try:\n    main()\nexcept SystemExit as e:\n    status = e.code or 0\n"
        "sys.stdout = real\n"
        "print(json.dumps([status, out.getvalue(), sorted(sys.modules)]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    status, out, mods = json.loads(proc.stdout.strip().splitlines()[-1])
    return status, out, set(mods)


def _imported(mods: set[str], names) -> set[str]:
    """Which of ``names`` (packages or modules) are among ``mods``."""
    return {n for n in names if any(m == n or m.startswith(n + ".") for m in mods)}


def test_version_imports_nothing_slow_and_matches_the_full_cli(tmp_path):
    status, out, mods = _run(["--version"], tmp_path)
    assert status == 0 and _imported(mods, SLOW) == set()
    full = subprocess.run(
        [sys.executable, "-m", "pystage", "-v", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert full.returncode == 0
    assert out == full.stdout


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """A registry with one staged version, and an npmrc holding alice's token."""
    base = tmp_path_factory.mktemp("startup")
    server = start_registry(base / "registry")
    try:
        user = server.add_user("alice")
        server.publish(user, "lean-pkg", "0.0.1")
        stage_id = server.stage(user, "lean-pkg", "1.0.0")
        npmrc = server.write_npmrc(base / "npmrc", user)
        yield base, stage_id, ["--userconfig", str(npmrc)]
    finally:
        server.stop()


def test_list_json_imports_nothing_it_does_not_need(staged):
    cwd, _, rc = staged
    status, out, mods = _run(["list", "--json", *rc], cwd)
    assert status == 0
    assert [i["version"] for i in json.loads(out)] == ["1.0.0"]
    assert _imported(mods, NOT_FOR_READING) == set()


def test_list_of_one_package_checks_the_name_without_the_manifest_modules(staged):
    cwd, _, rc = staged
    status, out, mods = _run(["list", "lean-pkg", "--json", *rc], cwd)
    assert status == 0
    assert [i["version"] for i in json.loads(out)] == ["1.0.0"]
    assert "pystage.publishing.names" in mods  # the name was checked...
    assert _imported(mods, NOT_FOR_READING) == set()  # ...by that module alone


@pytest.mark.parametrize("by", ["id", "name@version"])
def test_view_json_imports_nothing_it_does_not_need(staged, by):
    cwd, stage_id, rc = staged
    ref = stage_id if by == "id" else "lean-pkg@1.0.0"
    status, out, mods = _run(["view", ref, "--json", *rc], cwd)
    assert status == 0
    assert json.loads(out)["id"] == stage_id
    assert _imported(mods, NOT_FOR_READING) == set()


def test_whoami_imports_nothing_it_does_not_need(staged):
    cwd, _, rc = staged
    status, out, mods = _run(["whoami", *rc], cwd)
    assert status == 0 and out == "alice\n"
    assert _imported(mods, NOT_FOR_READING) == set()


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["pack", "--dry-run"],
        # publish --dry-run asks the registry for its versions, as npm's does; --force
        # skips that, so nothing is sent
        ["publish", "--dry-run", "--force"],
        ["list", "--no-such-option"],
        ["approve"],
    ],
    ids=["help", "pack", "publish-dry-run", "usage-error", "missing-argument"],
)
def test_commands_that_send_nothing_do_not_load_the_http_stack(tmp_path, argv):
    (tmp_path / "package.json").write_text('{"name": "lean-pkg", "version": "1.0.0"}')
    (tmp_path / "index.js").write_text("")
    env = {**os.environ, "HOME": str(tmp_path), "npm_config_userconfig": str(tmp_path / "rc")}
    _, _, mods = _run(argv, tmp_path, env)
    assert _imported(mods, HTTP_STACK) == set()


def test_list_json_sends_through_requests(staged):
    cwd, _, rc = staged
    status, _, mods = _run(["list", "--json", *rc], cwd)
    assert status == 0
    assert "requests" in mods
