"""Every refusal of pystage publish: a clear one-line error, a non-zero exit,
nothing staged, and no request at all when the refusal is client-side."""

from __future__ import annotations

import pytest
from helpers import make_package, npm_pack_tarball, requires_npm, write_npmrc


def _publish(run_pystage, server, tmp_path, target, *args, npmrc=True):
    rc = write_npmrc(tmp_path / "npmrc", server.url) if npmrc else str(tmp_path / "empty-npmrc")
    if not npmrc:
        (tmp_path / "empty-npmrc").write_text("")
    return run_pystage(
        "publish", target, "--registry", server.url, "--userconfig", rc, *args, cwd=tmp_path
    )


CLIENT_SIDE = [
    ("private", dict(private=True), [], "EPRIVATE", "marked as private"),
    (
        "prerelease",
        dict(version="2.0.0-rc.1"),
        [],
        "EPRERELEASETAG",
        "You must specify a tag using --tag when publishing a prerelease version.",
    ),
    (
        "range-tag",
        {},
        ["--tag", "^1.0.0"],
        "EINVALIDTAG",
        "Tag name must not be a valid SemVer range: ^1.0.0",
    ),
    ("bad-tag", {}, ["--tag", "a/b"], "EINVALIDTAGNAME", 'Invalid tag name "a/b"'),
    (
        "restricted-unscoped",
        {},
        ["--access", "restricted"],
        "EUNSCOPED",
        "Can't restrict access to unscoped packages.",
    ),
    (
        "publishconfig-range-tag",
        dict(publishConfig={"tag": "1.x"}),
        [],
        "EINVALIDTAG",
        "Tag name must not be a valid SemVer range: 1.x",
    ),
]


@pytest.mark.parametrize(
    "case,fields,args,code,message", CLIENT_SIDE, ids=[c[0] for c in CLIENT_SIDE]
)
def test_client_side_refusals_send_nothing(
    tmp_path, stage_server, run_pystage, case, fields, args, code, message
):
    marker = tmp_path / "pkg" / "ran-prepublishOnly"
    pkg = make_package(
        tmp_path / "pkg", **{"scripts": {"prepublishOnly": f"touch {marker}"}, **fields}
    )
    result = _publish(run_pystage, stage_server, tmp_path, pkg, *args)

    assert result.returncode != 0
    assert f"pystage error {code}: " in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert stage_server.requests == []
    assert not marker.exists(), "no lifecycle script may run before a local refusal"


@requires_npm((11,))
def test_client_side_refusal_of_a_tarball_sends_nothing(
    tmp_path, stage_server, run_pystage, npm_env
):
    pkg = make_package(tmp_path / "pkg", private=True)
    (tmp_path / "out").mkdir()
    tarball = npm_pack_tarball(pkg, str(tmp_path / "out"), npm_env)
    result = _publish(run_pystage, stage_server, tmp_path, tarball)
    assert result.returncode == 1
    assert "pystage error EPRIVATE: This package has been marked as private" in result.stderr
    assert stage_server.requests == []


REGISTRY_SIDE = [
    (
        "already-published",
        "1.0.0",
        ["1.0.0"],
        [],
        "You cannot publish over the previously published versions: 1.0.0.",
    ),
    (
        "lower-than-latest",
        "1.0.0",
        ["1.2.0", "0.9.0"],
        [],
        'Cannot implicitly apply the "latest" tag because previously published version 1.2.0 '
        "is higher than the new version 1.0.0. You must specify a tag using --tag.",
    ),
]


def _packument(name, versions):
    return {
        "name": name,
        "versions": {v: {"name": name, "version": v} for v in versions},
        "dist-tags": {"latest": versions[0]},
    }


@pytest.mark.parametrize(
    "case,version,published,args,message", REGISTRY_SIDE, ids=[c[0] for c in REGISTRY_SIDE]
)
def test_registry_version_checks_refuse_before_posting(
    tmp_path, stage_server, run_pystage, case, version, published, args, message
):
    pkg = make_package(tmp_path / "pkg", version=version)
    stage_server.state.packuments["demo-pkg"] = _packument("demo-pkg", published)
    result = _publish(run_pystage, stage_server, tmp_path, pkg, "--ignore-scripts")

    assert result.returncode == 1
    assert f"pystage error EPUBLISHCONFLICT: {message}" in result.stderr
    assert [(r.method, r.path) for r in stage_server.requests] == [("GET", "/demo-pkg")]


def test_explicit_tag_allows_a_version_below_latest(tmp_path, stage_server, run_pystage):
    pkg = make_package(tmp_path / "pkg", version="1.0.1")
    stage_server.state.packuments["demo-pkg"] = _packument("demo-pkg", ["2.0.0", "1.0.0"])
    result = _publish(run_pystage, stage_server, tmp_path, pkg, "--tag", "v1-maintenance")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip() == f"+ demo-pkg@1.0.1 (staged with id {stage_server.state.stage_id})"
    )
    (post,) = [r for r in stage_server.requests if r.method == "POST"]
    assert post.body_json()["dist-tags"] == {"v1-maintenance": "1.0.1"}


def test_force_skips_the_registry_checks(tmp_path, stage_server, run_pystage):
    pkg = make_package(tmp_path / "pkg", version="1.0.0")
    stage_server.state.packuments["demo-pkg"] = _packument("demo-pkg", ["1.0.0"])
    result = _publish(run_pystage, stage_server, tmp_path, pkg, "--force")
    assert result.returncode == 0, result.stderr
    assert [r.method for r in stage_server.requests] == ["POST"]


def test_not_logged_in_refuses_without_posting(tmp_path, stage_server, run_pystage):
    pkg = make_package(tmp_path / "pkg")
    result = _publish(run_pystage, stage_server, tmp_path, pkg, npmrc=False)
    assert result.returncode == 3
    assert (
        f"pystage error ENEEDAUTH: This command requires you to be logged in to {stage_server.url}"
        in result.stderr
    )
    assert stage_server.requests == []


def test_dry_run_checks_but_stages_nothing(tmp_path, stage_server, run_pystage):
    pkg = make_package(tmp_path / "pkg")
    result = _publish(run_pystage, stage_server, tmp_path, pkg, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "+ demo-pkg@1.0.0 (staged)"
    assert "Tarball Contents" in result.stderr and "(dry-run)" in result.stderr
    assert [r.method for r in stage_server.requests] == ["GET"]


def test_missing_target_is_a_clear_error(tmp_path, stage_server, run_pystage):
    result = _publish(run_pystage, stage_server, tmp_path, str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "pystage error ENOENT: no such package directory or tarball" in result.stderr
    assert stage_server.requests == []


def test_a_corrupt_tarball_is_a_clear_error(tmp_path, stage_server, run_pystage):
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(b"\x1f\x8b\x08\x00not really gzip")
    result = _publish(run_pystage, stage_server, tmp_path, str(bad))
    assert result.returncode == 1
    assert "pystage error ETARBALL:" in result.stderr and "Traceback" not in result.stderr
    assert stage_server.requests == []


def test_a_file_that_is_no_tarball_is_a_one_line_error(tmp_path, run_pystage):
    junk = tmp_path / "junk.tgz"
    junk.write_bytes(bytes(range(256)) * 8)
    proc = run_pystage("publish", junk, "--dry-run", "--registry", "http://127.0.0.1:9/")
    assert proc.returncode != 0
    assert proc.stderr.startswith("pystage error ETARBALL:") and "Traceback" not in proc.stderr
