"""pystage view <ID>: every field of one staged item."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.command("view")
@click.argument("stage_ref", metavar="<ID|NAME@VERSION>", required=False)
@global_options
def command(stage_ref):
    """Show every field of a staged item, by stage id or name@version."""
    from pystage import staging
    from pystage.context import make_client
    from pystage.render.stage import StageRenderer

    options = get_options()
    ref = staging.parse_stage_ref(stage_ref)
    render = StageRenderer(options.color, options.quiet)
    with make_client(options, package=ref.name) as client:
        stage_id, _ = staging.resolve_stage_ref(client, ref)
        item = staging.view_staged(client, stage_id)
    if options.json:
        render.json(item)
    else:
        render.item(item)
