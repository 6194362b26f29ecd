"""The operating system's trust store, behind Node's own switch: with
``NODE_USE_SYSTEM_CA=1`` (or ``--use-system-ca`` in ``NODE_OPTIONS``) a registry whose
certificate authority only the system trusts is reached; without it, it is ECERT,
since pystage (as Node) trusts Mozilla's roots by default. A real TLS server on
loopback; the "system store" is OpenSSL's, pointed at a test CA by ``SSL_CERT_FILE``
(which is how Linux distributions' stores are found)."""

from __future__ import annotations

import ssl

import pytest
from helpers import make, self_signed_cert
from pytest_httpserver import HTTPServer

from pystage.errors import PystageError
from pystage.tls import use_system_ca

x509 = pytest.importorskip("cryptography.x509")


@pytest.fixture
def system_trusted_registry(tmp_path, monkeypatch):
    """An https registry whose CA is in the 'system' store only."""
    cert, key = self_signed_cert(tmp_path, "ca", "system-only CA")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=tls)
    server.expect_request("/-/whoami").respond_with_json({"username": "alice"})
    server.start()
    try:
        yield server.url_for("/")
    finally:
        server.clear()
        server.stop()


@pytest.mark.parametrize(
    "env",
    [{"NODE_USE_SYSTEM_CA": "1"}, {"NODE_OPTIONS": "--max-old-space-size=4096 --use-system-ca"}],
    ids=["NODE_USE_SYSTEM_CA", "NODE_OPTIONS"],
)
def test_node_switch_adds_the_system_store(tmp_path, system_trusted_registry, env):
    client = make(tmp_path, system_trusted_registry, env=env, **{"fetch-retries": 0})
    with client:
        assert client.json("GET", "-/whoami") == {"username": "alice"}


def test_without_the_switch_a_ca_only_the_system_trusts_is_ecert(tmp_path, system_trusted_registry):
    client = make(tmp_path, system_trusted_registry, **{"fetch-retries": 0})
    with client, pytest.raises(PystageError) as err:
        client.json("GET", "-/whoami")
    assert err.value.code == "ECERT"


def test_a_configured_ca_still_replaces_every_other_root(tmp_path, system_trusted_registry):
    # as in Node, ca/cafile replace the roots: the system store is not added to them
    (tmp_path / "other").mkdir()
    other, _ = self_signed_cert(tmp_path / "other", "ca", "system-only CA")
    client = make(
        tmp_path,
        system_trusted_registry,
        env={"NODE_USE_SYSTEM_CA": "1"},
        **{"fetch-retries": 0, "cafile": str(other)},
    )
    with client, pytest.raises(PystageError) as err:
        client.json("GET", "-/whoami")
    assert err.value.code == "ECERT"


def test_the_bundled_roots_still_count_beside_the_system_store(
    tmp_path, system_trusted_registry, monkeypatch
):
    # Node's --use-system-ca adds the system store to its bundled roots: here the
    # registry's CA stands in for Mozilla's bundle and the system store holds another
    import pystage.tls

    (tmp_path / "other").mkdir()
    other, _ = self_signed_cert(tmp_path / "other", "ca", "system-only CA")
    bundle = str(tmp_path / "ca.pem")  # the registry's CA (see the fixture)
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    monkeypatch.setattr(pystage.tls, "_default_bundle", lambda: bundle)
    client = make(
        tmp_path, system_trusted_registry, env={"NODE_USE_SYSTEM_CA": "1"}, **{"fetch-retries": 0}
    )
    with client:
        assert client.json("GET", "-/whoami") == {"username": "alice"}


@pytest.mark.parametrize(
    "env,expected",
    [
        ({}, False),
        ({"NODE_USE_SYSTEM_CA": "1"}, True),
        ({"NODE_USE_SYSTEM_CA": "0"}, False),
        ({"NODE_USE_SYSTEM_CA": "true"}, False),  # Node reads exactly "1"
        ({"NODE_OPTIONS": "--use-system-ca"}, True),
        ({"NODE_OPTIONS": "--use-system-ca --no-use-system-ca"}, False),
        # "when both are set, --use-system-ca takes precedence"
        ({"NODE_OPTIONS": "--no-use-system-ca", "NODE_USE_SYSTEM_CA": "1"}, False),
        ({"NODE_OPTIONS": "--use-system-cas"}, False),
    ],
)
def test_the_switch_is_read_as_node_reads_it(env, expected):
    assert use_system_ca(env) is expected
