"""pystage publish [DIR|TARBALL]: stage a package version (2FA deferred to approve)."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.command("publish")
@click.argument("target", required=False, default=".", metavar="[DIR|TARBALL]")
@click.option(
    "--tag", metavar="TAG", help="Dist-tag the version gets when approved (default: latest)."
)
@click.option(
    "--access",
    type=click.Choice(["public", "restricted"]),
    help="Access level for a scoped package.",
)
@click.option("--dry-run", is_flag=True, help="Do everything except send the package.")
@click.option("--ignore-scripts", is_flag=True, help="Do not run lifecycle scripts.")
@click.option(
    "-f", "--force", is_flag=True, help="Skip the checks against the registry's versions."
)
@global_options
def command(target, tag, access, dry_run, ignore_scripts, force):
    """Stage a package on the registry, deferring 2FA to `pystage approve`.

    Packs DIR (default: the current directory) as `pystage pack` does, or
    takes a ready TARBALL, and POSTs npm's publish document to the stage
    endpoint. Prints the contents and `+ name@version (staged with id ID)`.
    """
    from pystage.context import command_config, make_client
    from pystage.publishing.flow import PublishRequest, stage_package
    from pystage.render.stage import StageRenderer

    options = get_options()
    render = StageRenderer(options.color, options.quiet)
    request = PublishRequest(
        target=target,
        tag=tag,
        access=access,
        dry_run=dry_run,
        ignore_scripts=ignore_scripts,
        force=force,
        json=options.json,
    )

    class Connect:
        def config(self, manifest):
            return command_config(options, manifest=manifest)

        def client(self, config, manifest):
            return make_client(
                options, manifest=manifest, config=config, command="stage", oidc=True
            )

    outcome = stage_package(request, Connect(), render)
    if options.json:
        render.json(outcome.to_npm_json())
    else:
        render.staged(outcome)
