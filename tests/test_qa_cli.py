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


@pytest.fixture
def staged(registry_server, tmp_path):
    """A registry with one staged version and an npmrc logged in to it."""
    user = registry_server.add_user("alice")
    registry_server.publish(user, "@acme/some-long-package-name", "0.1.0")
    stage_id = registry_server.stage(user, "@acme/some-long-package-name", "1.0.0-beta.1")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    return stage_id, {"npm_config_userconfig": str(npmrc)}


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_forced_colour_does_not_fold_the_piped_list_table_to_80_columns(run_pystage, staged):
    stage_id, env = staged
    plain = run_pystage("list", env=env)
    coloured = run_pystage("list", "--color", env=env)
    assert coloured.returncode == 0, coloured.stderr
    assert "\x1b[" in coloured.stdout
    assert _strip_ansi(coloured.stdout) == plain.stdout
    row = plain.stdout.splitlines()[1]
    assert row.split()[:3] == [stage_id, "@acme/some-long-package-name", "1.0.0-beta.1"]


def test_ctrl_c_at_the_username_prompt_ends_on_its_own_line_with_exit_130(
    tmp_path, registry_server
):
    import os
    import sys

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
    """A registry that accepts connections and never answers; an npmrc pointing at it."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port = server.getsockname()[1]
    npmrc = tmp_path / "npmrc"
    npmrc.write_text(f"registry=http://127.0.0.1:{port}/\n//127.0.0.1:{port}/:_authToken=abc\n")
    yield npmrc
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
    import os
    import signal
    import subprocess
    import sys
    import time

    workdir = tmp_path / "work"
    workdir.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pystage", *args],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "npm_config_userconfig": str(silent_registry)},
    )
    time.sleep(1.0)  # start-up done, waiting for the registry's answer
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert out == ""
    if "--json" in args:
        assert json.loads(err)["error"]["code"] == "EINTR"
    else:
        assert err == "pystage error EINTR: interrupted\n"
    assert list(workdir.iterdir()) == []


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


@pytest.mark.parametrize("flags", [("-v",), ("-q", "-v"), ("-qv",), ("-vq",)])
def test_verbose_shows_the_traceback_however_the_short_flags_are_written(run_pystage, flags):
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


def test_quiet_web_login_still_shows_the_url_to_authenticate_at(tmp_path):
    import os
    import sys

    from helpers import start_registry

    pexpect = pytest.importorskip("pexpect")
    server = start_registry(tmp_path / "registry", extra_args=("--web-auth",))
    try:
        child = pexpect.spawn(
            sys.executable,
            ["-m", "pystage", "login", "-q", "--save-to-npmrc", "--registry", server.url]
            + ["--userconfig", str(tmp_path / "npmrc")],
            # no browser may open during the test; CI=... would also change the flow
            env={**os.environ, "NO_COLOR": "1", "BROWSER": "true"},
            encoding="utf-8",
            timeout=10,
        )
        child.expect(["Login at:", pexpect.EOF, pexpect.TIMEOUT], timeout=5)
        shown = child.after
        child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
        assert shown == "Login at:"
        assert server.url in child.before
        assert child.exitstatus == 130
    finally:
        server.stop()
