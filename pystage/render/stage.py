"""Human and JSON output of the stage commands (publish, list, view, download,
approve, reject). Contents listings and notices go to stderr, as npm's do;
stdout carries only the result (the ``+ name@version`` line, the table, the
file name), so scripts can capture it."""

from __future__ import annotations

from typing import Any

from pystage.render import LazyConsoles, print_json, safe
from pystage.stageitem import stage_item_fields

_LIFECYCLE = ("preinstall", "install", "postinstall", "prepare", "prepublish")


def manifest_key_fields(manifest: dict) -> list[tuple[str, Any]]:
    """package.json fields a reviewer asks about first, in that order."""
    scripts = found if isinstance(found := manifest.get("scripts"), dict) else {}
    lifecycle = {k: scripts[k] for k in _LIFECYCLE if k in scripts}
    fields: list[tuple[str, Any]] = [
        ("install scripts", lifecycle or "none"),
    ]
    for key in ("main", "module", "exports", "bin", "type"):
        if manifest.get(key) is not None:
            fields.append((key, manifest[key]))
    for key in ("dependencies", "optionalDependencies", "peerDependencies"):
        deps = manifest.get(key)
        if isinstance(deps, dict) and deps:
            fields.append((key, deps))
    for key in ("bundleDependencies", "bundledDependencies", "os", "cpu", "engines"):
        if manifest.get(key):
            fields.append((key, manifest[key]))
    return fields


def _text(value: Any) -> str:
    """A field value as npm shows it, escaped (``safe``): it comes from the registry."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value)  # ASCII-only: every control character is a JSON escape
    return safe(value)


def _lines(message: str) -> list[str]:
    """A notice's lines, each escaped: notices quote manifests and registries."""
    return [safe(line) for line in message.splitlines()] or [""]


class StageRenderer(LazyConsoles):
    # -- shared notices ---------------------------------------------------------
    def notice(self, message: str) -> None:
        if not self.quiet:
            for line in _lines(message):
                self.err.print(line)

    def warn(self, message: str) -> None:
        from rich.text import Text

        for line in _lines(message):
            self.err.print(Text.assemble(("warning ", "bold yellow"), line))

    def json(self, data: Any) -> None:
        print_json(data)

    def transfer(self, description: str, total: int | None, after: str | None = None):
        """A context giving ``advance(n_bytes)``: a bar on a terminal for big transfers;
        ``after``: what it says once every byte is through."""
        from pystage.render.progress import transfer_progress

        return transfer_progress(
            description, total, color=self.color, enabled=not self.quiet, after=after
        )

    def working(self, description: str):
        """A context: a spinner on a terminal while the block runs."""
        from pystage.render.progress import working

        return working(description, console=self.err, enabled=not self.quiet)

    # -- a staged item ------------------------------------------------------------
    def item(self, item: dict, console=None) -> None:
        from rich.text import Text

        console = console or self.out
        for key, value in stage_item_fields(item):
            # field names too: any key the registry sends is listed
            console.print(Text.assemble((safe(key), "cyan"), ": ", (_text(value), "green")))

    def key_fields(self, manifest) -> None:
        """What a reviewer asks first, from the tarball's package.json (on stderr, so
        stdout stays npm's ``stage view``): install scripts, entry points, bins, deps."""
        from rich.text import Text

        if isinstance(manifest, str):
            self.err.print(Text(safe(manifest), style="dim"))
            return
        for key, value in manifest_key_fields(manifest):
            self.err.print(Text.assemble((key, "cyan"), ": ", (_text(value), "green")))

    def file_table(self, index) -> None:
        """view --files: every entry of the tarball, then what is hostile about it."""
        from rich.text import Text

        for entry in index.files.values():
            size = str(entry.size) if entry.type == "file" else entry.type
            line = f"{entry.mode:04o} {size:>10} {entry.sha512 or '-':<95} {safe(entry.path)}"
            if entry.link is not None:
                line += f" -> {safe(entry.link)}"
            self.out.print(line, markup=False, highlight=False, soft_wrap=True)
        for anomaly in index.anomalies:
            self.err.print(
                Text.assemble(
                    ("warning ", "bold yellow"),
                    safe(anomaly.path or "(archive)"),
                    f": {safe(anomaly.message)}",
                )
            )

    def item_summary(self, item: dict) -> None:
        """What is about to be approved or rejected, on stderr before the OTP prompt."""
        self.err.print(f"Staged {_text(item.get('packageName'))}@{_text(item.get('version'))}:")
        self.item(item, console=self.err)

    def items_table(self, items: list[dict], package: str | None, layout: str = "") -> None:
        """``pystage list``: at a terminal, one or two lines per item at any width; in a
        pipe, whole-valued columns; ``long``: every field as key: value blocks; ``wide``:
        every field as columns; under --quiet only the ids, one a line."""
        from pystage.render import stagelist

        if not items:
            if not self.quiet:
                message = (
                    f'No staged versions of package name "{package}".'
                    if package
                    else "No staged packages found."
                )
                self.out.print(safe(message))
            return
        if self.quiet:
            self._write_plain([stagelist.cell(i.get("id")) for i in items])
            return
        if layout == "long":
            self._long(stagelist.long_blocks(items))
        elif layout == "wide":
            self._write_plain(stagelist.aligned(stagelist.wide_rows(items)))
        elif _isatty(self.out.file):
            for line in stagelist.terminal_lines(items, self.out.width):
                self.out.print(line, soft_wrap=True)
        else:
            # piped: not cut to any width, ids and names stay whole for scripts (asked of
            # the stream: --color makes Rich's console claim to be a terminal)
            rows = stagelist.aligned(stagelist.piped_rows(items))
            self._write_plain(rows, header=True)
        count = len(items)
        more = stagelist.unshown_fields(items) if layout not in ("long", "wide") else []
        offer = f" (pystage list --long also shows: {', '.join(more)})" if more else ""
        self.err.print(f"{count} staged item{'s' if count != 1 else ''}{offer}")

    def _long(self, blocks) -> None:
        from rich.text import Text

        for number, fields in enumerate(blocks):
            if number:
                self.out.print()
            for key, value in fields:
                self.out.print(Text.assemble((key, "cyan"), ": ", (value, "green")))

    def _write_plain(self, lines: list[str], header: bool = False) -> None:
        """Lines already escaped, through the console (colour for the header only)."""
        from rich.text import Text

        for number, line in enumerate(lines):
            style = "bold" if header and number == 0 else ""
            self.out.print(Text(line, style=style), soft_wrap=True)

    # -- tarball contents (npm's logTar) ----------------------------------------------
    def contents(self, contents) -> None:
        if not self.quiet:
            from pystage.render.pack import render_tarball_report

            render_tarball_report(contents, self.err)

    # -- results ------------------------------------------------------------------------
    def staged(self, outcome) -> None:
        contents = outcome.contents
        stage_id = safe(outcome.stage_id or "")  # a UUID (staging checks it), made sure
        suffix = f"staged with id {stage_id}" if stage_id else "staged"
        self.out.print(f"+ {safe(contents.id)} ({suffix})")
        if stage_id and not self.quiet:
            # no --otp: approve asks for a code at a terminal when the account has 2FA
            # (and an account without it needs none)
            self.err.print(f"Approve it with: pystage approve {stage_id}")

    def line(self, message: str) -> None:
        self.out.print(safe(message))

    # -- publish --workspaces / --wait ------------------------------------------------
    def workspace_failed(self, name: str, err) -> None:
        self.err.print(
            f"failed workspace {_text(name)}: {err.code} {_text(err.message)}", markup=False
        )

    def waiting(self, targets, timeout: float):
        """A context giving ``progress(target, elapsed)``: a live status line on a
        terminal; elsewhere one notice up front (nothing under --quiet)."""
        from contextlib import contextmanager

        from pystage.wait import approvals_of

        names = ", ".join(_text(t.spec) for t in targets)
        live = not self.quiet and _isatty(self.err.file)

        @contextmanager
        def context():
            if not live:
                self.notice(
                    f"Waiting up to {timeout:g} s for {names} to be approved or rejected..."
                )
                yield lambda target, elapsed: None
                return
            with self.err.status(f"Waiting for approval of {names}") as status:

                def progress(target, elapsed: float) -> None:
                    counts = approvals_of(target.item)
                    done = f", {counts[0]} of {counts[1]} approvals" if counts else ""
                    state = f" ({target.outcome})" if target.outcome else ""
                    status.update(
                        f"Waiting for approval of {_text(target.spec)}{done}{state}: "
                        f"{elapsed:.0f} s of {timeout:g} s"
                    )

                yield progress

        return context()

    # -- batches (approve/reject of several items) --------------------------------------
    def batch_plan(self, entries, action: str) -> None:
        """What is about to be approved or rejected, in order, before the OTP prompt."""
        count = len(entries)
        verb = "approve" if action == "approve" else "reject"
        self.err.print(
            f"About to {verb} {count} staged version{'s' if count != 1 else ''}"
            + (" (in dependency order)" if action == "approve" and count > 1 else "")
            + ":",
            markup=False,
        )
        for number, entry in enumerate(entries, 1):
            self.err.print(f"  {number}. {_entry_label(entry)}", markup=False)

    def pick_list(self, items: list[dict], action: str) -> None:
        """The picker's numbered list of staged items (on stderr: stdout stays results)."""
        self.err.print(f"Staged versions you can {action}:", markup=False)
        for number, item in enumerate(items, 1):
            actor = item.get("actor")
            by = f", staged by {_text(actor)}" if actor else ""
            when = f" {_text(item.get('createdAt'))}" if item.get("createdAt") else ""
            note = item.get("message")
            self.err.print(
                f"  {number}. {_text(item.get('packageName'))}@{_text(item.get('version'))}"
                f" ({_text(item.get('id'))}){when}{by}"
                + (f"\n     {_text(note)}" if isinstance(note, str) and note else ""),
                markup=False,
            )

    def batch_result(self, entry, action: str, single: bool) -> None:
        """One line per item as it completes: results on stdout, failures on stderr."""
        from pystage import batch

        label = (
            entry.stage_id
            if entry.ref == entry.stage_id
            else (f"{entry.stage_id} ({_text(entry.spec)})")
        )
        if entry.outcome == batch.PUBLISHED:
            self.line(f"Staged package {label} approved and published successfully.")
        elif entry.outcome == batch.RECORDED:
            from pystage.staging import Approval

            have, need = Approval(202, entry.response).approvals
            count = f" ({have} of {need} approvals)" if have is not None and need else ""
            self.line(
                f"Approval of staged package {label} recorded{count}; it is published "
                "once enough maintainers have approved it."
            )
        elif entry.outcome == batch.REJECTED:
            self.line(f"Staged package {label} has been rejected.")
        elif single:
            return  # the command's own error line says it
        elif entry.outcome == batch.SKIPPED:
            self.err.print(
                f"skipped {_text(entry.spec)} ({entry.stage_id}): {_text(entry.skip_reason or '')}",
                markup=False,
            )
        else:
            err = entry.error
            self.err.print(
                f"failed {_text(entry.spec)} ({entry.stage_id}): "
                f"{err.code if err else ''} {_text(err.message) if err else ''}".rstrip(),
                markup=False,
            )


def _entry_label(entry) -> str:
    item = entry.item
    actor = item.get("actor")
    return f"{_text(entry.spec)} ({entry.stage_id})" + (
        f", staged by {_text(actor)}" if actor else ""
    )


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
