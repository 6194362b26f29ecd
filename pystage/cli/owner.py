"""pystage owner ls|add|rm PACKAGE [USER]: a package's maintainers, as ``npm owner``."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.group("owner")
@global_options
def command():
    """List, add or remove a package's owners (maintainers), as npm owner does.

    Adding or removing an owner needs the one-time password of a maintainer
    (you) when your account has 2FA. Note the order: PACKAGE, then USER."""


@command.command("ls")
@click.argument("package", required=False)
@global_options
def list_owners(package):
    """Print PACKAGE's owners, one "name <email>" a line (PACKAGE: by default the
    package in the current directory, as npm owner ls)."""
    from pystage import team
    from pystage.context import make_client
    from pystage.render.team import TeamRenderer

    options = get_options()
    name = _package(package if package is not None else _current_package())
    with make_client(options, package=name) as client:
        owners = team.list_owners(client, name)
    TeamRenderer(options.json, options.quiet).owners(name, owners)


def _change(action: str, package: str, user: str, otp: str | None) -> None:
    from pystage import team
    from pystage.context import make_client
    from pystage.render.team import TeamRenderer
    from pystage.staging import check_actor

    options = get_options()
    name = _package(package)
    user = check_actor(user)
    with make_client(options, otp=otp, package=name) as client:
        change = team.change_owner(client, action, name, user)
    TeamRenderer(options.json, options.quiet).owner_change(change)


@command.command("add")
@click.argument("package")
@click.argument("user")
@click.option("--otp", metavar="CODE", help="Your one-time password (asked for at a terminal).")
@global_options
def add_owner(package, user, otp):
    """Make USER an owner of PACKAGE (USER must exist on the registry)."""
    _change("add", package, user, otp)


@command.command("rm")
@click.argument("package")
@click.argument("user")
@click.option("--otp", metavar="CODE", help="Your one-time password (asked for at a terminal).")
@global_options
def remove_owner(package, user, otp):
    """Remove USER from PACKAGE's owners (never the last one)."""
    _change("rm", package, user, otp)


def _package(arg: str) -> str:
    """A package name (no version, no path), checked before any request."""
    from pystage.errors import UsageError
    from pystage.staging import package_filter

    name = package_filter(arg)  # checks the name, as npm-package-arg does
    if not name:
        raise UsageError("no package name given")
    return name


def _current_package() -> str:
    """The name in ./package.json (npm owner ls without a package)."""
    import json

    from pystage.errors import UsageError

    try:
        with open("package.json", encoding="utf-8") as f:
            name = json.load(f).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    if not isinstance(name, str) or not name:
        raise UsageError(
            "no PACKAGE given, and no package.json with a name here",
            "pystage owner ls PACKAGE",
        )
    return name
