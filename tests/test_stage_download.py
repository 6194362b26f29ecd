"""Where pystage download writes, against a scripted registry over a real socket: through
a FIFO or /dev/stdout (kept as they are, stdout pure tarball bytes), a new file with the
umask's mode as npm, a clean error where no file can be made, and a refusal of tarballs
whose name makes no safe file name or that are no tarball at all."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest
from helpers import (
    STAGE_ID,
    assert_clean_failure,
    tarball_of_manifest,
)


def files_in(path) -> list[str]:
    return sorted(os.listdir(path))


def serve_tarball(server, data: bytes) -> None:
    server.script[("GET", f"/-/stage/{STAGE_ID}/tarball")] = (
        200,
        {"content-type": "application/octet-stream"},
        data,
    )


def test_download_to_a_fifo_writes_through_it_and_keeps_it(scripted_cli, tmp_path):
    # `-o /dev/null` (or a FIFO) must be written to, not replaced by a regular file:
    # os.replace over /dev/null as root turned the device into a file.
    data = tarball_of_manifest({"name": "pkg", "version": "1.0.0"})
    serve_tarball(scripted_cli, data)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = scripted_cli.run("download", STAGE_ID, "-o", fifo)
    reader.join(10)
    if reader.is_alive():  # nobody opened the FIFO for writing: unblock the reader
        with open(fifo, "wb"):
            pass
        reader.join(5)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced"
    assert received == [data]
    assert [n for n in files_in(tmp_path) if n.startswith(".pystage")] == []


def test_download_writes_a_file_with_the_umask_mode_as_npm_does(scripted_cli, tmp_path):
    serve_tarball(scripted_cli, tarball_of_manifest({"name": "pkg", "version": "1.0.0"}))
    result = scripted_cli.run("download", STAGE_ID)
    assert result.returncode == 0, result.stderr
    mask = os.umask(0)
    os.umask(mask)
    saved = tmp_path / "work" / f"pkg-1.0.0-{STAGE_ID}.tgz"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o666 & ~mask


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_download_where_no_file_can_be_created_is_a_clean_error(scripted_cli):
    serve_tarball(scripted_cli, tarball_of_manifest({"name": "pkg", "version": "1.0.0"}))
    result = scripted_cli.run("download", STAGE_ID, "-o", "/proc/")
    assert_clean_failure(result)
    assert "/proc" in result.stderr


@pytest.mark.parametrize(
    "manifest",
    [
        {"name": "../../evil", "version": "1.0.0"},
        {"name": "x/../../evil", "version": "1.0.0"},
        {"name": "pkg", "version": "1.0.0/../../evil"},
        {"description": "no name, no version"},
    ],
)
def test_download_refuses_a_tarball_whose_name_makes_no_safe_file_name(
    scripted_cli, tmp_path, manifest
):
    serve_tarball(scripted_cli, tarball_of_manifest(manifest))
    nested = tmp_path / "work" / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "work" / "a" / "b" / "..-..").mkdir()
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = scripted_cli.run("download", STAGE_ID, cwd=nested)
    assert_clean_failure(result, "ETARBALL")
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_download_of_garbage_names_the_stage_id_not_a_temp_file(scripted_cli):
    serve_tarball(scripted_cli, b"<html>not a tarball</html>")
    result = scripted_cli.run("download", STAGE_ID)
    assert_clean_failure(result, "ETARBALL")
    assert STAGE_ID in result.stderr
    assert ".pystage-download" not in result.stderr


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_download_to_dev_stdout_keeps_stdout_pure_tarball_bytes(
    recording_server, tmp_path, json_flag
):
    import gzip
    import io
    import os
    import subprocess
    import sys
    import tarfile

    manifest = json.dumps({"name": "pkg", "version": "1.0.0"}).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("package/package.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    data = gzip.compress(raw.getvalue())
    server = recording_server()
    server.script[("GET", f"/-/stage/{STAGE_ID}/tarball")] = (
        200,
        {"content-type": "application/octet-stream"},
        data,
    )
    (tmp_path / "npmrc").write_text("")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pystage",
            "download",
            STAGE_ID,
            "-o",
            "/dev/stdout",
            *json_flag,
            "--registry",
            server.url,
            "--userconfig",
            str(tmp_path / "npmrc"),
        ],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == data
    assert b"Tarball Contents" in result.stderr
