"""A staged tarball larger than pystage's ceiling is refused and nothing is written: a
hostile registry that streams without end (fast enough for the stall timeout never to
fire) cannot fill the disk. The ceiling is lowered for the test; the rule is the same."""

from __future__ import annotations

import os

import pytest
from fixtures_hostile import SID, HostileRegistry, Raw, endless
from helpers import make

from pystage import staging
from pystage.errors import PystageError

CEILING = 4 * 1024 * 1024
OCTETS = b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n"


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(staging, "MAX_TARBALL_BYTES", CEILING)
    server = HostileRegistry()
    try:
        yield server
    finally:
        server.stop()


def download(tmp_path, registry):
    out = tmp_path / "out"
    out.mkdir()
    with make(tmp_path, registry.url) as client:
        with pytest.raises(PystageError) as caught:
            staging.download_staged(client, SID, cwd=str(out))
    assert os.listdir(out) == []  # not the temporary file either
    return caught.value


def test_an_endless_chunked_tarball_stops_at_the_ceiling(tmp_path, registry):
    piece = b"%x\r\n" % (256 * 1024) + b"\0" * (256 * 1024) + b"\r\n"
    registry.routes[("GET", f"/-/stage/{SID}/tarball")] = endless(
        OCTETS + b"transfer-encoding: chunked\r\n\r\n", piece
    )
    err = download(tmp_path, registry)
    assert err.code == "EBADRESPONSE"
    assert "larger than 4 MiB" in err.message and "nothing was saved" in err.message


def test_a_declared_length_over_the_ceiling_is_refused_before_reading(tmp_path, registry):
    def write(wfile, stop):
        wfile.write(OCTETS + b"content-length: %d\r\n\r\n" % (CEILING + 1))
        wfile.flush()
        stop.wait(20)  # nothing more: reading would wait for the stall timeout

    registry.routes[("GET", f"/-/stage/{SID}/tarball")] = Raw(write)
    err = download(tmp_path, registry)
    assert err.code == "EBADRESPONSE" and f"declares {CEILING + 1:,} bytes" in err.message
