"""Output hygiene and the shell around pystage: no escape codes at all without colour
(NO_COLOR, --no-color, npmrc color=false), a closed pipe ends quietly with 0, JSON errors
without an empty detail, tracebacks only from -vv, no --otp hint where no code is
needed; the root --help, registry serve's own options first, near-miss suggestions for
mistyped commands, and shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import staged_item, write_npmrc
from terminal_screen import Terminal

from pystage.errors import PystageError
from pystage.render import print_error


@pytest.fixture
def staged(registry_server, tmp_path):
    user = registry_server.add_user("alice")
    registry_server.publish(user, "pkg", "0.1.0")
    stage_id = registry_server.stage(user, "pkg", "0.2.0")
    return stage_id, registry_server.write_npmrc(tmp_path / "npmrc", user)


@pytest.mark.parametrize(
    "how", ["NO_COLOR", "--no-color", "npmrc color=false", "npm_config_color=false"]
)
def test_without_colour_a_terminal_gets_no_escape_code_at_all(staged, tmp_path, how):
    stage_id, npmrc = staged
    env = {"NO_COLOR": ""}
    args = ["list", "--userconfig", npmrc]
    if how == "NO_COLOR":
        env["NO_COLOR"] = "1"
    elif how == "--no-color":
        args.append("--no-color")
    elif how == "npmrc color=false":
        with open(npmrc, "a") as handle:
            handle.write("color=false\n")
    else:
        env["npm_config_color"] = "false"
    term = Terminal(args, columns=200, cwd=tmp_path, env=env)
    assert term.finish() == 0, term.text()
    assert stage_id in term.text()
    assert "\x1b[" not in term.raw, ascii(term.raw)  # no colour, and no bold either


def test_with_colour_allowed_the_terminal_gets_styles(staged, tmp_path):
    """The other side of the test above: the same list does carry styles by default."""
    _, npmrc = staged
    term = Terminal(
        ["list", "--userconfig", npmrc], columns=200, cwd=tmp_path, env={"NO_COLOR": ""}
    )
    assert term.finish() == 0
    assert "\x1b[1m" in term.raw


def test_a_closed_pipe_ends_the_command_quietly_with_exit_0(tmp_path, stage_server):
    stage_server.state.items = [staged_item(f"pkg-{n}", "1.0.0") for n in range(1500)]
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    for args in (["list", "--long"], ["list", "--json"]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "pystage", *args]
            + ["--registry", stage_server.url, "--userconfig", npmrc],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "NO_COLOR": "1"},
        )
        assert proc.stdout.readline()  # `| head -1`
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 0, err
        assert err == "" or err.endswith("staged items\n") and "Error" not in err, err


def test_a_json_error_has_a_detail_only_when_there_is_one(capsys):
    print_error(PystageError("ECANCELED", "cancelled: nothing was approved"), json_mode=True)
    assert json.loads(capsys.readouterr().err) == {
        "error": {"code": "ECANCELED", "summary": "cancelled: nothing was approved"}
    }
    print_error(PystageError("E404", "not found", "check the name"), json_mode=True)
    assert json.loads(capsys.readouterr().err)["error"]["detail"] == "check the name"


@pytest.mark.parametrize("flags", [("-vv",), ("-v", "-v"), ("-qvv",), ("--verbose", "-v")])
def test_minus_vv_shows_the_traceback(run_pystage, flags):
    result = run_pystage("view", *flags)
    assert result.returncode == 2
    assert "Traceback" in result.stderr


@pytest.mark.parametrize("flags", [("-v",), ("--verbose",), ("-qv",)])
def test_minus_v_alone_logs_but_shows_no_traceback(run_pystage, flags):
    result = run_pystage("view", *flags)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "pystage error EUSAGE: Missing required <stage-id>" in result.stderr


def test_publish_suggests_approve_without_an_otp_flag(registry_server, tmp_path, run_pystage):
    user = registry_server.add_user("bob")
    registry_server.publish(user, "nofa", "0.1.0")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "package.json").write_text(json.dumps({"name": "nofa", "version": "1.0.0"}))
    result = run_pystage("publish", pkg, "--userconfig", npmrc)
    assert result.returncode == 0, result.stderr
    hint = [line for line in result.stderr.splitlines() if line.startswith("Approve it with")]
    assert len(hint) == 1 and hint[0].startswith("Approve it with: pystage approve ")
    assert "--otp" not in hint[0]


def test_root_help_shows_whole_descriptions_the_alias_examples_and_the_docs(run_pystage):
    result = run_pystage("--help", env={"COLUMNS": "100"})
    assert result.returncode == 0
    text = result.stdout
    assert "list, ls" in text
    # each command's whole first paragraph, never cut off with "..."
    import click

    from pystage.cli.main import cli

    flat = " ".join(text.split())
    ctx = click.Context(cli, info_name="pystage")
    for name in cli.list_commands(ctx):
        whole = cli.get_command(ctx, name).get_short_help_str(limit=10_000)
        assert not whole.endswith("...") and " ".join(whole.split()) in flat, name
    # one that click cut to the terminal's width before
    assert "of PACKAGE or of every package you maintain." in flat
    assert "Examples:" in text and "pystage approve @acme/greet@1.2.0" in text
    assert "https://pystage-npm.readthedocs.io/" in text
    assert "pystage completion bash|zsh|fish" in text
    for command in ("doctor", "completion", "approve", "reject"):
        assert f"\n  {command} " in text


def test_registry_serve_help_lists_its_own_options_first(run_pystage):
    result = run_pystage("registry", "serve", "--help")
    assert result.returncode == 0
    options = result.stdout.split("Options:")[1]
    assert options.index("--listen") < options.index("--registry URL")
    assert options.index("--no-web") < options.index("--userconfig")


@pytest.mark.parametrize(
    "typed, meant", [("aprove", "approve"), ("lsit", "list"), ("dwnload", "download")]
)
def test_a_mistyped_command_gets_the_near_miss(run_pystage, typed, meant):
    result = run_pystage(typed, "x")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"pystage error EUSAGE: no such command: {typed}",
        f"pystage hint: did you mean `pystage {meant}`?",
    ]


def test_a_command_like_nothing_gets_the_help_hint(run_pystage):
    result = run_pystage("frobnicate")
    assert result.returncode == 2
    assert "pystage hint: run `pystage --help` for usage" in result.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_for_each_shell(run_pystage, shell):
    result = run_pystage("completion", shell)
    assert result.returncode == 0, result.stderr
    assert "_PYSTAGE_COMPLETE" in result.stdout
    assert f"{shell}_complete" in result.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error(run_pystage):
    result = run_pystage("completion", "tcsh")
    assert result.returncode == 2
    assert "pystage error EUSAGE" in result.stderr


def test_the_shell_is_given_commands_and_options_back(run_pystage):
    def complete(words: str, cword: int) -> list[str]:
        result = run_pystage(
            env={
                "_PYSTAGE_COMPLETE": "bash_complete",
                "COMP_WORDS": words,
                "COMP_CWORD": str(cword),
            }
        )
        assert result.returncode == 0, result.stderr
        return [line.split(",", 1)[1] for line in result.stdout.splitlines()]

    assert complete("pystage app", 1) == ["approve"]
    assert "ls" not in complete("pystage l", 1)  # aliases are not offered twice
    assert {"list", "login", "logout"} <= set(complete("pystage l", 1))
    assert "--long" in complete("pystage list --l", 2)


def test_stage_ids_and_package_names_complete_from_the_registry(
    run_pystage, tmp_path, stage_server
):
    stage_server.state.items = [
        staged_item("@acme/w", "2.0.0", stage_id="0f3c2a4e-1111-4222-8333-944445555666"),
        staged_item("demo", "1.0.0", stage_id="1f3c2a4e-1111-4222-8333-944445555666"),
        staged_item("evil\x1b[2J", "1.0.0"),  # never offered to the shell
    ]
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    env = {"npm_config_registry": stage_server.url, "npm_config_userconfig": npmrc}

    def complete(words: str) -> list[str]:
        result = run_pystage(
            env={
                **env,
                "_PYSTAGE_COMPLETE": "bash_complete",
                "COMP_WORDS": words,
                "COMP_CWORD": str(len(words.split(" ")) - 1),
            }
        )
        assert result.returncode == 0, result.stderr
        return [line.split(",", 1)[1] for line in result.stdout.splitlines()]

    assert complete("pystage view 0f") == ["0f3c2a4e-1111-4222-8333-944445555666"]
    assert complete("pystage approve @acme") == ["@acme/w@2.0.0"]
    assert complete("pystage reject d") == ["demo@1.0.0"]
    assert set(complete("pystage download ")) >= {"demo@1.0.0", "@acme/w@2.0.0"}
    assert complete("pystage list @") == ["@acme/w"]
    assert not [c for c in complete("pystage view ") if "\x1b" in c]


def test_completion_against_a_dead_registry_completes_nothing_quickly(run_pystage, tmp_path):
    import time

    from helpers import closed_port

    (tmp_path / "npmrc").write_text("")
    start = time.monotonic()
    result = run_pystage(
        env={
            "npm_config_registry": f"http://127.0.0.1:{closed_port()}/",
            "npm_config_userconfig": str(tmp_path / "npmrc"),
            "_PYSTAGE_COMPLETE": "bash_complete",
            "COMP_WORDS": "pystage view ",
            "COMP_CWORD": "2",
        }
    )
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr == ""
    assert time.monotonic() - start < 20
