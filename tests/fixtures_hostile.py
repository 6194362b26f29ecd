"""Hostile registries for the client's tests: small loopback HTTP servers that answer
what an attacker controlling a registry (or a broken one) would send.

``HostileRegistry`` is a plain ``http.server`` thread answering from a table of
routes; a route may also write raw bytes (``Raw``: trickles, endless bodies,
malformed framing). The ``hostile`` fixture points the real ``python -m pystage``
at one, logged in with TOKEN, and checks every result for the promises all
cases share (``assert_safe``): no traceback (but with ``-v``), nothing a
terminal acts on, no secret, one error line, no file outside the work directory.
``run_at_terminal`` runs pystage on a pseudo-terminal, for what only a terminal
user sees (prompts, the web authentication URL).
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import socket
import ssl
import subprocess
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import self_signed_cert

from pystage.otp import CI_VARS as CI_VARIABLES  # what pystage reads to tell CI apart

SID = "0f3c2a4e-1111-4222-8333-944445555666"
SID2 = "1f3c2a4e-1111-4222-8333-944445555666"
TOKEN = "npm_Secr3tT0kenSecr3tT0kenSecr3tT0ken12"  # npm's token shape, 40 characters
OTP = "123456"
# what a terminal acts on: ESC, CSI as one byte, BEL, CR, backspace, bidi overrides/isolates
TERMINAL_ACTIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
OSC8 = "\x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
NASTY = f"a\x1b[2J\x1b[1;1Hb\rc\x07\x08\u202eevil\u2066{OSC8}\x9b31m"
MARKUP = "github-actions[bot] [link=http://evil.example/]click[/link] [bold red]x[/] :smile:"


# -- the hostile registry -----------------------------------------------------------


class Request:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.target = target
        parts = urlsplit(target)
        self.path = parts.path
        self.query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.headers = headers
        self.body = body


def answer(status=200, body=b"", headers=None, *, json_body=None):
    """One answer: ``json_body`` is serialised (application/json), ``body`` sent as it is."""
    head = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        head.setdefault("content-type", "application/json")
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    head.setdefault("content-type", "application/octet-stream")
    return status, head, body


class Raw:
    """A route that writes the answer itself: ``write(wfile, stop)`` sends bytes as it
    likes (a trickle, an endless body, broken framing) until ``stop`` (an Event set
    when the server stops) or the client goes away; the connection is then closed."""

    def __init__(self, write) -> None:
        self.write = write


def trickle(head: bytes, byte: bytes = b" ", every: float = 0.1) -> Raw:
    """``head``, then ``byte`` every ``every`` seconds, forever."""

    def write(wfile, stop):
        wfile.write(head)
        wfile.flush()
        while not stop.wait(every):
            wfile.write(byte)
            wfile.flush()

    return Raw(write)


def endless(head: bytes, piece: bytes) -> Raw:
    """``head``, then ``piece`` again and again as fast as the client reads."""

    def write(wfile, stop):
        wfile.write(head)
        while not stop.is_set():
            wfile.write(piece)

    return Raw(write)


class HostileRegistry:
    """A loopback HTTP server answering ``routes[(METHOD, path)]``: an ``answer(...)``
    tuple, a ``Raw`` writer, or a callable of the Request returning either; anything
    else is a 404."""

    def __init__(self, host="127.0.0.1", tls=None):
        """``tls``: an ssl server context; the port then speaks TLS to a client that
        starts a TLS handshake and plain HTTP to one that does not (so that
        ``https://host:port/`` and ``http://host:port/`` are the same host and port,
        as ``https://r.example/`` and ``http://r.example/`` are to npm's nerf-darts)."""
        self.routes: dict = {}
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                owner.requests.append(req)
                route = owner.routes.get((req.method, req.path))
                if route is None:
                    route = answer(404, json_body={"error": "not found"})
                route = route(req) if callable(route) else route
                if isinstance(route, Raw):
                    self.close_connection = True
                    try:
                        route.write(self.wfile, owner.stopping)
                    except OSError:  # the client gave up: what a trickle is for
                        pass
                    return
                status, headers, payload = route
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                conn, address = super().get_request()
                if tls is not None:
                    conn.settimeout(5)
                    try:
                        first = conn.recv(1, socket.MSG_PEEK)
                        if first == b"\x16":  # a TLS ClientHello
                            conn = tls.wrap_socket(conn, server_side=True)
                    except (OSError, ssl.SSLError):
                        pass  # the handler meets a closed or broken connection
                    conn.settimeout(None)
                return conn, address

        self.httpd = Server((host, 0), Handler)
        self.host = host
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}/"
        self.https_url = f"https://{host}:{self.port}/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self):
        return [r.path for r in self.requests]


def _files(root) -> set[str]:
    return {
        os.path.relpath(os.path.join(d, f), root)
        for d, _, names in os.walk(root)
        for f in names
        if not f.startswith(".")
    }


def forms_of(secret: str) -> set[str]:
    """``secret`` as it is and in every encoding it is sent in: percent-encoded (upper
    and lower case hex, ``/`` kept or not, ``+`` for a space), base64 (HTTP Basic),
    and npm's token without its ``npm_`` prefix."""
    import base64
    from urllib.parse import quote, quote_plus

    forms = {secret}
    if secret.startswith("npm_"):
        forms.add(secret[4:])
    for quoted in (quote(secret, safe=""), quote(secret), quote_plus(secret)):
        forms.add(quoted)
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quoted))
    forms.add(base64.b64encode(secret.encode()).decode().rstrip("="))
    return forms


def is_verbose(args) -> bool:
    return any(a == "--verbose" or re.fullmatch(r"-v+", str(a)) for a in args)


def assert_safe(result, verbose=False, colour=False, secrets=(TOKEN,)) -> None:
    """What holds in every case: no traceback (but with -v), nothing a terminal acts on
    (but our own colour codes with --color), no secret, exactly one error line when
    the command failed, and no file outside the work directory."""
    out = result.stdout + result.stderr
    if not verbose:
        assert "Traceback" not in out, out
    if colour:
        out = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert not TERMINAL_ACTIVE.search(out), ascii(out)
    for secret in secrets:
        for form in forms_of(secret):
            assert form not in out, (form, out)
    errors = [line for line in result.stderr.splitlines() if line.startswith("pystage error")]
    assert len(errors) <= 1, result.stderr
    if result.returncode and result.json_mode:
        assert json.loads(result.stderr[result.stderr.index("{\n") :])["error"]["code"]
    elif result.returncode:
        assert len(errors) == 1, result.stderr
    assert all(
        not f.startswith(("..", "/")) and (f.startswith("work") or f == "npmrc")
        for f in result.new_files
    ), result.new_files


def fails_with(result, code: str, exit_code: int = 1) -> str:
    assert result.returncode == exit_code, (result.returncode, result.stderr)
    if result.json_mode:
        error = json.loads(result.stderr[result.stderr.index("{\n") :])["error"]
        assert error["code"] == code, result.stderr
        return error["summary"]
    error = next(line for line in result.stderr.splitlines() if line.startswith("pystage error"))
    assert error.startswith(f"pystage error {code}:"), result.stderr
    assert len(error) < 1500, len(error)
    return error


def item(stage_id=SID, name="pkg", version="1.0.0", **extra):
    return {
        "id": stage_id,
        "packageName": name,
        "version": version,
        "tag": "latest",
        "createdAt": "2026-01-02T03:04:05.000Z",
        "actor": "alice",
        "actorType": "user",
        "shasum": "0" * 40,
        **extra,
    }


def listing(*items, total=None):
    return answer(
        json_body={
            "items": list(items),
            "total": len(items) if total is None else total,
            "page": 0,
            "perPage": 100,
        }
    )


def tgz(files: dict[str, bytes | str], manifest: dict | None = None) -> bytes:
    raw = io.BytesIO()
    entries = {}
    if manifest is not None:
        entries["package/package.json"] = json.dumps(manifest)
    entries.update(files)
    with tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for path, content in entries.items():
            data = (
                content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content
            )
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


@pytest.fixture
def hostile(tmp_path, run_pystage):
    """A HostileRegistry, a user npmrc with a token for it (``login(token)`` changes
    it), and ``run(*args)``: pystage in ``tmp_path/work`` against it; each result is
    checked for the promises every case shares (see ``assert_safe``), with every
    secret of the case (``server.secrets``) in every encoding."""
    server = HostileRegistry()
    npmrc = tmp_path / "npmrc"
    work = tmp_path / "work"
    work.mkdir()

    def login(token, *more_secrets, line=None):
        """The npmrc holds ``line`` (default: ``token`` for this server); the results
        must show none of ``token`` and ``more_secrets``, in any encoding."""
        npmrc.write_text(
            line if line is not None else f"//127.0.0.1:{server.port}/:_authToken={token}\n"
        )
        server.secrets = [s for s in (token, *more_secrets) if s]

    def run(*args, env=None, registry=None, timeout=60):
        before = _files(tmp_path)
        result = run_pystage(
            *args,
            "--registry",
            registry or server.url,
            "--userconfig",
            npmrc,
            cwd=work,
            env={
                "npm_config_fetch_retries": "0",
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                **(env or {}),
            },
            timeout=timeout,
        )
        result.new_files = sorted(_files(tmp_path) - before)
        result.json_mode = "--json" in args
        assert_safe(
            result,
            verbose=is_verbose(args),
            colour="--color" in args,
            secrets=server.secrets,
        )
        return result

    def run_at_terminal(*args, answers=(), env=None, timeout=30):
        """pystage on a pseudo-terminal (stdin, stdout and stderr): a terminal user.
        ``answers``: (text to wait for, line to type) pairs, in order."""
        result = at_terminal(
            [*args, "--registry", server.url, "--userconfig", str(npmrc)],
            cwd=work,
            env={
                "npm_config_fetch_retries": "0",
                "npm_config_browser": "false",
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                **(env or {}),
            },
            answers=answers,
            timeout=timeout,
        )
        result.new_files = []
        result.json_mode = False
        assert_safe(result, verbose=is_verbose(args), secrets=server.secrets)
        return result

    login(TOKEN)
    server.login = login
    server.run = run
    server.run_at_terminal = run_at_terminal
    server.work = work
    yield server
    server.stop()


class TerminalResult:
    def __init__(self, returncode: int, output: str) -> None:
        self.returncode = returncode
        # what the terminal showed (stdout and stderr together), with the line
        # discipline's CR LF back to LF
        self.stdout = ""
        self.stderr = output.replace("\r\n", "\n")


def at_terminal(args, *, cwd, env, answers=(), timeout=30) -> TerminalResult:
    """Run ``python -m pystage *args`` with a pseudo-terminal as its stdin, stdout and
    stderr (outside CI, as a person at a terminal); type each answer once its prompt
    has shown."""
    import pty

    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    full_env.update({"NO_COLOR": "1", "COLUMNS": "200", **env})
    proc = subprocess.Popen(
        [sys.executable, "-m", "pystage", *map(str, args)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=full_env,
        start_new_session=True,
    )
    os.close(slave)
    todo = list(answers)
    seen = b""
    typed_at = 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the last writer closed the terminal
                    break
                if not data:
                    break
                seen += data
            if todo and todo[0][0].encode() in seen[typed_at:]:
                typed_at = len(seen)
                os.write(master, todo.pop(0)[1].encode() + b"\n")
            if not ready and proc.poll() is not None:
                break
        else:
            proc.kill()
            raise AssertionError(f"pystage did not end within {timeout} s: {seen!r}")
        returncode = proc.wait(timeout=10)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return TerminalResult(returncode, seen.decode("utf-8", "replace"))


@pytest.fixture
def elsewhere():
    """A second registry on another host name (localhost, not 127.0.0.1)."""
    server = HostileRegistry("localhost")
    yield server
    server.stop()


def self_signed(directory) -> tuple[str, str]:
    """A self-signed certificate (its own CA) for 127.0.0.1: (cert path, key path)."""
    cert, key = self_signed_cert(directory, "registry")
    return str(cert), str(key)
