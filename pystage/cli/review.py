"""pystage review <ID|NAME@VERSION>: what a staged version changes, before approving it."""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options

FAIL_ON = ("info", "low", "medium", "high", "never")


@click.command("review")
@click.argument("stage_ref", metavar="<ID|NAME@VERSION>", required=False)
@click.option(
    "--against",
    metavar="VERSION",
    help="Published version to compare with (default: what the staged tag points to now, "
    "else the highest published version below the staged one).",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="high",
    show_default=True,
    help="Exit with code 8 when a finding is at or above this severity.",
)
@click.option(
    "--diff", "full_diff", is_flag=True, help="Show the whole diff of every changed text file."
)
@global_options
def command(stage_ref, against, fail_on, full_diff):
    """Review a staged version against the published one: files added, removed and
    changed, package.json field by field, and findings by severity (install scripts,
    new dependencies, obfuscated code, secrets, native code...).

    Both tarballs are streamed and read as data: never extracted, never run."""
    from pystage import staging
    from pystage.context import make_client
    from pystage.errors import PystageError
    from pystage.render.review import ReviewRenderer
    from pystage.reviewing import review_staged

    options = get_options()
    ref = staging.parse_stage_ref(stage_ref)
    with make_client(options, package=ref.name) as client:
        report = review_staged(client, ref, against=against, full_diff=full_diff)
    render = ReviewRenderer(options.color, options.quiet)
    if options.json:
        render.json(report.to_json())
    else:
        render.report(report, full_diff=full_diff)
    if report.fails(fail_on):
        failing = [f for f in report.findings if f.severity in _at_or_above(fail_on)]
        raise PystageError(
            "EREVIEW",
            f"{len(failing)} finding(s) at or above {fail_on} in {report.package}@{report.version}",
            "read them above; pass --fail-on to change the threshold",
        )


def _at_or_above(threshold: str) -> set[str]:
    from pystage.review import SEVERITIES

    return set(SEVERITIES[SEVERITIES.index(threshold) :])
