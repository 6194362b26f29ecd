"""``review --deep``: GuardDog's source-code rules over the added and changed files.

GuardDog (Datadog, PyPI ``guarddog``, the ``pystage-npm[guarddog]`` extra) keeps
YARA rules for what malicious npm and PyPI packages do. Its Python package is
**not imported**: importing any part of it refreshes its typosquatting lists from
three web hosts (once its cache is 30 days old, i.e. on a fresh install) and
writes them into site-packages. Only its rule files are read, found with
``importlib.util.find_spec`` (which runs none of its code), compiled with
yara-python (a GuardDog dependency) and matched against each file's bytes in
memory, one file at a time. So ``--deep`` runs offline and writes nothing, like
the rest of the review; measured figures are in docs/review.md.

Severities: GuardDog's ``capability-*`` rules describe what code can do (network,
files, processes: most packages do some of it): ``info``. Its ``threat-*`` rules
keep GuardDog's own severity, one step lower (``high`` becomes ``medium``): a
pattern match alone, without the baseline comparison the review's own rules make,
is a reason to look, not to block (docs/review.md, "--deep").
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import lru_cache

from pystage.review.report import Finding
from pystage.review.tarstream import Limits, TarReader, TarStop

# GuardDog's default: files it does not run its rules on (GUARDDOG_YARA_EXT_EXCLUDE),
# matched as it matches them, by the end of the lower-cased name
EXT_EXCLUDE = tuple(
    "ini,md,rst,txt,lock,json,yaml,yml,toml,xml,html,csv,sql,pdf,doc,docx,ppt,"
    "pptx,xls,xlsx,odt,changelog,readme,makefile,dockerfile,pkg-info,d.ts".split(",")
)
MAX_FILE = 8 * 1024 * 1024  # bytes of one file held for the rules; larger ones are skipped
LOWER = {"high": "medium", "medium": "low", "low": "low"}


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    severity: str  # ours
    include: tuple[str, ...]
    exclude: tuple[str, ...]


class DeepUnavailable(Exception):
    """GuardDog's rules (or yara-python) are not installed."""


def rules_dir() -> str:
    """Where the installed GuardDog keeps its source-code rules (no code of it runs)."""
    spec = importlib.util.find_spec("guarddog")
    if spec is None or not spec.submodule_search_locations:
        raise DeepUnavailable("GuardDog is not installed")
    for base in spec.submodule_search_locations:
        folder = os.path.join(base, "analyzer", "sourcecode")
        if os.path.isdir(folder):
            return folder
    raise DeepUnavailable("the installed GuardDog has no analyzer/sourcecode rules")


@lru_cache(maxsize=1)
def compiled():
    """(yara Rules, {rule id: Rule}) for GuardDog's npm rules."""
    folder = rules_dir()
    try:
        import yara
    except ImportError:
        raise DeepUnavailable("yara-python (a GuardDog dependency) is not installed") from None
    paths = {
        name[:-4]: os.path.join(folder, name)
        for name in sorted(os.listdir(folder))
        # extension_*: VS Code extensions, another ecosystem
        if name.endswith(".yar") and not name.startswith("extension_")
    }
    if not paths:
        raise DeepUnavailable(f"no GuardDog rules in {folder}")
    rules = yara.compile(filepaths=paths)  # one namespace per file: the rule id
    by_name = {rule.identifier: rule.meta for rule in rules}
    meta = {}
    for rule_id in paths:
        # GuardDog names the YARA rule in threat-x.yar threat_x
        data = by_name.get(rule_id.replace("-", "_"), {})
        meta[rule_id] = Rule(
            rule_id,
            str(data.get("description") or rule_id),
            _severity(rule_id, str(data.get("severity") or "low")),
            _globs(data.get("path_include")),
            _globs(data.get("path_exclude")),
        )
    return rules, meta


def available() -> str | None:
    """None when --deep can run, else why not (one line)."""
    try:
        compiled()
    except DeepUnavailable as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - a rule file yara cannot compile
        return f"GuardDog's rules could not be compiled: {exc}"
    return None


def scan(files: Iterable[tuple[str, bytes]]) -> list[Finding]:
    """Findings for each (path, bytes): one per GuardDog rule and file, at its first line."""
    rules, meta = compiled()
    findings: list[Finding] = []
    for path, data in files:
        hits: dict[str, list[int]] = {}
        for match in rules.match(data=data):
            rule = meta.get(match.namespace)
            if rule is None or not _applies(rule, path):
                continue
            offsets = [i.offset for s in match.strings for i in s.instances]
            if offsets:
                hits.setdefault(rule.id, []).extend(offsets)
        for rule_id, offsets in sorted(hits.items()):
            rule = meta[rule_id]
            first = min(offsets)
            findings.append(
                Finding(
                    f"guarddog-{rule_id}",
                    rule.severity,
                    path,
                    f"GuardDog: {rule.description}"
                    + (f" ({len(offsets)} matches)" if len(offsets) > 1 else ""),
                    line=data.count(b"\n", 0, first) + 1,
                )
            )
    return findings


def scan_tarball(
    chunks: Iterable[bytes], paths: set[str], limits: Limits | None = None
) -> list[Finding]:
    """``scan`` over the files of a tarball stream named in ``paths`` (the review's added
    and changed files), read as the review reads it: as data, one file held at a time."""
    reader = TarReader(chunks, limits)

    def files():
        try:
            for raw in reader:
                if raw.kind == "file" and raw.path in paths and wanted(raw.path, raw.size):
                    yield raw.path, b"".join(reader.read_data(raw))
        except TarStop:
            return  # the review's own pass has reported what stops the reader

    return scan(files())


def wanted(path: str, size: int) -> bool:
    """Whether any rule reads this file (decided before its bytes are held)."""
    _, meta = compiled()
    return size <= MAX_FILE and any(_applies(rule, path) for rule in meta.values())


def _applies(rule: Rule, path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if rule.include:
        if not any(fnmatch(path, p) or fnmatch(name, p) for p in rule.include):
            return False
    elif name.lower().endswith(EXT_EXCLUDE):
        return False
    return not any(fnmatch(path, p) or fnmatch(name, p) for p in rule.exclude)


def _globs(value) -> tuple[str, ...]:
    return tuple(p.strip() for p in str(value).split(",") if p.strip()) if value else ()


def _severity(rule_id: str, theirs: str) -> str:
    if rule_id.startswith("capability-"):
        return "info"
    return LOWER.get(theirs, "low")
