"""The manifest npm publishes: package.json after ``npm pkg fix`` and the
``prepare`` normalization of @npmcli/package-json, then libnpmpublish's patch.

Publishing reads the package through a ``PackageSource`` (a directory on
disk, or the entries of a tarball), so the same rules serve both.
"""

from __future__ import annotations

import fnmatch
import json
import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from pystage.errors import PystageError
from pystage.packing.jstext import js_trim
from pystage.publishing import hosted_git, semver
from pystage.publishing.names import check_name

NO_README = "ERROR: No README data found!"

# Node's builtin module names; npm only warns about these.
_NODE_BUILTINS = frozenset(
    "assert async_hooks buffer child_process cluster console constants crypto dgram "
    "diagnostics_channel dns domain events fs http http2 https inspector module net os path "
    "perf_hooks process punycode querystring readline repl stream string_decoder sys timers "
    "tls trace_events tty url util v8 vm wasi worker_threads zlib".split()
)


class PackageSource(Protocol):
    """Read access to a package's files by '/'-separated path relative to its root."""

    def exists(self, rel: str) -> bool: ...
    def is_file(self, rel: str) -> bool: ...
    def read_text(self, rel: str) -> str: ...
    def walk_files(self, rel_dir: str) -> Iterable[str]:
        """Files below rel_dir, as paths relative to rel_dir."""

    def root_names(self) -> Iterable[str]: ...
    def git_head(self) -> str | None: ...


class DirectorySource:
    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)

    def _abs(self, rel: str) -> str:
        return os.path.join(self.path, *[p for p in rel.split("/") if p not in ("", ".")])

    def exists(self, rel: str) -> bool:
        return os.path.exists(self._abs(rel))

    def is_file(self, rel: str) -> bool:
        return os.path.isfile(self._abs(rel))

    def read_text(self, rel: str) -> str:
        # newline="": npm sends the text as the file has it, CRLF included
        with open(self._abs(rel), encoding="utf-8", errors="replace", newline="") as handle:
            return handle.read()

    def walk_files(self, rel_dir: str) -> Iterable[str]:
        base = self._abs(rel_dir)
        for root, dirs, files in os.walk(base):
            dirs.sort()
            for name in sorted(files):
                yield os.path.relpath(os.path.join(root, name), base).replace(os.sep, "/")

    def root_names(self) -> Iterable[str]:
        try:
            return sorted(os.listdir(self.path))
        except OSError:
            return []

    def git_head(self) -> str | None:
        return _git_head(self.path)


@dataclass
class MemorySource:
    """A package seen through its tarball: names, plus the few texts normalization reads."""

    names: set[str]
    texts: dict[str, str] = field(default_factory=dict)

    def exists(self, rel: str) -> bool:
        rel = posixpath.normpath(rel)
        return rel in self.names or any(n.startswith(rel + "/") for n in self.names)

    def is_file(self, rel: str) -> bool:
        return posixpath.normpath(rel) in self.names

    def read_text(self, rel: str) -> str:
        return self.texts[posixpath.normpath(rel)]

    def walk_files(self, rel_dir: str) -> Iterable[str]:
        prefix = posixpath.normpath(rel_dir) + "/"
        return sorted(n[len(prefix) :] for n in self.names if n.startswith(prefix))

    def root_names(self) -> Iterable[str]:
        return sorted({n.split("/", 1)[0] for n in self.names})

    def git_head(self) -> str | None:
        return None


@dataclass
class PreparedManifest:
    manifest: dict
    changes: list[str]
    warnings: list[str]


def prepare_manifest(raw: dict, source: PackageSource, *, fix: bool = True) -> PreparedManifest:
    """npm publish's manifest: ``pkgJson.fix`` (directories only) then ``prepare``."""
    if not isinstance(raw, dict):
        raise PystageError("EJSONPARSE", "package.json must contain a JSON object")
    data = json.loads(json.dumps(raw))  # a deep copy we may rewrite freely
    changes: list[str] = []
    warnings: list[str] = []
    if fix:
        _normalize_bin(data, changes)
        _warn_missing_bins(data, source, warnings)
        _sync_steps(data, changes, warnings, fix_only=True)
    _async_prepare_steps(data, source, changes, warnings)
    _sync_steps(data, changes, warnings, fix_only=False)
    return PreparedManifest(data, changes if fix else [], warnings)


def patch_for_publish(manifest: dict) -> dict:
    """libnpmpublish's patchManifest: a strictly clean semver version."""
    patched = dict(manifest)
    version = semver.clean(str(patched.get("version", "")))
    if not version:
        raise PystageError("EBADSEMVER", f"invalid semver: {patched.get('version')}")
    patched["version"] = version
    return patched


# --- name and version -----------------------------------------------------------


def _fix_name_and_version(data: dict, changes: list[str], warnings: list[str]) -> None:
    if not data.get("name"):
        changes.append('Missing "name" field was set to an empty string')
        data["name"] = ""
    else:
        if not isinstance(data["name"], str):
            raise PystageError("EINVALIDPACKAGENAME", "name field must be a string.")
        trimmed = js_trim(data["name"])
        if trimmed != data["name"]:
            changes.append('Whitespace was trimmed from "name"')
            data["name"] = trimmed
        check_name(data["name"])
    if not data.get("version"):
        data["version"] = ""
    else:
        cleaned = (
            semver.clean(data["version"], loose=True) if isinstance(data["version"], str) else None
        )
        if not cleaned:
            raise PystageError("EBADSEMVER", f'Invalid version: "{data["version"]}"')
        if cleaned != data["version"]:
            changes.append(f'"version" was cleaned and set to "{cleaned}"')
            data["version"] = cleaned


# --- the synchronous steps (run after the file-reading ones, as npm does) ---------


def _sync_steps(data: dict, changes: list[str], warnings: list[str], *, fix_only: bool) -> None:
    _fix_name_and_version(data, changes, warnings)
    if fix_only and data["name"] in _NODE_BUILTINS:
        warnings.append(
            f'Package name "{data["name"]}" conflicts with a Node.js built-in module name'
        )
    if not fix_only:
        for key in [k for k in data if k.startswith("_")]:
            changes.append(f'"{key}" was removed')
            del data[key]
        if data["name"] and data["version"]:
            data["_id"] = f"{data['name']}@{data['version']}"
        if data.get("bundleDependencies") is None and "bundledDependencies" in data:
            data["bundleDependencies"] = data["bundledDependencies"]
        data.pop("bundledDependencies", None)
    _bundle_dependencies(data, changes, delete_false=not fix_only)
    _scripts(data, changes)
    _repository(data, changes)
    _dependencies(data, changes)
    if not fix_only:
        _normalize_data(data, changes)


def _bundle_dependencies(data: dict, changes: list[str], *, delete_false: bool) -> None:
    bd = data.get("bundleDependencies")
    if bd is False and not delete_false:
        data["bundleDependencies"] = []
    elif bd is True:
        data["bundleDependencies"] = list((data.get("dependencies") or {}).keys())
    elif isinstance(bd, dict):
        data["bundleDependencies"] = list(bd.keys())
    elif isinstance(bd, list) and bd:
        pass
    elif isinstance(bd, list):
        pass  # an empty array is an object in JS: kept
    elif "bundleDependencies" in data:
        changes.append('"bundleDependencies" was removed')
        del data["bundleDependencies"]


def _scripts(data: dict, changes: list[str]) -> None:
    if "scripts" not in data:
        return
    scripts = data["scripts"]
    if isinstance(scripts, dict):
        bin_prefix = re.compile(r"^(\.[/\\])?node_modules[/\\].bin[\\/]")
        for name in list(scripts):
            if not isinstance(scripts[name], str):
                del scripts[name]
                changes.append(f'Invalid scripts."{name}" was removed')
            elif bin_prefix.search(scripts[name]):
                scripts[name] = bin_prefix.sub("", scripts[name])
                changes.append(
                    f'scripts entry "{name}" was fixed to remove node_modules/.bin reference'
                )
    elif scripts is not None:
        changes.append('Removed invalid "scripts"')
        del data["scripts"]


def _repository(data: dict, changes: list[str]) -> None:
    if data.get("repositories"):
        data["repository"] = data["repositories"][0]
    repo = data.get("repository")
    if not repo:
        return
    if isinstance(repo, str):
        changes.append('"repository" was changed from a string to an object')
        repo = data["repository"] = {"type": "git", "url": repo}
    if isinstance(repo, dict) and repo.get("url"):
        hosted = hosted_git.from_url(repo["url"])
        if hosted:
            normalized = hosted.https() if hosted.default == "shortcut" else str(hosted)
            if normalized != repo["url"]:
                changes.append(f'"repository.url" was normalized to "{normalized}"')
                repo["url"] = normalized


def _dependencies(data: dict, changes: list[str]) -> None:
    for kind in ("dependencies", "devDependencies", "optionalDependencies"):
        value = data.get(kind)
        if not value:
            continue
        if isinstance(value, str):
            value = [v for v in re.split(r"[\n\r\s\t ,]+", value.strip())]
        if isinstance(value, list):
            converted = {}
            for entry in value:
                if isinstance(entry, str):
                    parts = re.split(r"(:?[@\s><=])", entry.strip())
                    converted[parts[0]] = re.sub(r"^@", "", "".join(parts[1:])).strip()
            data[kind] = converted
    for kind in ("dependencies", "devDependencies"):
        if kind not in data:
            continue
        deps = data[kind]
        if not deps or not isinstance(deps, dict):
            changes.append(f'Removed invalid "{kind}"')
            del data[kind]
            continue
        for dep in list(deps):
            if not isinstance(deps[dep], str):
                changes.append(f'Removed invalid "{kind}.{dep}"')
                del deps[dep]
                continue
            hosted = hosted_git.from_url(deps[dep])
            if hosted and str(hosted) != deps[dep]:
                deps[dep] = str(hosted)


# --- the steps that read files --------------------------------------------------


def _async_prepare_steps(
    data: dict, source: PackageSource, changes: list[str], warnings: list[str]
) -> None:
    scripts = found if isinstance(found := data.get("scripts"), dict) else {}
    if (
        not scripts.get("install")
        and not scripts.get("preinstall")
        and data.get("gypfile") is not False
    ):
        if any(
            fnmatch.fnmatchcase(n, "*.gyp") and not n.startswith(".")
            for n in source.root_names()
            if source.is_file(n)
        ):
            scripts["install"] = "node-gyp rebuild"
            data["scripts"] = scripts
            data["gypfile"] = True
    if not scripts.get("start") and source.exists("server.js"):
        scripts["start"] = "node server.js"
        data["scripts"] = scripts
    if not data.get("contributors") and source.is_file("AUTHORS"):
        lines = [
            js_trim(re.sub(r"^\s*#.*$", "", line))
            for line in re.split(r"\r?\n", source.read_text("AUTHORS"))
        ]
        data["contributors"] = [line for line in lines if line]
    if not data.get("readme"):
        _readme(data, source)
    _mans(data, source, changes)
    directories = found if isinstance(found := data.get("directories"), dict) else {}
    if directories.get("bin") and not data.get("bin"):
        bin_path = _secure_path(str(directories["bin"]))
        bins = {}
        for rel in source.walk_files(bin_path):
            if rel and not rel.startswith("."):
                bins[posixpath.basename(rel)] = f"{bin_path}/{_secure_path(rel)}"
        data["bin"] = bins
    else:
        _normalize_bin(data, changes)
    if not data.get("gitHead"):
        head = source.git_head()
        if head:
            data["gitHead"] = head
    main = data.get("main") or "index.js"
    if not isinstance(main, str):
        raise PystageError("EUSAGE", 'The "main" attribute must be of type string.')
    stem, _ = posixpath.splitext(posixpath.basename(main))
    extless = posixpath.normpath(posixpath.join(posixpath.dirname(main), stem))
    if "types" not in data and "typings" not in data and source.exists(f"{extless}.d.ts"):
        data["types"] = f"./{extless}.d.ts"
    _warn_missing_bins(data, source, warnings)


def _readme(data: dict, source: PackageSource) -> None:
    markdown = re.compile(r"\.m?a?r?k?d?o?w?n?$", re.IGNORECASE)
    chosen = None
    for name in source.root_names():
        upper = name.upper()
        if (upper != "README" and not upper.startswith("README.")) or not source.is_file(name):
            continue
        if markdown.search(name):
            chosen = name
            break
        if name.endswith("README"):
            chosen = name
    if chosen:
        data["readme"] = source.read_text(chosen)
        data["readmeFilename"] = chosen
    if not data.get("readme"):
        data["readme"] = NO_README


def _mans(data: dict, source: PackageSource, changes: list[str]) -> None:
    directories = found if isinstance(found := data.get("directories"), dict) else {}
    if directories.get("man") and not data.get("man"):
        man_dir = _secure_path(str(directories["man"]))
        data["man"] = [
            posixpath.normpath(f"{man_dir}/{rel}")
            for rel in source.walk_files(man_dir)
            if re.search(r"\.[0-9]$", rel)
        ]
    if data.get("man"):
        mans = [
            _secure_path(m)
            for m in (data["man"] if isinstance(data["man"], list) else [data["man"]])
            if isinstance(m, str)
        ]
        if mans:
            data["man"] = mans
            return
        changes.append('empty "man" was removed')
    data.pop("man", None)


def _secure_path(ref: str) -> str:
    unix = re.sub(r"\\|:", "/", ref)
    secured = posixpath.normpath(posixpath.join("/", unix)).lstrip("/")
    secured = re.sub(r"\\|:", "/", secured)
    return "" if not secured or secured == "." else secured


def _normalize_bin(data: dict, changes: list[str]) -> None:
    bins = data.get("bin")
    if not bins:
        data.pop("bin", None)
        return
    if isinstance(bins, str) and data.get("name"):
        bins = {data["name"]: bins}
    elif isinstance(bins, list):
        bins = {posixpath.basename(b): b for b in bins if isinstance(b, str)}
    if not isinstance(bins, dict):
        data.pop("bin", None)
        return
    fixed: dict[str, str] = {}
    for key, target in bins.items():
        if not isinstance(target, str):
            changes.append(f'removed invalid "bin[{key}]"')
            continue
        base = posixpath.basename(_secure_path(key))
        secured = _secure_path(target)
        if not base or not secured:
            changes.append(f'removed invalid "bin[{key}]"')
            continue
        fixed[base] = secured
    if fixed:
        data["bin"] = fixed
    else:
        data.pop("bin", None)


def _warn_missing_bins(data: dict, source: PackageSource, warnings: list[str]) -> None:
    if isinstance(data.get("bin"), dict):
        for target in data["bin"].values():
            if not source.exists(target):
                warnings.append(f"No bin file found at {target}")


# --- normalize-package-data ------------------------------------------------------


def _extract_description(readme: str) -> str:
    lines = js_trim(readme).split("\n")
    start = 0
    while start < len(lines) and re.match(r"^(#|$)", js_trim(lines[start])):
        start += 1
    end = start + 1
    while end < len(lines) and js_trim(lines[end]):
        end += 1
    return js_trim(" ".join(lines[start:end]))


def _is_email(text: str) -> bool:
    return "@" in text and text.index("@") < text.rfind(".")


def _can_parse_url(text: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", text)) and not re.search(r"\s", text.strip())


def _person(person) -> dict:
    if not isinstance(person, str):
        person = person if isinstance(person, dict) else {}
        name = person.get("name") or ""
        url = person.get("url") or person.get("web")
        email = person.get("email") or person.get("mail")
        person = name + (f" <{email}>" if email else "") + (f" ({url})" if url else "")
    parsed = {}
    name = re.match(r"^([^(<]+)", person)
    email = re.search(r"<([^<>]+)>", person)
    url = re.search(r"\(([^()]+)\)", person)
    if name and name.group(0).strip():
        parsed["name"] = name.group(0).strip()
    if email:
        parsed["email"] = email.group(1)
    if url:
        parsed["url"] = url.group(1)
    return parsed


def _normalize_data(data: dict, changes: list[str]) -> None:
    if data.get("description") and not isinstance(data["description"], str):
        del data["description"]
    if data.get("readme") and not data.get("description") and data["readme"] != NO_README:
        data["description"] = _extract_description(data["readme"])
    data.pop("modules", None) if data.get("modules") else None
    if "files" in data and data["files"] and not isinstance(data["files"], list):
        del data["files"]
    elif isinstance(data.get("files"), list):
        data["files"] = [f for f in data["files"] if f and isinstance(f, str)]
    if isinstance(data.get("man"), str):
        data["man"] = [data["man"]]
    _bugs(data)
    if isinstance(data.get("keywords"), str):
        data["keywords"] = re.split(r",\s+", data["keywords"])
    if data.get("keywords") and not isinstance(data["keywords"], list):
        del data["keywords"]
    elif isinstance(data.get("keywords"), list):
        data["keywords"] = [k for k in data["keywords"] if isinstance(k, str) and k]
    bd = data.get("bundleDependencies")
    if bd and not isinstance(bd, list):
        del data["bundleDependencies"]
    elif bd:
        kept = []
        for dep in bd:
            if dep and isinstance(dep, str):
                deps = data.setdefault("dependencies", {})
                if dep not in deps:
                    deps[dep] = "*"
                kept.append(dep)
        data["bundleDependencies"] = kept
    repo = data.get("repository")
    if not data.get("homepage") and isinstance(repo, dict) and repo.get("url"):
        hosted = hosted_git.from_url(repo["url"])
        if hosted:
            data["homepage"] = hosted.docs()
    if data.get("homepage"):
        if not isinstance(data["homepage"], str):
            del data["homepage"]
        elif not _can_parse_url(data["homepage"]):
            data["homepage"] = "http://" + data["homepage"]
    if not data.get("readme"):
        data["readme"] = NO_README
    if data.get("author"):
        data["author"] = _person(data["author"])
    for key in ("maintainers", "contributors"):
        if isinstance(data.get(key), list):
            data[key] = [_person(p) for p in data[key]]


def _bugs(data: dict) -> None:
    repo = data.get("repository")
    bugs = data.get("bugs")
    if not bugs and isinstance(repo, dict) and repo.get("url"):
        hosted = hosted_git.from_url(repo["url"])
        if hosted:
            data["bugs"] = {"url": hosted.bugs()}
        return
    if not bugs:
        return
    if isinstance(bugs, str):
        if _is_email(bugs):
            data["bugs"] = {"email": bugs}
        elif _can_parse_url(bugs):
            data["bugs"] = {"url": bugs}
        return
    if isinstance(bugs, dict):
        old = dict(bugs)
        for key in ("web", "name"):
            if key in old:
                old["url"] = old.pop(key)
        new = {}
        if old.get("url") and isinstance(old["url"], str) and _can_parse_url(old["url"]):
            new["url"] = old["url"]
        if old.get("email") and isinstance(old["email"], str) and _is_email(old["email"]):
            new["email"] = old["email"]
        if new:
            data["bugs"] = new
        else:
            del data["bugs"]


def _git_head(path: str) -> str | None:
    current = os.path.abspath(path)
    while True:
        git_dir = os.path.join(current, ".git")
        if os.path.isdir(git_dir):
            break
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
    try:
        with open(os.path.join(git_dir, "HEAD"), encoding="utf-8") as handle:
            head = handle.read()
    except OSError:
        return None
    if not head.startswith("ref: "):
        return head.strip() or None
    ref = head[5:].strip()
    try:
        with open(os.path.join(git_dir, *ref.split("/")), encoding="utf-8") as handle:
            value = handle.read().replace("ref: ", "", 1).strip()
            if value:
                return value
    except OSError:
        pass
    try:
        with open(os.path.join(git_dir, "packed-refs"), encoding="utf-8") as handle:
            for line in handle:
                match = re.match(r"^([0-9a-f]{40}) (.+)$", line.rstrip("\n"))
                if match and match.group(2).strip() == ref:
                    return match.group(1)
    except OSError:
        pass
    return None
