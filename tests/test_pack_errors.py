"""Bad input to `pystage pack`: one clear line, an npm-style code, the exit code, no traceback, no file."""

from __future__ import annotations

import os

import pytest
from packcorpus import Tree

from pystage.errors import exit_code_for


def _assert_failure(proc, code, dest):
    assert proc.returncode == exit_code_for(code) != 0, proc.stderr
    assert f"pystage error {code}:" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not [p for p in os.listdir(dest) if p.endswith(".tgz") or p.endswith(".tmp")]


CASES = {
    "no package.json": (None, "ENOENT"),
    "unparsable JSON": ('{"name": "x", "version": "1.0.0",', "EJSONPARSE"),
    "not an object": ("[1, 2]", "EJSONPARSE"),
    "missing name": ('{"version": "1.0.0"}', "EINVALIDPACKAGENAME"),
    "invalid name": ('{"name": "Bad Name", "version": "1.0.0"}', "EINVALIDPACKAGENAME"),
    "name with capitals": ('{"name": "Foo", "version": "1.0.0"}', "EINVALIDPACKAGENAME"),
    "missing version": ('{"name": "x"}', "EBADSEMVER"),
    "invalid version": ('{"name": "x", "version": "1.0"}', "EBADSEMVER"),
    "version with v": ('{"name": "x", "version": "v1.0.0"}', "EBADSEMVER"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_manifest(case, tmp_path, run_pystage):
    content, code = CASES[case]
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    if content is not None:
        (pkg / "package.json").write_text(content)
    _assert_failure(run_pystage("pack", cwd=pkg), code, pkg)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read and write anything")
def test_unreadable_file(tmp_path, run_pystage):
    t = Tree(tmp_path / "pkg")
    t.pkg()
    t.write("secret.js", "s\n", 0o000)
    _assert_failure(run_pystage("pack", cwd=t.root), "EACCES", t.root)


def test_unreadable_file_error_mapping(tmp_path, monkeypatch, run_pystage):
    """Root reads anything, so fail the open itself; the CLI still gives a one-line EACCES."""
    import builtins

    from pystage.errors import PystageError
    from pystage.packing import pack

    t = Tree(tmp_path / "pkg")
    t.pkg()
    t.write("secret.js", "s\n")
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if str(file).endswith("secret.js"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    with pytest.raises(PystageError) as info:
        pack(t.root, tmp_path)
    assert info.value.code == "EACCES"
    assert "secret.js" in info.value.message
    assert not list(tmp_path.glob("*.tgz")) and not list(tmp_path.glob(".*.tmp"))


def test_destination_missing(tmp_path, run_pystage):
    t = Tree(tmp_path / "pkg")
    t.pkg()
    proc = run_pystage("pack", "--pack-destination", tmp_path / "nope", cwd=t.root)
    _assert_failure(proc, "ENOENT", t.root)


def test_destination_is_a_file(tmp_path, run_pystage):
    t = Tree(tmp_path / "pkg")
    t.pkg()
    (tmp_path / "file").write_text("")
    proc = run_pystage("pack", "--pack-destination", tmp_path / "file", cwd=t.root)
    _assert_failure(proc, "ENOTDIR", t.root)


def test_destination_not_writable(tmp_path, run_pystage):
    t = Tree(tmp_path / "pkg")
    t.pkg()
    if os.geteuid() == 0:
        # permission bits do not stop root; a read-only filesystem does
        dest = "/sys"
        try:
            open(os.path.join(dest, "pystage-probe"), "w").close()
        except OSError:
            pass
        else:
            pytest.skip("no read-only directory available")
        _assert_failure(run_pystage("pack", "--pack-destination", dest, cwd=t.root), "EACCES", dest)
        return
    dest = tmp_path / "ro"
    dest.mkdir()
    dest.chmod(0o500)
    try:
        proc = run_pystage("pack", "--pack-destination", dest, cwd=t.root)
        _assert_failure(proc, "EACCES", dest)
    finally:
        dest.chmod(0o700)


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    """A failure half-way through the tar stream removes the temporary file."""
    from pystage.packing import pack, tarball

    t = Tree(tmp_path / "pkg")
    t.pkg()
    t.write("big.bin", os.urandom(3 << 20))
    dest = tmp_path / "out"
    dest.mkdir()
    real = tarball._file_body

    def failing(absolute, size):
        yield from list(real(absolute, size))[:1]
        raise KeyboardInterrupt

    monkeypatch.setattr(tarball, "_file_body", failing)
    with pytest.raises(KeyboardInterrupt):
        pack(t.root, dest)
    assert os.listdir(dest) == []
    monkeypatch.setattr(tarball, "_file_body", real)
    assert pack(t.root, dest).path.exists()


def test_ctrl_c_during_cli_pack_leaves_no_file(tmp_path):
    """A real SIGINT while the CLI writes a large tarball: exit 130, nothing left behind."""
    import signal
    import subprocess
    import sys
    import time

    t = Tree(tmp_path / "pkg")
    t.pkg()
    for i in range(6):
        t.write(f"blob{i}.bin", os.urandom(8 << 20))
    dest = tmp_path / "out"
    dest.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pystage", "pack", "--pack-destination", dest],
        cwd=t.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    deadline = time.time() + 30
    while time.time() < deadline and not any(p.endswith(".tmp") for p in os.listdir(dest)):
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("pack finished before the signal arrived")
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert os.listdir(dest) == []
