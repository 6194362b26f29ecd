"""The console-script entry point.

``pystage --version`` is answered here, before Click and the command modules are
imported: shell loops and CI jobs call it, and the full CLI costs ~30 ms more to
load. Everything else goes to ``pystage.cli.main``.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from pystage import __version__

        sys.stdout.write(__version__ + "\n")
        sys.stdout.flush()
        sys.exit(0)
    from pystage.cli.main import main as full_main

    full_main(args)
