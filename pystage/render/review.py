"""Human and JSON output of ``pystage review`` (and the summary approve shows).

Everything in a report came out of a tarball: each string goes through
``safe`` (control characters escaped) and into Rich as plain text, never markup.
"""

from __future__ import annotations

import json

from pystage.render import LazyConsoles, print_json, safe

STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
MAX_LISTED = 40  # files per group in the human report (--json has them all)
# a tarball's names and messages can be a megabyte long (a pax path): the human report
# shows this much of each, and says how much it left out (--json has them whole)
NAME_LIMIT = 300
TEXT_LIMIT = 1000


def clip(value, limit: int = NAME_LIMIT) -> str:
    """Tarball text for the report: inert (``safe``) and at most ``limit`` characters."""
    return safe(value, limit)


def human_size(n: int | None) -> str:
    from pystage.review.file_rules import human_size as size

    return "?" if n is None else size(n)


class ReviewRenderer(LazyConsoles):
    def json(self, data) -> None:
        print_json(data)

    # -- the full report -------------------------------------------------------------
    def report(self, report, full_diff: bool = False, console=None) -> None:
        from rich.text import Text

        c = console or self.out
        title = Text.assemble(
            ("Review of ", "bold"),
            (clip(f"{report.package}@{report.version}"), "bold"),
            (" against ", "bold"),
            (clip(report.baseline) if report.baseline else "nothing published", "bold"),
        )
        c.print(title)
        meta = []
        if report.id:
            meta.append(f"stage {report.id}")
        if report.staged_by:
            meta.append(f"staged by {report.staged_by}")
        if meta:
            c.print(clip(" · ".join(meta), TEXT_LIMIT), markup=False)
        sizes = f"unpacked {human_size(report.unpacked_size)}"
        if report.baseline_unpacked_size is not None:
            sizes += f" (was {human_size(report.baseline_unpacked_size)})"
        c.print(
            f"files: {len(report.added)} added, {len(report.removed)} removed, "
            f"{len(report.changed)} changed · {sizes}",
            markup=False,
        )
        self._files(c, "+", "added", "green", report.added)
        self._files(c, "-", "removed", "red", report.removed)
        self._changed(c, report.changed, full_diff)
        self._manifest(c, report.manifest)
        c.print()
        self.findings(report, console=c)

    def _files(self, c, mark, label, style, changes) -> None:
        from rich.text import Text

        for change in changes[:MAX_LISTED]:
            kind = "" if change.type == "file" else f" ({change.type})"
            c.print(
                Text.assemble(
                    (f"  {mark} ", style), clip(change.path) + kind, f"  {human_size(change.size)}"
                )
            )
        if len(changes) > MAX_LISTED:
            c.print(
                f"    … and {len(changes) - MAX_LISTED} more {label} (see --json)", markup=False
            )

    def _changed(self, c, changes, full_diff) -> None:
        from rich.text import Text

        shown = changes if full_diff else changes[:MAX_LISTED]
        for change in shown:
            sizes = f"{human_size(change.baseline_size)} → {human_size(change.size)}"
            mode = ""
            if change.baseline_mode is not None and change.baseline_mode != change.mode:
                mode = f"  mode {change.baseline_mode:04o} → {change.mode:04o}"
            c.print(Text.assemble(("  ~ ", "yellow"), clip(change.path), f"  {sizes}{mode}"))
            print_diff(c, change.diff_note, change.diff)
            if change.diff_truncated:
                c.print("      … (diff cut short: --diff shows it all)", markup=False, style="dim")
        if len(changes) > len(shown):
            c.print(
                f"    … and {len(changes) - len(shown)} more changed (see --json)", markup=False
            )

    def _manifest(self, c, changes) -> None:
        from rich.text import Text

        if not changes:
            return
        c.print("package.json:", markup=False)
        for change in changes:
            mark, style = {"added": ("+", "green"), "removed": ("-", "red")}.get(
                change.change, ("~", "yellow")
            )
            if change.change == "added":
                value = _value(change.after)
            elif change.change == "removed":
                value = _value(change.before)
            else:
                value = f"{_value(change.before)} → {_value(change.after)}"
            c.print(
                Text.assemble(
                    (f"  {mark} ", style), (clip(change.field), "bold"), ": ", clip(value)
                )
            )

    # -- findings (the report's end, and approve's summary) ---------------------------
    def findings(self, report, console=None, only=None) -> None:
        from rich.text import Text

        c = console or self.out
        counts = report.counts()
        summary = ", ".join(f"{n} {sev}" for sev, n in counts.items() if n) or "none"
        c.print(Text.assemble(("findings: ", "bold"), summary))
        shown: dict[tuple[str, str], int] = {}  # (severity, rule) -> lines printed
        for finding in report.by_severity():
            if only is not None and finding.severity not in only:
                continue
            key = (finding.severity, finding.rule)
            shown[key] = shown.get(key, 0) + 1
            if shown[key] > MAX_LISTED:  # 200,000 links are one finding 200,000 times
                continue
            where = finding.path or "(package)"
            if finding.line:
                where += f":{finding.line}"
            c.print(
                Text.assemble(
                    (f"  {finding.severity.upper():6}", STYLE[finding.severity]),
                    " ",
                    (clip(where), "bold"),
                    f"  [{finding.rule}] ",
                    clip(finding.message, TEXT_LIMIT),
                )
            )
        for (severity, rule), count in shown.items():
            if count > MAX_LISTED:
                c.print(
                    f"  … and {count - MAX_LISTED} more {severity} [{rule}] findings (see --json)",
                    markup=False,
                )

    def summary(self, report) -> None:
        """Before approve's OTP prompt, on stderr: counts by severity, every high finding."""
        from rich.text import Text

        self.err.print(
            Text.assemble(
                ("Review of ", "bold"),
                clip(f"{report.package}@{report.version}"),
                " against ",
                clip(report.baseline) if report.baseline else "nothing published",
                f": {len(report.added)} added, {len(report.removed)} removed, "
                f"{len(report.changed)} changed",
            )
        )
        self.findings(report, console=self.err, only={"high"})

    def not_reviewed(self, spec: str, error) -> None:
        """Approve could not review an item: said, never passed over in silence."""
        from rich.text import Text

        self.err.print(
            Text.assemble(
                ("Not reviewed ", "bold red"),
                clip(spec),
                f": {error.code} ",
                clip(error.message, TEXT_LIMIT),
            )
        )

    def going_on_unreviewed(self, specs: list[str]) -> None:
        from rich.text import Text

        self.err.print(
            Text.assemble(
                ("warning ", "bold yellow"),
                "approving without a review (--yes): ",
                clip(", ".join(specs), TEXT_LIMIT),
            )
        )


def _value(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:199] + "…"


def print_diff(c, note: str | None, lines: list[str] | None) -> None:
    """A changed file's diff under its line (or why there is none): + green, - red,
    @@ cyan, each line cut to the width, never wrapped."""
    from rich.text import Text

    if note:
        c.print(f"      ({note})", markup=False, style="dim")
    for line in lines or []:
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
        style = "cyan" if line.startswith("@@") else style
        c.print(
            Text("      " + clip(line, TEXT_LIMIT), style=style),
            soft_wrap=False,
            overflow="ellipsis",
            crop=True,
        )
