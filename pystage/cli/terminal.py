"""The terminal side of the layers below ``cli/``: what they may ask or tell the user.

The registry client and the OTP provider get these callables from here (through
``options.ui`` and ``context.make_client``) and never touch stdin, stdout or
stderr themselves. Everything shown is registry or user text: it goes through
``render.safe`` (control characters escaped) after the client's redaction.
"""

from __future__ import annotations

import os
import sys


class TerminalUI:
    def __init__(self, options) -> None:
        self._options = options

    def prompt(self, text: str) -> str:
        """The OTP prompt on stderr; EOFError (Ctrl-D) goes to the caller. The digits
        are shown as typed, as npm shows them: a one-time code is no secret once used,
        and seeing it saves a wasted code (and a lockout count) on a typo."""
        return read_visible(text)

    def notify(self, message: str) -> None:
        """Instructions the user must see (a web-auth URL, a refused code)."""
        from pystage.render import safe

        _write_lines(message, safe)

    def notice(self, message: str) -> None:
        """The registry's ``npm-notice`` header, as npm shows it (``npm notice <text>``):
        on stderr, hidden by --quiet as npm's loglevel=warn hides it."""
        if getattr(self._options, "quiet", False):
            return
        from pystage.render import MESSAGE_LIMIT, safe

        # one line, cut as an error line is: a registry may send a header of 60 KB
        sys.stderr.write(f"pystage notice {safe(message, MESSAGE_LIMIT)}\n")
        sys.stderr.flush()

    def retry_wait(self, seconds: float) -> None:
        """The client's pause before it retries a failed request (fetch-retries): said
        out loud when it is long enough to look like a hang, then slept."""
        import time

        if seconds >= 1 and not getattr(self._options, "quiet", False):
            sys.stderr.write(
                f"pystage notice the request to the registry failed; retrying in {seconds:.0f} s"
                + ("" if getattr(self._options, "verbose", False) else " (-v shows why)")
                + "\n"
            )
            sys.stderr.flush()
        time.sleep(seconds)

    def log(self, message: str) -> None:
        """A ``-v`` line (already redacted by the client)."""
        from pystage.render import safe

        sys.stderr.write(f"pystage {safe(message)}\n")
        sys.stderr.flush()

    def open_url(self, url: str) -> None:
        from pystage.otp import is_ci

        if is_ci() or os.environ.get("npm_config_browser") == "false":
            return
        import webbrowser

        webbrowser.open(url)


def read_visible(text: str) -> str:
    """Ask on stderr, read one line from stdin with echo on (the terminal's own line
    editing); EOFError (Ctrl-D) goes to the caller, after a line break."""
    sys.stderr.write(text)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        sys.stderr.write("\n")
        raise EOFError
    return line.rstrip("\r\n")


def _write_lines(message: str, safe) -> None:
    # a notice may hold a line break of our own (the URL on its own line), never the
    # registry's: each line is escaped on its own
    sys.stderr.write("\n".join(safe(line) for line in message.split("\n")) + "\n")
    sys.stderr.flush()
