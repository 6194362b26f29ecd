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
@click.option(
    "--source",
    metavar="DIR|REF",
    help="Also check that the staged tarball reproduces from this source: a checkout, or a "
    "git ref of the repository here (archived, never checked out); every file is compared "
    "with a rebuild.",
)
@click.option(
    "--source-scripts",
    is_flag=True,
    help="With --source: run the build scripts (prepublishOnly, prepack, prepare, postpack) "
    "in a temporary copy, so built files are compared too.",
)
@click.option(
    "--deep",
    is_flag=True,
    help="Also run GuardDog's rules for malicious packages over the added and changed "
    "files (the pystage-npm[guarddog] extra; offline, in memory).",
)
@global_options
def command(stage_ref, against, fail_on, full_diff, source, source_scripts, deep):
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
    if source_scripts and not source:
        raise PystageError("EUSAGE", "--source-scripts needs --source DIR|REF")
    if deep:
        _check_deep()
    with _source(source) as tree, make_client(options, package=ref.name) as client:
        checks = []
        check = (
            (lambda path: checks.append(_check(path, tree, source_scripts, full_diff)))
            if tree
            else None
        )
        report = review_staged(
            client, ref, against=against, full_diff=full_diff, check_staged=check, deep=deep
        )
    source_check = checks[0] if checks else None
    if source_check is not None:  # differences are findings: --fail-on gates on them
        report.findings += source_check.findings()
    render = ReviewRenderer(options.color, options.quiet)
    if options.json:
        data = report.to_json()
        if source_check is not None:
            data["source"] = source_check.to_json()
        render.json(data)
    else:
        if source_check is not None:  # the answer to "does it come from source?" first
            from pystage.render.reproduce import SourceRenderer

            SourceRenderer(options.color, options.quiet).check(source_check, full_diff)
        render.report(report, full_diff=full_diff)
    if report.fails(fail_on):
        failing = [f for f in report.findings if f.severity in _at_or_above(fail_on)]
        raise PystageError(
            "EREVIEW",
            f"{len(failing)} finding(s) at or above {fail_on} in {report.package}@{report.version}",
            "read them above; pass --fail-on to change the threshold",
        )


def _check_deep() -> None:
    """--deep without GuardDog: one line before any request."""
    from pystage.errors import PystageError
    from pystage.review.deep import available

    missing = available()
    if missing:
        raise PystageError(
            "EUSAGE", f"--deep needs GuardDog: {missing}", "pip install 'pystage-npm[guarddog]'"
        )


def _at_or_above(threshold: str) -> set[str]:
    from pystage.review import SEVERITIES

    return set(SEVERITIES[SEVERITIES.index(threshold) :])


def _source(spec: str | None):
    """The --source tree (opened before anything is downloaded: a bad one fails first)."""
    import contextlib
    import os

    if not spec:
        return contextlib.nullcontext()
    from pystage.reproduce import open_source

    return open_source(spec, os.getcwd())


def _check(staged_path: str, tree, run_scripts: bool, full_diff: bool):
    import sys

    from pystage.reproduce import check_source

    # the scripts' output goes to stderr: stdout stays the report (or the JSON document)
    return check_source(
        staged_path,
        tree,
        run_scripts=run_scripts,
        script_stdout=sys.stderr.fileno(),
        full_diff=full_diff,
    )
