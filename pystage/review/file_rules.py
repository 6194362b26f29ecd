"""Findings about the files themselves: the archive's own tricks, secrets, native
code, accidental files, growth, and code that changed shape or behaviour."""

from __future__ import annotations

import posixpath
import re

from pystage.review import content
from pystage.review.index import FileEntry, TarIndex, traits_of
from pystage.review.report import Finding

ANOMALY_SEVERITY = {
    "corrupt-archive": "high",
    "archive-bomb": "high",
    "path-traversal": "high",
    "absolute-path": "high",
    "link-outside": "high",
    "special-file": "high",
    "link": "medium",
    "duplicate-entry": "medium",
    "outside-package": "low",
    "path-collision": "medium",
    "special-mode": "medium",
}

# (pattern over the path, label, severity)
ACCIDENTAL = [
    (re.compile(r"(^|/)\.git(/|$)"), "a .git folder (repository history)", "medium"),
    (re.compile(r"\.(zip|tar|tgz|tar\.gz|gz|7z|rar|bz2|xz|jar)$", re.I), "archives", "medium"),
    (re.compile(r"(^|/)(coverage|\.nyc_output)/"), "a coverage report", "low"),
    (re.compile(r"(^|/)(test|tests|__tests__|spec|__mocks__)/"), "tests", "low"),
    (re.compile(r"(^|/)(\.DS_Store|Thumbs\.db|desktop\.ini)$"), "OS files", "low"),
    (re.compile(r"(^|/)\.(idea|vscode)/|\.(swp|swo)$|~$"), "editor files", "low"),
    (re.compile(r"\.log$"), "log files", "low"),
]
ENV_FILE = re.compile(r"(^|/)\.env(\.[^/]*)?$", re.I)
ENV_TEMPLATE = re.compile(r"\.(example|sample|template|dist|defaults?)$", re.I)
NPMRC_CREDENTIAL = re.compile(
    rb"^\s*(?:[^#;\s][^=\n]*:)?(?:_authToken|_auth|_password)\s*=\s*(?!\$\{)\S+", re.M
)
# detect-secrets' heuristics that fire on any keyword=value pair, long random-looking
# string or address: in shipped docs and code these are mostly examples, id alphabets and
# hashes (dotenv's changelog, nanoid's alphabet), so they are a `possible-secret`
# (medium); a secret in a vendor's own format (AWS, GitHub, npm, a private key) is high
GENERIC_SECRETS = frozenset(
    {"Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String", "Public IP (ipv4)"}
)
LARGE_FILE = 10 * 1024 * 1024
MAX_SECRETS_PER_FILE = 20

API_TRAITS = {
    "eval",
    "decode",
    "child-process",
    "credential-files",
    "whole-environment",
    "network",
    "wallet",
    "decoded-constant",
    "ai-agent",
    "endless-loop",
}
# pairs of traits that, together in one file, are an attack's shape
COMBINATIONS = [
    ("eval", "decode"),
    # code fetched and run (eslint-scope 2018 evaluated what pastebin served)
    ("eval", "network"),
    ("child-process", "network"),
    ("credential-files", "network"),
    ("whole-environment", "network"),
    ("credential-files", "child-process"),
    ("wallet", "obfuscated"),
    ("wallet", "minified"),
    # network calls to addresses the code hides (node-ipc 2022 base64-encoded its
    # geolocation URL and the paths it overwrote)
    ("decoded-constant", "network"),
    # private keys and the network (@solana/web3.js 2024)
    ("key-material", "network"),
    ("ai-agent", "child-process"),
]
# traits that turn a new endpoint in the same file into a payload's shape
WITH_ENDPOINT = {"child-process", "credential-files", "whole-environment", "eval", "key-material"}


def anomaly_findings(staged: TarIndex) -> list[Finding]:
    return [
        Finding(a.rule, a.severity or ANOMALY_SEVERITY.get(a.rule, "medium"), a.path, a.message)
        for a in staged.anomalies
    ]


def secret_findings(entry: FileEntry) -> list[Finding]:
    out = [_secret_finding(entry, s) for s in entry.secrets[:MAX_SECRETS_PER_FILE]]
    if len(entry.secrets) > MAX_SECRETS_PER_FILE:
        rest = entry.secrets[MAX_SECRETS_PER_FILE:]
        vendor = any(s.kind not in GENERIC_SECRETS for s in rest)
        out.append(
            Finding(
                "secret" if vendor else "possible-secret",
                "high" if vendor else "medium",
                entry.path,
                f"{len(rest)} more possible secrets in this file",
            )
        )
    return out


def _secret_finding(entry: FileEntry, secret) -> Finding:
    if secret.kind in GENERIC_SECRETS:
        return Finding(
            "possible-secret",
            "medium",
            entry.path,
            f"{secret.kind} (detect-secrets' generic heuristic): a credential, or an example, "
            "alphabet or hash that looks like one; check before approving",
            secret.line,
        )
    return Finding(
        "secret",
        "high",
        entry.path,
        f"{secret.kind} found (detect-secrets): anyone who installs the package can read it; "
        "revoke it, then remove the file",
        secret.line,
    )


def dotfile_findings(entry: FileEntry, text: bytes | None) -> list[Finding]:
    name = entry.path.rsplit("/", 1)[-1]
    out: list[Finding] = []
    if name.lower() == ".npmrc":  # .NPMRC too: the same file on macOS and Windows
        match = NPMRC_CREDENTIAL.search(text or b"")
        if match:
            line = (text or b"").count(b"\n", 0, match.start()) + 1
            out.append(
                Finding(
                    "npmrc-credentials",
                    "high",
                    entry.path,
                    "an .npmrc holding a registry credential (_authToken/_auth/_password) "
                    "ships with the package",
                    line,
                )
            )
        else:
            out.append(
                Finding(
                    "npmrc-file",
                    "medium",
                    entry.path,
                    "an .npmrc ships with the package (npm ignores it in installed "
                    "packages; it usually comes from a developer's machine)",
                )
            )
    elif ENV_FILE.search(entry.path) and not ENV_TEMPLATE.search(name):
        severity = "high" if entry.secrets else "medium"
        out.append(
            Finding(
                "env-file",
                severity,
                entry.path,
                "a .env file ships with the package: it usually holds local credentials"
                + (" (and this one does)" if entry.secrets else ""),
            )
        )
    return out


def native_findings(entry: FileEntry, baseline: TarIndex | None) -> list[Finding]:
    if not entry.native:
        return []
    had_native = baseline is not None and any(f.native for f in baseline.regular_files())
    return [
        Finding(
            "native-code",
            "medium" if had_native else "high",
            entry.path,
            f"{entry.native} added"
            + (
                ""
                if had_native
                else ": the baseline shipped no native code, and a binary cannot be reviewed"
            ),
        )
    ]


def accidental_findings(added: list[FileEntry]) -> list[Finding]:
    groups: dict[str, list[FileEntry]] = {}
    severity: dict[str, str] = {}
    for entry in added:
        for pattern, label, sev in ACCIDENTAL:
            if pattern.search(entry.path):
                groups.setdefault(label, []).append(entry)
                severity[label] = sev
                break
    out = []
    for label, entries in groups.items():
        total = sum(e.size for e in entries)
        out.append(
            Finding(
                "accidental-files",
                severity[label],
                entries[0].path,
                f"{label} added: {len(entries)} file(s), {human_size(total)}; "
                "probably not meant to ship",
            )
        )
    for entry in added:
        if entry.size >= LARGE_FILE:
            out.append(
                Finding("large-file", "low", entry.path, f"a {human_size(entry.size)} file added")
            )
    return out


def growth_findings(staged: TarIndex, baseline: TarIndex) -> list[Finding]:
    out = []
    old, new = baseline.unpacked, staged.unpacked
    if new - old > 1024 * 1024 and new > 1.5 * old:
        out.append(
            Finding(
                "size-growth",
                "medium" if new > 2 * old else "low",
                "",
                f"unpacked size grew from {human_size(old)} to {human_size(new)}",
            )
        )
    n_old = len(baseline.regular_files())
    n_new = len(staged.regular_files())
    if n_new - n_old >= 20 and n_new > 2 * n_old:
        out.append(
            Finding("file-count-growth", "low", "", f"file count grew from {n_old} to {n_new}")
        )
    return out


def code_findings(
    entry: FileEntry,
    base_entry: FileEntry | None,
    package_traits: set[str],
    package_hosts: set[str],
) -> list[Finding]:
    """What is new in a code file: obfuscation, dangerous APIs, endpoints; high when
    they come together."""
    sig = entry.signals
    if sig is None:
        return []
    base_sig = base_entry.signals if base_entry is not None else None
    old_traits = traits_of(base_sig) if base_sig is not None else package_traits
    old_hosts = (set(base_sig.hosts) if base_sig is not None else set()) | package_hosts
    traits = traits_of(sig)
    new = traits - old_traits
    hosts = [h for h in sig.hosts if h not in old_hosts]
    if not new and not hosts:
        return []
    reasons = []
    combined = False
    if "obfuscated" in new and (traits & API_TRAITS or hosts):
        combined = True
    for a, b in COMBINATIONS:
        if a in traits and b in traits and (a in new or b in new):
            combined = True
    if hosts and traits & WITH_ENDPOINT:
        combined = True
    line = None
    for trait in sorted(new, key=lambda t: _trait_line(sig, t)):
        reasons.append(_describe(trait))
        line = line or _trait_line(sig, trait)
    if hosts:
        shown = ", ".join(hosts[:5]) + (f" and {len(hosts) - 5} more" if len(hosts) > 5 else "")
        reasons.append(f"names new network endpoints ({shown})")
        first_host = min(sig.hosts[h] for h in hosts)
        line = first_host if line is None else min(line, first_host)  # where it starts
    if combined:
        already = sorted((traits - new) & (API_TRAITS | {"key-material"}))
        context = (
            " (beside what was there before: " + "; ".join(_describe(t) for t in already) + ")"
            if already
            else ""
        )
        return [
            Finding(
                "suspicious-code",
                "high",
                entry.path,
                "new code that "
                + "; ".join(reasons)
                + context
                + ": together, the shape of a payload",
                line,
            )
        ]
    out = []
    if new & {"obfuscated"}:
        out.append(
            Finding(
                "obfuscated-code",
                "medium",
                entry.path,
                "code is obfuscated where the baseline's was not (" + _describe("obfuscated") + ")",
                sig.obfuscation_line(),
            )
        )
    if "minified" in new:
        out.append(
            Finding(
                "minified-code",
                "medium",
                entry.path,
                f"code is minified where the baseline's was not (lines up to {sig.max_line} "
                "characters): it cannot be reviewed by reading it",
                sig.long_line_at or None,
            )
        )
    apis = sorted(new & API_TRAITS, key=lambda t: _trait_line(sig, t))
    if apis:
        out.append(
            Finding(
                "dangerous-api",
                "medium",
                entry.path,
                "newly " + "; ".join(_describe(t) for t in apis),
                _trait_line(sig, apis[0]),
            )
        )
    if hosts:
        out.append(
            Finding(
                "new-endpoint",
                "medium",
                entry.path,
                f"names new network endpoints ({', '.join(hosts[:5])})",
                sig.hosts[hosts[0]],
            )
        )
    return out


def _trait_line(sig: content.Signals, trait: str) -> int:
    if trait == "obfuscated":
        return sig.obfuscation_line()
    if trait == "minified":
        return sig.long_line_at or 1
    hit = sig.hits.get(trait)
    return hit.line if hit else 1


def _describe(trait: str) -> str:
    if trait == "obfuscated":
        return "is obfuscated (hex-named identifiers, escaped strings or high entropy)"
    if trait == "minified":
        return "is minified"
    return content.PATTERNS[trait][1]


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def entry_findings(staged: TarIndex, baseline: TarIndex | None) -> list[Finding]:
    """``main`` (or a bin) names a file the tarball does not hold, where the baseline's
    did: every ``require`` of the package fails (faker 6.6.6, 2022, shipped without its
    code)."""
    manifest = staged.manifest or {}
    before = (baseline.manifest or {}) if baseline is not None else {}
    targets = []
    if isinstance(manifest.get("main"), str):
        targets.append(("main", manifest["main"], before.get("main", "index.js")))
    bins = manifest.get("bin")
    if isinstance(bins, str):
        bins = {str(manifest.get("name") or "").split("/")[-1]: bins}
    old_bins = before.get("bin")
    if isinstance(old_bins, str):
        old_bins = {str(before.get("name") or "").split("/")[-1]: old_bins}
    if isinstance(bins, dict):
        for name, target in bins.items():
            if isinstance(target, str):
                old = old_bins.get(name) if isinstance(old_bins, dict) else None
                targets.append((f"bin.{name}", target, old))
    out = []
    for field, target, old in targets:
        if _resolves(staged, target):
            continue
        if baseline is not None and not (isinstance(old, str) and _resolves(baseline, old)):
            continue  # the baseline was no better: not this release's doing
        out.append(
            Finding(
                "entry-point-missing",
                "medium",
                field,
                f"`{field}` names {target!r}, which this tarball does not hold: "
                + ("loading the package fails" if field == "main" else "the command fails"),
            )
        )
    return out


def _resolves(index: TarIndex, target: str) -> bool:
    """Where node's require (or npm's bin link) would find ``target`` in the package."""
    path = posixpath.normpath(target.replace("\\", "/")).lstrip("/")
    if path in (".", ""):
        path = "index.js"
    files = index.files
    candidates = [path] + [path + ext for ext in (".js", ".json", ".node", ".cjs", ".mjs")]
    candidates += [path + "/index" + ext for ext in (".js", ".json", ".node")]
    return any(c in files and files[c].type == "file" for c in candidates)
