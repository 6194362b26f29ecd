"""pystage list [PACKAGE] [--by ACTOR] [--long | --wide]: every staged version (all pages)."""

from __future__ import annotations

import click

from pystage.cli.complete import package_names
from pystage.cli.options import get_options, global_options


@click.command("list")
@click.argument("package", required=False, shell_complete=package_names)
@click.option("--by", "actor", metavar="ACTOR", help="Only the versions ACTOR staged.")
@click.option(
    "-l",
    "--long",
    "layout",
    flag_value="long",
    help="Every field of every item, as `view` shows one (key: value blocks).",
)
@click.option(
    "--wide",
    "layout",
    flag_value="wide",
    help="Every field of every item as columns, one line per item, never cut.",
)
@global_options
def command(package, actor, layout):
    """List staged package versions, optionally of one PACKAGE.

    At a terminal each item takes one line, or two when the terminal is narrow;
    piped, the columns are whole values. -q prints only the ids, one a line;
    --json prints npm's array of staged items, every field as sent."""
    from pystage import staging
    from pystage.context import make_client
    from pystage.render.stage import StageRenderer

    options = get_options()
    name = staging.package_filter(package)
    if actor is not None:
        actor = staging.check_actor(actor)
    render = StageRenderer(options.color, options.quiet)
    with make_client(options, package=name) as client:
        items = staging.list_staged(client, name)
        if actor is not None:
            # no registry filters by actor: done here (the items say who staged them)
            items = [i for i in items if i.get("actor") == actor]
            if not items:
                staging.check_user_exists(client, actor)
    if options.json:
        render.json(items)
    elif actor is not None and not items:
        if not options.quiet:
            render.line(
                f"No staged versions by {actor}" + (f' of package name "{name}".' if name else ".")
            )
    else:
        render.items_table(items, name, layout or "")
