"""Which files go into the tarball: npm-packlist 10 (over ignore-walk 8), rule for rule.

A walker per directory reads that directory's ignore files and asks its
parents, outermost first, whether an entry is excluded; the root walker also
turns package.json (``files``, ``main``, ``bin``, ``browser``) into rules, and
bundled dependencies are walked as packages of their own.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat as statmod
from pathlib import Path

from pystage.errors import PystageError
from pystage.packing.collate import key_for, sort_key
from pystage.packing.glob import Rule, folded_segments, parse_rules

DEFAULT_RULES = "<npm-packlist default rules>"
STRICT_RULES = "<npm-packlist strict rules>"

DEFAULTS = [
    ".npmignore",
    ".gitignore",
    "**/.git",
    "**/.svn",
    "**/.hg",
    "**/CVS",
    "**/.git/**",
    "**/.svn/**",
    "**/.hg/**",
    "**/CVS/**",
    "/.lock-wscript",
    "/.wafpickle-*",
    "/build/config.gypi",
    "npm-debug.log",
    "**/.npmrc",
    ".*.swp",
    ".DS_Store",
    "**/.DS_Store/**",
    "._*",
    "**/._*/**",
    "*.orig",
    "/archived-packages/**",
]
STRICT_DEFAULTS = ["/.git"]
# npm-packlist's log.warn('gitignore-fallback', ...), word for word
GITIGNORE_FALLBACK = (
    "gitignore-fallback No .npmignore file found, using .gitignore for file exclusion. "
    "Consider creating a .npmignore file to explicitly control published files."
)
ROOT_IGNORE_FILES = [DEFAULT_RULES, "package.json", ".npmignore", ".gitignore", STRICT_RULES]
CHILD_IGNORE_FILES = [DEFAULT_RULES, ".npmignore", ".gitignore", STRICT_RULES]


class Package:
    """A package directory as the walk needs it (arborist's tree node, reduced)."""

    def __init__(
        self,
        path: Path,
        manifest: dict,
        is_root: bool,
        is_link: bool = False,
        parent: Package | None = None,
    ):
        self.path = path
        self.manifest = manifest
        self.is_root = is_root
        self.is_link = is_link
        self.parent = parent

    def resolve(self, dep: str) -> Package | None:
        """node_modules lookup from this package upwards, as Node resolves a dependency."""
        node: Package | None = self
        while node is not None:
            candidate = node.path / "node_modules" / dep
            if (candidate / "package.json").is_file():
                try:
                    import json

                    manifest = json.loads((candidate / "package.json").read_text("utf-8"))
                except (OSError, ValueError):
                    manifest = {}
                if not isinstance(manifest, dict):
                    manifest = {}
                from pystage.packing.manifest import normalize_for_pack

                return Package(
                    candidate,
                    normalize_for_pack(manifest, candidate),
                    False,
                    is_link=candidate.is_symlink(),
                    parent=node,
                )
            node = node.parent
        return None

    def edge_allows_bundling(self, dep: str) -> bool:
        """An edge exists and is neither dev nor peer (arborist's edge types)."""
        m = self.manifest
        for field in ("dependencies", "optionalDependencies"):
            if isinstance(m.get(field), dict) and dep in m[field]:
                return True
        return False


class _Walker:
    def __init__(
        self,
        path: str,
        package: Package,
        *,
        parent: _Walker | None = None,
        ignore_files: list[str],
        is_package: bool = False,
        exact=None,
        required_files: list[str] | None = None,
        seen: set | None = None,
        result: set | None = None,
        extra_defaults: list[str] | None = None,
        warnings: list[str] | None = None,
    ):
        self.path = path
        self.basename = posixpath.basename(path)
        self.package = package
        self.parent = parent
        self.root: str = parent.root if parent else path
        self.result: set = parent.result if parent else (result if result is not None else set())
        self.warnings: list[str] = (
            parent.warnings if parent else (warnings if warnings is not None else [])
        )
        self.ignore_files = ignore_files
        self.is_package = is_package
        self.exact = exact
        self.required_files = list(required_files or [])
        self.seen = seen if seen is not None else set()
        self.rules: dict[str, tuple[Rule, ...] | None] = {}
        self._inject(DEFAULT_RULES, DEFAULTS + list(extra_defaults or ()))
        if not is_package:
            self._inject(STRICT_RULES, STRICT_DEFAULTS + [f"!{f}" for f in self.required_files])

    def _inject(self, name: str, rules: list[str]) -> None:
        self.rules[name] = parse_rules("\n".join(rules) + "\n")

    # -- walking ----------------------------------------------------------
    def walk(self) -> set:
        try:
            entries = os.listdir(self.path)
        except OSError as exc:
            raise _read_error(self.path, exc) from None
        if entries:
            for name in self.ignore_files:
                if name in (DEFAULT_RULES, STRICT_RULES) or name not in entries:
                    continue
                self._add_ignore_file(name)
            self._filter_entries(entries)
        if self.is_package:
            self._gather_bundles()
        return self.result

    def _add_ignore_file(self, name: str) -> None:
        if name == "package.json" and self.is_package:
            self._process_package()
            return
        file = os.path.join(self.path, name)
        try:
            with open(file, encoding="utf-8", errors="replace") as fh:
                self.rules[name] = parse_rules(fh.read())
        except OSError as exc:
            raise _read_error(file, exc) from None

    def _filter_entries(self, entries: list[str]) -> None:
        # an ignore file that was read counts even with no rules in it (an empty
        # .npmignore switches the .gitignore off), as ignore-walk's [] is truthy
        if self.rules.get("package.json") is not None:
            self.rules[".npmignore"] = None
            self.rules[".gitignore"] = None
        elif self.rules.get(".npmignore") is not None:
            self.rules[".gitignore"] = None
        elif self.rules.get(".gitignore") is not None and self.parent is None:
            # a package root (or a linked bundled dependency) without `files`
            # or .npmignore, as npm-packlist's filterEntries warns
            self.warnings.append(GITIGNORE_FALLBACK)
        for entry in entries:
            if "*" in entry:  # npm refuses names that are bad on Windows
                continue
            abs_path = self.path + "/" + entry
            # the kind of entry decides which rule check is needed (a file needs
            # only the full match, a directory the partial one first): half the work
            try:
                st = os.lstat(abs_path)
            except OSError as exc:
                # an entry the rules exclude is never read, so it cannot fail the walk
                if self.filter_entry(entry) or self.filter_entry(entry, partial=True):
                    raise _read_error(abs_path, exc) from None
                continue
            if statmod.S_ISREG(st.st_mode):
                if self.filter_entry(entry):
                    self.result.add(abs_path[len(self.root) + 1 :])
            elif statmod.S_ISDIR(st.st_mode) and self.filter_entry(entry, partial=True):
                exact = self.filter_entry(entry) or self.filter_entry(entry + "/")
                self._child(entry, exact).walk()
            # symlinks, sockets and the like are never packed

    def _child(self, entry: str, exact) -> _Walker:
        required = []
        for file in self.required_files:
            norm = posixpath.normpath(file)
            if posixpath.dirname(norm) == posixpath.normpath(entry):
                required.append(posixpath.basename(norm))
        return _Walker(
            self.path + "/" + entry,
            self.package,
            parent=self,
            ignore_files=CHILD_IGNORE_FILES,
            exact=exact,
            required_files=required,
        )

    def filter_entry(
        self, entry: str, partial: bool = False, entry_basename: str | None = None
    ) -> bool:
        included = True
        if self.parent is not None:
            included = self.parent.filter_entry(
                self.basename + "/" + entry, partial, entry_basename or entry
            )
            if not included and not self.exact:
                return False
        folded = None
        for name in self.ignore_files:
            for rule in self.rules.get(name) or ():
                if rule.negate == included:
                    continue
                if rule.base_only:
                    # every test below then sees only the last segment of its path
                    relative = partial and entry_basename is not None and rule.is_relative
                    key = (
                        _last_segment(entry),
                        partial,
                        _last_segment(entry_basename or "") if relative else None,
                    )
                    match = rule.memo.get(key)
                    if match is None:
                        match = rule.memo[key] = _rule_matches(rule, entry, partial, entry_basename)
                elif not rule.negate and not rule.may_match_within(
                    folded if folded is not None else (folded := folded_segments(entry))
                ):
                    # a rule that is not negated is only tried in full (not partial)
                    # matches, on paths made of entry's segments (entry_basename is its
                    # last one): a literal segment it needs is not there
                    match = False
                else:
                    match = _rule_matches(rule, entry, partial, entry_basename)
                if match:
                    included = rule.negate
        return included

    # -- package.json -----------------------------------------------------
    def _process_package(self) -> None:
        m = self.package.manifest
        ignores: list[str] = []
        strict = STRICT_DEFAULTS + [
            "!/package.json",
            "!/readme{,.*[^~$]}",
            "!/copying{,.*[^~$]}",
            "!/license{,.*[^~$]}",
            "!/licence{,.*[^~$]}",
            "/.git",
            "/node_modules",
            ".npmrc",
            "/package-lock.json",
            "/yarn.lock",
            "/pnpm-lock.yaml",
            "/bun.lockb",
        ]
        files = m.get("files")
        if _js_truthy(files):
            # a string is iterated character by character, as JavaScript's for...of does
            for file in files if isinstance(files, (list, str)) else []:
                if not isinstance(file, str):
                    continue
                if file.startswith("./"):
                    file = file[1:]
                if file.endswith("/*"):
                    file += "*"
                inverse = "!" + file
                target = posixpath.normpath(self.path + "/" + file.lstrip("!"))
                try:
                    st = os.lstat(target)
                except (OSError, ValueError):
                    ignores.append(inverse)
                    continue
                if statmod.S_ISREG(st.st_mode):
                    strict.insert(0, inverse)
                    self.required_files.append(file[1:] if file.startswith("/") else file)
                elif statmod.S_ISDIR(st.st_mode):
                    ignores.append(inverse)
                    ignores.append(inverse + "/**")
            self._inject("package.json", ["*"] + ignores)
        if _js_truthy(m.get("browser")) and isinstance(m["browser"], str):
            strict.append("!/" + m["browser"])
        if _js_truthy(m.get("main")) and isinstance(m["main"], str):
            strict.append("!/" + m["main"])
        for target in (m.get("bin") or {}).values():
            strict.append("!/" + target)
        self._inject(STRICT_RULES, strict)

    # -- bundled dependencies ---------------------------------------------
    def _gather_bundles(self) -> None:
        key = os.path.realpath(self.package.path)
        if key in self.seen:
            return
        self.seen.add(key)
        m = self.package.manifest
        if self.package.is_root:
            to_bundle = m.get("bundleDependencies") or []
        else:
            to_bundle = list((m.get("dependencies") or {}).keys()) + list(
                (m.get("optionalDependencies") or {}).keys()
            )
        for dep in to_bundle:
            if not isinstance(dep, str) or not self.package.edge_allows_bundling(dep):
                continue
            node = self.package.resolve(dep)
            if node is None:
                continue
            ignore_files = []
            if node.is_link:
                ignore_files.append(DEFAULT_RULES)
            ignore_files.append("package.json")
            if node.is_link:
                ignore_files += [".npmignore", ".gitignore"]
            ignore_files.append(STRICT_RULES)
            walker = _Walker(
                str(node.path),
                node,
                ignore_files=ignore_files,
                is_package=True,
                seen=self.seen,
                warnings=self.warnings,
            )
            bundled = walker.walk()
            rel = os.path.relpath(walker.path, self.root)
            for file in bundled:
                self.result.add(posixpath.normpath(posixpath.join(rel, file)))


def _rule_matches(rule: Rule, entry: str, partial: bool, entry_basename: str | None) -> bool:
    """ignore-walk's test of one rule against an entry (and, for a directory that may
    hold matches, the partial forms)."""
    relative = entry_basename is not None and rule.is_relative
    entry_basename = entry_basename or ""  # read only when relative
    return (
        rule.match("/" + entry)
        or rule.match(entry)
        or (
            partial
            and (
                rule.match("/" + entry + "/")
                or rule.match(entry + "/")
                or (rule.negate and (rule.match("/" + entry, True) or rule.match(entry, True)))
                or (
                    relative
                    and (
                        rule.match("/" + entry_basename + "/")
                        or rule.match(entry_basename + "/")
                        or (
                            rule.negate
                            and (
                                rule.match("/" + entry_basename, True)
                                or rule.match(entry_basename, True)
                            )
                        )
                    )
                )
            )
        )
    )


def _last_segment(path: str) -> str:
    """The name minimatch compares a one-segment pattern with: the last non-empty segment."""
    return path.rstrip("/").rpartition("/")[2]


def _js_truthy(value) -> bool:
    """JavaScript truthiness: empty arrays and objects are true, 0 and "" are not."""
    if isinstance(value, (list, dict)):
        return True
    return bool(value)


def _read_error(path: str, exc: OSError) -> PystageError:
    code = errno.errorcode.get(exc.errno or 0, "EIO")
    return PystageError(code, f"cannot read {path}: {exc.strerror or exc}")


def _npm_extname(name: str) -> str:
    """Node's path.extname."""
    dot = name.rfind(".")
    if dot <= 0 or name == "..":
        return ""
    return name[dot:]


def _sort_key(path: str, key=sort_key):
    base = posixpath.basename(path)
    # the last element only orders names ICU finds equal (npm leaves those in the
    # order the file system listed them): pystage's walk result is a set
    return (key(_npm_extname(base).lower()), key(base.lower()), key(path), path)


def packlist(
    pkg_dir,
    manifest: dict,
    extra_defaults: list[str] | None = None,
    warnings: list[str] | None = None,
) -> list[str]:
    """The files npm would pack, as relative POSIX paths in npm's tar order.

    ``extra_defaults``: ignore-file texts added to the default rules (those of the
    directories above a workspace package, see ``workspace.py``). ``warnings`` gets
    npm-packlist's warnings ("<code> <message>"), in the order npm logs them."""
    root = os.path.abspath(str(pkg_dir)).replace("\\", "/")
    package = Package(Path(root), manifest, is_root=True)
    files = _Walker(
        root,
        package,
        ignore_files=ROOT_IGNORE_FILES,
        is_package=True,
        extra_defaults=extra_defaults,
        warnings=warnings,
    ).walk()
    # ignore-walk writes names starting with "@" as "./@..." (tar strips the "./" again)
    named = ["./" + f if f.startswith("@") else f for f in files]
    key = key_for(named)
    return sorted(named, key=lambda path: _sort_key(path, key))
