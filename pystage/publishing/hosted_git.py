"""A small port of hosted-git-info for GitHub, GitLab and Bitbucket.

npm rewrites ``repository.url``, fills ``bugs`` and ``homepage`` and
normalizes git dependencies from it when publishing; the publish document
must carry the same strings. Gist and Sourcehut URLs are left as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

_HOSTS: dict[str, dict[str, Any]] = {
    "github": {
        "domain": "github.com",
        "treepath": "tree",
        "protocols": ("git:", "http:", "git+ssh:", "git+https:", "ssh:", "https:"),
    },
    "bitbucket": {
        "domain": "bitbucket.org",
        "treepath": "src",
        "protocols": ("git+ssh:", "git+https:", "ssh:", "https:"),
    },
    "gitlab": {
        "domain": "gitlab.com",
        "treepath": "tree",
        "protocols": ("git+ssh:", "git+https:", "ssh:", "https:"),
    },
}
_BY_DOMAIN = {h["domain"]: name for name, h in _HOSTS.items()}
# protocol -> default representation name ("auth" protocols keep user:password)
_PROTOCOLS = {
    "git+ssh:": "sshurl",
    "ssh:": "sshurl",
    "git+https:": "https",
    "git:": "git",
    "http:": "http",
    "https:": "https",
    "git+http:": "git+http",
}
_KNOWN_PROTOCOLS = set(_PROTOCOLS) | {f"{name}:" for name in _HOSTS} | {"gist:", "sourcehut:"}


@dataclass(frozen=True)
class GitHost:
    type: str
    user: str | None
    project: str
    committish: str | None
    auth: str | None
    default: str

    @property
    def domain(self) -> str:
        return _HOSTS[self.type]["domain"]

    def _hash(self) -> str:
        return f"#{self.committish}" if self.committish else ""

    def https(self) -> str:
        auth = f"{self.auth}@" if self.auth else ""
        return f"git+https://{auth}{self.domain}/{self.user}/{self.project}.git{self._hash()}"

    def sshurl(self) -> str:
        return f"git+ssh://git@{self.domain}/{self.user}/{self.project}.git{self._hash()}"

    def ssh(self) -> str:
        return f"git@{self.domain}:{self.user}/{self.project}.git{self._hash()}"

    def git(self) -> str | None:
        if self.type != "github":
            return None
        auth = f"{self.auth}@" if self.auth else ""
        return f"git://{auth}{self.domain}/{self.user}/{self.project}.git{self._hash()}"

    def shortcut(self) -> str:
        return f"{self.type}:{self.user}/{self.project}{self._hash()}"

    def bugs(self) -> str:
        return f"https://{self.domain}/{self.user}/{self.project}/issues"

    def docs(self) -> str:
        tree = ""
        if self.committish:
            from urllib.parse import quote

            tree = f"/{_HOSTS[self.type]['treepath']}/{quote(self.committish, safe='')}"
        return f"https://{self.domain}/{self.user}/{self.project}{tree}#readme"

    def __str__(self) -> str:
        method = (
            getattr(self, self.default, None)
            if self.default in ("https", "sshurl", "ssh", "git", "shortcut")
            else None
        )
        result = method() if method else None
        return result if result else self.sshurl()


def _is_github_shorthand(arg: str) -> bool:
    first_hash = arg.find("#")
    first_slash = arg.find("/")
    second_slash = arg.find("/", first_slash + 1)
    first_colon = arg.find(":")
    space = re.search(r"\s", arg)
    first_at = arg.find("@")

    def only_after_hash(index: int) -> bool:
        return index == -1 or (first_hash > -1 and index > first_hash)

    ends_ok = arg[first_hash - 1] != "/" if first_hash > -1 else not arg.endswith("/")
    return (
        only_after_hash(space.start() if space else -1)
        and first_slash > 0
        and ends_ok
        and not arg.startswith(".")
        and only_after_hash(first_at)
        and only_after_hash(first_colon)
        and only_after_hash(second_slash)
    )


def _last_index_before(text: str, char: str, before: str) -> int:
    stop = text.find(before)
    return text.rfind(char, 0, stop if stop > -1 else len(text))


def _correct_protocol(arg: str) -> str:
    colon = arg.find(":")
    if arg[: colon + 1] in _KNOWN_PROTOCOLS or arg[colon : colon + 3] == "://":
        return arg
    at = arg.find("@")
    if at > -1:
        return f"git+ssh://{arg}" if at > colon else arg
    return f"{arg[: colon + 1]}//{arg[colon + 1 :]}"


def _correct_url(url: str) -> str:
    at = _last_index_before(url, "@", "#")
    colon = _last_index_before(url, ":", "#")
    if colon > at:
        url = url[:colon] + "/" + url[colon + 1 :]
    if _last_index_before(url, ":", "#") == -1 and "//" not in url:
        url = f"git+ssh://{url}"
    return url


def _parse(url: str):
    """Return (protocol, hostname, username, password, path, fragment) or None."""
    for candidate in (url, _correct_url(url)):
        match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*:)(.*)$", candidate)
        if not match:
            continue
        try:
            parts = urlsplit(candidate)
            hostname = parts.hostname or ""
            return (
                match.group(1).lower(),
                hostname,
                parts.username,
                parts.password,
                parts.path,
                parts.fragment,
                candidate,
            )
        except ValueError:
            continue
    return None


def from_url(giturl: object) -> GitHost | None:
    if not isinstance(giturl, str) or not giturl:
        return None
    corrected = f"github:{giturl}" if _is_github_shorthand(giturl) else giturl
    parsed = _parse(_correct_protocol(corrected))
    if not parsed:
        return None
    protocol, hostname, username, password, path, fragment, raw = parsed
    shortcut = protocol[:-1] if protocol[:-1] in _HOSTS else None
    if hostname.startswith("www."):
        hostname = hostname[4:]
    host_type = shortcut or _BY_DOMAIN.get(hostname)
    if not host_type:
        return None
    try:
        if shortcut:
            # for "github:user/repo" the whole rest is the path, without a host
            rest = raw.split(":", 1)[1].lstrip("/").split("#", 1)[0]
            rest = rest[rest.find("@") + 1 :] if "@" in rest else rest
            user, _, project = rest.rpartition("/")
            user = unquote(user, errors="strict") or None
            project = unquote(project, errors="strict")
            if project.endswith(".git"):
                project = project[:-4]
            committish = unquote(fragment, errors="strict") or None
            auth, default = None, "shortcut"
        else:
            if protocol not in _HOSTS[host_type]["protocols"]:
                return None
            segments = _extract(host_type, path, fragment)
            if not segments:
                return None
            user, project, committish = (unquote(s, errors="strict") if s else s for s in segments)
            auth = None
            if protocol in ("git+https:", "git:", "http:", "https:", "git+http:") and (
                username or password
            ):
                auth = f"{username or ''}{':' + password if password else ''}"
            default = _PROTOCOLS.get(protocol, protocol[:-1])
    except UnicodeDecodeError:
        return None
    if not project:
        return None
    return GitHost(host_type, user, project, committish or None, auth, default)


def _extract(host_type: str, path: str, fragment: str):
    if host_type == "gitlab":
        path = path[1:]
        if "/-/" in path or "/archive.tar.gz" in path:
            return None
        *user_parts, project = path.split("/")
        user = "/".join(user_parts)
    else:
        parts = path.split("/")
        user = parts[1] if len(parts) > 1 else ""
        project = parts[2] if len(parts) > 2 else ""
        aux = parts[3] if len(parts) > 3 else ""
        if host_type == "github":
            if aux and aux != "tree":
                return None
            fragment = fragment if not aux else (parts[4] if len(parts) > 4 else "")
        elif aux == "get":
            return None
    if project.endswith(".git"):
        project = project[:-4]
    if not user or not project:
        return None
    return user, project, fragment
