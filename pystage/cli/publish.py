"""pystage publish [DIR|TARBALL]: stage a package version (2FA deferred to approve)."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options

DEFAULT_WAIT_TIMEOUT = "1h"


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
@click.option("-m", "--message", metavar="TEXT", help="A note for the reviewer (a PR link...).")
@click.option(
    "-w",
    "--workspace",
    "workspace",
    metavar="NAME",
    multiple=True,
    help="Stage this workspace (a name, path or parent directory; repeatable).",
)
@click.option("--workspaces", is_flag=True, help="Stage every workspace of the project.")
@click.option(
    "--include-workspace-root",
    is_flag=True,
    help="With --workspaces/--workspace, stage the workspace root too.",
)
@click.option(
    "--wait",
    is_flag=True,
    help="Then wait until approved (exit 0), rejected (exit 9) or timed out (exit 124).",
)
@click.option(
    "--wait-timeout",
    metavar="SECONDS",
    help=f"How long --wait waits (seconds, or 30m, 2h...; default {DEFAULT_WAIT_TIMEOUT}).",
)
@click.option("--dry-run", is_flag=True, help="Do everything except send the package.")
@click.option("--ignore-scripts", is_flag=True, help="Do not run lifecycle scripts.")
@click.option(
    "-f", "--force", is_flag=True, help="Skip the checks against the registry's versions."
)
@global_options
def command(
    target,
    tag,
    access,
    message,
    workspace,
    workspaces,
    include_workspace_root,
    wait,
    wait_timeout,
    dry_run,
    ignore_scripts,
    force,
):
    """Stage a package on the registry, deferring 2FA to `pystage approve`.

    Packs DIR (default: the current directory) as `pystage pack` does, or
    takes a ready TARBALL, and POSTs npm's publish document to the stage
    endpoint. Prints the contents and `+ name@version (staged with id ID)`.
    With --workspaces (or -w NAME), stages each selected workspace package.
    """
    from pystage.errors import UsageError

    options = get_options()
    # every option is checked before anything is packed or sent
    if message is not None:
        from pystage.notes import NoteError, check_note

        try:
            check_note(message, "--message")
        except NoteError as exc:
            raise UsageError(str(exc)) from None
    timeout = None
    if wait_timeout is not None and not wait:
        raise UsageError("--wait-timeout needs --wait")
    if wait:
        from pystage.durations import parse_duration

        timeout = parse_duration(wait_timeout or DEFAULT_WAIT_TIMEOUT, "--wait-timeout")
        if dry_run:
            raise UsageError("--wait cannot wait for a --dry-run: nothing is staged")
    if include_workspace_root and not (workspaces or workspace):
        raise UsageError("--include-workspace-root needs --workspaces or --workspace")

    from pystage.publishing.flow import PublishRequest
    from pystage.render.stage import StageRenderer

    render = StageRenderer(options.color, options.quiet)
    request = PublishRequest(
        target=target,
        tag=tag,
        access=access,
        dry_run=dry_run,
        ignore_scripts=ignore_scripts,
        force=force,
        json=options.json,
        message=message,
    )
    if workspaces or workspace:
        if target not in (".", "./"):
            render.warn("Ignoring workspaces for specified package(s)")
        else:
            _publish_workspaces(
                options, request, workspace, include_workspace_root, render, timeout
            )
            return
    outcome = _stage_one(options, request, render)
    data = outcome.to_npm_json()
    if not options.json:
        render.staged(outcome)
    failure = _wait(options, [outcome], timeout, render, data) if wait else None
    if options.json:
        render.json(data)
    if failure is not None:
        raise failure


def _stage_one(options, request, render):
    from pystage.context import make_client
    from pystage.publishing.flow import stage_package

    def client_for(manifest):
        return make_client(options, manifest=manifest, command="stage", oidc=True)

    return stage_package(request, client_for, render)


def _publish_workspaces(options, request, filters, include_root, render, timeout) -> None:
    """Each selected workspace in npm's order; a failure is reported and the next one
    staged (npm stops at the first): the command fails at the end, naming them."""
    import os
    from dataclasses import replace

    from pystage.errors import PystageError
    from pystage.workspaces import select_workspaces

    root, selected = select_workspaces(os.getcwd(), list(filters), include_root)
    # npm packs each with the selected workspaces' paths (the root's own included)
    request = replace(request, workspaces=tuple(selected.values()), workspace_root=root)
    outcomes, failed, data = [], [], {}
    for name, path in selected.items():
        try:
            outcome = _stage_one(options, replace(request, target=path), render)
        except PystageError as err:
            if err.code == "EPRIVATE":
                render.warn(f"Skipping workspace {name}, marked as private")
                continue
            failed.append((name, err))
            data[name] = {"error": {"code": err.code, "summary": err.message}}
            render.workspace_failed(name, err)
            continue
        outcomes.append(outcome)
        data.update(outcome.to_npm_json())
        if not options.json:
            render.staged(outcome)
    waited = None
    if timeout is not None and outcomes:
        waited = _wait(options, outcomes, timeout, render, data)
    if options.json:
        render.json(data)
    if waited is not None and not failed:
        raise waited
    if failed:
        names = ", ".join(f"{name} ({err.code})" for name, err in failed)
        raise PystageError(
            failed[0][1].code,
            f"{len(failed)} of {len(selected)} workspaces were not staged: {names}",
            "the lines above say why for each; the others were staged",
        )


def _wait(options, outcomes, timeout, render, data: dict):
    """Wait for the staged versions; each one's outcome goes into ``data`` (the --json
    document, under "wait"). Returns the error to end with (None: all approved)."""
    from pystage import wait
    from pystage.context import make_client

    targets = [
        wait.Waited(o.stage_id, o.manifest["name"], o.manifest["version"])
        for o in outcomes
        if o.stage_id
    ]
    if not targets:
        return None
    with (
        make_client(options, package=targets[0].name) as client,
        render.waiting(targets, timeout) as progress,
    ):
        wait.wait_for(client, targets, timeout, on_progress=progress)
    for target in targets:
        if isinstance(data.get(target.name), dict):
            data[target.name]["wait"] = target.outcome
        if target.outcome == wait.APPROVED and not options.json:
            render.line(f"{target.spec} was approved and published.")
    return wait.outcome_error(targets, timeout)
