"""pystage view <ID> [--files]: every field of one staged item, and what its tarball's
package.json says (lifecycle scripts, entry points, bins, dependencies)."""

from __future__ import annotations

import click

from pystage.cli.complete import stage_refs
from pystage.cli.options import get_options, global_options


@click.command("view")
@click.argument("stage_ref", metavar="<ID|NAME@VERSION>", required=False, shell_complete=stage_refs)
@click.option(
    "--files",
    is_flag=True,
    help="List every file of the staged tarball with its size, mode and sha512.",
)
@global_options
def command(stage_ref, files):
    """Show every field of a staged item, by stage id or name@version.

    At a terminal (not with --json) it also shows the tarball's lifecycle scripts and
    key package.json fields, on stderr, after npm's fields."""
    from pystage import staging
    from pystage.context import make_client
    from pystage.render.stage import StageRenderer

    options = get_options()
    ref = staging.parse_stage_ref(stage_ref)
    render = StageRenderer(options.color, options.quiet)
    with make_client(options, package=ref.name) as client:
        stage_id, _ = staging.resolve_stage_ref(client, ref)
        item = staging.view_staged(client, stage_id)
        if files:
            from pystage.review import list_files

            with staging.stream_staged_tarball(client, stage_id) as stream:
                index = list_files(stream)
            if options.json:
                render.json({**item, "files": [e.to_json() for e in index.files.values()]})
                return
            render.item(item)
            render.file_table(index)
            return
        if options.json:
            render.json(item)
            return
        render.item(item)
        if not options.quiet:
            render.key_fields(_peek_manifest(client, staging, stage_id))


def _peek_manifest(client, staging, stage_id):
    """The staged package.json, or the reason it could not be read (a string)."""
    from pystage.errors import PystageError
    from pystage.review.peek import read_manifest

    try:
        with staging.stream_staged_tarball(client, stage_id) as stream:
            manifest = read_manifest(stream)
    except (PystageError, ValueError) as err:
        return f"the staged tarball's package.json could not be read: {err}"
    return manifest if manifest is not None else "the staged tarball has no package.json"
