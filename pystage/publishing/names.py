"""npm's package-name check (validate-npm-package-name, as npm publish applies it).

Its own module so that `list PACKAGE` and `view name@version` can check a name
without loading the manifest and packing modules (~20 ms of start-up)."""

from __future__ import annotations

import json
import re

from pystage.errors import PystageError


def _is_correctly_encoded(name: str) -> bool:
    from urllib.parse import quote

    return not re.search(r"[/@\s+%:]", name) and name == quote(name, safe="-_.!~*'()")


def _is_valid_scoped(name: str) -> bool:
    from urllib.parse import quote

    if not name.startswith("@"):
        return False
    parts = name[1:].split("/")
    return len(parts) == 2 and all(parts) and all(p == quote(p, safe="-_.!~*'()") for p in parts)


def check_name(name: object) -> None:
    if not isinstance(name, str):
        raise PystageError("EINVALIDPACKAGENAME", "name field must be a string.")
    if (
        name.startswith(".")
        or not (_is_valid_scoped(name) or _is_correctly_encoded(name))
        or name.lower() in ("node_modules", "favicon.ico")
    ):
        raise PystageError("EINVALIDPACKAGENAME", f"Invalid name: {json.dumps(name)}")
