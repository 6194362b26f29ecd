"""package.json, field by field: the changes, and the findings they raise
(lifecycle scripts, dependencies, bins, entry points)."""

from __future__ import annotations

import json
import re

from pystage.review.report import FieldChange, Finding

# npm runs these on `npm install` of the package (prepare: for git installs and links)
INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepare")
DEPENDENCY_FIELDS = ("dependencies", "optionalDependencies", "peerDependencies")
# fields whose members are compared one by one
NESTED = (
    "scripts",
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "devDependencies",
    "bin",
    "engines",
    "publishConfig",
)
ENTRY_FIELDS = ("main", "module", "browser", "exports", "types", "typings", "type")
# names that shadow what a shell resolves first once node_modules/.bin is on PATH
SHADOWED_COMMANDS = frozenset(
    """node npm npx yarn pnpm corepack git sh bash zsh dash env sudo su ssh scp curl wget python
    python3 pip pip3 ls cp mv rm cat echo make gcc cc tar gzip chmod chown find grep sed awk
    docker kubectl gh openssl gpg ping whoami id ps kill""".split()
)

# in any script: decoding then evaluating, downloading, piping to a shell
DANGEROUS_SCRIPT = [
    (re.compile(r"\b(?:curl|wget)\b|Invoke-WebRequest|\biwr\b|certutil\s.*-urlcache"), "downloads"),
    (
        re.compile(r"\|\s*(?:ba|z|da)?sh\b|\|\s*node\b|\|\s*python\d?\b|\|\s*iex\b"),
        "pipes into a shell",
    ),
    (
        re.compile(r"base64\s+(?:-d|--decode)|\batob\b|Buffer\.from\([^)]*base64|\beval\b"),
        "decodes and evaluates",
    ),
    (
        re.compile(
            r"\bnode\s+(?:-e|--eval|-p|--print)\b|\bpython\d?\s+-c\b|\bsh\s+-c\b|\bbash\s+-c\b"
        ),
        "runs inline code",
    ),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|https?://"), "names a network address"),
]

_NOT_REGISTRY = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*:|[^@/\s][^/\s]*/[^/\s]+(?:#.*)?$|\.{0,2}/|~/)", re.IGNORECASE
)


def manifest_changes(before: dict | None, after: dict) -> list[FieldChange]:
    before = before or {}
    changes: list[FieldChange] = []
    keys = list(after) + [k for k in before if k not in after]
    for key in keys:
        if key.startswith("_") or key in ("gitHead", "readme", "readmeFilename"):
            continue
        old, new = before.get(key), after.get(key)
        if key in NESTED and (isinstance(old, dict) or isinstance(new, dict)):
            old_d = old if isinstance(old, dict) else {}
            new_d = new if isinstance(new, dict) else {}
            if not isinstance(old, (dict, type(None))) or not isinstance(new, (dict, type(None))):
                changes.append(_change(key, key in before, key in after, old, new))
                continue
            for sub in list(new_d) + [s for s in old_d if s not in new_d]:
                if old_d.get(sub) != new_d.get(sub) or (sub in old_d) != (sub in new_d):
                    changes.append(
                        _change(
                            f"{key}.{sub}",
                            sub in old_d,
                            sub in new_d,
                            old_d.get(sub),
                            new_d.get(sub),
                        )
                    )
        elif key == "bin" and (isinstance(new, str) or isinstance(old, str)):
            name = str(after.get("name") or before.get("name") or "").split("/")[-1]
            old_d = {name: old} if isinstance(old, str) else (old or {})
            new_d = {name: new} if isinstance(new, str) else (new or {})
            for sub in list(new_d) + [s for s in old_d if s not in new_d]:
                if old_d.get(sub) != new_d.get(sub):
                    changes.append(
                        _change(
                            f"bin.{sub}", sub in old_d, sub in new_d, old_d.get(sub), new_d.get(sub)
                        )
                    )
        elif old != new or (key in before) != (key in after):
            changes.append(_change(key, key in before, key in after, old, new))
    return changes


def _change(name, had, has, old, new) -> FieldChange:
    kind = "changed" if had and has else ("added" if has else "removed")
    return FieldChange(name, old, new, kind)


def manifest_findings(
    changes: list[FieldChange], before: dict | None, after: dict, has_baseline: bool
) -> list[Finding]:
    findings: list[Finding] = []
    for c in changes:
        head, _, sub = c.field.partition(".")
        if head == "scripts" and sub:
            findings += _script_findings(c, sub)
        elif head in DEPENDENCY_FIELDS and sub:
            findings += _dependency_findings(c, head, sub, has_baseline)
        elif head == "devDependencies" and sub and c.change != "removed":
            if (
                isinstance(c.after, str)
                and not c.after.startswith("npm:")
                and _NOT_REGISTRY.match(c.after.strip())
            ):
                findings.append(
                    Finding(
                        "dependency-not-registry",
                        "low",
                        c.field,
                        f"a dev dependency from outside the registry ({_short(c.after)}); "
                        "not installed by users of the package",
                    )
                )
        elif head in ("bundleDependencies", "bundledDependencies"):
            findings.append(
                Finding(
                    "bundled-dependencies",
                    "medium",
                    c.field,
                    "bundled dependencies changed: their code ships inside the tarball, "
                    "unreviewed by their own maintainers' releases",
                )
            )
        elif head == "bin" and c.change != "removed" and has_baseline:
            findings.append(_bin_finding(c, sub))
        elif head == "bin" and c.change != "removed" and sub.lower() in SHADOWED_COMMANDS:
            findings.append(_bin_finding(c, sub))
        elif head in ENTRY_FIELDS and has_baseline and c.change != "removed":
            findings.append(
                Finding(
                    "entry-point-changed",
                    "medium",
                    c.field,
                    f"`{head}` now points to {_short(c.after)} (was {_short(c.before)}): "
                    "what `require`/`import` loads changed",
                )
            )
        elif head == "name" and has_baseline:
            findings.append(
                Finding(
                    "manifest-name", "high", "name", "the package name differs from the baseline"
                )
            )
    # dangerous commands in any script, whether or not an install script
    for name, command in (
        (after.get("scripts") or {}).items() if isinstance(after.get("scripts"), dict) else ()
    ):
        if not isinstance(command, str):
            continue
        reasons = [why for pattern, why in DANGEROUS_SCRIPT if pattern.search(command)]
        changed = (
            (before or {}).get("scripts", {})
            if isinstance((before or {}).get("scripts"), dict)
            else {}
        )
        if reasons and (changed.get(name) != command or not has_baseline):
            findings.append(
                Finding(
                    "dangerous-script",
                    _script_severity(name, reasons),
                    f"scripts.{name}",
                    f"`{_short(command, 120)}` {', '.join(reasons)}",
                )
            )
    return findings


# what makes a script high wherever it is; inline code (`node -e`) only in a script
# users run: maintainers' own scripts print the version with it (minimist's
# postversion: git tag "v$(node -e "console.log(require('./package.json').version)")")
ALWAYS_HIGH = ("downloads", "pipes into a shell", "decodes and evaluates")


def _script_severity(name: str, reasons: list[str]) -> str:
    if any(r in ALWAYS_HIGH for r in reasons):
        return "high"
    if "runs inline code" in reasons and name in INSTALL_SCRIPTS:
        return "high"
    return "medium"


def _script_findings(c: FieldChange, name: str) -> list[Finding]:
    if name not in INSTALL_SCRIPTS:
        return []
    if c.change == "removed":
        return [Finding("install-script", "info", c.field, f"the `{name}` script was removed")]
    verb = "added" if c.change == "added" else "changed"
    when = "for git installs and links" if name == "prepare" else "on every `npm install`"
    return [
        Finding(
            "install-script",
            "high",
            c.field,
            f"install-time script `{name}` {verb}: `{_short(c.after, 120)}` runs {when} "
            "of this version, with the user's rights",
        )
    ]


def _dependency_findings(
    c: FieldChange, field: str, name: str, has_baseline: bool
) -> list[Finding]:
    out: list[Finding] = []
    kind = {
        "dependencies": "dependency",
        "optionalDependencies": "optional dependency",
        "peerDependencies": "peer dependency",
    }[field]
    spec = c.after
    if c.change != "removed" and isinstance(spec, str) and spec.startswith("npm:"):
        out.append(
            Finding(
                "dependency-alias",
                "medium",
                c.field,
                f"{kind} `{name}` is an alias of another package ({_short(spec)})",
            )
        )
    elif c.change != "removed" and isinstance(spec, str) and _NOT_REGISTRY.match(spec.strip()):
        out.append(
            Finding(
                "dependency-not-registry",
                "high",
                c.field,
                f"{kind} `{name}` comes from outside the registry ({_short(spec)}): "
                "its code is whatever that URL, repository or path serves at install time",
            )
        )
    if not has_baseline:
        return out
    if c.change == "added":
        out.append(
            Finding(
                "dependency-added",
                "medium",
                c.field,
                f"new {kind} `{name}@{_short(spec)}`: its code (and its install scripts) now "
                "comes with this package",
            )
        )
    elif c.change == "removed":
        out.append(Finding("dependency-removed", "medium", c.field, f"{kind} `{name}` removed"))
    elif isinstance(c.before, str) and isinstance(spec, str) and widened(c.before, spec):
        out.append(
            Finding(
                "dependency-widened",
                "medium",
                c.field,
                f"{kind} `{name}` range widened from {_short(c.before)} to {_short(spec)}: "
                "more versions may install",
            )
        )
    return out


def _bin_finding(c: FieldChange, name: str) -> Finding:
    if name.lower() in SHADOWED_COMMANDS:
        return Finding(
            "bin-shadows-command",
            "high",
            c.field,
            f"a bin named `{name}` ({_short(c.after)}) shadows the `{name}` command in npm "
            "scripts and npx",
        )
    verb = "added" if c.change == "added" else "now points to"
    return Finding("bin-added", "medium", c.field, f"bin `{name}` {verb} {_short(c.after)}")


_RANGE_OP = re.compile(r"^\s*(\^|~|>=|>|<=|<|=)?\s*v?(\d+)(?:\.(\d+|[x*]))?(?:\.(\d+|[x*]))?")


def widened(old: str, new: str) -> bool:
    """A range that lets in versions the old one did not (a heuristic over the common
    forms: exact < ~ < ^ < >= / * / x, and a lower floor)."""
    old, new = old.strip(), new.strip()
    if new in ("*", "", "x", "latest") and old not in ("*", "", "x", "latest"):
        return True
    if "||" in new and "||" not in old:
        return True
    a, b = _RANGE_OP.match(old), _RANGE_OP.match(new)
    if not a or not b:
        return False
    width = {None: 0, "=": 0, "~": 1, "^": 2, ">=": 3, ">": 3}
    if width.get(b.group(1), 0) > width.get(a.group(1), 0):
        return True

    def floor(m):
        return tuple(int(g) if g and g.isdigit() else 0 for g in m.groups()[1:])

    return floor(b) < floor(a)


def _short(value, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
