import pytest

from pystage.errors import PystageError, exit_code_for


def test_version_is_printed(run_pystage):
    from pystage import __version__

    result = run_pystage("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == __version__


def test_unknown_command_is_a_usage_error_without_traceback(run_pystage):
    result = run_pystage("frobnicate")
    assert result.returncode == 2
    assert "EUSAGE" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_option_is_a_usage_error(run_pystage):
    result = run_pystage("--no-such-flag")
    assert result.returncode == 2
    assert result.stderr.count("\n") <= 2


@pytest.mark.parametrize(
    "code,expected",
    [
        ("EUSAGE", 2),
        ("EOTP", 3),
        ("E404", 4),
        ("E409", 5),
        ("ECONNREFUSED", 6),
        ("E503", 7),
        ("EWHATEVER", 1),
    ],
)
def test_exit_codes_come_from_one_table(code, expected):
    assert exit_code_for(code) == expected
    assert PystageError(code, "x").exit_code == expected


def test_global_options_before_and_after_subcommand():
    import click
    from click.testing import CliRunner

    from pystage.cli.main import cli
    from pystage.cli.options import get_options, global_options

    seen = {}

    @click.command("probe")
    @global_options
    def probe():
        seen.update(vars(get_options()))

    cli.add_command(probe)
    try:
        runner = CliRunner()
        result = runner.invoke(
            cli, ["--registry", "http://a/", "--json", "probe", "--registry", "http://b/", "-q"]
        )
        assert result.exit_code == 0, result.output
        assert seen["registry"] == "http://b/"
        assert seen["json"] is True and seen["quiet"] is True
    finally:
        cli.commands.pop("probe", None)
