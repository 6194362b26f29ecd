"""Progress bars for big transfers: shown on a terminal (stderr), never in pipes,
and the bytes they count are the bytes sent."""

from __future__ import annotations

import json
import os
import random
import sys

import pytest

from pystage.publishing.document import build_publish_document
from pystage.render import progress

SIZE = 6 * 1024 * 1024  # above progress.MIN_BYTES, and incompressible


def _big_package(directory, version="1.0.0"):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "package.json").write_text(json.dumps({"name": "big-pkg", "version": version}))
    (directory / "blob.bin").write_bytes(random.Random(7).randbytes(SIZE))
    return directory


def test_the_publish_body_reports_every_byte_it_sends(tmp_path):
    tarball = tmp_path / "t.tgz"
    tarball.write_bytes(random.Random(1).randbytes(3 * 1024 * 1024 + 5))
    _, body = build_publish_document(
        {"name": "p", "version": "1.0.0"},
        registry="http://r/",
        tag="latest",
        access=None,
        tarball_path=str(tarball),
        tarball_size=tarball.stat().st_size,
        shasum="x",
        integrity="sha512-x",
    )
    sent = []
    body.on_sent = sent.append
    data = body.read_all()
    assert sum(sent) == len(data) == len(body)
    assert len(sent) > 3  # reported piece by piece, not once at the end


def test_no_bar_off_a_terminal_or_for_small_transfers(tmp_path):
    with open(tmp_path / "log", "w") as not_a_tty:
        assert not progress.wanted(SIZE, not_a_tty)
    with progress.transfer_progress("x", SIZE) as advance:  # pytest's stderr: no terminal
        advance(SIZE)


def _spawn(args, cwd, timeout=120):
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "COLUMNS": "100"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "pystage", *map(str, args)],
        cwd=str(cwd),
        env=env,
        timeout=timeout,
        encoding="utf-8",
    )
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def test_staging_and_downloading_show_a_bar_on_a_terminal(registry_server, tmp_path, run_pystage):
    user = registry_server.add_user("alice")
    registry_server.publish(user, "big-pkg", "0.0.1")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    package = _big_package(tmp_path / "pkg")

    status, screen = _spawn(["publish", package, "--userconfig", npmrc], tmp_path)
    assert status == 0, screen
    assert "staging" in screen and "MB" in screen
    stage_id = screen.split("staged with id ")[1].split(")")[0]

    status, screen = _spawn(["download", stage_id, "--userconfig", npmrc], tmp_path)
    assert status == 0, screen
    assert "downloading" in screen

    # the same commands in a pipe: no bar, nothing but the usual output
    package = _big_package(tmp_path / "pkg2", "1.0.1")
    piped = run_pystage("publish", package, "--userconfig", npmrc)
    assert piped.returncode == 0, piped.stderr
    assert "staging" not in piped.stderr and "\r" not in piped.stderr
    piped = run_pystage("download", stage_id, "-o", tmp_path / "again.tgz", "--userconfig", npmrc)
    assert piped.returncode == 0, piped.stderr
    assert "downloading" not in piped.stderr
