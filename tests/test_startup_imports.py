"""Start-up stays lean: each command imports only what it needs (the benchmarks in
benchmarks/ time it; these tests pin the imports, which do not depend on load)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fixtures_registry import start_registry

SLOW = ("click", "rich", "requests", "keyring", "pyotp")
# what no read-only command needs: Rich (--json prints without it; whoami and view print
# plain lines), keyring (the token is in the npmrc, found first), pyotp (no OTP is asked
# for), and the manifest checks with the packing modules behind them (a name is checked
# by pystage.publishing.names alone)
NOT_FOR_READING = (
    "rich",
    "keyring",
    "pyotp",
    "pystage.packing",
    "pystage.publishing.manifest",
    "pystage.publishing.contents",
)
# the HTTP stack pystage replaced with its own transport (requests pulled in urllib3,
# http.client, email.parser, http.cookiejar: ~70 ms of every command)
HTTP_STACK = ("requests", "urllib3", "http.client", "http.cookiejar", "email.parser")


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


def test_list_json_loads_no_general_purpose_http_stack(staged):
    cwd, _, rc = staged
    status, _, mods = _run(["list", "--json", *rc], cwd)
    assert status == 0
    assert _imported(mods, HTTP_STACK) == set()
