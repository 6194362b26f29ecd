"""The "reproduces from source" block that ``pystage review --source`` prints first.

Paths and texts come out of tarballs and the source tree: each goes through ``clip``
(``safe``, and cut short) and into Rich as plain text, never markup."""

from __future__ import annotations

from pystage.render import LazyConsoles
from pystage.render.review import MAX_LISTED, clip, print_diff


class SourceRenderer(LazyConsoles):
    def check(self, check, full_diff: bool = False, console=None) -> None:
        from rich.text import Text

        c = console or self.out
        source = clip(check.source)
        scripts = " (build scripts run)" if check.scripts_run else ""
        if check.reproduced:
            c.print(
                Text.assemble(
                    ("Reproduces from source: yes", "bold green"),
                    f" · {check.identical} file(s) identical to the rebuild from ",
                    source,
                    scripts,
                )
            )
            c.print()
            return
        problems = (
            len(check.differs)
            + len(check.only_staged)
            + len(check.only_source)
            + int(check.version_mismatch or check.name_mismatch)
        )
        if problems:
            head = ("Reproduces from source: NO", "bold red")
        else:
            head = ("Reproduces from source: not fully checked", "bold yellow")
        c.print(
            Text.assemble(
                head,
                " · rebuilt from ",
                source,
                scripts,
                f": {check.identical} identical, {len(check.differs)} differ, "
                f"{len(check.only_staged)} only staged, {len(check.only_source)} only in source, "
                f"{len(check.not_checked)} not checked",
            )
        )
        if check.name_mismatch or check.version_mismatch:
            c.print(
                Text.assemble(
                    ("  ! ", "red"),
                    "the source is ",
                    clip(f"{check.source_name}@{check.source_version}"),
                    ", the staged tarball ",
                    clip(f"{check.package}@{check.version}"),
                )
            )
        self._differs(c, check.differs, full_diff)
        self._paths(c, "+", "only staged", "red", [e.path for e in check.only_staged])
        self._paths(c, "-", "only in source", "red", [e.path for e in check.only_source])
        pending = ", ".join(check.build_scripts) or "the build"
        self._paths(
            c,
            "?",
            f"not checked: built by {pending}; --source-scripts runs it",
            "yellow",
            [n.path for n in check.not_checked],
        )
        c.print()

    def _differs(self, c, differs, full_diff) -> None:
        from rich.text import Text

        shown = differs if full_diff else differs[:MAX_LISTED]
        for d in shown:
            what = []
            if "content" in d.what:
                what.append(f"content {d.source.size} B → {d.staged.size} B")
            if "mode" in d.what:
                what.append(f"mode {d.source.mode:04o} → {d.staged.mode:04o}")
            if "type" in d.what:
                what.append(f"{d.source.type} → {d.staged.type}")
            c.print(
                Text.assemble(("  ~ ", "yellow"), clip(d.path), "  differs: " + ", ".join(what))
            )
            print_diff(c, d.diff_note, d.diff)
        if len(differs) > len(shown):
            c.print(f"    … and {len(differs) - len(shown)} more that differ (see --json)")

    def _paths(self, c, mark, label, style, paths) -> None:
        from rich.text import Text

        for path in paths[:MAX_LISTED]:
            c.print(Text.assemble((f"  {mark} ", style), clip(path), f"  ({label})"))
        if len(paths) > MAX_LISTED:
            c.print(f"    … and {len(paths) - MAX_LISTED} more {label} (see --json)", markup=False)
