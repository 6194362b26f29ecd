"""pystage download <ID> [-o FILE|DIR]: save a staged tarball for inspection, checked
against the staged item's integrity before it is saved."""

from __future__ import annotations

import click

from pystage.cli.complete import stage_refs
from pystage.cli.options import get_options, global_options


@click.command("download")
@click.argument("stage_ref", metavar="<ID|NAME@VERSION>", required=False, shell_complete=stage_refs)
@click.option(
    "-o",
    "--output",
    metavar="FILE|DIR",
    help="Where to save it (default: npm's <name>-<version>-<id>.tgz in the current directory).",
)
@global_options
def command(stage_ref, output):
    """Download a staged tarball (written atomically, never extracted) and list its contents.

    The bytes are checked against the staged item's integrity (sha512) and shasum
    first: when they differ nothing is saved (EINTEGRITY). --json adds "path" (where
    it was saved) and "verified" to npm's object."""
    import os

    from pystage import staging
    from pystage.context import make_client
    from pystage.render.stage import StageRenderer

    options = get_options()
    ref = staging.parse_stage_ref(stage_ref)
    render = StageRenderer(options.color, options.quiet)
    with make_client(options, package=ref.name) as client:
        stage_id, item = staging.resolve_stage_ref(client, ref)
        if item is None:
            item = _staged_item(client, staging, stage_id)
        saved = staging.download_staged(
            client, stage_id, output, progress=render.transfer, item=item
        )
    if saved.verified is None:
        render.warn(
            f"the registry gave no integrity or shasum for {stage_id}: "
            "the download could not be verified"
        )
    if _is_our_stdout(saved.path):
        # -o /dev/stdout: the tarball went to stdout, so nothing else may follow it there
        render.contents(saved.contents)
        return
    if options.json:
        shown = saved.contents.to_npm_json()
        shown.update(path=os.path.abspath(saved.path), verified=saved.verified is not None)
        render.json({saved.contents.name: shown})
        return
    render.contents(saved.contents)
    render.line(_as_given(output, saved.filename))


def _staged_item(client, staging, stage_id):
    """The staged item (for its integrity); None when the registry has none to show for
    an id whose tarball it may still serve (the tarball's own request says E404)."""
    from pystage.errors import PystageError

    try:
        return staging.view_staged(client, stage_id)
    except PystageError as err:
        if err.code == "E404":
            return None
        raise


def _as_given(output, filename: str) -> str:
    """Where the file went, in the user's own words: ``-o`` as typed (a directory with
    the file name after it), else npm's file name in the current directory."""
    import os

    if not output:
        return filename
    if output.endswith(("/", os.sep)) or os.path.isdir(os.path.expanduser(output)):
        return os.path.join(output, filename)
    return output


def _is_our_stdout(path) -> bool:
    import os

    try:
        return os.path.samestat(os.stat(path), os.fstat(1))
    except OSError:
        return False
