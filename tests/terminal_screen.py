"""pystage on a real pseudo-terminal of a given size, and the screen a VT100 terminal of
that size would show: pexpect runs the command on a pty (so pystage sees a terminal, its
width and its line discipline), pyte replays every byte it writes (cursor moves, line
wraps, Rich's redrawn progress lines) onto a screen grid that tests read back.

pexpect and pyte are in the test extra (pyproject.toml), which ``make test`` installs.
Under CI=true a missing one fails the test loudly instead of skipping it."""

from __future__ import annotations

import importlib
import os
import sys

import pytest


def require(module: str):
    """The module, or a skip on a developer machine; a failure in CI (CI=true), where
    a skipped terminal test would hide a broken install."""
    if os.environ.get("CI", "").lower() in ("true", "1"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


class Terminal:
    """``pystage ARGS`` on a ``columns`` x ``rows`` pty; ``expect``/``send`` drive it,
    ``lines()`` is what the screen shows now, ``history`` every line that scrolled off."""

    def __init__(self, args, *, columns: int, rows: int = 50, cwd=None, env=None, timeout=60):
        pexpect = require("pexpect")
        pyte = require("pyte")
        self._pexpect = pexpect
        self.screen = pyte.HistoryScreen(columns, rows, history=10_000)
        self.screen.set_mode(pyte.modes.LNM)  # a pty turns \n into \r\n; keep it so
        self.stream = pyte.Stream(self.screen)
        full_env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(columns),
            "LINES": str(rows),
            **(env or {}),
        }
        full_env.pop("CI", None)  # a person at a terminal, not a CI job
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "pystage", *map(str, args)],
            cwd=str(cwd) if cwd else None,
            env=full_env,
            dimensions=(rows, columns),
            encoding="utf-8",
            timeout=timeout,
        )
        self.child.logfile_read = self  # every byte read goes through write()
        self.raw = ""
        self.seen: set[str] = set()  # every row the screen has shown, even for a moment

    # pexpect's logfile protocol
    def write(self, data: str) -> None:
        self.raw += data
        self.stream.feed(data)
        self.seen.update(row.rstrip() for row in self.screen.display)

    def flush(self) -> None:
        pass

    def expect(self, pattern, timeout=None):
        return self.child.expect(pattern, timeout=timeout)

    def sendline(self, text: str = "") -> None:
        self.child.sendline(text)

    def finish(self, timeout=60) -> int:
        """Wait for the end; the exit status."""
        self.child.expect(self._pexpect.EOF, timeout=timeout)
        self.child.close()
        return self.child.exitstatus

    def lines(self) -> list[str]:
        """Every line shown so far, scrolled-off ones first, trailing blanks dropped."""
        history = [_row(line, self.screen.columns) for line in self.screen.history.top]
        shown = [row.rstrip() for row in self.screen.display]
        while shown and not shown[-1]:
            shown.pop()
        return [row.rstrip() for row in history] + shown

    def text(self) -> str:
        return "\n".join(self.lines())


def _row(line, columns: int) -> str:
    return "".join(line[x].data for x in range(columns))
