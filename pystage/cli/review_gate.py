"""Approve's review gate: review every staged version of the batch before any one-time
password is asked for or sent, then refuse, ask, or go on.

The rules (docs/review.md, "Approving"):
- ``--fail-on LEVEL``: a finding at or above LEVEL in any item refuses the whole
  batch (EREVIEW, exit 8), at a terminal or not, whatever ``--yes`` says;
- at a terminal: one summary per item (counts by severity, every high finding),
  then one question for the batch when any item has a high finding
  (default No; ``--yes`` answers it);
- an item that could not be reviewed (baseline gone, registry down) is never taken
  as clean: with ``--fail-on LEVEL`` a refusal, ``--yes`` or not; otherwise at a
  terminal a reason to ask, without one a refusal (``--yes`` goes on, saying so);
- without a terminal and without ``--fail-on``: no review, as before (scripts that
  approve keep their speed and their behaviour; they opt in with ``--fail-on``).
"""

from __future__ import annotations

from pystage.errors import PystageError


def wanted(fail_on: str | None, interactive: bool) -> bool:
    return fail_on is not None or interactive


def check(client, entries, *, fail_on: str | None, yes: bool, interactive: bool, options) -> bool:
    """Raise (EREVIEW, ECANCELED) unless the batch may go on to its approvals; True when
    the user was asked (and said yes), so approve asks no second question."""
    from pystage import batch, staging
    from pystage.render.review import ReviewRenderer
    from pystage.reviewing import review_item

    def review_one(client, entry):
        item = staging.view_staged(client, entry.stage_id)
        if not entry.item:
            entry.item = item  # the messages below name it
        return review_item(client, entry.stage_id, dict(item))

    batch.review_each(client, entries, review_one)
    render = ReviewRenderer(options.color, options.quiet)
    if interactive or not (options.json or options.quiet):
        for entry in entries:
            if entry.report is not None:
                render.summary(entry.report)
            else:
                render.not_reviewed(entry.spec, entry.review_error)
    if fail_on is not None:
        failing = [e for e in entries if e.report is not None and e.report.fails(fail_on)]
        if failing:
            raise _refusal(failing, entries, fail_on)
    unreviewed = [e for e in entries if e.report is None]
    high = [e for e in entries if e.report is not None and e.report.fails("high")]
    if not (unreviewed or high):
        return False
    if unreviewed and fail_on not in (None, "never"):
        # --fail-on asks that every version pass a review; one that could not be reviewed
        # (a registry that stalls it, a baseline that vanished) has not, whatever --yes says
        raise _unreviewed_refusal(unreviewed, entries)
    if yes:
        if unreviewed:
            render.going_on_unreviewed([e.spec for e in unreviewed])
        return False
    if not interactive:
        # here only with --fail-on (no review otherwise), which has judged the findings;
        # what could not be reviewed has not passed it
        if unreviewed:
            raise _unreviewed_refusal(unreviewed, entries)
        return False
    from pystage.cli.confirm import cancelled, confirm

    if not confirm(_question(high, unreviewed, len(entries))):
        raise cancelled("nothing was approved")
    return True


def _counts(report, threshold: str) -> str:
    from pystage.review import at_least

    counts = report.counts()  # highest severity first
    return ", ".join(f"{n} {sev}" for sev, n in counts.items() if n and at_least(sev, threshold))


def _refusal(failing, entries, fail_on: str) -> PystageError:
    if len(entries) == 1:
        entry = failing[0]
        message = (
            f"{entry.spec} has {_counts(entry.report, fail_on)} "
            f"(at or above --fail-on {fail_on}): nothing was approved"
        )
    else:
        parts = "; ".join(f"{e.spec}: {_counts(e.report, fail_on)}" for e in failing)
        message = (
            f"{len(failing)} of {len(entries)} staged versions have findings at or above "
            f"--fail-on {fail_on} ({parts}): nothing was approved"
        )
    return PystageError(
        "EREVIEW",
        message,
        "read the findings with pystage review <ID>; pass --fail-on to change the threshold",
    )


def _unreviewed_refusal(unreviewed, entries) -> PystageError:
    parts = "; ".join(
        f"{e.spec} ({e.review_error.code}: {e.review_error.message})" for e in unreviewed
    )
    what = "it" if len(entries) == 1 else f"{len(unreviewed)} of {len(entries)}"
    return PystageError(
        "EREVIEW",
        f"could not review {what}: {parts}: nothing was approved",
        "fix what stopped the review and run it again, or pass --fail-on never --yes to "
        "approve unreviewed",
    )


def _question(high, unreviewed, count: int) -> str:
    reasons = []
    if high:
        reasons.append(f"{len(high)} with high findings" if count > 1 else "it has high findings")
    if unreviewed:
        reasons.append(
            f"{len(unreviewed)} could not be reviewed" if count > 1 else "it could not be reviewed"
        )
    what = "this staged version" if count == 1 else f"all {count} staged versions"
    return f"Approve {what} anyway ({' and '.join(reasons)})?"
