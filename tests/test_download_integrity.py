"""download checks the bytes against the staged item's integrity (sha512 SRI) and
shasum before it saves anything; says where it saved (the -o path as given, --json's
"path"); a missing directory gets a hint. Against the scripted stage server (it can
lie) and the embedded registry (it tells the truth)."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest
from helpers import staged_item, write_npmrc

from pystage.integrity import Expected, check_file
from pystage.packing import pack


def _sri(data: bytes, algorithm: str = "sha512") -> str:
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


@pytest.fixture
def packed(tmp_path):
    from helpers import make_package

    pkg = make_package(tmp_path / "pkg", name="demo-pkg", version="1.0.0")
    (tmp_path / "packed").mkdir()
    return pack(pkg, str(tmp_path / "packed"), ignore_scripts=True).path.read_bytes()


@pytest.fixture
def ours(tmp_path, stage_server, run_pystage):
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    work = tmp_path / "work"
    work.mkdir()

    def run(*args, **kw):
        return run_pystage(
            *args, "--registry", stage_server.url, "--userconfig", npmrc, cwd=work, **kw
        )

    run.server, run.work = stage_server, work
    return run


def _stage(ours, data: bytes, **fields) -> dict:
    fields.setdefault("shasum", None)  # staged_item's is a placeholder
    item = staged_item("demo-pkg", "1.0.0", **fields)
    ours.server.state.items = [item]
    ours.server.state.tarballs[item["id"]] = data
    return item


def test_a_tarball_that_matches_its_integrity_and_shasum_is_saved(ours, packed):
    item = _stage(ours, packed, integrity=_sri(packed), shasum=hashlib.sha1(packed).hexdigest())
    result = ours("download", item["id"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"demo-pkg-1.0.0-{item['id']}.tgz"
    assert (ours.work / result.stdout.strip()).read_bytes() == packed
    assert "could not be verified" not in result.stderr


@pytest.mark.parametrize("lie", ["integrity", "shasum", "both"])
def test_a_tarball_other_than_the_staged_one_fails_and_leaves_no_file(ours, packed, lie):
    other = packed[:-1] + bytes([packed[-1] ^ 1])
    fields = {
        "integrity": _sri(other if lie in ("integrity", "both") else packed),
        "shasum": hashlib.sha1(other if lie in ("shasum", "both") else packed).hexdigest(),
    }
    item = _stage(ours, packed, **fields)
    for args in (("download", item["id"]), ("download", "demo-pkg@1.0.0", "--json")):
        result = ours(*args)
        assert result.returncode == 1
        field = "integrity" if lie != "shasum" else "shasum"
        assert (
            f"pystage error EINTEGRITY: the staged tarball {item['id']} does not match its {field}"
            in (result.stderr)
            or '"code": "EINTEGRITY"' in result.stderr
        ), result.stderr
        assert "Traceback" not in result.stderr
        assert os.listdir(ours.work) == []
        assert result.stdout == ""


def test_integrity_to_dev_stdout_or_a_fifo_is_checked_before_a_byte_is_written(
    ours, packed, tmp_path
):
    item = _stage(ours, packed, integrity=_sri(b"other bytes"), shasum=None)
    result = ours("download", item["id"], "-o", "/dev/stdout")
    assert result.returncode == 1 and result.stdout == ""
    assert "EINTEGRITY" in result.stderr


def test_the_strongest_sri_algorithm_decides_as_ssri_does(tmp_path):
    data = b"tarball bytes"
    path = tmp_path / "t.tgz"
    path.write_bytes(data)
    # a wrong sha1 beside a right sha512: sha512 decides
    assert check_file(str(path), Expected(f"sha1-AAAA {_sri(data)}"), "t") == "sha512"
    # several digests of one algorithm: any may match
    assert check_file(str(path), Expected(f"{_sri(b'x')} {_sri(data)}"), "t") == "sha512"
    assert check_file(str(path), Expected(_sri(data, "sha256") + "?opt"), "t") == "sha256"
    assert check_file(str(path), Expected(None, hashlib.sha1(data).hexdigest().upper()), "t") == (
        "shasum"
    )
    # nothing we can check: md5 is no evidence, garbage is ignored
    assert check_file(str(path), Expected("md5-AAAA not-sri", "xyz"), "t") is None
    with pytest.raises(Exception, match="EINTEGRITY|does not match its integrity"):
        check_file(str(path), Expected(f"{_sri(data, 'sha256')} {_sri(b'x')}"), "t")


def test_an_item_without_integrity_is_saved_with_a_warning(ours, packed):
    item = _stage(ours, packed, shasum=None)
    result = ours("download", item["id"])
    assert result.returncode == 0, result.stderr
    assert (
        f"warning the registry gave no integrity or shasum for {item['id']}: "
        "the download could not be verified"
    ) in result.stderr
    as_json = json.loads(ours("download", item["id"], "--json").stdout)
    assert as_json["demo-pkg"]["verified"] is False


def test_json_says_where_the_file_was_saved(ours, packed):
    item = _stage(ours, packed, integrity=_sri(packed))
    (ours.work / "into").mkdir()
    result = ours("download", item["id"], "--json", "-o", "into")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)["demo-pkg"]
    assert shown["path"] == str(ours.work / "into" / f"demo-pkg-1.0.0-{item['id']}.tgz")
    assert shown["verified"] is True
    assert os.path.exists(shown["path"])


@pytest.mark.parametrize(
    "given, shown",
    [
        ("into", os.path.join("into", "demo-pkg-1.0.0-{id}.tgz")),
        ("into/", "into/demo-pkg-1.0.0-{id}.tgz"),
        ("into/mine.tgz", "into/mine.tgz"),
        ("./into/../into/mine.tgz", "./into/../into/mine.tgz"),
        ("{abs}/into/abs.tgz", "{abs}/into/abs.tgz"),
    ],
)
def test_o_is_echoed_as_given(ours, packed, given, shown):
    item = _stage(ours, packed, integrity=_sri(packed))
    (ours.work / "into").mkdir(exist_ok=True)
    given = given.format(abs=ours.work)
    result = ours("download", item["id"], "-o", given)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == shown.format(id=item["id"], abs=ours.work)


@pytest.mark.parametrize("given", ["missing/", "missing/file.tgz", "a/b/c.tgz"])
def test_a_missing_directory_is_enoent_with_a_hint_before_any_download(ours, packed, given):
    item = _stage(ours, packed, integrity=_sri(packed))
    ours.server.clear()
    result = ours("download", item["id"], "-o", given)
    assert result.returncode == 1
    missing = given if given.endswith("/") else os.path.dirname(given)
    assert f"pystage error ENOENT: no such directory: {missing}" in result.stderr
    assert f"pystage hint: create it first (mkdir -p {missing})" in result.stderr
    assert not [r for r in ours.server.requests if r.path.endswith("/tarball")]
    assert os.listdir(ours.work) == []


def test_the_embedded_registry_download_is_verified(registry_server, tmp_path, run_pystage):
    user = registry_server.add_user("alice")
    registry_server.publish(user, "demo-pkg", "0.1.0")
    stage_id = registry_server.stage(user, "demo-pkg", "1.0.0")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    result = run_pystage("download", stage_id, "--json", "--userconfig", npmrc)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)["demo-pkg"]
    assert shown["verified"] is True
    with open(shown["path"], "rb") as handle:
        assert _sri(handle.read()) == shown["integrity"]
