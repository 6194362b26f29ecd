"""Full or read-only storage: each operation happens wholly or not at all, and says which.

Real file systems: as root, a tiny tmpfs that a test fills up, and a read-only bind
mount laid over the running registry's storage (files it already holds open stay
writable, exactly as when a volume turns read-only under a process); otherwise
permission bits stand in for read-only, and the full-disk tests say they need root.
"""

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import escaped, make_tarball, publish_document, start_registry

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="NEEDS ROOT: mounts a tmpfs to fill up")


def _run(*args):
    subprocess.run(args, check=True, capture_output=True)


@contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@contextmanager
def read_only(path: Path):
    """``path`` read-only for new opens, renames and unlinks, until the block ends."""
    if ROOT:
        _run("mount", "--bind", str(path), str(path))
        try:
            _run("mount", "-o", "remount,bind,ro", str(path))
            yield
        finally:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)
    else:
        modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")] if p.is_dir()}
        for directory in modes:
            directory.chmod(0o500)
        try:
            yield
        finally:
            for directory, mode in modes.items():
                directory.chmod(mode)


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def _serve(storage: Path) -> subprocess.CompletedProcess:
    """``pystage registry serve`` on ``storage``, expected to refuse to start."""
    return subprocess.run(
        [sys.executable, "-m", "pystage", "registry", "serve"]
        + ["--storage", str(storage), "--listen", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _log_since(server, offset):
    return server.log_text(offset)


@pytest.fixture
def staged(tmp_path):
    server = start_registry(tmp_path / "registry")
    try:
        alice = server.add_user("alice")
        server.publish(alice, "pkg", "1.0.0")
        server.alice = alice
        server.stage_id = server.stage(alice, "pkg", "1.1.0")
        yield server
    finally:
        server.stop()


def _tarballs(server):
    return sorted(p.name for p in (server.storage / "tarballs").iterdir())


def test_reject_on_read_only_storage_commits_nothing_and_says_so(staged):
    before = _tarballs(staged)
    offset = len(staged.log_text())
    with read_only(staged.storage):
        response = staged.request("DELETE", f"-/stage/{staged.stage_id}", staged.alice)
        assert response.status_code == 503, response.text
        assert "nothing was changed" in response.json()["error"]
    # not half-done: the stage is still there, with its tarball
    assert staged.request("GET", f"-/stage/{staged.stage_id}", staged.alice).status_code == 200
    assert staged.request("GET", f"-/stage/{staged.stage_id}/tarball", staged.alice).content
    assert _tarballs(staged) == before
    log = _log_since(staged, offset)
    assert str(staged.storage / "tarballs") in log and "Traceback" not in log
    # and once the storage is writable again, the reject works and removes the tarball
    assert staged.request("DELETE", f"-/stage/{staged.stage_id}", staged.alice).status_code == 204
    assert len(_tarballs(staged)) == len(before) - 1


def test_publish_and_stage_on_read_only_storage_fail_whole(staged):
    with read_only(staged.storage):
        for url, version in (("pkg", "2.0.0"), (f"-/stage/package/{escaped('pkg')}", "2.1.0")):
            tarball = make_tarball("pkg", version)
            response = staged.request(
                "PUT" if url == "pkg" else "POST",
                url,
                staged.alice,
                json=publish_document(staged.url, "pkg", version, tarball),
            )
            assert response.status_code == 503, response.text
            assert (
                "read-only" in response.json()["error"] or "permission" in response.json()["error"]
            )
            assert "nothing was changed" in response.json()["error"]
    assert set(staged.request("GET", "pkg").json()["versions"]) == {"1.0.0"}
    items = staged.request("GET", "-/stage", staged.alice).json()["items"]
    assert [i["version"] for i in items] == ["1.1.0"]
    assert list((staged.storage / "tmp").iterdir()) == []


@needs_root
def test_full_disk_is_a_507_and_nothing_half_published(tmp_path):
    with tmpfs(tmp_path / "small", "2m") as small:
        server = start_registry(small / "registry")
        try:
            alice = server.add_user("alice")
            server.publish(alice, "pkg", "1.0.0")
            stage_id = server.stage(alice, "pkg", "1.1.0")
            filler = _fill(small)
            offset = len(server.log_text())
            big = {"blob.bin": os.urandom(300_000)}
            for url, version in (("pkg", "2.0.0"), (f"-/stage/package/{escaped('pkg')}", "2.1.0")):
                tarball = make_tarball("pkg", version, big)
                response = server.request(
                    "PUT" if url == "pkg" else "POST",
                    url,
                    alice,
                    json=publish_document(server.url, "pkg", version, tarball),
                )
                assert response.status_code == 507, response.text
                error = response.json()["error"]
                assert "disk is full" in error and "nothing was changed" in error
            log = server.log_text(offset)
            assert "No space left on device" in log and str(small / "registry") in log
            assert "Traceback" not in log
            # only metadata writes now: each either happened (2xx) or did not (507)
            tag = server.request("PUT", "-/package/pkg/dist-tags/beta", alice, json="1.0.0")
            tags = server.request("GET", "-/package/pkg/dist-tags").json()
            assert (tag.status_code == 201) == ("beta" in tags), tag.text
            assert tag.status_code in (201, 507)
            approve = server.request("POST", f"-/stage/{stage_id}/approve", alice)
            versions = set(server.request("GET", "pkg").json()["versions"])
            assert approve.status_code in (200, 507)
            assert (approve.status_code == 200) == ("1.1.0" in versions)
            assert "2.0.0" not in versions
            assert [p for p in (small / "registry" / "tmp").iterdir()] == []
            filler.unlink()
            server.publish(alice, "pkg", "2.0.0", big)  # and it recovers with space
        finally:
            server.stop()


def test_starting_on_read_only_storage_fails_with_one_line(tmp_path):
    storage = tmp_path / "ro"
    storage.mkdir()
    if ROOT:
        _run("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(storage))
    else:
        storage.chmod(0o500)
    try:
        result = _serve(storage)
    finally:
        if ROOT:
            subprocess.run(["umount", "-l", str(storage)], capture_output=True)
        else:
            storage.chmod(0o700)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pystage error E") and str(storage) in lines[0]
    assert "read-only" in lines[0] or "permission denied" in lines[0]
    assert "OperationalError" not in result.stderr


def test_starting_on_a_file_that_is_not_a_database_fails_with_one_line(tmp_path):
    storage = tmp_path / "broken"
    storage.mkdir()
    (storage / "registry.db").write_bytes(b"not sqlite at all" * 100)
    result = _serve(storage)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert str(storage / "registry.db") in result.stderr
    shutil.rmtree(storage)
