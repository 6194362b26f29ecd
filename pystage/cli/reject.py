"""pystage reject <ID> [--otp CODE]: permanently delete a staged version."""

from __future__ import annotations

import click

from pystage.cli.options import global_options


@click.command("reject")
@click.argument("stage_ref", metavar="<ID|NAME@VERSION>", required=False)
@click.option("--otp", metavar="CODE", help="One-time password from your authenticator app.")
@global_options
def command(stage_ref, otp):
    """Reject a staged version: its record and tarball are deleted, permanently.

    Needs a one-time password when your account has 2FA: pass --otp, or
    type it when asked (on a terminal, after the item's summary)."""
    from pystage.cli.approve import decide

    decide("reject", stage_ref, otp)
