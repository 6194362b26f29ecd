"""The ignore files above a workspace package, which npm applies when it packs one.

When the package is npm's implicit workspace from the current directory (found
by ``pystage.project``), packing it adds, to npm-packlist's default rules, the text of the
.npmignore (else .gitignore) of every directory from the root down to the
package's parent (npm-packlist's readOutOfTreeIgnoreFiles).
"""

from __future__ import annotations

import os

from pystage.project import first_package_dir, workspace_root


def out_of_tree_ignore_texts(pkg_dir: str, cwd: str | None = None) -> list[str]:
    """The texts to add, or [] when pkg_dir is not npm's implicit workspace from cwd."""
    package = first_package_dir(os.path.abspath(cwd or os.getcwd()))
    pkg_dir = os.path.abspath(pkg_dir)
    if package is None or os.path.realpath(package) != os.path.realpath(pkg_dir):
        return []
    root = workspace_root(package)
    if root is None:
        return []
    texts: list[str] = []
    current = root
    for segment in [""] + os.path.relpath(os.path.dirname(package), root).split(os.sep):
        if segment not in ("", "."):
            current = os.path.join(current, segment)
        for name in (".npmignore", ".gitignore"):
            try:
                with open(os.path.join(current, name), encoding="utf-8", errors="replace") as fh:
                    texts.append(fh.read())
                break
            except FileNotFoundError:
                continue
            except OSError:
                break
    return texts
