"""Start-up stays lean: each command imports only what it needs (the benchmarks in
benchmarks/ time it; these tests pin the imports, which do not depend on load)."""

from __future__ import annotations

import json
import subprocess
import sys

SLOW = ("click", "rich", "requests", "keyring", "pyotp")


def _imported_after(argv: list[str], tmp_path, env=None) -> tuple[int, str, set[str]]:
    """Run the console entry point with ``argv`` in a fresh interpreter; return its
    exit status, stdout and the slow top-level modules it imported."""
    code = (
        "import json, sys, io\n"
        "out = io.StringIO(); real = sys.stdout; sys.stdout = out\n"
        f"sys.argv = ['pystage', *{argv!r}]\n"
        "from pystage.cli.entry import main\n"
        "status = 0\n"
        "try:\n    main()\nexcept SystemExit as e:\n    status = e.code or 0\n"
        "sys.stdout = real\n"
        f"mods = sorted({{m.split('.')[0] for m in sys.modules}} & set({SLOW!r}))\n"
        "print(json.dumps([status, out.getvalue(), mods]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    status, out, mods = json.loads(proc.stdout.strip().splitlines()[-1])
    return status, out, set(mods)


def test_version_imports_nothing_slow_and_matches_the_full_cli(tmp_path):
    status, out, mods = _imported_after(["--version"], tmp_path)
    assert status == 0 and mods == set()
    full = subprocess.run(
        [sys.executable, "-m", "pystage", "-v", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert full.returncode == 0
    assert out == full.stdout


def test_list_json_needs_neither_rich_nor_keyring(registry_server, tmp_path):
    user = registry_server.add_user("alice")
    registry_server.publish(user, "lean-pkg", "0.0.1")
    registry_server.stage(user, "lean-pkg", "1.0.0")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    status, out, mods = _imported_after(["list", "--json", "--userconfig", str(npmrc)], tmp_path)
    assert status == 0
    assert [i["version"] for i in json.loads(out)] == ["1.0.0"]
    # the token is in the npmrc: keyring is never asked; --json prints without Rich
    assert "rich" not in mods and "keyring" not in mods and "pyotp" not in mods
