"""Usage errors and help: a one-line ``EUSAGE`` error with a hint at the right
``--help`` (a JSON error under ``--json``), exit code 2, no traceback unless -v;
help that lists a command's own options before the global ones."""

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


@pytest.mark.parametrize("command", ["view", "download", "approve", "reject"])
def test_a_missing_stage_id_says_what_to_pass(run_pystage, command):
    result = run_pystage(command)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "pystage error EUSAGE: Missing required <stage-id>",
        "pystage hint: pass the id that `pystage list` shows, or the staged name@version",
    ]


@pytest.mark.parametrize(
    "args,help_command",
    [
        (("list", "--bogus"), "pystage list --help"),
        (("download", "-o"), "pystage download --help"),
        (("frobnicate",), "pystage --help"),
        (("otp", "frob"), "pystage otp --help"),
        (("login", "--auth-type", "sso"), "pystage login --help"),
    ],
)
def test_a_click_usage_error_points_at_the_commands_help(run_pystage, args, help_command):
    result = run_pystage(*args)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("pystage error EUSAGE: ")
    assert lines[1] == f"pystage hint: run `{help_command}` for usage"


@pytest.mark.parametrize("flags", [("-vv",), ("-q", "-v", "-v"), ("-qvv",), ("-vqv",)])
def test_verbose_shows_the_traceback_however_the_short_flags_are_written(run_pystage, flags):
    # -vv: -v alone logs requests, without tracebacks (tests/test_cli_hygiene.py)
    result = run_pystage("view", *flags)
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert "pystage error EUSAGE: Missing required <stage-id>" in result.stderr


def test_a_username_that_contains_v_is_not_taken_for_verbose(run_pystage, tmp_path):
    # -uv is `--username v`; no traceback unless -v itself is given
    result = run_pystage("login", "-uv", "--userconfig", str(tmp_path / "npmrc"), "--frob")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


GLOBAL_FLAGS = ("--registry", "--userconfig", "--json", "--color", "-v,", "-q,", "-h,")


@pytest.mark.parametrize(
    "command", ["pack", "publish", "list", "view", "download", "approve", "reject", "login"]
)
def test_help_lists_the_commands_own_options_first_then_the_global_ones(run_pystage, command):
    result = run_pystage(command, "--help")
    assert result.returncode == 0
    options = result.stdout.split("Options:\n", 1)[1]
    flags = [line.split()[0] for line in options.splitlines() if line.startswith("  -")]
    kinds = [flag.startswith(GLOBAL_FLAGS) for flag in flags]
    assert kinds == sorted(kinds), flags  # all own options (False) before the globals (True)


@pytest.mark.parametrize(
    "arg", ["./dir", "http://example.com/x.tgz", "github:foo/bar", "file:../x"]
)
def test_list_of_a_path_or_url_is_a_usage_error_before_any_request(scripted_cli, arg):
    result = scripted_cli.run("list", arg)
    assert result.returncode == 2, result.stderr
    assert "pystage error EUSAGE:" in result.stderr
    assert scripted_cli.requests == []
