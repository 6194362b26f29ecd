"""pystage token create|list|revoke: access tokens, as ``npm token`` (plus stage-only)."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.group("token")
@global_options
def command():
    """Create, list and revoke access tokens. A stage-only token may stage and read
    staged versions but never approve, reject, publish or move dist-tags: it is
    what a CI job should hold."""


@command.command("create")
@click.option("--stage-only", is_flag=True, help="May stage (and read); never approve or publish.")
@click.option("--read-only", "read_only", is_flag=True, help="May only read.")
@click.option(
    "--cidr",
    "cidrs",
    multiple=True,
    metavar="RANGE",
    help="Only usable from this IP range (repeatable, or comma-separated).",
)
@click.option("--name", metavar="NAME", help="A label for the token list.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read your password from the first line of stdin (else it is asked for).",
)
@click.option("--otp", metavar="CODE", help="Your one-time password (asked for at a terminal).")
@global_options
def create(stage_only, read_only, cidrs, name, password_stdin, otp):
    """Create a token; it is printed once, on stdout. Needs your password (and your
    one-time password when your account has 2FA)."""
    from pystage import team
    from pystage.cli.login import _read_password
    from pystage.context import make_client
    from pystage.errors import UsageError
    from pystage.otp import is_interactive
    from pystage.render.team import TeamRenderer

    options = get_options()
    if stage_only and read_only:
        raise UsageError("a token is either --stage-only or --read-only, not both")
    ranges = team.check_cidrs(cidrs)
    with make_client(options, otp=otp) as client:
        password = _read_password(password_stdin, is_interactive())
        created = team.create_token(
            client,
            password,
            readonly=read_only,
            stage_only=stage_only,
            cidrs=ranges,
            name=name,
        )
    TeamRenderer(options.json, options.quiet).token_created(created)


@command.command("list")
@global_options
def list_tokens():
    """List your tokens: id (key), the token's first characters, kind, created."""
    from pystage import team
    from pystage.context import make_client
    from pystage.render.team import TeamRenderer

    options = get_options()
    with make_client(options) as client:
        tokens = team.list_tokens(client)
    TeamRenderer(options.json, options.quiet).tokens(tokens)


@command.command("revoke")
@click.argument("key")
@click.option("--otp", metavar="CODE", help="Your one-time password (asked for at a terminal).")
@global_options
def revoke(key, otp):
    """Revoke the token whose id (key) starts with KEY, as `pystage token list`
    shows it (or the token itself)."""
    from pystage import team
    from pystage.context import make_client
    from pystage.render.team import TeamRenderer

    options = get_options()
    with make_client(options, otp=otp) as client:
        revoked = team.revoke_token(client, key)
        shown = client.redactor(revoked)
    TeamRenderer(options.json, options.quiet).token_revoked(revoked, shown)
