"""docs/troubleshooting.md covers every error code the client can raise, checked
against the code itself so the page cannot drift: each code written in pystage's
source where an error is made (``PystageError("ECODE", ...)``, ``UsageError``,
``RegistryHTTPError``, ``NetworkFailure``, ``code = "ECODE"``) and each key of the
exit-code table must have an entry there. The registry server (pystage/registry/)
answers in HTTP statuses, not in these codes, and is not scanned."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"^E[A-Z0-9]{2,}$")
MAKERS = ("PystageError", "UsageError", "RegistryHTTPError", "NetworkFailure", "_error")


def _raised_codes() -> dict[str, str]:
    """code -> the first file that makes it."""
    found: dict[str, str] = {}

    def note(node, where):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and CODE.match(node.value)
        ):
            found.setdefault(node.value, where)

    for path in sorted((ROOT / "pystage").rglob("*.py")):
        if "registry" in path.relative_to(ROOT / "pystage").parts[:1]:
            continue
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
                if name in MAKERS and node.args:
                    note(node.args[0], where)
                for keyword in node.keywords:
                    if keyword.arg == "code":
                        note(keyword.value, where)
            elif isinstance(node, ast.Assign):
                targets = [t for t in node.targets if isinstance(t, (ast.Name, ast.Tuple))]
                for target in targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                    for name_node, value in zip(names, values, strict=False):
                        if getattr(name_node, "id", "") == "code":
                            note(value, where)
    from pystage.errors import EXIT_CODES

    for code in EXIT_CODES:
        found.setdefault(code, "pystage/errors.py")
    return found


def _documented() -> set[str]:
    text = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    return set(re.findall(r"`(E[A-Z0-9]{2,})`", text))


def test_the_scan_finds_the_codes_it_should():
    # a guard against a scan that finds nothing (and so passes on any page)
    codes = _raised_codes()
    for code in ("EUSAGE", "EOTP", "EINTEGRITY", "ETARBALL", "EADDRINUSE", "ECONFIG"):
        assert code in codes, code


def test_every_error_code_has_a_troubleshooting_entry():
    missing = {c: where for c, where in _raised_codes().items() if c not in _documented()}
    assert not missing, f"docs/troubleshooting.md has no entry for: {missing}"
