"""pystage logout: revoke the token on the registry and forget it locally."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.command("logout")
@click.option("--otp", metavar="CODE", help="One-time password, if revoking needs one.")
@global_options
def command(otp):
    """Revoke the registry token and remove it from the keyring / npmrc it came from."""
    from pystage.account import logout
    from pystage.context import make_client
    from pystage.render.auth import AuthRenderer

    options = get_options()
    with make_client(options, command="logout", otp=otp) as client:
        result = logout(client)
    AuthRenderer(options.json, options.quiet).logged_out(result)
