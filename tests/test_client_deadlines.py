"""An endless, trickling or stalled answer ends in a clean timeout, and memory stays bounded.

npm's ``fetch-timeout`` is a total deadline for each request: the whole answer,
status line, headers and body, must be in by then, however the registry dribbles
it out (socket timeouts alone bound each read, not their sum). A JSON answer may
be at most 64 MiB, however it is framed or compressed. A streamed tarball has a
stall timeout: no read may wait longer than ``fetch-timeout``, and a download that
breaks off leaves no file.

Each case runs the real ``python -m pystage`` against a hostile loopback registry
(``fixtures_hostile``) with fetch-timeout at 1 s, and measures the child's peak
memory (``os.wait4``) against the same command answered at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zlib

import pytest
from fixtures_hostile import (
    SID,
    HostileRegistry,
    Raw,
    answer,
    assert_safe,
    endless,
    listing,
    trickle,
)

from pystage.errors import exit_code_for

FETCH_TIMEOUT_MS = 1000
# the start of a Python process and its imports, on a busy machine
START_UP = 2.0
JSON_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
CHUNKED = JSON_HEAD + b"transfer-encoding: chunked\r\n\r\n"
MiB = 1024 * 1024


class Result:
    def __init__(self, returncode, stdout, stderr, seconds, peak_kib):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.peak_mib = peak_kib / 1024
        self.new_files = []
        self.json_mode = False


@pytest.fixture
def registry(tmp_path):
    server = HostileRegistry()
    work = tmp_path / "work"
    work.mkdir()
    npmrc = tmp_path / "npmrc"
    npmrc.write_text(f"//127.0.0.1:{server.port}/:_authToken=npm_{'T' * 36}\n")

    def peak_of(*args, env=None):
        """pystage *args with fetch-timeout 1 s and no retries: its output, its time and
        its own peak resident memory (``os.wait4``: not the maximum over all children)."""
        full_env = {
            **os.environ,
            "NO_COLOR": "1",
            "npm_config_fetch_retries": "0",
            "npm_config_fetch_timeout": str(FETCH_TIMEOUT_MS),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            **(env or {}),
        }
        out, err = work / ".out", work / ".err"
        started = time.monotonic()
        with open(out, "wb") as o, open(err, "wb") as e:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pystage", *args, "--registry", server.url]
                + ["--userconfig", str(npmrc)],
                cwd=work,
                env=full_env,
                stdout=o,
                stderr=e,
            )
            deadline = time.monotonic() + 30
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    proc.kill()
                    os.wait4(proc.pid, 0)
                    raise AssertionError(f"pystage {' '.join(args)} did not end within 30 s")
                time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        result = Result(
            proc.returncode,
            out.read_text(),
            err.read_text(),
            seconds,
            usage.ru_maxrss,  # KiB on Linux
        )
        out.unlink()
        err.unlink()
        result.json_mode = "--json" in args
        assert_safe(result, secrets=[f"npm_{'T' * 36}"])
        return result

    server.run = peak_of
    server.work = work
    yield server
    server.stop()


@pytest.fixture
def baseline(registry):
    """Peak memory of `pystage list` answered at once (the imports, a small answer)."""
    registry.routes[("GET", "/-/stage")] = listing()
    result = registry.run("list", "--json")
    assert result.returncode == 0, result.stderr
    return result.peak_mib


def times_out(result, *, budget=FETCH_TIMEOUT_MS / 1000 + START_UP):
    assert result.returncode == exit_code_for("ETIMEDOUT") == 6, result.stderr
    if result.json_mode:
        error = json.loads(result.stderr[result.stderr.index("{") :])["error"]
        assert error["code"] == "ETIMEDOUT", error
        return error["summary"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("pystage error")]
    assert len(errors) == 1 and errors[0].startswith("pystage error ETIMEDOUT:"), result.stderr
    assert result.seconds < budget, result.seconds
    return errors[0]


TRICKLES = {
    # one byte every 100 ms, forever, in each part of an answer
    "body": trickle(CHUNKED + b"1\r\n[\r\n", b"1\r\n \r\n"),
    "body-with-length": trickle(JSON_HEAD + b"content-length: 1000000\r\n\r\n[", b" "),
    "status-line": trickle(b"HTTP/1.1 200 ", b"O"),
    "header": trickle(JSON_HEAD + b"x-slow: ", b"a"),
    "header-lines": trickle(JSON_HEAD, b"x: y\r\n"),  # endless short header lines
    "chunk-size-line": trickle(CHUNKED, b"0"),
    "chunk-trailers": trickle(CHUNKED + b"0\r\n", b"x: y\r\n"),
    # a bare CR in a header: http.client's parser ends the headers there, and the
    # answer's length is lost with what followed
    "bare-cr-in-a-header": trickle(
        JSON_HEAD + b"x-notice: a\rb\r\ncontent-length: 2\r\n\r\n{}", b" "
    ),
}


@pytest.mark.parametrize("how", list(TRICKLES))
def test_a_trickling_answer_is_etimedout_at_fetch_timeout(registry, baseline, how):
    registry.routes[("GET", "/-/stage")] = TRICKLES[how]
    result = registry.run("list")
    error = times_out(result)
    assert "fetch-timeout (1000 ms)" in error or "timed out" in error
    assert result.peak_mib < baseline + 20, (result.peak_mib, baseline)


@pytest.mark.parametrize("args", [["whoami"], ["view", SID], ["view", SID, "--json"]])
def test_a_trickling_answer_to_other_commands_that_read_json(registry, args):
    for path in ("/-/whoami", f"/-/stage/{SID}"):
        registry.routes[("GET", path)] = TRICKLES["body"]
    times_out(registry.run(*args))


def test_an_endless_json_answer_stops_at_the_64_mib_ceiling(registry, baseline):
    piece = b"%x\r\n" % MiB + b" " * MiB + b"\r\n"
    registry.routes[("GET", "/-/stage")] = endless(CHUNKED + b"5\r\n[1,2,\r\n", piece)
    result = registry.run("list")
    assert result.returncode == 1, result.stderr
    assert "pystage error EBADRESPONSE:" in result.stderr
    assert "larger than 64 MiB" in result.stderr
    # the parts read, then joined: at most about twice the ceiling
    assert result.peak_mib < baseline + 2.5 * 64, (result.peak_mib, baseline)


def test_a_declared_length_over_the_ceiling_is_refused_before_reading(registry):
    def write(wfile, stop):
        wfile.write(JSON_HEAD + b"content-length: %d\r\n\r\n[" % (65 * MiB))
        wfile.flush()
        stop.wait(20)  # sends nothing more: reading would wait for fetch-timeout

    registry.routes[("GET", "/-/stage")] = Raw(write)
    result = registry.run("list")
    assert "pystage error EBADRESPONSE:" in result.stderr, result.stderr
    assert result.seconds < START_UP + 0.5  # not a wait for the body


def test_a_gzip_bomb_stops_at_the_ceiling_with_bounded_memory(registry, baseline):
    # 256 MiB of JSON in about 250 KB, made piece by piece
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    spaces = b" " * MiB
    bomb = packer.compress(b"[") + b"".join(packer.compress(spaces) for _ in range(256))
    bomb += packer.compress(b"]") + packer.flush()
    assert len(bomb) < MiB
    registry.routes[("GET", "/-/stage")] = answer(
        body=bomb, headers={"content-type": "application/json", "content-encoding": "gzip"}
    )
    result = registry.run("list")
    assert "pystage error EBADRESPONSE:" in result.stderr, result.stderr
    assert result.peak_mib < baseline + 2.5 * 64, (result.peak_mib, baseline)


@pytest.mark.parametrize("kind", ["stalled-body", "trickling-headers"])
def test_a_stalled_tarball_download_is_etimedout_and_leaves_no_file(registry, kind):
    if kind == "stalled-body":

        def write(wfile, stop):
            wfile.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n"
                b"content-length: 100000\r\n\r\n\x1f\x8b\x08\x00" + b"\0" * 1000
            )
            wfile.flush()
            stop.wait(20)  # then nothing: a stall

        route = Raw(write)
    else:
        route = trickle(b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n", b"x")
    registry.routes[("GET", f"/-/stage/{SID}/tarball")] = route
    result = registry.run("download", SID)
    times_out(result)
    assert os.listdir(registry.work) == []  # not the temporary file either


def test_a_slow_but_steady_answer_within_the_deadline_is_read_whole(registry):
    # 10 pieces 50 ms apart: half the deadline, and every read is short
    body = b'{"items": [], "total": 0}'

    def write(wfile, stop):
        wfile.write(CHUNKED)
        for i in range(0, len(body), 3):
            piece = body[i : i + 3]
            wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            wfile.flush()
            if stop.wait(0.05):
                return
        wfile.write(b"0\r\n\r\n")

    registry.routes[("GET", "/-/stage")] = Raw(write)
    result = registry.run("list", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_watchdog_shuts_a_blocked_read_at_the_deadline_and_nests():
    import socket

    from pystage.session import Deadline, Watchdog, _in_flight

    ours, theirs = socket.socketpair()
    ours.settimeout(5)  # a watchdog that never fires fails the test, not hangs it

    class Connection:
        sock = ours

    outer = Watchdog(Deadline(30))
    with outer:
        deadline = Deadline(0.2)
        started = time.monotonic()
        with Watchdog(deadline) as inner:  # a request made while sending another
            inner.watch(Connection)
            assert ours.recv(1) == b""  # blocked until the watchdog shut the socket
        assert deadline.cut and 0.15 < time.monotonic() - started < 2
        assert _in_flight.watchdog is outer  # the outer request is still watched
    assert _in_flight.watchdog is None
    assert not outer.deadline.cut
    ours.close()
    theirs.close()
