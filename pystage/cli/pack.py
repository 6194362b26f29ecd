"""`pystage pack [DIR]`: make the tarball npm would make."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.command("pack")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False))
@click.option(
    "--pack-destination",
    metavar="DIR",
    default=None,
    help="Directory to write the tarball to (default: the current directory).",
)
@click.option("--dry-run", is_flag=True, help="Report what would be packed; write nothing.")
@click.option(
    "--ignore-scripts", is_flag=True, help="Do not run the prepack, prepare and postpack scripts."
)
@global_options
def command(directory, pack_destination, dry_run, ignore_scripts):
    """Create a tarball from a package directory, byte for byte as `npm pack` does."""
    import sys

    from pystage.packing import pack
    from pystage.render import print_json
    from pystage.render.pack import render_pack_report, render_pack_warning

    opts = get_options()
    result = pack(
        directory,
        pack_destination,
        dry_run=dry_run,
        ignore_scripts=ignore_scripts,
        on_warning=lambda message: render_pack_warning(message, color=opts.color),
        # keep stdout clean for the JSON document
        script_stdout=sys.stderr.fileno() if opts.json else None,
    )
    if opts.json:
        print_json([result.to_npm_json()])
        return
    if not opts.quiet:
        render_pack_report(result, color=opts.color)
    click.echo(result.filename)
