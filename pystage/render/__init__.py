"""Output: every human (Rich) and JSON rendering goes through this package.

Topic modules (``render.pack``, ``render.stage``...) hold the renderers of
one family of commands; this module holds what they share.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

from pystage.errors import PystageError


def stdout_console(color: bool | None = None, stderr: bool = False):
    """A Rich console honouring --color/--no-color and NO_COLOR."""
    from rich.console import Console

    no_color = color is False or (color is None and bool(os.environ.get("NO_COLOR")))
    return Console(
        stderr=stderr,
        force_terminal=True if color else None,
        no_color=no_color,
        highlight=False,
        soft_wrap=True,
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """Text from a registry or a tarball, made inert for a terminal: control characters
    (escape sequences, carriage returns, newlines) are shown escaped, never acted on."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def print_json(data: Any) -> None:
    """npm's --json layout: indented by 2, keys in insertion order."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_error(exc: PystageError, json_mode: bool = False) -> None:
    from pystage.redact import redact  # last line of defence: no secret-shaped text leaves

    message, hint = safe(redact(exc.message)), safe(redact(exc.hint or ""))
    if json_mode:
        body = {"error": {"code": exc.code, "summary": message, "detail": hint}}
        sys.stderr.write(json.dumps(body, indent=2) + "\n")
        return
    sys.stderr.write(f"pystage error {exc.code}: {message}\n")
    if hint:
        sys.stderr.write(f"pystage hint: {hint}\n")
