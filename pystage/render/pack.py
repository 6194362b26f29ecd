"""The report of `pystage pack` (and of the packing part of publish): npm's
notice block, rendered with Rich on stderr; the file name on stdout."""

from __future__ import annotations

import sys
from decimal import ROUND_HALF_UP, Decimal

from pystage.render import safe, stdout_console


def format_bytes(n: int, space: bool = True) -> str:
    """npm's format-bytes: B below 1000, then kB / MB / GB with one decimal."""
    sp = " " if space else ""
    if n < 1000:
        return f"{n}{sp}B"
    for limit, div, unit in (
        (999950, 1000, "kB"),
        (999950000, 1000000, "MB"),
        (None, 1000000000, "GB"),
    ):
        if limit is None or n < limit:
            # JavaScript's toFixed rounds the exact binary value half-up
            value = Decimal(n / div).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            return f"{value}{sp}{unit}"
    raise AssertionError("unreachable")


def short_integrity(integrity: str) -> str:
    return f"{integrity[:20]}[...]{integrity[80:]}"


def render_pack_warning(message: str, *, color: bool | None = None) -> None:
    """A packing warning on stderr (also under --json and -q), as publish shows warnings."""
    from rich.text import Text

    console = stdout_console(color, stderr=True)
    for line in message.splitlines() or [""]:
        console.print(Text.assemble(("warning ", "bold yellow"), line))


def render_pack_report(result, *, color: bool | None = None, title: str | None = None) -> None:
    """npm's 'Tarball Contents' / 'Tarball Details' block, on stderr."""
    render_tarball_report(result, stdout_console(color, stderr=True), title=title)


def render_tarball_report(result, console, *, title: str | None = None) -> None:
    """npm's logTar for any TarballSummary (pack, publish, download), on ``console``.
    Names and paths come from package authors or registries: control characters
    are shown escaped (``safe``)."""
    from rich.text import Text

    icon = (
        "📦 "
        if (getattr(sys.stderr, "encoding", "") or "").lower().startswith("utf")
        else "package:"
    )
    console.print()
    console.print(Text(f"{icon} {safe(title or result.name + '@' + result.version)}", style="bold"))
    own = [f for f in result.files if not f.path.startswith("node_modules/")]
    if result.files:
        console.print(Text("Tarball Contents", style="bold cyan"))
        for f in own:
            line = Text(format_bytes(f.size, False), style="green")
            line.append(" " + safe(f.path))
            console.print(line, overflow="ignore", crop=False)
    if result.bundled:
        console.print(Text("Bundled Dependencies", style="bold cyan"))
        for name in result.bundled:
            console.print(safe(name), markup=False)
    console.print(Text("Tarball Details", style="bold cyan"))
    details = [("name", result.name), ("version", result.version)]
    if result.filename:
        details.append(("filename", result.filename))
    details += [
        ("package size", format_bytes(result.size)),
        ("unpacked size", format_bytes(result.unpacked_size)),
        ("shasum", result.shasum),
        ("integrity", short_integrity(result.integrity)),
    ]
    if result.bundled:
        details += [
            ("bundled deps", str(len(result.bundled))),
            ("bundled files", str(result.entry_count - len(own))),
            ("own files", str(len(own))),
        ]
    details.append(("total files", str(result.entry_count)))
    for key, value in details:
        line = Text(f"{key}: ", style="bold")
        line.append(safe(value))
        console.print(line)
    console.print()
