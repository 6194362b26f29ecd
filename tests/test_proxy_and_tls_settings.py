"""The client's network settings from npm config: proxies (proxy, https-proxy,
noproxy and the environment, an https:// proxy, a proxy refusing the tunnel) and
TLS (cafile, inline ca, strict-ssl, client certificates). Real loopback servers,
since only sockets show these; the real npm is the oracle where it applies."""

from __future__ import annotations

import http.client
import json
import os
import select
import shutil
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from helpers import requires_npm, self_signed_cert

from pystage.config import load_config
from pystage.context import client_from_config
from pystage.errors import PystageError

# -- proxies -------------------------------------------------------------------


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler, tls=None):
        super().__init__(("127.0.0.1", 0), handler)
        self.scheme = "https" if tls else "http"
        if tls:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.seen: list[tuple[str, str, dict]] = []  # (method, request target, headers)
        threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def record(self, handler):
        headers = {k.lower(): v for k, v in handler.headers.items()}
        self.seen.append((handler.command, handler.path, headers))

    @property
    def url(self):
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/"


class _RegistryHandler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        self.server.record(self)
        if self.path.startswith("/moved"):
            # to the same server under another host name: a different host for credentials
            self.send_response(302)
            self.send_header(
                "location", f"http://localhost:{self.server.server_address[1]}/-/whoami"
            )
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
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")
        }
        conn.request(
            "GET", target.path + (f"?{target.query}" if target.query else ""), headers=headers
        )
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

    def do_CONNECT(self):
        """An https tunnel: the proxy relays bytes it cannot read."""
        self.server.record(self)
        host, port = self.path.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        sockets = [self.connection, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 10)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()


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
    cfg = load_config(
        cwd=tmp_path,
        env={
            "HOME": str(home),
            "PATH": os.environ.get("PATH", ""),
            "npm_config_globalconfig": str(tmp_path / "g"),
            **(env or {}),
        },
        cli={"registry": registry_url},
    )
    return client_from_config(cfg, use_keyring=False, interactive=False)


def test_requests_go_through_the_configured_proxy_with_the_registry_credentials(tmp_path, servers):
    registry, proxy = servers
    rhost, phost = urlsplit(registry.url).netloc, urlsplit(proxy.url).netloc
    proxy_url = f"http://puser:psecret@{phost}"
    npmrc = (
        f"proxy={proxy_url}\n//{rhost}/:_authToken=registry-token\n"
        f"//{phost}/:_authToken=proxy-host-token\n//localhost:{rhost.split(':')[1]}/"
        f":_authToken=other-host-token\n"
    )
    with _client(tmp_path, registry.url, npmrc) as client:
        assert client.json("GET", "/-/whoami") == {"username": "alice"}
        assert client.json("GET", "/moved") == {"username": "alice"}
    targets = [t for _, t, _ in proxy.seen]
    assert targets == [
        f"{registry.url}-/whoami",
        f"{registry.url}moved",
        registry.url.replace("127.0.0.1", "localhost") + "-/whoami",
    ]
    import base64

    expected_proxy_auth = "Basic " + base64.b64encode(b"puser:psecret").decode()
    for _, _, headers in proxy.seen:
        assert headers.get("proxy-authorization") == expected_proxy_auth
    auths = [h.get("authorization") for _, _, h in proxy.seen]
    # each hop carries the credentials of its own host, never the proxy host's
    assert auths == ["Bearer registry-token", "Bearer registry-token", "Bearer other-host-token"]
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
    with _client(tmp_path, registry.url, npmrc) as client, pytest.raises(PystageError) as err:
        client.json("GET", "/-/whoami")
    text = f"{err.value.message} {err.value.hint}"
    assert err.value.code == "ECONNREFUSED"
    assert f"127.0.0.1:{dead}" in text and "psecret" not in text and "puser" not in text


def test_an_unsupported_proxy_protocol_is_einvalidproxy(tmp_path, servers):
    registry, _ = servers
    with (
        _client(tmp_path, registry.url, "proxy=ftp://127.0.0.1:1\n") as client,
        pytest.raises(PystageError) as err,
    ):
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
    base = {
        "HOME": str(tmp_path / "home"),
        "PATH": os.environ.get("PATH", ""),
        "npm_config_globalconfig": str(tmp_path / "g"),
        "npm_config_cache": str(tmp_path / "cache"),
        "npm_config_update_notifier": "false",
        "npm_config_fetch_retries": "0",
    }
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".npmrc").write_text(npmrc)
    subprocess.run(
        [shutil.which("npm"), "ping", "--registry", registry.url],
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    npm_used_proxy = bool(proxy.seen)
    proxy.seen.clear()
    registry.seen.clear()
    with _client(tmp_path, registry.url, npmrc, env) as client:
        client.json("GET", "/-/whoami")
    assert bool(proxy.seen) == npm_used_proxy
    assert len(registry.seen) == 1


# -- TLS trust: cafile, inline ca, strict-ssl ------------------------------------


@pytest.fixture
def https_registry(tmp_path):
    import ssl

    cert, key = self_signed_cert(tmp_path, "registry")
    other, _ = self_signed_cert(tmp_path, "other")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = _Recorder(_RegistryHandler, tls=ctx)
    yield server, cert, other
    server.shutdown()
    server.server_close()


def _inline(pem_path):
    """A PEM as npm's docs write it in an npmrc: quoted, newlines as \\n."""
    return '"' + pem_path.read_text().strip().replace("\n", "\\n") + '"'


_TLS_CASES = [
    # (npmrc lines, pystage outcome) with {cert}/{other}: a PEM path, {cert_inline}/{other_inline}
    ("", "ECERT"),
    ("ca={cert_inline}", "ok"),
    ("ca[]={other_inline}\nca[]={cert_inline}", "ok"),
    ("ca={other_inline}", "ECERT"),
    ("cafile={cert}", "ok"),
    # ca and cafile set one option: in one file the line written last wins
    ("cafile={other}\nca={cert_inline}", "ok"),
    ("ca={cert_inline}\ncafile={other}", "ECERT"),
    ("cafile={missing}\nca={cert_inline}", "ok"),  # a missing cafile is ignored
    ("strict-ssl=false", "ok"),
    ("strict-ssl=false\nca={other_inline}", "ok"),
]


def _tls_npmrc(template, tmp_path, cert, other):
    return (
        template.format(
            cert=cert,
            other=other,
            missing=tmp_path / "missing.pem",
            cert_inline=_inline(cert),
            other_inline=_inline(other),
        )
        + "\n"
    )


@pytest.mark.parametrize("template, outcome", _TLS_CASES)
def test_tls_trust_from_cafile_ca_and_strict_ssl(tmp_path, https_registry, template, outcome):
    server, cert, other = https_registry
    npmrc = _tls_npmrc(template, tmp_path, cert, other) + "fetch-retries=0\n"
    with _client(tmp_path, server.url, npmrc) as client:
        if outcome == "ok":
            assert client.json("GET", "/-/whoami") == {"username": "alice"}
        else:
            with pytest.raises(PystageError) as err:
                client.json("GET", "/-/whoami")
            assert err.value.code == outcome


@requires_npm((11,))
@pytest.mark.parametrize("template, outcome", _TLS_CASES[1:8])
def test_tls_trust_matches_npm(tmp_path, https_registry, template, outcome):
    server, cert, other = https_registry
    home = tmp_path / "home"
    home.mkdir()
    (home / ".npmrc").write_text(_tls_npmrc(template, tmp_path, cert, other))
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", ""),
        "npm_config_globalconfig": str(tmp_path / "g"),
        "npm_config_cache": str(tmp_path / "cache"),
        "npm_config_fetch_retries": "0",
        "npm_config_update_notifier": "false",
    }
    npm = subprocess.run(
        [shutil.which("npm"), "ping", "--registry", server.url],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (npm.returncode == 0) == (outcome == "ok"), npm.stderr


def test_an_invalid_inline_ca_is_econfig(tmp_path, https_registry):
    server, _, _ = https_registry
    with (
        _client(
            tmp_path,
            server.url,
            'ca="-----BEGIN CERTIFICATE-----\\nnope\\n-----END CERTIFICATE-----"\n',
        ) as client,
        pytest.raises(PystageError) as err,
    ):
        client.json("GET", "/-/whoami")
    assert err.value.code == "ECONFIG"


def test_inline_ca_applies_through_a_proxy_tunnel(tmp_path, https_registry, servers):
    server, cert, _ = https_registry
    _, proxy = servers
    npmrc = f"https-proxy={proxy.url}\nca={_inline(cert)}\n"
    with _client(tmp_path, server.url, npmrc) as client:
        assert client.json("GET", "/-/whoami") == {"username": "alice"}
    assert [(m, t) for m, t, _ in proxy.seen] == [("CONNECT", urlsplit(server.url).netloc)]


def test_strict_ssl_false_is_quiet_at_the_command_line(tmp_path, https_registry, run_pystage):
    server, _, _ = https_registry
    host = urlsplit(server.url).netloc
    rc = tmp_path / "userrc"
    rc.write_text(f"strict-ssl=false\n//{host}/:_authToken=registry-token\n")
    result = run_pystage(
        "whoami", "--registry", server.url, "--userconfig", str(rc), env={"HOME": str(tmp_path)}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "alice"
    assert result.stderr == ""


# -- client certificates, https proxies, refused tunnels, no retry of TLS errors ----


def test_a_client_certificate_is_offered_to_its_registry(tmp_path):
    import ssl

    cert, key = self_signed_cert(tmp_path, "registry")
    client_cert, client_key = self_signed_cert(tmp_path, "client")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no certificate, no answer
    ctx.load_verify_locations(client_cert)
    server = _Recorder(_RegistryHandler, tls=ctx)
    host = urlsplit(server.url).netloc
    trust = f"ca={_inline(cert)}\nfetch-retries=0\n"
    try:
        npmrc = trust + f"//{host}/:certfile={client_cert}\n//{host}/:keyfile={client_key}\n"
        with _client(tmp_path, server.url, npmrc) as client:
            assert client.json("GET", "/-/whoami") == {"username": "alice"}
        with _client(tmp_path, server.url, trust) as client, pytest.raises(PystageError) as err:
            client.json("GET", "/-/whoami")
        # TLS 1.3 says so with the first answer, when the server's alert is read before
        # its reset (the kernel decides): then the hint names the npmrc keys to set
        assert err.value.code in ("ECERT", "ECONNRESET")
        if err.value.code == "ECERT":
            assert "requires a client certificate" in err.value.message
            assert f"//{host}/:certfile=<path>" in err.value.hint
        # a key that is not the certificate's is a configuration error, named as such
        bad = trust + f"//{host}/:certfile={client_cert}\n//{host}/:keyfile={key}\n"
        with _client(tmp_path, server.url, bad) as client, pytest.raises(PystageError) as err:
            client.json("GET", "/-/whoami")
        assert err.value.code == "ECONFIG" and "client certificate" in err.value.message
    finally:
        server.shutdown()
        server.server_close()


class _TlsProxyHandler(_ProxyHandler):
    """The forward proxy behind TLS: CONNECT relays must drain what the TLS layer
    has already decrypted, which select() cannot see."""

    def do_CONNECT(self):
        self.server.record(self)
        host, port = self.path.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        client = self.connection
        try:
            while True:
                if not client.pending():
                    readable, _, _ = select.select([client, upstream], [], [], 10)
                    if not readable:
                        return
                else:
                    readable = [client]
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        finally:
            upstream.close()


def test_an_https_registry_through_an_https_proxy(tmp_path, https_registry):
    import ssl

    server, cert, _ = https_registry
    proxy_cert, proxy_key = self_signed_cert(tmp_path, "proxy")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(proxy_cert, proxy_key)
    proxy = _Recorder(_TlsProxyHandler, tls=ctx)
    phost = urlsplit(proxy.url).netloc
    try:
        npmrc = (
            f"https-proxy=https://pu:ps1234@{phost}\n"
            f"ca[]={_inline(proxy_cert)}\nca[]={_inline(cert)}\nfetch-retries=0\n"
        )
        with _client(tmp_path, server.url, npmrc) as client:
            assert client.json("GET", "/-/whoami") == {"username": "alice"}
            assert client.json("GET", "/-/whoami") == {"username": "alice"}
        # a tunnel per connection (this registry closes each one after its answer)
        assert [(m, t) for m, t, _ in proxy.seen] == [("CONNECT", urlsplit(server.url).netloc)] * 2
        assert all(h["proxy-authorization"].startswith("Basic ") for _, _, h in proxy.seen)
        assert [h.get("proxy-authorization") for _, _, h in server.seen] == [None, None]
        # the registry's certificate is checked inside the tunnel as well
        wrong = npmrc.replace(f"ca[]={_inline(cert)}\n", "")
        with _client(tmp_path, server.url, wrong) as client, pytest.raises(PystageError) as err:
            client.json("GET", "/-/whoami")
        assert err.value.code == "ECERT" and "ps1234" not in err.value.message
    finally:
        proxy.shutdown()
        proxy.server_close()


class _AuthProxyHandler(_ProxyHandler):
    """A proxy that wants credentials it is never given."""

    def do_CONNECT(self):
        self.server.record(self)
        self.send_response(407, "Proxy Authentication Required")
        self.send_header("proxy-authenticate", 'Basic realm="corp"')
        self.send_header("content-length", "0")
        self.end_headers()


def test_a_proxy_refusing_the_tunnel_is_its_status_with_a_hint_and_no_retry(tmp_path):
    proxy = _Recorder(_AuthProxyHandler)
    phost = urlsplit(proxy.url).netloc
    try:
        npmrc = f"https-proxy=http://wrong:pw9876@{phost}\nfetch-retries=2\n"
        with (
            _client(tmp_path, "https://registry.example/", npmrc) as client,
            pytest.raises(PystageError) as err,
        ):
            client.sleep = lambda s: pytest.fail("a refused tunnel is not retried")
            client.json("GET", "/-/whoami")
        assert err.value.code == "E407"
        assert "tunnel to registry.example" in err.value.message
        assert "user:password@" in err.value.hint
        assert "pw9876" not in f"{err.value.message} {err.value.hint}"
        assert len(proxy.seen) == 1
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_a_certificate_error_is_not_retried(tmp_path, https_registry):
    server, _, _ = https_registry
    with _client(tmp_path, server.url, "fetch-retries=3\n") as client:
        client.sleep = lambda s: pytest.fail("a certificate refused is refused again")
        with pytest.raises(PystageError) as err:
            client.json("GET", "/-/whoami")
    assert err.value.code == "ECERT"


def test_a_plain_http_registry_never_loads_the_configured_certificates(scripted_cli, tmp_path):
    # As npm: a cafile only matters for https. Loading it anyway cost every command
    # ~25 ms per load with a system-sized bundle (the global npmrc here sets one).
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    scripted_cli.script[("GET", "/-/stage")] = (200, {}, {"items": [], "total": 0})
    result = scripted_cli.run("list", "--json", env={"npm_config_cafile": str(bad)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
