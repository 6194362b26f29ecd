"""Editing the user npmrc: writing a token (mode 0600, atomically), removing one."""

from __future__ import annotations

import os

from pystage.config import nerf_dart

_CRED_SUFFIXES = ("_authToken", "_auth", "_password", "username", "email", "certfile", "keyfile")


def save_token_to_npmrc(path: str, registry: str, token: str) -> None:
    """Write ``//host/path/:_authToken=token`` to the npmrc at ``path`` (mode 0600), atomically.

    As npm's setCredentialsByURI: the token replaces the key's username/_password.
    """
    key = nerf_dart(registry)
    drop = {f"{key}:{s}" for s in ("_authToken", "_password", "username", "always-auth", "email")}
    _rewrite_npmrc(path, drop, [f"{key}:_authToken={token}"])


def save_scope_registry_to_npmrc(path: str, scope: str, registry: str) -> None:
    """Write ``@scope:registry=<registry>`` to the npmrc at ``path``, as npm login --scope."""
    key = f"{scope}:registry"
    _rewrite_npmrc(path, {key}, [f"{key}={registry}"])


def remove_credentials_from_npmrc(path: str, registry: str) -> bool:
    """Remove every credential key for the registry (a URL or a ``//`` key); True if any went."""
    key = registry if registry.startswith("//") else nerf_dart(registry)
    drop = {f"{key}:{s}" for s in _CRED_SUFFIXES}
    return _rewrite_npmrc(path, drop, [])


def _rewrite_npmrc(path: str, drop: set[str], add: list[str]) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        lines, mode = [], 0o600
    kept, removed = [], False
    for line in lines:
        stripped = line.strip()
        key = stripped.split("=", 1)[0].strip()
        if key in drop and not stripped.startswith((";", "#")):
            removed = True
            continue
        kept.append(line)
    if not add and not removed:
        return False
    kept.extend(add)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".npmrc.", dir=directory)
    try:
        # credentials in the file: never more open than 0600
        os.fchmod(fd, mode & 0o600 or 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(kept) + ("\n" if kept else ""))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return removed or bool(add)
