"""pystage approve [ID ...] [--all [PACKAGE]] [--otp CODE]: publish staged versions.

Also holds ``decide``, the flow approve and reject share: check every id, resolve
them all, show what is about to happen (on a terminal), send them in order with
one one-time password (pystage/batch.py), report each."""

from __future__ import annotations

import click

from pystage.cli import complete
from pystage.cli.confirm import yes_option
from pystage.cli.options import get_options, global_options

REVIEW_FAIL_ON = ("info", "low", "medium", "high", "never")


@click.command("approve")
@click.argument(
    "stage_refs", metavar="[ID|NAME@VERSION]...", nargs=-1, shell_complete=complete.stage_refs
)
@click.option(
    "--all",
    "all_items",
    is_flag=True,
    help="Approve every staged version (of PACKAGE, when one name is given).",
)
@click.option("--otp", metavar="CODE", help="One-time password from your authenticator app.")
@click.option(
    "--fail-on",
    type=click.Choice(REVIEW_FAIL_ON),
    default=None,
    help="Review each staged version first (also without a terminal) and approve nothing, "
    "exit 8, when a finding is at or above this severity; no one-time password is asked "
    "for or sent.",
)
@yes_option(
    help="Do not ask for confirmation at a terminal, also not for what has high "
    "review findings or could not be reviewed (--fail-on still refuses)."
)
@global_options
def command(stage_refs, all_items, otp, fail_on, yes):
    """Approve staged versions: the registry publishes each exactly as staged.

    Several ids (or name@version) are approved in one go with one one-time
    password; inside a workspace, dependencies go first and a package whose
    dependency failed is skipped. With no id at a terminal, pick from a list.
    Needs a one-time password when your account has 2FA: pass --otp, or
    type it when asked (on a terminal, after the summary).

    At a terminal each version is reviewed first (pystage review): a summary,
    then one question before anything is approved (default No; -y/--yes does
    not ask), which names the high findings when there are. Without a terminal
    the review runs only with --fail-on."""
    decide("approve", stage_refs, otp, all_items=all_items, fail_on=fail_on, yes=yes)


def decide(
    action: str,
    stage_refs: tuple[str, ...] | list[str],
    otp: str | None,
    *,
    all_items: bool = False,
    reason: str | None = None,
    fail_on: str | None = None,
    yes: bool = False,
) -> None:
    from pystage import batch, staging
    from pystage.context import make_client
    from pystage.errors import UsageError
    from pystage.otp import is_interactive
    from pystage.render.stage import StageRenderer

    options = get_options()
    render = StageRenderer(options.color, options.quiet)
    interactive = is_interactive()
    # everything the user typed is checked before any request
    package = refs = None
    if all_items:
        if len(stage_refs) > 1:
            raise UsageError(
                f"--all takes at most one package name, not {len(stage_refs)} arguments",
                f"pystage {action} --all [PACKAGE], or list the ids without --all",
            )
        package = staging.package_filter(stage_refs[0]) if stage_refs else None
    elif stage_refs:
        refs = batch.parse_refs(stage_refs)
    elif not (interactive and not options.json):
        staging.parse_stage_ref(None)  # EUSAGE: Missing required <stage-id>
    if reason is not None:
        reason = _checked_reason(reason)
    single = refs is not None and len(refs) == 1
    name = refs[0].name if refs and single else package
    with make_client(options, otp=otp, package=name) as client:
        if refs is not None:
            entries = batch.collect(client, refs)
        elif all_items:
            entries = batch.collect_all(client, package)
            if not entries:
                _nothing_staged(client, package, render)
                return
        else:
            entries = _pick(client, action, render)
        picked = refs is None and not all_items  # the picker's answer was the decision
        graph = {}
        if action == "approve" and len(entries) > 1:
            import os

            from pystage.workspaces import workspace_dependencies

            graph = workspace_dependencies(os.getcwd())
            entries = batch.dependency_order(entries, graph)
        at_terminal = interactive and not options.json
        if at_terminal:
            if single:
                entry = entries[0]
                entry.item = entry.item or staging.view_staged(client, entry.stage_id)
                render.item_summary(entry.item)
            else:
                render.batch_plan(entries, action)
        if action == "reject":
            # only now: every item is resolved (a typo is an E404 above, not a warning)
            render.warn(
                "Rejecting will permanently delete "
                + (
                    "this staged publish record and tarball"
                    if len(entries) == 1
                    else f"these {len(entries)} staged publish records and tarballs"
                )
                + " from the registry."
            )
        asked = False
        if action == "approve":
            from pystage.cli import review_gate

            if review_gate.wanted(fail_on, at_terminal):
                # before the first approve: its OTP challenge is what prompts
                asked = review_gate.check(
                    client,
                    entries,
                    fail_on=fail_on,
                    yes=yes,
                    interactive=at_terminal,
                    options=options,
                )
        if at_terminal and not (yes or asked or picked):
            _confirm(action, entries)
        on_result = None if options.json else lambda e: render.batch_result(e, action, single)
        batch.run(
            client,
            entries,
            action,
            graph=graph,
            reason=reason,
            next_code=_next_code_provider(client, render, interactive),
            on_result=on_result,
        )
    failure = batch.summary_error(entries, action)
    if options.json and not (single and failure):
        if single:
            entry = entries[0]
            render.json(
                {
                    "id": entry.stage_id,
                    "action": action,
                    "ok": True,
                    **(
                        {"published": entry.outcome == batch.PUBLISHED}
                        if action == "approve"
                        else {}
                    ),
                    **({"response": entry.response} if entry.response is not None else {}),
                    **({"review": entry.review_json()} if entry.review_json() else {}),
                }
            )
        else:
            render.json([e.to_json(action) for e in entries])
    if failure is not None:
        raise failure


def _confirm(action: str, entries) -> None:
    """At a terminal: one question for the whole batch, default No (ECANCELED)."""
    from pystage.cli.confirm import cancelled, confirm
    from pystage.render import safe

    what = safe(entries[0].spec) if len(entries) == 1 else f"these {len(entries)} staged versions"
    question = f"Approve and publish {what}?" if action == "approve" else f"Reject {what} for good?"
    if not confirm(question):
        raise cancelled("nothing was approved" if action == "approve" else "nothing was rejected")


def _checked_reason(reason: str) -> str:
    from pystage.errors import UsageError
    from pystage.notes import NoteError, check_note

    try:
        return check_note(reason, "--reason")
    except NoteError as exc:
        raise UsageError(str(exc)) from None


def _nothing_staged(client, package, render) -> None:
    """``--all`` found nothing: fine for a package that exists, an error for one that
    does not (a typo must not look like "nothing to do")."""
    from pystage import staging
    from pystage.errors import PystageError

    if package and not staging.package_exists(client, package):
        raise PystageError(
            "E404",
            f"no package {package} on {client.registry}, and nothing of it is staged",
            "check the package name",
        )
    render.notice(f"Nothing of {package} is staged." if package else "No staged packages found.")


def _pick(client, action, render):
    """No id at a terminal: number the staged items and ask which."""
    import click

    from pystage import batch, staging
    from pystage.errors import PystageError

    items = staging.list_staged(client)
    if not items:
        raise PystageError("E404", f"nothing is staged on {client.registry}")
    render.pick_list(items, action)
    try:
        answer = click.prompt(
            f"{action.capitalize()} which? (e.g. 1 3-5, or all; empty to cancel)",
            default="",
            show_default=False,
            err=True,
        )
    except click.exceptions.Abort:
        raise PystageError("EINTR", "interrupted") from None
    chosen = batch.parse_selection(answer, len(items))
    if not chosen:
        raise PystageError("ECANCELED", f"nothing selected: nothing was {action}d")
    entries = [
        batch.BatchEntry(str(items[i].get("id")), str(items[i].get("id")), items[i]) for i in chosen
    ]
    for entry in entries:
        if not staging.is_stage_id(entry.stage_id):
            raise PystageError(
                "EBADRESPONSE", f"the registry listed {entry.spec} without a valid id"
            )
    batch.refuse_duplicates(entries)
    return entries


def _next_code_provider(client, render, interactive: bool):
    """After the registry refused the batch's code (already used): the next TOTP code
    from a stored secret (after its window starts), else a prompt, else nothing."""
    import time

    from pystage import otp as otp_sources

    def next_code(refusal: str) -> str | None:
        env = client.otp.env if client.otp is not None else None
        secret = otp_sources.stored_totp_secret(client.registry, env)
        if secret:
            period = otp_sources.TOTP_PERIOD
            wait = period - time.time() % period + 0.5
            render.notice(
                f"The registry refused the one-time password ({refusal}); "
                f"waiting {wait:.0f} s for the next code of the stored secret."
            )
            time.sleep(wait)
            return otp_sources.totp_now(secret)
        if not interactive:
            return None
        render.notice(
            f"The registry refused the one-time password ({refusal}); "
            "it takes each code once: wait for the next one."
        )
        from pystage.cli.terminal import read_visible

        try:
            code = read_visible("Enter the next OTP: ")
        except EOFError:
            return None
        return otp_sources.normalize_code(code) or None

    return next_code
