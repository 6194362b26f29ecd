"""pystage history [PACKAGE]: what happened to staged versions, policies and owners."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.command("history")
@click.argument("package", required=False)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="Only the newest N events (default: all).",
)
@global_options
def command(package, limit):
    """Show the embedded registry's history, newest first: every stage, approval
    (who, which of how many), rejection (and why), expiry, publish, policy and
    owner change, of PACKAGE or of every package you maintain."""
    from pystage import team
    from pystage.cli.owner import _package
    from pystage.context import make_client
    from pystage.render.team import TeamRenderer

    options = get_options()
    name = _package(package) if package else None
    with make_client(options, package=name) as client:
        events = team.history(client, name, limit)
    TeamRenderer(options.json, options.quiet).history(events, name)
