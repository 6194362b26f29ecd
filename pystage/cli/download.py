"""pystage download <ID> [-o FILE|DIR]: save a staged tarball for inspection."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.command("download")
@click.argument("stage_ref", metavar="<ID|NAME@VERSION>", required=False)
@click.option(
    "-o",
    "--output",
    metavar="FILE|DIR",
    help="Where to save it (default: npm's <name>-<version>-<id>.tgz in the current directory).",
)
@global_options
def command(stage_ref, output):
    """Download a staged tarball (written atomically, never extracted) and list its contents."""
    import os

    from pystage import staging
    from pystage.context import make_client
    from pystage.render.stage import StageRenderer

    options = get_options()
    ref = staging.parse_stage_ref(stage_ref)
    render = StageRenderer(options.color, options.quiet)
    with make_client(options, package=ref.name) as client:
        stage_id, _ = staging.resolve_stage_ref(client, ref)
        saved = staging.download_staged(client, stage_id, output, progress=render.transfer)
    if _is_our_stdout(saved.path):
        # -o /dev/stdout: the tarball went to stdout, so nothing else may follow it there
        render.contents(saved.contents)
        return
    if options.json:
        render.json({saved.contents.name: saved.contents.to_npm_json()})
        return
    render.contents(saved.contents)
    render.line(saved.filename if not output else os.path.relpath(saved.path))


def _is_our_stdout(path) -> bool:
    import os

    try:
        return os.path.samestat(os.stat(path), os.fstat(1))
    except OSError:
        return False
