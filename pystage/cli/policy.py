"""pystage policy show|set PACKAGE: the embedded registry's approval policy of a package."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.group("policy")
@global_options
def command():
    """Show or change how many maintainers must approve a staged version of a
    package, and how long it may wait (the embedded registry's approval policies)."""


@command.command("show")
@click.argument("package")
@global_options
def show(package):
    """Print PACKAGE's policy (any maintainer may read it)."""
    from pystage import team
    from pystage.cli.owner import _package
    from pystage.context import make_client
    from pystage.render.team import TeamRenderer

    options = get_options()
    name = _package(package)
    with make_client(options, package=name) as client:
        policy = team.show_policy(client, name)
    TeamRenderer(options.json, options.quiet).policy(policy)


@command.command("set")
@click.argument("package")
@click.option(
    "--approvers",
    type=click.IntRange(min=1),
    metavar="N",
    help="Distinct maintainers who must approve before a version is published.",
)
@click.option(
    "--expire-after",
    metavar="DURATION",
    help="Discard a staged version not approved within DURATION (90s, 30m, 48h, 7d; "
    "never to keep it).",
)
@click.option("--otp", metavar="CODE", help="Your one-time password (asked for at a terminal).")
@global_options
def set_policy(package, approvers, expire_after, otp):
    """Change PACKAGE's policy; needs your one-time password when your account has
    2FA. An option left out keeps its value."""
    from pystage import team
    from pystage.cli.owner import _package
    from pystage.context import make_client
    from pystage.durations import parse_duration
    from pystage.errors import UsageError
    from pystage.render.team import TeamRenderer

    options = get_options()
    name = _package(package)
    expiry: object = ...
    if expire_after is not None:
        seconds = parse_duration(expire_after, "--expire-after", allow_never=True)
        if seconds is not None and seconds != int(seconds):
            raise UsageError(f"--expire-after {expire_after!r} is not a whole number of seconds")
        expiry = None if seconds is None else int(seconds)
    if approvers is None and expiry is ...:
        raise UsageError(
            "nothing to change", "pass --approvers N and/or --expire-after DURATION (or never)"
        )
    with make_client(options, otp=otp, package=name) as client:
        policy = team.set_policy(client, name, approvers=approvers, expire_after=expiry)
    TeamRenderer(options.json, options.quiet).policy(policy)
