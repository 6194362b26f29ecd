"""pystage reject [ID ...] [--all [PACKAGE]] [--reason TEXT]: delete staged versions."""

from __future__ import annotations

import click

from pystage.cli import complete
from pystage.cli.confirm import yes_option
from pystage.cli.options import global_options


@click.command("reject")
@click.argument(
    "stage_refs", metavar="[ID|NAME@VERSION]...", nargs=-1, shell_complete=complete.stage_refs
)
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
@yes_option(help="Do not ask for confirmation at a terminal: reject what is named.")
@global_options
def command(stage_refs, all_items, reason, otp, yes):
    """Reject staged versions: their records and tarballs are deleted, permanently.

    Several ids (or name@version) go in one go with one one-time password.
    With no id at a terminal, pick from a list. Needs a one-time password
    when your account has 2FA: pass --otp, or type it when asked (on a
    terminal, after the summary).

    At a terminal it asks before rejecting (default No; -y/--yes does not ask)."""
    from pystage.cli.approve import decide

    decide("reject", stage_refs, otp, all_items=all_items, reason=reason, yes=yes)
