"""pystage list [PACKAGE]: every staged version (all pages)."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.command("list")
@click.argument("package", required=False)
@global_options
def command(package):
    """List staged package versions, optionally of one PACKAGE.

    --json prints npm's array of staged items."""
    from pystage import staging
    from pystage.context import make_client
    from pystage.render.stage import StageRenderer

    options = get_options()
    name = staging.package_filter(package)
    render = StageRenderer(options.color, options.quiet)
    with make_client(options, package=name) as client:
        items = staging.list_staged(client, name)
    if options.json:
        render.json(items)
    else:
        render.items_table(items, name)
