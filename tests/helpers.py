"""Helpers the test modules share, in one place. Test modules import them from here,
never from conftest, a fixtures_*.py plugin or another test module; the plugins
import them from here too.

- npm as the oracle: ``NPM``, ``NPM_VERSION``, ``requires_npm``, ``run_npm``,
  ``npm_pack_tarball`` (the ``npm_env`` fixture is in fixtures_npm.py);
- packages and npmrc files: ``make_package``, ``write_file``, ``write_npmrc``, ``make_tarball``,
  ``publish_document``, ``staged_item``, ``escaped``, ``tarball_of_manifest``;
- ``assert_clean_failure``: a pystage run that failed as the style asks;
- the embedded registry: ``start_registry`` / ``RegistryServer`` and ``User``
  (the ``registry_server`` fixture is in fixtures_registry.py);
- the team workflow on it: ``add_owner``, ``remove_owner``, ``set_policy``, ``approve``,
  ``events``, ``published_versions``, and ``Receiver`` (a webhook receiver);
- the team commands through the CLI: ``make_crew`` / ``Crew`` (maintainers' logins);
- the review page as a browser without JavaScript: ``WebClient``, ``csrf_of``;
- the registry client: ``make`` (a RegistryClient for a test registry, logged in
  with TOKEN, retries not sleeping), ``token_line``;
- ``StreamLines``: a subprocess's output read in a thread, to wait for a line;
  ``wait_until_blocked``: until a process waits in a system call (to signal it);
- ``RawServer``: a loopback socket server scripted byte for byte, for what only a
  real connection shows (framing, resets, trickles, proxies); ``closed_port``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import pytest

from pystage.config import load_config
from pystage.context import client_from_config
from pystage.otp import OtpHandler

# -- npm, the oracle -------------------------------------------------------------------

NPM = shutil.which("npm")


def _npm_version() -> tuple[int, ...] | None:
    npm = NPM
    if not npm:
        return None
    try:
        out = subprocess.run(
            [npm, "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "npm_config_userconfig": os.devnull},
        )
        return tuple(int(x) for x in out.stdout.strip().split(".")[:3])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


NPM_VERSION = _npm_version()


def requires_npm(minimum: tuple[int, ...] = (11,)):
    """Skip cleanly when the real npm (at least `minimum`) is not on PATH."""
    return pytest.mark.skipif(
        NPM_VERSION is None or NPM_VERSION < minimum,
        reason=f"needs npm >= {'.'.join(map(str, minimum))} on PATH",
    )


def run_npm(args, *, cwd, env, timeout=120):
    return subprocess.run(
        [NPM, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


# -- packages, tarballs, npmrc files ----------------------------------------------------


def npm_as(reg, user, tmp_path, *args, cwd=None) -> subprocess.CompletedProcess:
    """The real npm against the embedded registry ``reg``, logged in as ``user``, with a
    private cache and nothing that phones home."""
    npmrc = reg.write_npmrc(tmp_path / "npmrc", user)
    env = {
        **os.environ,
        "npm_config_userconfig": str(npmrc),
        "npm_config_cache": str(tmp_path / "npm-cache"),
        "npm_config_update_notifier": "false",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        ["npm", *args],
        cwd=cwd or tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def make_package(root, name="demo-pkg", version="1.0.0", files=None, **fields) -> str:
    """A package directory with package.json (name, version, fields) and files."""
    root.mkdir(parents=True, exist_ok=True)
    manifest = {"name": name, "version": version, **fields}
    (root / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for rel, text in (files if files is not None else {"index.js": "module.exports = 1\n"}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


def write_file(root, rel, content: str | bytes = "x\n", mode=0o644):
    """root/rel with ``content`` (text as UTF-8) and ``mode``; parent directories made."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    os.chmod(path, mode)
    return path


def write_npmrc(path, registry_url: str, token: str = "test-token") -> str:
    """An npmrc holding a token for registry_url (nerf-darted as npm keys it)."""
    nerf = "//" + registry_url.split("://", 1)[1]
    path.write_text(f"{nerf}:_authToken={token}\n")
    return str(path)


def npm_pack_tarball(pkg_dir, dest, env) -> str:
    """The real npm's tarball of pkg_dir, in dest."""
    out = run_npm(
        ["pack", "--json", "--ignore-scripts", "--pack-destination", dest], cwd=pkg_dir, env=env
    )
    assert out.returncode == 0, out.stderr
    return os.path.join(dest, json.loads(out.stdout)[0]["filename"])


def staged_item(name, version, *, stage_id=None, tag="latest", **extra) -> dict:
    return {
        "id": stage_id or str(uuid.uuid4()),
        "packageName": name,
        "version": version,
        "tag": tag,
        "createdAt": "2026-01-02T03:04:05.000Z",
        "actor": "alice",
        "actorType": "user",
        "access": None,
        "shasum": "0" * 40,
        **extra,
    }


# a stage id in the registry's format, for scripted registries
STAGE_ID = "0f3c2a4e-1111-4222-8333-944445555666"
# npm's fetch-retry-* waits cut to milliseconds, so a retried request costs no time
FAST_RETRIES = {
    "npm_config_fetch_retry_mintimeout": "50",
    "npm_config_fetch_retry_maxtimeout": "200",
}


def tarball_of_manifest(manifest: dict | str) -> bytes:
    """A gzip tarball holding only package/package.json with ``manifest`` (a dict, or
    text as it is, for broken ones)."""
    data = (manifest if isinstance(manifest, str) else json.dumps(manifest)).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        info = tarfile.TarInfo("package/package.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def assert_clean_failure(result, code=None, verbose=False):
    """A failed pystage run as the style asks: non-zero, no traceback (unless -v), not
    EUNKNOWN, and ``pystage error CODE:`` when a code is given."""
    assert result.returncode != 0
    assert verbose or "Traceback" not in result.stderr
    assert "EUNKNOWN" not in result.stderr, result.stderr
    if code:
        assert f"pystage error {code}:" in result.stderr, result.stderr


# -- the embedded registry -------------------------------------------------------------

TOTP_PERIOD = 30


@dataclass(frozen=True)
class User:
    name: str
    password: str
    token: str
    totp_secret: str | None = None
    # "auth-only" accounts send no code with a publish (so helpers spend none on it);
    # None: unknown, treated as "auth-and-writes"
    tfa_mode: str | None = None


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
        user = User(user.name, user.password, user.token, secret, mode)
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
        if otp is None and user.totp_secret and user.tfa_mode != "auth-only":
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


# -- the team workflow on the embedded registry, over real HTTP -------------------------


def add_owner(reg, by, name: str, package: str, otp: str | None = None):
    """What ``npm owner add`` sends: read the packument, PUT the longer list to -rev."""
    doc = reg.request("GET", escaped(package), by).json()
    maintainers = [*doc["maintainers"], {"name": name, "email": f"{name}@example.com"}]
    return _put_owners(reg, by, package, doc, maintainers, otp)


def remove_owner(reg, by, name: str, package: str, otp: str | None = None):
    doc = reg.request("GET", escaped(package), by).json()
    maintainers = [m for m in doc["maintainers"] if m["name"] != name]
    return _put_owners(reg, by, package, doc, maintainers, otp)


def _put_owners(reg, by, package, doc, maintainers, otp):
    if otp is None and by.totp_secret:
        otp = reg.totp_code(by)
    return reg.request(
        "PUT",
        f"{escaped(package)}/-rev/{quote(doc['_rev'], safe='')}",
        by,
        otp=otp,
        json={"_id": doc["_id"], "_rev": doc["_rev"], "maintainers": maintainers},
    )


def set_policy(reg, by, package: str, otp: str | None = None, **body):
    """PUT the policy (``approvers=``, ``expireAfter=``) with ``by``'s next code."""
    if otp is None and by.totp_secret:
        otp = reg.totp_code(by)
    return reg.request("PUT", f"-/pystage/policy/{escaped(package)}", by, otp=otp, json=body)


def approve(reg, by, stage_id: str, otp: str | None = None):
    if otp is None and by.totp_secret:
        otp = reg.totp_code(by)
    return reg.request("POST", f"-/stage/{stage_id}/approve", by, otp=otp)


def events(reg, by, package: str | None = None, **params) -> list[dict]:
    query = {**({"package": package} if package else {}), **params}
    response = reg.request("GET", "-/pystage/history", by, params=query)
    assert response.status_code == 200, response.text
    return response.json()["events"]


def published_versions(reg, package: str) -> set[str]:
    response = reg.request("GET", escaped(package))
    return set(response.json()["versions"]) if response.status_code == 200 else set()


class Receiver:
    """A loopback webhook receiver: records each POSTed JSON body; answers ``status``."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[dict] = []
        self.attempts = 0
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._cond:
                    receiver.attempts += 1
                    if receiver.status < 300:
                        receiver.received.append(json.loads(body))
                    receiver._cond.notify_all()
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook?secret=s3cr3t"
        # a short poll: shutdown() waits for the next one (the default 0.5 s cost each test
        # with a test server half a second; tests/fixtures_*.py poll as often)
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def wait_for(self, predicate, timeout: float = 15) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- subprocesses ----------------------------------------------------------------------


class StreamLines:
    """A subprocess's text stream read line by line in a thread, so a test can wait (with
    a timeout) for the line that shows the process has got somewhere, instead of
    sleeping, and still see the whole output at the end."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._ended = False
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        try:
            for line in stream:
                with self._cond:
                    self.lines.append(line)
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> bool:
        """True once a line holding ``text`` has been read; False at the timeout or at
        the end of the stream without one."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._ended or any(text in line for line in self.lines), timeout
            ) and any(text in line for line in self.lines)

    def text(self, timeout: float = 60) -> str:
        """Everything read, once the stream has ended (the process closed it)."""
        with self._cond:
            assert self._cond.wait_for(lambda: self._ended, timeout), "the stream never ended"
            return "".join(self.lines)


def wait_until_blocked(pid: int, timeout: float = 60) -> None:
    """Wait until process ``pid``'s main thread sleeps in a system call (reading the
    terminal, waiting on a socket), so that a signal sent now interrupts that call.

    Seeing a prompt (or a request) is not enough: CPython acts on a signal between
    bytecodes, and one that arrives after the last check but before the blocking call
    starts is handled only when the call returns, which at a prompt or with a silent
    server is never (the Ctrl-C at the username prompt was lost in 9 runs of 25)."""
    syscall, stat = f"/proc/{pid}/syscall", f"/proc/{pid}/stat"
    if not os.path.exists(syscall):
        pytest.skip("needs Linux /proc/PID/syscall to see when the process waits")
    deadline = time.monotonic() + timeout
    while True:
        with open(stat) as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        with open(syscall) as fh:
            call = fh.read().split()
        if state == "S" and call and call[0] not in ("running", "-1"):
            return
        assert time.monotonic() < deadline, f"process {pid} never waited (state {state})"
        time.sleep(0.005)


# -- the review page over plain HTTP, as a browser without JavaScript ------------------

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


class WebClient:
    """One browser: its own cookie jar, no redirects followed unless asked."""

    def __init__(self, server) -> None:
        import requests

        self.server = server
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return self.server.url + "-/web/" + path.lstrip("/")

    def get(self, path: str, **kwargs):
        return self.http.get(self.url(path), allow_redirects=False, timeout=30, **kwargs)

    def post(self, path: str, data: dict, **kwargs):
        return self.http.post(
            self.url(path), data=data, allow_redirects=False, timeout=30, **kwargs
        )

    def sign_in(self, user, otp: str | None = None, password: str | None = None):
        form = self.get("signin")
        data = {
            "csrf": csrf_of(form.text),
            "name": user.name,
            "password": user.password if password is None else password,
            "next": "/-/web/",
        }
        if otp is not None:
            data["otp"] = otp
        return self.post("signin", data)

    def signed_in(self, user):
        answer = self.sign_in(user, self.server.totp_code(user) if user.totp_secret else None)
        assert answer.status_code == 303, answer.text
        return self

    def form_token(self, path: str) -> str:
        page = self.get(path)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)


# -- the team commands through the CLI ---------------------------------------------


class Crew:
    def __init__(self, reg, home: Path) -> None:
        self.reg = reg
        self.home = home
        self.url = reg.url
        self.npmrcs: dict[str, Path] = {}

    def login(self, user) -> None:
        """Give ``user`` an npmrc of its own (its token for this registry)."""
        self.npmrcs[user.name] = self.reg.write_npmrc(self.home / f"{user.name}.npmrc", user)

    def env(self, user, **extra) -> dict:
        return {
            **os.environ,
            "NO_COLOR": "1",
            "HOME": str(self.home),
            "npm_config_userconfig": str(self.npmrcs[user.name]),
            **extra,
        }

    def args(self, user, *args) -> list[str]:
        return [sys.executable, "-m", "pystage", *map(str, args), "--registry", self.url]

    def run(self, user, *args, cwd=None, input=None, timeout=120, **env):
        return subprocess.run(
            self.args(user, *args),
            cwd=cwd or self.home,
            env=self.env(user, **env),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, user, *args, cwd=None, **env) -> subprocess.Popen:
        return subprocess.Popen(
            self.args(user, *args),
            cwd=cwd or self.home,
            env=self.env(user, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def code(self, user) -> str:
        return self.reg.totp_code(user)


def make_crew(tmp_path, reg, before_2fa=None) -> Crew:
    """``before_2fa(crew)`` runs while alice has no second factor yet: set-up that would
    otherwise spend her codes (each user has about three per 30 s)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    crew = Crew(reg, home)
    crew.alice = reg.add_user("alice")
    reg.publish(crew.alice, "pkg", "1.0.0")
    crew.bob = reg.add_user("bob", tfa=True)
    crew.carol = reg.add_user("carol")
    for user in (crew.alice, crew.bob, crew.carol):
        crew.login(user)
    if before_2fa is not None:
        before_2fa(crew)
    crew.alice = reg.enrol_2fa(crew.alice)  # the same token: her npmrc stays
    return crew


# -- the registry client and raw sockets ------------------------------------------------

TOKEN = "npm_" + "A" * 36
_TOKEN_LINE = object()


def token_line(registry: str) -> str:
    return f"{registry.split(':', 1)[1]}:_authToken={TOKEN}\n"  # //127.0.0.1:PORT/


def make(
    tmp_path,
    registry,
    npmrc=_TOKEN_LINE,
    otp=None,
    prompt=None,
    interactive=False,
    log=None,
    env=None,
    **cli,
):
    """A client for ``registry`` (a scripted server's url), logged in with TOKEN unless
    ``npmrc`` says otherwise; retries never sleep."""
    rc = tmp_path / "npmrc"
    rc.write_text(token_line(registry) if npmrc is _TOKEN_LINE else npmrc)
    config = load_config(
        cwd=tmp_path,
        env={"HOME": str(tmp_path), **(env or {})},
        cli={
            "registry": registry,
            "userconfig": str(rc),
            "globalconfig": str(tmp_path / "g"),
            **cli,
        },
    )
    handler = OtpHandler(
        registry=registry,
        given=otp,
        interactive=interactive,
        env={},
        prompt=prompt,
        notify=lambda m: None,
        opener=lambda u: None,
        use_stored_secret=False,
        sleep=lambda s: None,
    )
    client = client_from_config(config, otp=otp, otp_handler=handler, log=log, use_keyring=False)
    client.sleep = lambda s: None
    return client


class RawServer:
    """Accepts connections; ``handler(conn, reader, n)`` scripts each one (n counts them)."""

    def __init__(self, handler) -> None:
        self.handler = handler
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.requests: list[tuple[bytes, dict[str, str], bytes]] = []
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            th = threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True)
            th.start()
            self._threads.append(th)

    def _serve(self, conn, n) -> None:
        with conn, conn.makefile("rb") as reader:
            try:
                self.handler(conn, reader, n, self)
            except OSError:
                pass

    def read_request(self, reader):
        """One request: (request line, headers, body by Content-Length or chunked)."""
        line = reader.readline()
        if not line:
            return None
        headers = {}
        while (h := reader.readline()) not in (b"\r\n", b""):
            name, _, value = h.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if "content-length" in headers:
            body = reader.read(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            while size := int(reader.readline().strip(), 16):
                body += reader.read(size)
                reader.readline()
            reader.readline()
        self.requests.append((line.rstrip(), headers, body))
        return line, headers, body

    def close(self) -> None:
        self.sock.close()


def answer(status=200, body=b"", headers=()):
    head = [f"HTTP/1.1 {status} OK", f"content-length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def keep_alive(*answers):
    """A handler answering every request on a connection, in turn, with ``answers``."""

    def handler(conn, reader, n, server):
        for reply in answers:
            if server.read_request(reader) is None:
                return
            conn.sendall(reply)

    return handler


def closed_port() -> int:
    """A loopback port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def self_signed_cert(directory, name: str = "registry", common_name: str | None = None):
    """A certificate for 127.0.0.1 that is its own CA, and its key: (cert path, key path)
    as ``directory/name.pem`` and ``directory/name.key``."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pkey = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name or name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    built = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(pkey.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(pkey, hashes.SHA256())
    )
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    cert.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        pkey.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key
