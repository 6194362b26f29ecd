"""Settings of the embedded registry, and where it keeps its data by default."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4873
DEFAULT_MAX_BODY = 512 * 1024 * 1024


@dataclass(frozen=True)
class RegistryConfig:
    storage: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_url: str | None = None  # e.g. "https://npm.example.com/"; None: the address used
    open_registration: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_json_bytes: int = 1024 * 1024  # small bodies: login, profile, dist-tags
    # Lockout (docs/security.md): wrong one-time passwords in a row through one
    # credential (a token, or a password from one address) lock that credential;
    # through all of them together, the account; both for otp_lockout_seconds.
    otp_max_failures: int = 5
    otp_account_max_failures: int = 20
    otp_lockout_seconds: int = 300
    # Password guesses allowed per account and per client address in the window.
    password_max_failures: int = 10
    password_max_failures_per_address: int = 30
    password_window_seconds: int = 900
    access_log: bool = False
    web_auth: bool = False  # npm's browser flows: web login and web one-time passwords
    notify_urls: tuple[str, ...] = ()  # webhooks POSTed a JSON event per history event
    expiry_sweep_seconds: float = 10.0  # how often staged versions past their expiry are discarded
    web_page: bool = True  # the review page under /-/web/ (registry serve --no-web: off)

    @property
    def db_path(self) -> Path:
        return self.storage / "registry.db"

    @property
    def tarball_dir(self) -> Path:
        return self.storage / "tarballs"

    @property
    def tmp_dir(self) -> Path:
        return self.storage / "tmp"


def default_storage_dir() -> Path:
    """The per-user data directory: XDG on Linux, the platform's own elsewhere."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "pystage" / "registry"


def parse_size(text: str) -> int:
    """'512MB', '1GiB', '1048576' -> bytes."""
    units = {
        "": 1,
        "b": 1,
        "k": 1024,
        "kb": 1024,
        "kib": 1024,
        "m": 1024**2,
        "mb": 1024**2,
        "mib": 1024**2,
        "g": 1024**3,
        "gb": 1024**3,
        "gib": 1024**3,
    }
    cleaned = text.strip().lower()
    number = cleaned.rstrip("kmgib")
    unit = cleaned[len(number) :]
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a size: {text!r}") from None
    if unit not in units or value <= 0:
        raise ValueError(f"not a size: {text!r}")
    return int(value * units[unit])


def parse_listen(text: str) -> tuple[str, int]:
    """'127.0.0.1:4873', '[::1]:4873', ':4873', '4873' -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or DEFAULT_HOST
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"not a host:port address: {text!r}") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"port out of range: {text!r}")
    return host, number
