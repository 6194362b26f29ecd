"""Second QA round on the CLI's user experience: usage errors, help, --json, -q."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("args", [(), ("otp",), ("registry",)])
def test_a_group_without_its_command_shows_readable_help_not_an_escaped_error(run_pystage, args):
    result = run_pystage(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "\\n" not in result.stderr  # the help text, not one escaped line
    assert result.stderr.startswith(f"Usage: pystage {' '.join(args)}".rstrip() + " [OPTIONS]")
    assert "Commands:" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args", [("--json",), ("otp", "--json")])
def test_a_group_without_its_command_under_json_is_a_json_usage_error(run_pystage, args):
    result = run_pystage(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert json.loads(result.stderr)["error"]["code"] == "EUSAGE"
