"""One yes/no question before a command does something it cannot undo, and ``--yes``.

Shared by the commands that ask (approve after a high review finding, and others):
the question goes to stderr so stdout stays what scripts read; the default is No;
an empty answer, Ctrl-D or anything but y/yes is No. Only ask at a terminal
(``pystage.otp.is_interactive``): without one, a command must decide without asking
(refuse, or go on only with ``--yes``), never block on a read.
"""

from __future__ import annotations

import sys

import click

YES_HELP = "Do not ask for confirmation: answer yes."


def yes_option(f=None, *, help: str = YES_HELP):  # noqa: A002 - click's own name
    """``-y/--yes`` on a command (the value is passed as ``yes``)."""
    decorator = click.option("-y", "--yes", "yes", is_flag=True, help=help)
    return decorator if f is None else decorator(f)


def confirm(question: str, *, default: bool = False) -> bool:
    """Ask ``question [y/N]`` on stderr; True only for y/yes (or Enter when ``default``).

    Ctrl-C is EINTR (exit 130), as everywhere else."""
    from pystage.cli.terminal import read_visible
    from pystage.errors import PystageError

    suffix = " [Y/n] " if default else " [y/N] "
    try:
        answer = read_visible(question + suffix)
    except EOFError:  # Ctrl-D: end of input
        return False
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise PystageError("EINTR", "interrupted") from None
    answer = answer.strip().lower()
    if not answer:
        return default
    return answer in ("y", "yes")


def cancelled(what: str):
    """The error a command ends with when the user answered No (exit 1, ECANCELED)."""
    from pystage.errors import PystageError

    return PystageError("ECANCELED", f"cancelled: {what}")
