"""``pystage review --source``: does the staged tarball reproduce from its source?

    from pystage.reproduce import check_source, open_source
    with open_source("v1.2.3", cwd=".") as source:
        check = check_source("staged.tgz", source)
    check.reproduced, check.findings(), check.to_json()

No terminal I/O; every temporary directory is removed when its ``with`` ends.
"""

from __future__ import annotations

from pystage.reproduce.check import (
    FileDifference,
    NotChecked,
    SourceCheck,
    check_source,
)
from pystage.reproduce.workdir import Source, copy_for_build, open_source

__all__ = [
    "FileDifference",
    "NotChecked",
    "Source",
    "SourceCheck",
    "check_source",
    "copy_for_build",
    "open_source",
]
