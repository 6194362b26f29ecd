"""pystage whoami: print the user name the registry knows our credential by."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.command("whoami")
@global_options
def command():
    """Print the user name of the credential for the registry."""
    from pystage.account import whoami
    from pystage.context import make_client
    from pystage.render.auth import AuthRenderer

    options = get_options()
    with make_client(options, command="whoami") as client:
        name = whoami(client)
    AuthRenderer(options.json, options.quiet).whoami(name)
