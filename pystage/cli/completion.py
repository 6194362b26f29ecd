"""pystage completion bash|zsh|fish: the script that makes a shell complete pystage's
commands and options (Click's shell completion, which calls pystage back with
``_PYSTAGE_COMPLETE`` set)."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def command(shell):
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(pystage completion bash)"   in ~/.bashrc
    zsh:   eval "$(pystage completion zsh)"    in ~/.zshrc
    fish:  pystage completion fish > ~/.config/fish/completions/pystage.fish"""
    from click.shell_completion import get_completion_class

    from pystage.cli.main import cli

    completion = get_completion_class(shell)
    assert completion is not None  # every name in SHELLS is one of click's
    script = completion(cli, {}, "pystage", "_PYSTAGE_COMPLETE").source()
    click.echo(script)
