"""One pass over a tarball stream: every entry's path, type, size, mode and sha512,
the package.json, the code signals of each script-like file, and (for the staged
side) the secrets of the files that differ from the baseline.

Memory stays bounded: file data is read in ``Limits.chunk`` pieces; the text
kept for diffs is capped per file (``text_limit``) and in total (``text_budget``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pystage.review import content
from pystage.review.secrets import CandidateLines, Secret, detect
from pystage.review.tarstream import Limits, RawEntry, TarReader, TarStop, strip_first

MANIFEST_LIMIT = 1024 * 1024  # a package.json larger than this is not parsed


@dataclass
class Anomaly:
    """Something the archive itself does that npm pack never does."""

    rule: str
    path: str
    message: str
    severity: str | None = None  # None: the rule's usual severity (file_rules)


@dataclass
class FileEntry:
    path: str  # as npm unpacks it (``package/`` stripped)
    type: str  # file, directory, symlink, hardlink, other
    size: int
    mode: int
    sha512: str | None = None  # SRI form, "sha512-<base64>", of a file's bytes
    link: str | None = None  # a link's target, as the archive gives it
    binary: bool = False
    native: str | None = None  # "ELF executable"... for native code
    signals: content.Signals | None = None  # for code files
    secrets: list[Secret] = field(default_factory=list)
    secrets_truncated: bool = False

    def to_json(self) -> dict:
        out = {
            "path": self.path,
            "type": self.type,
            "size": self.size,
            "mode": format(self.mode, "04o"),
        }
        if self.sha512:
            out["sha512"] = self.sha512
        if self.link is not None:
            out["link"] = self.link
        return out


@dataclass
class TarIndex:
    files: dict[str, FileEntry] = field(default_factory=dict)
    anomalies: list[Anomaly] = field(default_factory=list)
    manifest: dict | None = None
    manifest_error: str | None = None
    compressed: int = 0  # bytes read from the stream
    unpacked: int = 0  # bytes of file data
    complete: bool = True  # False when the reader stopped early (corrupt, bomb)
    texts: dict[str, bytes] = field(default_factory=dict, repr=False)
    # each entry's path as a case-insensitive, normalizing disk sees it -> the path
    folded: dict[str, str] = field(default_factory=dict, repr=False)

    def regular_files(self) -> list[FileEntry]:
        return [f for f in self.files.values() if f.type == "file"]

    def signals_anywhere(self) -> tuple[set[str], set[str]]:
        """The traits and hosts any code file of this tarball shows (for added files:
        something the package already did is not new)."""
        traits: set[str] = set()
        hosts: set[str] = set()
        for entry in self.files.values():
            if entry.signals is not None:
                traits |= traits_of(entry.signals)
                hosts |= set(entry.signals.hosts)
        return traits, hosts


def traits_of(sig: content.Signals) -> set[str]:
    traits = set(sig.hits) - {"hex-identifiers", "escaped-strings"}
    if sig.obfuscated:
        traits.add("obfuscated")
    if sig.minified:
        traits.add("minified")
    return traits


def sri(digest: bytes) -> str:
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def index_tarball(
    chunks: Iterable[bytes],
    *,
    known: dict[str, str | None] | None = None,
    scan_secrets: bool = False,
    keep_text: Callable[[str], bool] | None = None,
    text_limit: int = 256 * 1024,
    text_budget: int = 8 * 1024 * 1024,
    limits: Limits | None = None,
) -> TarIndex:
    """Read a tarball stream once.

    ``known``: path -> sha512 of the baseline; a file whose bytes match is not scanned for
    secrets and its text is not kept (it did not change). ``scan_secrets``: run
    detect-secrets over files that are new or changed. ``keep_text``: keep the text of
    the paths it accepts only (None: of any text file), within ``text_limit``/``text_budget``.
    """
    index = TarIndex()
    reader = TarReader(chunks, limits)
    budget = [text_budget]
    try:
        for raw in reader:
            _check_entry(index, raw)
            if raw.kind != "file":
                index.files[raw.path] = FileEntry(
                    raw.path,
                    raw.kind,
                    raw.size,
                    raw.mode,
                    link=raw.linkname if raw.kind in ("symlink", "hardlink") else None,
                )
                continue
            entry = _read_file(
                reader, raw, index, known, scan_secrets, keep_text, text_limit, budget
            )
            if raw.path in index.files and raw.path:
                index.anomalies.append(
                    Anomaly(
                        "duplicate-entry",
                        raw.path,
                        "the tarball holds this path twice: the later entry wins on install",
                    )
                )
            index.files[raw.path] = entry
    except TarStop as stop:
        index.complete = False
        index.anomalies.append(Anomaly(stop.rule, "", stop.message))
    index.compressed = reader.stream.compressed
    index.files.pop("", None)  # the top folder itself
    if index.manifest is None and index.manifest_error is None and index.complete:
        index.manifest_error = "the tarball has no package.json in its top folder"
    return index


def _read_file(reader, raw, index, known, scan_secrets, keep_text, text_limit, budget):
    hasher = hashlib.sha512()
    entry = FileEntry(raw.path, "file", raw.size, raw.mode)
    is_manifest = raw.path == "package.json"
    if is_manifest:  # a later package.json wins on install: forget what an earlier one said
        index.manifest = None
        index.manifest_error = None
    baseline_sha = known.get(raw.path) if known is not None else None
    scanner = candidates = None
    kept: list[bytes] | None = None
    kept_size = 0
    first = True
    for piece in reader.read_data(raw):
        if first:
            first = False
            head = piece[:8192]
            entry.binary = content.looks_binary(head)
            entry.native = content.native_kind(head, raw.path)
            if not entry.binary:
                if content.is_code(raw.path, head):
                    scanner = content.Scanner()
                if scan_secrets:
                    candidates = CandidateLines()
                if is_manifest or (
                    raw.size <= text_limit
                    and raw.size <= budget[0]
                    and (keep_text is None or keep_text(raw.path))
                ):
                    kept = []
        hasher.update(piece)
        index.unpacked += len(piece)
        if scanner is not None:
            scanner.feed(piece)
        if candidates is not None:
            candidates.feed(piece)
        if kept is not None:
            kept_size += len(piece)
            if kept_size > max(text_limit, MANIFEST_LIMIT if is_manifest else 0):
                kept = None
            else:
                kept.append(piece)
    entry.sha512 = sri(hasher.digest())
    if first and raw.path.lower().endswith(".node"):
        entry.native = content.native_kind(b"", raw.path)
    if scanner is not None:
        entry.signals = scanner.finish()
    unchanged = baseline_sha is not None and baseline_sha == entry.sha512
    if candidates is not None and not unchanged:
        entry.secrets = detect(raw.path, candidates.finish())
        entry.secrets_truncated = candidates.truncated
    if kept is not None:
        data = b"".join(kept)
        if is_manifest:
            _parse_manifest(index, data)
        if not unchanged and not is_manifest and len(data) <= budget[0]:
            index.texts[raw.path] = data
            budget[0] -= len(data)
        elif is_manifest:
            index.texts[raw.path] = data
    elif is_manifest:
        index.manifest_error = f"package.json is over {MANIFEST_LIMIT} bytes: not read"
    return entry


def _parse_manifest(index: TarIndex, data: bytes) -> None:
    try:
        manifest = json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        index.manifest_error = f"package.json is not valid JSON: {exc}"
        return
    if not isinstance(manifest, dict):
        index.manifest_error = "package.json is not a JSON object"
        return
    index.manifest = manifest
    index.manifest_error = None


def fold(path: str) -> str:
    """A path as macOS (case-insensitive, normalization-insensitive) and Windows (also
    dropping trailing dots and spaces) name it: two entries that fold alike are written
    to one file there, the later over the earlier."""
    parts = unicodedata.normalize("NFC", path).casefold().split("/")
    return "/".join(part.rstrip(" .") for part in parts)


def _check_collision(index: TarIndex, raw: RawEntry) -> None:
    if raw.kind == "directory" or not raw.path:
        return
    key = fold(raw.path)
    earlier = index.folded.get(key)
    index.folded[key] = raw.path
    if earlier is None or earlier == raw.path:
        return  # new, or the very same path (a duplicate-entry)
    index.anomalies.append(
        Anomaly(
            "path-collision",
            raw.path,
            f"one file with {earlier!r} on a case-insensitive disk (macOS, Windows): "
            "installed there, the later entry replaces the earlier one",
            "high" if key == "package.json" else None,
        )
    )


def _check_entry(index: TarIndex, raw: RawEntry) -> None:
    name = raw.raw_name
    _check_collision(index, raw)
    if raw.mode & 0o7000 and raw.kind != "directory":
        index.anomalies.append(
            Anomaly(
                "special-mode",
                raw.path or name,
                f"mode {raw.mode:04o}: setuid, setgid or sticky bits, which npm pack never writes",
            )
        )
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        index.anomalies.append(
            Anomaly("absolute-path", name, "an absolute path: it would land outside the package")
        )
    elif ".." in parts:
        index.anomalies.append(
            Anomaly("path-traversal", name, "a path with '..': it would land outside the package")
        )
    elif raw.kind != "directory" and "/" not in name.strip("/"):
        index.anomalies.append(
            Anomaly(
                "outside-package",
                name,
                "an entry outside the package folder (npm drops it when it unpacks)",
            )
        )
    if raw.kind in ("symlink", "hardlink"):
        target = raw.linkname
        if raw.kind == "hardlink":
            resolved = strip_first(target)
            outside = target.startswith("/") or ".." in target.split("/")
        else:
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(raw.path), target))
            outside = target.startswith("/") or resolved == ".." or resolved.startswith("../")
        if outside:
            index.anomalies.append(
                Anomaly(
                    "link-outside",
                    raw.path or name,
                    f"a {raw.kind} to {target!r}, outside the package: never followed",
                )
            )
        else:
            index.anomalies.append(
                Anomaly(
                    "link",
                    raw.path or name,
                    f"a {raw.kind} to {resolved!r} (npm pack never writes links; "
                    "npm drops them on install)",
                )
            )
    elif raw.kind == "other":
        index.anomalies.append(
            Anomaly(
                "special-file",
                raw.path or name,
                f"a special entry (tar type {raw.typeflag!r}: device, FIFO or unknown)",
            )
        )
