"""Configuration gaps of issue 4: workspace-root local prefix, proxies, inline CA,
login --scope and option validation. The real npm is the oracle where it applies."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from conftest import requires_npm

from pystage.config import load_config
from pystage.errors import PystageError
from pystage.http import RegistryClient


def _npm(args, cwd, env):
    return subprocess.run([shutil.which("npm"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=True).stdout.strip()


@pytest.fixture
def mono(tmp_path):
    """root/ with workspaces, root/packages/a (a workspace), a home and a global npmrc."""
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "root"
    a = root / "packages" / "a"
    (a / "src").mkdir(parents=True)
    # npm config refuses to run inside a workspace (ENOWORKSPACES); a script shows
    # the tag npm resolved, through the npm_config_* variables npm exports to it
    (a / "package.json").write_text(json.dumps({
        "name": "a", "version": "1.0.0",
        "scripts": {"tag": "node -p process.env.npm_config_tag"}}))
    (root / ".npmrc").write_text("tag=from-root\n")
    (a / ".npmrc").write_text("tag=from-workspace\n")
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""),
           "npm_config_globalconfig": str(tmp_path / "globalrc"),
           "npm_config_cache": str(tmp_path / "cache"),
           "npm_config_update_notifier": "false"}
    return root, a, env


def _write_root(root, workspaces):
    (root / "package.json").write_text(json.dumps({"name": "root", "workspaces": workspaces}))


@requires_npm((11,))
@pytest.mark.parametrize("workspaces, expect_root", [
    (["packages/*"], True),
    ({"packages": ["packages/a"]}, True),
    (["other/*"], False),
    (["packages/*", "!packages/a"], False),
    (["packages/*", "!packages/a", "packages/a"], True),
])
@pytest.mark.parametrize("sub", ["", "src"])
def test_local_prefix_is_the_workspace_root_as_npm(mono, workspaces, expect_root, sub):
    root, a, env = mono
    _write_root(root, workspaces)
    cwd = a / sub if sub else a
    cfg = load_config(cwd=cwd, env=env)
    assert cfg.local_prefix == _npm(["prefix"], cwd, env)
    assert cfg.get("tag") == _npm(["run", "-s", "tag"], cwd, env)
    assert cfg.local_prefix == str(root if expect_root else a)
    assert cfg.get("tag") == ("from-root" if expect_root else "from-workspace")


@requires_npm((11,))
def test_package_without_workspaces_above_keeps_its_own_prefix(mono):
    root, a, env = mono
    (root / "package.json").write_text(json.dumps({"name": "root"}))
    cwd = a / "src"
    cfg = load_config(cwd=cwd, env=env)
    assert cfg.local_prefix == _npm(["prefix"], cwd, env) == str(a)
    assert cfg.get("tag") == "from-workspace"


# -- proxies -------------------------------------------------------------------

class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.seen: list[tuple[str, str, dict]] = []  # (method, request target, headers)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def record(self, handler):
        headers = {k.lower(): v for k, v in handler.headers.items()}
        self.seen.append((handler.command, handler.path, headers))

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _RegistryHandler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        self.server.record(self)
        if self.path.startswith("/moved"):
            # to the same server under another host name: a different host for credentials
            self.send_response(302)
            self.send_header("location",
                             f"http://localhost:{self.server.server_address[1]}/-/whoami")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        body = json.dumps({"username": "alice"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ProxyHandler(BaseHTTPRequestHandler):
    """A forward proxy for plain http: absolute-form request targets, relayed as is."""

    def log_message(self, *a):
        pass

    def do_GET(self):
        self.server.record(self)
        target = urlsplit(self.path)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")}
        conn.request("GET", target.path + (f"?{target.query}" if target.query else ""),
                     headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        conn.close()


@pytest.fixture
def servers():
    registry, proxy = _Recorder(_RegistryHandler), _Recorder(_ProxyHandler)
    yield registry, proxy
    registry.shutdown()
    proxy.shutdown()
    registry.server_close()
    proxy.server_close()


def _client(tmp_path, registry_url, npmrc="", env=None):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".npmrc").write_text(npmrc)
    cfg = load_config(cwd=tmp_path, env={"HOME": str(home), "PATH": os.environ.get("PATH", ""),
                                         "npm_config_globalconfig": str(tmp_path / "g"),
                                         **(env or {})},
                      cli={"registry": registry_url})
    return RegistryClient(cfg, use_keyring=False, interactive=False)


def test_requests_go_through_the_configured_proxy_with_the_registry_credentials(
        tmp_path, servers):
    registry, proxy = servers
    rhost, phost = urlsplit(registry.url).netloc, urlsplit(proxy.url).netloc
    proxy_url = f"http://puser:psecret@{phost}"
    npmrc = (f"proxy={proxy_url}\n//{rhost}/:_authToken=registry-token\n"
             f"//{phost}/:_authToken=proxy-host-token\n//localhost:{rhost.split(':')[1]}/"
             f":_authToken=other-host-token\n")
    with _client(tmp_path, registry.url, npmrc) as client:
        assert client.json("GET", "/-/whoami") == {"username": "alice"}
        assert client.json("GET", "/moved") == {"username": "alice"}
    targets = [t for _, t, _ in proxy.seen]
    assert targets == [f"{registry.url}-/whoami", f"{registry.url}moved",
                       registry.url.replace("127.0.0.1", "localhost") + "-/whoami"]
    import base64

    expected_proxy_auth = "Basic " + base64.b64encode(b"puser:psecret").decode()
    for _, _, headers in proxy.seen:
        assert headers.get("proxy-authorization") == expected_proxy_auth
    auths = [h.get("authorization") for _, _, h in proxy.seen]
    # each hop carries the credentials of its own host, never the proxy host's
    assert auths == ["Bearer registry-token", "Bearer registry-token",
                     "Bearer other-host-token"]
    assert len(registry.seen) == 3
    assert all("proxy-authorization" not in h for _, _, h in registry.seen)


def test_noproxy_bypasses_the_proxy(tmp_path, servers):
    registry, proxy = servers
    npmrc = f"https-proxy={proxy.url}\nnoproxy=example.com,127.0.0.1\n"
    with _client(tmp_path, registry.url, npmrc) as client:
        assert client.json("GET", "/-/whoami") == {"username": "alice"}
    assert proxy.seen == []
    assert [t for _, t, _ in registry.seen] == ["/-/whoami"]


def test_a_dead_proxy_is_a_one_line_error_without_its_password(tmp_path, servers):
    registry, _ = servers
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    dead = sock.getsockname()[1]
    sock.close()
    npmrc = f"proxy=http://puser:psecret@127.0.0.1:{dead}\nfetch-retries=0\n"
    with _client(tmp_path, registry.url, npmrc) as client, \
            pytest.raises(PystageError) as err:
        client.json("GET", "/-/whoami")
    text = f"{err.value.message} {err.value.hint}"
    assert err.value.code == "ECONNREFUSED"
    assert f"127.0.0.1:{dead}" in text and "psecret" not in text and "puser" not in text


def test_an_unsupported_proxy_protocol_is_einvalidproxy(tmp_path, servers):
    registry, _ = servers
    with _client(tmp_path, registry.url, "proxy=ftp://127.0.0.1:1\n") as client, \
            pytest.raises(PystageError) as err:
        client.json("GET", "/-/whoami")
    assert err.value.code == "EINVALIDPROXY"


# npm itself is the oracle for which settings send a request through the proxy
_PROXY_CASES = [
    # (npmrc lines, env) with {proxy} for the proxy URL and {host} for the registry host
    ("proxy={proxy}", {}),
    ("https-proxy={proxy}", {}),
    ("", {"HTTP_PROXY": "{proxy}"}),
    ("", {"https_proxy": "{proxy}"}),
    ("", {"PROXY": "{proxy}"}),
    ("proxy={proxy}\nnoproxy=127.0.0.1", {}),
    ("proxy={proxy}\nnoproxy=0.0.1", {}),
    ("proxy={proxy}\nnoproxy=1", {}),
    ("proxy={proxy}\nnoproxy={host}", {}),
    ("proxy={proxy}", {"NO_PROXY": "127.0.0.1"}),
    ("proxy={proxy}", {"no_proxy": "localhost, .0.0.1"}),
    ("proxy={proxy}\nnoproxy=example.com", {"NO_PROXY": "127.0.0.1"}),
    ("proxy={proxy}\nnoproxy=127.0.0.1", {"NO_PROXY": "example.com"}),
    ("", {"HTTPS_PROXY": "{proxy}", "http_proxy": "http://127.0.0.1:9/"}),
    ("", {"HTTP_PROXY": "{proxy}", "npm_config_noproxy": "127.0.0.1"}),
]


@requires_npm((11,))
@pytest.mark.parametrize("npmrc, env", _PROXY_CASES)
def test_proxy_choice_matches_npm(tmp_path, servers, npmrc, env):
    registry, proxy = servers
    host = urlsplit(registry.url).netloc
    npmrc = npmrc.format(proxy=proxy.url, host=host) + "\n"
    env = {k: v.format(proxy=proxy.url) for k, v in env.items()}
    base = {"HOME": str(tmp_path / "home"), "PATH": os.environ.get("PATH", ""),
            "npm_config_globalconfig": str(tmp_path / "g"),
            "npm_config_cache": str(tmp_path / "cache"),
            "npm_config_update_notifier": "false", "npm_config_fetch_retries": "0"}
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".npmrc").write_text(npmrc)
    subprocess.run([shutil.which("npm"), "ping", "--registry", registry.url], cwd=tmp_path,
                   env={**base, **env}, capture_output=True, text=True, timeout=60, check=True)
    npm_used_proxy = bool(proxy.seen)
    proxy.seen.clear()
    registry.seen.clear()
    with _client(tmp_path, registry.url, npmrc, env) as client:
        client.json("GET", "/-/whoami")
    assert bool(proxy.seen) == npm_used_proxy
    assert len(registry.seen) == 1
