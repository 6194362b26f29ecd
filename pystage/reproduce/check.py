"""Does a staged tarball come from its source? Rebuild the package from the source the
way ``pystage publish`` packs it and compare the two tarballs entry by entry.

pystage packs byte for byte as ``npm pack`` does, so a tarball staged from a clean
checkout rebuilds to the same entries: same bytes (sha512), size and mode, and the
same package.json. Anything else is a finding: a file that differs, one only the
staged tarball has (injected after the tests ran?), one the rebuild has and the
staged tarball lacks, a source whose version is not the staged one.

Lifecycle scripts are off unless asked for (a reviewer's machine should not run a
package's scripts by default). A package whose build (prepublishOnly, prepack,
prepare) makes some of its files then cannot be rebuilt whole: the files a build
would produce (absent from the source tree, or not tracked by git) are reported as
"not checked", and everything that comes straight from source is still compared.
"""

from __future__ import annotations

import functools
import hashlib
import json
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pystage.reproduce.workdir import Source, copy_for_build
from pystage.review import (
    FieldChange,
    FileEntry,
    Finding,
    ReviewOptions,
    TarIndex,
    chunks_of,
    compare,
)
from pystage.review import index_tarball as _index
from pystage.review.content import looks_binary
from pystage.review.index import sri

# the scripts `pystage publish` runs before the tarball is made (npm's order)
BUILD_EVENTS = ("prepublishOnly", "prepack", "prepare")
MAX_LISTED_FIELDS = 6  # package.json fields named in one finding's message
TEXT_LIMIT = 256 * 1024  # the rebuilt text kept for a diff (index_tarball's own limit)
_CHUNK = 1024 * 1024


@dataclass
class FileDifference:
    """One path in both tarballs whose entries differ. ``what``: content, size, mode,
    type. ``diff``: unified diff lines, rebuilt (-) to staged (+), for text files."""

    path: str
    what: list[str]
    staged: FileEntry
    source: FileEntry
    diff: list[str] | None = None
    diff_truncated: bool = False
    diff_note: str | None = None

    def to_json(self) -> dict:
        out: dict = {
            "path": self.path,
            "what": list(self.what),
            "staged": self.staged.to_json(),
            "source": self.source.to_json(),
        }
        if self.diff is not None:
            out["diff"] = self.diff
            if self.diff_truncated:
                out["diff_truncated"] = True
        elif self.diff_note:
            out["diff_note"] = self.diff_note
        return out


@dataclass
class NotChecked:
    """A file a build would produce, not compared because the build did not run.
    ``side``: where it is (staged, source or both)."""

    path: str
    side: str
    reason: str = "built"

    def to_json(self) -> dict:
        return {"path": self.path, "reason": self.reason, "in": self.side}


@dataclass
class SourceCheck:
    package: str  # the staged tarball's name@version
    version: str
    source: str  # how the source is named ("." or "git ref v1.2.0 at 3f2a9c1b2d4e")
    source_name: str
    source_version: str
    scripts_run: bool
    build_scripts: list[str] = field(default_factory=list)
    identical: int = 0
    differs: list[FileDifference] = field(default_factory=list)
    only_staged: list[FileEntry] = field(default_factory=list)
    only_source: list[FileEntry] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)
    manifest: list[FieldChange] = field(default_factory=list)

    @property
    def version_mismatch(self) -> bool:
        return self.source_version != self.version

    @property
    def name_mismatch(self) -> bool:
        return self.source_name != self.package

    @property
    def reproduced(self) -> bool:
        """Every file of the staged tarball compared and identical to the rebuild (a file
        left unchecked is not proof, so it is not "reproduced" either)."""
        return not (
            self.differs
            or self.only_staged
            or self.only_source
            or self.not_checked
            or self.version_mismatch
            or self.name_mismatch
        )

    def findings(self) -> list[Finding]:
        out: list[Finding] = []
        if self.name_mismatch:
            out.append(
                Finding(
                    "source-name-mismatch",
                    "high",
                    "name",
                    f"the source is package {self.source_name!r}, the staged tarball is "
                    f"{self.package!r}",
                )
            )
        if self.version_mismatch:
            out.append(
                Finding(
                    "source-version-mismatch",
                    "high",
                    "version",
                    f"the source's package.json says version {self.source_version}, the staged "
                    f"tarball {self.version}: is {self.source} the release that was staged?",
                )
            )
        for diff in self.differs:
            out.append(Finding("source-differs", "high", diff.path, self._differs_message(diff)))
        for entry in self.only_staged:
            out.append(
                Finding(
                    "only-staged",
                    "high",
                    entry.path,
                    f"in the staged tarball, not in the rebuild from {self.source}",
                )
            )
        for entry in self.only_source:
            out.append(
                Finding(
                    "only-source",
                    "high",
                    entry.path,
                    f"in the rebuild from {self.source}, missing from the staged tarball",
                )
            )
        pending = ", ".join(self.build_scripts)
        if self.not_checked:
            out.append(
                Finding(
                    "not-checked",
                    "medium",
                    "",
                    f"{len(self.not_checked)} file(s) a build would produce were not compared "
                    f"({pending} not run): --source-scripts runs the build in a temporary copy",
                )
            )
        elif self.build_scripts and not self.scripts_run:
            out.append(
                Finding(
                    "source-scripts-not-run",
                    "info",
                    "",
                    f"the package has build scripts ({pending}), not run; every staged file "
                    "was compared all the same",
                )
            )
        return out

    def _differs_message(self, diff: FileDifference) -> str:
        parts = []
        if "content" in diff.what:
            sizes = f"{diff.source.size} B from source, {diff.staged.size} B staged"
            parts.append(f"content differs: {sizes}" if "size" in diff.what else "content differs")
        if "mode" in diff.what:
            parts.append(f"mode {diff.source.mode:04o} from source, {diff.staged.mode:04o} staged")
        if "type" in diff.what:
            parts.append(f"a {diff.source.type} from source, a {diff.staged.type} staged")
        if "link" in diff.what:
            parts.append(
                f"links to {_target(diff.source)} from source, {_target(diff.staged)} staged"
            )
        if diff.path == "package.json" and self.manifest:
            names = [c.field for c in self.manifest[:MAX_LISTED_FIELDS]]
            more = len(self.manifest) - len(names)
            parts.append("fields " + ", ".join(names) + (f" and {more} more" if more else ""))
        return "; ".join(parts) + f"; rebuilt from {self.source}"

    def to_json(self) -> dict:
        return {
            "reproduced": self.reproduced,
            "source": self.source,
            "source_version": self.source_version,
            "scripts_run": self.scripts_run,
            "build_scripts": list(self.build_scripts),
            "identical": self.identical,
            "differs": [d.to_json() for d in self.differs],
            "only_staged": [e.to_json() for e in self.only_staged],
            "only_source": [e.to_json() for e in self.only_source],
            "not_checked": [n.to_json() for n in self.not_checked],
            "manifest": {c.field: c.to_json() for c in self.manifest},
        }


# -- the check -------------------------------------------------------------------------
def check_source(
    staged_tarball,
    source: Source,
    *,
    run_scripts: bool = False,
    script_stdout=None,
    full_diff: bool = False,
) -> SourceCheck:
    """Rebuild ``source`` into a temporary directory (always removed) and compare the
    rebuild with the tarball at ``staged_tarball``. ``run_scripts``: run the build
    scripts (prepublishOnly, prepack, prepare, postpack) in a temporary copy of the
    source; their standard output goes to ``script_stdout``. ``full_diff``: whole diffs
    (``review --diff``) rather than their first lines."""
    from pystage.packing import read_manifest

    manifest = read_manifest(source.path)
    scripts = manifest.get("scripts")
    scripts = scripts if isinstance(scripts, dict) else {}
    build = [e for e in BUILD_EVENTS if isinstance(scripts.get(e), str) and scripts[e]]
    with tempfile.TemporaryDirectory(prefix="pystage-rebuild-") as out:
        if run_scripts:
            bundles = bool(
                manifest.get("bundleDependencies") or manifest.get("bundledDependencies")
            )
            with copy_for_build(source, bundles) as tree:
                rebuilt = _pack(tree, out, scripts=True, script_stdout=script_stdout)
                return _compare(staged_tarball, rebuilt, source, tree, build, True, full_diff)
        rebuilt = _pack(source.path, out, scripts=False, script_stdout=None)
        return _compare(staged_tarball, rebuilt, source, source.path, build, False, full_diff)


def _pack(tree: Path, out: str, *, scripts: bool, script_stdout) -> Path:
    from pystage.packing import pack

    result = pack(
        tree,
        out,
        ignore_scripts=not scripts,
        events=("prepublishOnly", "prepack", "prepare", "postpack"),
        command="publish",
        script_stdout=script_stdout,
        # as `pystage publish` run in the package's directory (CI's usual way): npm's
        # implicit-workspace rules come from the package's place, not from our cwd
        workspaces=(str(tree),),
        workspace_root=str(Path(tree).parent),
    )
    assert result.path is not None  # not a dry run
    return result.path


def _index_file(path, **kwargs) -> TarIndex:
    with open(path, "rb") as fh:
        return _index(chunks_of(fh), **kwargs)


def _index_rebuilt(path: Path, keep_text=lambda _path: False) -> TarIndex:
    """The rebuild's entries, as ``index_tarball`` gives them, for the tarball pack()
    just wrote. This one is ours, not hostile: tarfile reads it, with no code scan (the
    review already scans the staged side; a second scan of a large bundle costs
    seconds)."""
    index = TarIndex()
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            rel = member.name.split("/", 1)[1] if "/" in member.name else ""
            if not rel:
                continue
            if member.islnk() or member.issym():
                kind = "hardlink" if member.islnk() else "symlink"
                index.files[rel] = FileEntry(rel, kind, 0, member.mode, link=member.linkname)
                continue
            if not member.isfile():
                continue
            digest, size, head, text = hashlib.sha512(), 0, b"", []
            wanted = rel == "package.json" or keep_text(rel)
            reader = tar.extractfile(member)
            assert reader is not None  # a regular file
            for chunk in iter(functools.partial(reader.read, _CHUNK), b""):
                digest.update(chunk)
                if not head:
                    head = chunk[:8192]
                size += len(chunk)
                if wanted and size <= TEXT_LIMIT:
                    text.append(chunk)
            entry = FileEntry(rel, "file", size, member.mode, sha512=sri(digest.digest()))
            entry.binary = looks_binary(head)
            index.files[rel] = entry
            index.unpacked += size
            if wanted and size <= TEXT_LIMIT and not entry.binary:
                index.texts[rel] = b"".join(text)
    data = index.texts.get("package.json")
    if data is not None:
        index.manifest = json.loads(data.decode("utf-8-sig"))  # pack() has read it already
    return index


def _compare(
    staged_path,
    rebuilt_path: Path,
    source: Source,
    tree: Path,
    build: list[str],
    scripts_run: bool,
    full_diff: bool,
) -> SourceCheck:
    from pystage.packing.manifest import normalize_for_pack

    rebuilt = _index_rebuilt(rebuilt_path)
    known = {p: f.sha512 for p, f in rebuilt.files.items()}
    # the staged side keeps the text of the files that differ from the rebuild only
    staged = _index_file(staged_path, known=known, keep_text=lambda p: p in rebuilt.files)
    changed = {
        p
        for p, e in staged.files.items()
        if p in rebuilt.files and p in staged.texts and e.sha512 != rebuilt.files[p].sha512
    }
    if changed:  # a second pass for the rebuilt texts of those files, for the diffs
        rebuilt = _index_rebuilt(rebuilt_path, keep_text=lambda p: p in changed)

    staged_manifest = staged.manifest or {}
    source_manifest = rebuilt.manifest or {}
    # package.json field by field after npm's normalization (bin, bundleDependencies):
    # spellings npm treats alike are not differences; the bytes are still compared
    staged.manifest = normalize_for_pack(staged_manifest, tree) if staged.manifest else None
    rebuilt.manifest = normalize_for_pack(source_manifest, tree) if rebuilt.manifest else None
    report = compare(staged, rebuilt, options=ReviewOptions(full_diff=full_diff))

    check = SourceCheck(
        package=str(staged_manifest.get("name", "")),
        version=str(staged_manifest.get("version", "")),
        source=source.label,
        source_name=str(source_manifest.get("name", "")),
        source_version=str(source_manifest.get("version", "")),
        scripts_run=scripts_run,
        build_scripts=build,
        manifest=report.manifest if staged.manifest is not None else [],
    )
    pending = bool(build) and not scripts_run

    def built(path: str, side: str) -> bool:
        # bundled dependencies come from the install, not from the build: always compared
        if not pending or path == "package.json" or path.startswith("node_modules/"):
            return False
        outside_git = source.tracked is not None and path not in source.tracked
        if outside_git or not (tree / path).exists():
            check.not_checked.append(NotChecked(path, side))
            return True
        return False

    for change in report.added:
        if not built(change.path, "staged"):
            check.only_staged.append(staged.files[change.path])
    for change in report.removed:
        if not built(change.path, "source"):
            check.only_source.append(rebuilt.files[change.path])
    for change in report.changed:
        if built(change.path, "both"):
            continue
        ours, theirs = staged.files[change.path], rebuilt.files[change.path]
        check.differs.append(
            FileDifference(
                change.path,
                _what(ours, theirs),
                ours,
                theirs,
                diff=change.diff,
                diff_truncated=change.diff_truncated,
                diff_note=change.diff_note,
            )
        )
    # the engine compares a link's type and mode; where it points is compared here
    changed = {c.path for c in report.changed}
    for path, ours in staged.files.items():
        other = rebuilt.files.get(path)
        if path in changed or other is None or ours.type not in ("hardlink", "symlink"):
            continue
        if ours.type == other.type and _target(ours) != _target(other):
            if not built(path, "both"):
                check.differs.append(FileDifference(path, ["link"], ours, other))
            changed.add(path)
    differing = {c.path for c in report.added} | changed
    check.identical = sum(
        1 for p, e in staged.files.items() if e.type != "directory" and p not in differing
    )
    return check


def _target(entry: FileEntry) -> str | None:
    """Where a link points, package-relative (a hardlink names its archive path)."""
    link = entry.link
    if entry.type == "hardlink" and link and "/" in link:
        return link.split("/", 1)[1]
    return link


def _what(staged: FileEntry, rebuilt: FileEntry) -> list[str]:
    what = []
    if staged.type != rebuilt.type:
        what.append("type")
    elif staged.type in ("hardlink", "symlink") and _target(staged) != _target(rebuilt):
        what.append("link")
    if staged.sha512 != rebuilt.sha512:
        what.append("content")
    if staged.size != rebuilt.size:
        what.append("size")
    if staged.mode != rebuilt.mode:
        what.append("mode")
    return what
