"""Output: every human (Rich) and JSON rendering goes through this package.

Topic modules (``render.pack``, ``render.stage``...) hold the renderers of
one family of commands; this module holds what they share, including the one
way registry text reaches a terminal: ``safe`` (control characters and
terminal escapes shown escaped, see ``render.escape``) and, for Rich,
``registry_text`` (a ``Text``, which Rich never reads as markup or emoji codes).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from pystage.errors import PystageError
from pystage.render.escape import escape_json_text, escape_registry_text

# one line of an error message or a hint: a registry's error text can be megabytes
MESSAGE_LIMIT = 1000


# npm's ``color`` setting, once a command has read its configuration (context.py):
# True for "always", False for false, None for npm's default (colour at a terminal)
configured_color: bool | None = None


def set_configured_color(value: Any) -> None:
    global configured_color
    if value is False or str(value).lower() == "false":
        configured_color = False
    elif str(value).lower() == "always":
        configured_color = True
    else:
        configured_color = None


def stdout_console(color: bool | None = None, stderr: bool = False):
    """A Rich console honouring --color/--no-color, NO_COLOR and npm's ``color``.

    Without colour there are no escape codes at all: no bold, dim or italic either
    (Rich's ``no_color`` keeps those), as NO_COLOR asks. Markup and emoji codes are
    off: a string printed through it is shown as it is (``github-actions[bot]`` stays
    whole, ``[link=...]`` and ``:smile:`` are text); styles come from ``Text`` objects."""
    from rich.console import Console

    if color is None:
        color = False if os.environ.get("NO_COLOR") else configured_color
    no_color = color is False
    console = Console(
        stderr=stderr,
        force_terminal=True if color else None,
        color_system=None if no_color else "auto",
        no_color=no_color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )
    # Rich's own answer to a closed pipe is exit 1; `pystage list | head -1` is a
    # success (the reader has what it wanted): exit 0, quietly
    console.on_broken_pipe = exit_after_closed_pipe  # type: ignore[method-assign]
    return console


def exit_after_closed_pipe() -> None:
    """Exit 0 without a word after the reader of stdout went away: the rest of the
    output goes nowhere (flushing it at exit would fail again, noisily)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    raise SystemExit(0)


# Text from a registry or a tarball, made inert for a terminal: control characters,
# escape sequences, bidi overrides are shown escaped, never acted on.
safe = escape_registry_text


def registry_text(value: Any, style: str = ""):
    """Registry text for Rich: escaped (``safe``) and wrapped in a ``Text``, so that no
    console setting can make Rich read it as markup or emoji codes."""
    from rich.text import Text

    return Text(safe(value), style=style)


def print_json(data: Any) -> None:
    """npm's --json layout: indented by 2, keys in insertion order. Non-ASCII text stays
    readable, except what a terminal would act on (C1 controls, bidi overrides, lone
    surrogates), which is written as JSON escapes: the same value for a parser."""
    sys.stdout.write(escape_json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")
    sys.stdout.flush()


def print_error(exc: PystageError, json_mode: bool = False) -> None:
    from pystage.redact import redact  # last line of defence: no secret-shaped text leaves

    message = safe(redact(exc.message), MESSAGE_LIMIT)
    hint = safe(redact(exc.hint or ""), MESSAGE_LIMIT)
    if json_mode:
        error = {"code": exc.code, "summary": message}
        if hint:  # no empty "detail": a script shows what is there
            error["detail"] = hint
        body = {"error": error}
        sys.stderr.write(json.dumps(body, indent=2) + "\n")
        return
    sys.stderr.write(f"pystage error {exc.code}: {message}\n")
    if hint:
        sys.stderr.write(f"pystage hint: {hint}\n")


def print_traceback() -> None:
    """The traceback of the exception being handled (``-v``), on stderr: each line
    redacted and escaped, since exception messages quote URLs and registry answers."""
    import traceback

    from pystage.redact import redact

    for line in traceback.format_exc().splitlines():
        sys.stderr.write(safe(redact(line)) + "\n")
    sys.stderr.flush()


class LazyConsoles:
    """A renderer's stdout and stderr consoles, made on first use: Rich is imported only
    when something is printed through it (--json output never is; ~20 ms of start-up,
    see benchmarks/README.md)."""

    def __init__(self, color: bool | None = None, quiet: bool = False) -> None:
        self.color = color
        self.quiet = quiet
        self._out = self._err = None

    @property
    def out(self):
        if self._out is None:
            self._out = stdout_console(self.color)
        return self._out

    @property
    def err(self):
        if self._err is None:
            self._err = stdout_console(self.color, stderr=True)
        return self._err
