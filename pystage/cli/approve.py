"""pystage approve <ID> [--otp CODE]: publish a staged version.

Also holds ``decide``, the flow approve and reject share: resolve the id,
show what it is (on a terminal), send with the OTP, confirm."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.command("approve")
@click.argument("stage_ref", metavar="<ID|NAME@VERSION>", required=False)
@click.option("--otp", metavar="CODE", help="One-time password from your authenticator app.")
@global_options
def command(stage_ref, otp):
    """Approve a staged version: the registry publishes it exactly as staged.

    Needs a one-time password when your account has 2FA: pass --otp, or
    type it when asked (on a terminal, after the item's summary)."""
    decide("approve", stage_ref, otp)


def decide(action: str, stage_ref: str | None, otp: str | None) -> None:
    from pystage import staging
    from pystage.context import make_client
    from pystage.otp import is_interactive
    from pystage.render.stage import StageRenderer

    options = get_options()
    ref = staging.parse_stage_ref(stage_ref)
    render = StageRenderer(options.color, options.quiet)
    if action == "reject":
        render.warn(
            "Rejecting will permanently delete this staged publish record and "
            "tarball from the registry."
        )
    with make_client(options, otp=otp, package=ref.name) as client:
        stage_id, item = staging.resolve_stage_ref(client, ref)
        if not otp and is_interactive() and not options.json:
            render.item_summary(item or staging.view_staged(client, stage_id))
        if action == "approve":
            response = staging.approve_staged(client, stage_id)
        else:
            staging.reject_staged(client, stage_id)
            response = None
    label = stage_id if ref.stage_id else f"{stage_id} ({ref.name}@{ref.version})"
    if options.json:
        render.json(
            {
                "id": stage_id,
                "action": action,
                "ok": True,
                **({"response": response} if response is not None else {}),
            }
        )
    elif action == "approve":
        render.line(f"Staged package {label} approved and published successfully.")
    else:
        render.line(f"Staged package {label} has been rejected.")
