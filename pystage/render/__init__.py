"""Output: every human (Rich) and JSON rendering goes through this package.

Topic modules (``render.pack``, ``render.stage``...) hold the renderers of
one family of commands; this module holds what they share.
"""

from __future__ import annotations

import json
import os
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


def print_json(data: Any) -> None:
    """npm's --json layout: indented by 2, keys in insertion order."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_error(exc: PystageError, json_mode: bool = False) -> None:
    from pystage.http import redact  # last line of defence: no secret-shaped text leaves

    message, hint = redact(exc.message), redact(exc.hint or "")
    if json_mode:
        body = {"error": {"code": exc.code, "summary": message, "detail": hint}}
        sys.stderr.write(json.dumps(body, indent=2) + "\n")
        return
    sys.stderr.write(f"pystage error {exc.code}: {message}\n")
    if hint:
        sys.stderr.write(f"pystage hint: {hint}\n")
