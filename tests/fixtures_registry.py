"""A real embedded registry for end-to-end tests (and scripts: see ``start_registry``).

``registry_server`` starts ``python -m pystage registry serve`` as a subprocess on
a free port with its own storage, waits for ``/-/ping``, and offers helpers to
create users (optionally with TOTP two-factor), produce fresh one-time
passwords, publish and stage packages over HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest

TOTP_PERIOD = 30


@dataclass(frozen=True)
class User:
    name: str
    password: str
    token: str
    totp_secret: str | None = None


def make_tarball(
    name: str,
    version: str,
    files: dict[str, str | bytes] | None = None,
    manifest: dict | None = None,
) -> bytes:
    """A gzip tarball as npm packs it: ``package/`` prefix, package.json first."""
    package_json = {"name": name, "version": version, **(manifest or {})}
    entries = {"package.json": json.dumps(package_json, indent=2) + "\n", **(files or {})}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for path, content in entries.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo("package/" + path)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 499162500
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def publish_document(
    registry_url: str,
    name: str,
    version: str,
    tarball: bytes,
    tag: str = "latest",
    access: str | None = None,
    manifest: dict | None = None,
) -> dict:
    """The body npm PUTs (or POSTs to /-/stage/package/...) for ``tarball``."""
    file_name = f"{name}-{version}.tgz"
    sha512 = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    version_manifest = {
        "name": name,
        "version": version,
        **(manifest or {}),
        "_id": f"{name}@{version}",
        "readme": "ERROR: No README data found!",
        "dist": {
            "integrity": f"sha512-{sha512}",
            "shasum": hashlib.sha1(tarball).hexdigest(),
            "tarball": f"{registry_url}{name}/-/{file_name}",
        },
    }
    return {
        "_id": name,
        "name": name,
        "dist-tags": {tag: version},
        "versions": {version: version_manifest},
        "access": access,
        "_attachments": {
            file_name: {
                "content_type": "application/octet-stream",
                "data": base64.b64encode(tarball).decode(),
                "length": len(tarball),
            }
        },
    }


def escaped(name: str) -> str:
    return quote(name, safe="@")


class RegistryServer:
    """A running ``pystage registry serve`` subprocess and helpers to drive it."""

    def __init__(
        self,
        storage: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        open_registration: bool = True,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> None:
        import requests

        self.storage = Path(storage)
        self.host = host
        self.port = port
        self.open_registration = open_registration
        self.extra_args = tuple(extra_args)
        self.env = dict(env or {})
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.log_path = self.storage.parent / f"{self.storage.name}.log"
        self.http = requests.Session()
        self._used_steps: dict[str, set[int]] = {}
        self._start()

    # -- process -------------------------------------------------------------
    def _start(self, env: dict[str, str] | None = None) -> None:
        self.storage.mkdir(parents=True, exist_ok=True)
        args = [
            sys.executable,
            "-m",
            "pystage",
            "registry",
            "serve",
            "--listen",
            f"{self.host}:{self.port}",
            "--storage",
            str(self.storage),
            *(["--open-registration"] if self.open_registration else []),
            *self.extra_args,
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        offset = log.tell()
        full_env = {**os.environ, **self.env, **(env or {})}
        self.process = subprocess.Popen(
            args, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=full_env
        )
        log.close()
        deadline = time.monotonic() + self.timeout
        while True:
            match = re.search(r"listening on (http://\S+/)", self.log_text(offset))
            if match:
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"registry did not start:\n{self.log_text(offset)}")
            time.sleep(0.05)
        self.url = match.group(1)
        self.port = int(urlparse(self.url).port)
        while True:
            try:
                if self.http.get(self.url + "-/ping", timeout=2).status_code == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"registry never answered /-/ping:\n{self.log_text(offset)}")
            time.sleep(0.05)

    def log_text(self, offset: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.http.close()

    def kill(self) -> None:
        """SIGKILL: no clean-up, as after a crash or power cut."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self, env: dict[str, str] | None = None) -> None:
        """Stop (if running) and start again on the same port and storage."""
        self.stop()
        self._start(env)

    # -- HTTP ----------------------------------------------------------------
    def request(
        self, method: str, path: str, user: User | None = None, otp: str | None = None, **kwargs
    ):
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers["authorization"] = f"Bearer {user.token}"
        if otp is not None:
            headers["npm-otp"] = otp
        return self.http.request(
            method,
            self.url + path.lstrip("/"),
            headers=headers,
            timeout=kwargs.pop("timeout", 60),
            **kwargs,
        )

    def add_user(
        self, name: str = "alice", password: str = "correct horse", tfa: bool | str = False
    ) -> User:
        """Create a user; with ``tfa`` (True or a mode) also enrol TOTP two-factor."""
        response = self.request(
            "PUT",
            f"-/user/org.couchdb.user:{name}",
            json={
                "_id": f"org.couchdb.user:{name}",
                "name": name,
                "password": password,
                "email": f"{name}@example.com",
                "type": "user",
                "roles": [],
                "date": "2024-01-01T00:00:00Z",
            },
        )
        response.raise_for_status()
        user = User(name, password, response.json()["token"])
        if not tfa:
            return user
        return self.enrol_2fa(user, tfa if isinstance(tfa, str) else "auth-and-writes")

    def enrol_2fa(self, user: User, mode: str = "auth-and-writes") -> User:
        """Enrol TOTP two-factor as npm profile enable-2fa does; returns the user with its secret."""
        response = self.request(
            "POST", "-/npm/v1/user", user, json={"tfa": {"mode": mode, "password": user.password}}
        )
        response.raise_for_status()
        secret = parse_qs(urlparse(response.json()["tfa"]).query)["secret"][0]
        user = User(user.name, user.password, user.token, secret)
        response = self.request("POST", "-/npm/v1/user", user, json={"tfa": [self.totp_code(user)]})
        response.raise_for_status()
        return user

    def totp_code(self, user: User) -> str:
        """A code the server has not yet accepted (it takes the adjacent steps too)."""
        import pyotp

        totp = pyotp.TOTP(user.totp_secret, interval=TOTP_PERIOD)
        used = self._used_steps.setdefault(user.name, set())
        while True:
            now = time.time()
            current = int(now // TOTP_PERIOD)
            left = TOTP_PERIOD - now % TOTP_PERIOD
            # The previous step expires first, so spend it first while it is safe.
            candidates = ([current - 1] if left > 3 else []) + [current, current + 1]
            for step in candidates:
                if step not in used:
                    used.add(step)
                    return totp.at(step * TOTP_PERIOD)
            time.sleep(left + 0.05)

    def publish(
        self,
        user: User,
        name: str,
        version: str,
        files: dict | None = None,
        tag: str = "latest",
        manifest: dict | None = None,
        otp: str | None = None,
    ):
        """A normal ``PUT /<name>`` publish; returns the response (raises on failure)."""
        tarball = make_tarball(name, version, files, manifest)
        if otp is None and user.totp_secret:
            otp = self.totp_code(user)
        response = self.request(
            "PUT",
            escaped(name),
            user,
            otp=otp,
            json=publish_document(self.url, name, version, tarball, tag, manifest=manifest),
        )
        response.raise_for_status()
        return response

    def stage(
        self,
        user: User,
        name: str,
        version: str,
        files: dict | None = None,
        tag: str = "latest",
        manifest: dict | None = None,
        message: str | None = None,
    ) -> str:
        """Stage a version over HTTP; returns its stage id (raises on failure).
        ``message``: the note for the reviewer, sent as pystage publish -m sends it."""
        tarball = make_tarball(name, version, files, manifest)
        headers = {"pystage-stage-message": quote(message, safe="")} if message else {}
        response = self.request(
            "POST",
            f"-/stage/package/{escaped(name)}",
            user,
            headers=headers,
            json=publish_document(self.url, name, version, tarball, tag, manifest=manifest),
        )
        response.raise_for_status()
        return response.json()["stageId"]

    def write_npmrc(self, path: Path, user: User | None = None) -> Path:
        """An npmrc pointing npm at this registry, logged in as ``user``."""
        lines = [f"registry={self.url}"]
        if user is not None:
            lines.append(f"//{urlparse(self.url).netloc}/:_authToken={user.token}")
        Path(path).write_text("\n".join(lines) + "\n")
        return Path(path)


def start_registry(storage_dir, **options) -> RegistryServer:
    """Start a registry outside pytest (demo, benchmarks). Call ``.stop()`` when done.

    Options: host, port (0: a free one), open_registration (default True),
    extra_args (more ``serve`` flags), env (extra environment), timeout.
    """
    return RegistryServer(Path(storage_dir), **options)


@pytest.fixture
def registry_server(tmp_path):
    server = start_registry(tmp_path / "registry")
    try:
        yield server
    finally:
        server.stop()
