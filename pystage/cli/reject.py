"""pystage reject [ID ...] [--all [PACKAGE]] [--reason TEXT]: delete staged versions."""

from __future__ import annotations

import click

from pystage.cli.options import global_options


@click.command("reject")
@click.argument("stage_refs", metavar="[ID|NAME@VERSION]...", nargs=-1)
@click.option(
    "--all",
    "all_items",
    is_flag=True,
    help="Reject every staged version (of PACKAGE, when one name is given).",
)
@click.option(
    "--reason",
    metavar="TEXT",
    help="Why (recorded in the embedded registry's history; others ignore it).",
)
@click.option("--otp", metavar="CODE", help="One-time password from your authenticator app.")
@global_options
def command(stage_refs, all_items, reason, otp):
    """Reject staged versions: their records and tarballs are deleted, permanently.

    Several ids (or name@version) go in one go with one one-time password.
    With no id at a terminal, pick from a list. Needs a one-time password
    when your account has 2FA: pass --otp, or type it when asked (on a
    terminal, after the summary)."""
    from pystage.cli.approve import decide

    decide("reject", stage_refs, otp, all_items=all_items, reason=reason)
