"""What the registry accepts as a package name, a version, a dist-tag and a user name.

Every pattern is applied with ``fullmatch``: ``re.match`` with ``$`` also accepts a
string ending in ``\n`` ("1.1.0\n" as a version key, "alice\n" as a user name), which
is how a look-alike account or a ``latest`` no installer can resolve gets in.
"""

from __future__ import annotations

import re

# npm's rules for new package names (validate-npm-package-name): lowercase,
# URL-safe, none of ~'!()* after the scope, no leading dot (nor hyphen or
# underscore when unscoped: after a scope both are fine), at most 214
# characters, optional scope.
_NAME = re.compile(r"(?:@([a-z0-9-~][a-z0-9-._~]*)/)?([a-z0-9-_][a-z0-9-._]*)")
_RESERVED = {"node_modules", "favicon.ico"}
# Node.js built-in module names: npm no longer accepts them as new unscoped names.
_NODE_BUILTINS = frozenset(
    "assert async_hooks buffer child_process cluster console constants crypto dgram "
    "diagnostics_channel dns domain events fs http http2 https inspector module net os "
    "path perf_hooks process punycode querystring readline repl stream string_decoder "
    "sys timers tls trace_events tty url util v8 vm wasi worker_threads zlib".split()
)

# semver.org's official regular expression (no leading "v", no "=").
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?",
    re.ASCII,  # \d would otherwise take any Unicode digit ("١.٠.٠")
)

_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# A tag that could be read as a version or range would make `npm install name@tag`
# ambiguous; npm refuses those on the client, and so does the registry.
_RANGE_LIKE = re.compile(r"[vV=<>~^]|\d|[xX*]\Z", re.ASCII)

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,213}")


def name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid package name, or None when it is."""
    if not isinstance(name, str) or not name:
        return "package name must be a non-empty string"
    if len(name) > 214:
        return "package name must be at most 214 characters"
    match = _NAME.fullmatch(name)
    if not match or name.startswith(("-", "_")):
        return (
            f'invalid package name "{name}": use lowercase letters, digits and '
            "- . _, optionally with an @scope/ prefix, and no leading . (nor _ or - unscoped)"
        )
    if match.group(2) in _RESERVED:
        return f'invalid package name "{name}": {match.group(2)} is reserved'
    if name in _NODE_BUILTINS:
        return f'invalid package name "{name}": it is a Node.js core module name'
    return None


def is_valid_version(version: object) -> bool:
    return isinstance(version, str) and len(version) <= 256 and bool(_SEMVER.fullmatch(version))


def tag_problem(tag: object) -> str | None:
    if not isinstance(tag, str) or not _TAG.fullmatch(tag) or len(tag) > 128:
        return f"invalid dist-tag {tag!r}: use letters, digits, - . _"
    if _RANGE_LIKE.match(tag):
        return f'invalid dist-tag "{tag}": a tag must not look like a version or range'
    return None


def is_valid_username(name: object) -> bool:
    return isinstance(name, str) and bool(_USERNAME.fullmatch(name))


def tarball_basename(name: str) -> str:
    """``@scope/pkg`` -> ``pkg``: the file name part npmjs uses in tarball URLs."""
    return name.rsplit("/", 1)[-1]
