"""publish --workspaces / -w / --include-workspace-root: the packages npm selects, in
npm's order, with the requests npm sends; a failing package does not hide the others."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from helpers import make_package, requires_npm, run_npm, write_npmrc

from pystage.errors import PystageError
from pystage.workspaces import select_workspaces


def _workspace(root):
    root.mkdir(parents=True)
    (root / "package.json").write_text(
        json.dumps(
            {
                "name": "ws-root",
                "version": "1.0.0",
                "workspaces": ["packages/*", "tools/cli"],
            },
            indent=2,
        )
    )
    (root / ".npmignore").write_text("*.log\n")
    make_package(root / "packages" / "zeta", name="@acme/zeta", version="1.0.0")
    make_package(
        root / "packages" / "alpha",
        name="@acme/alpha",
        version="1.2.0",
        dependencies={"@acme/zeta": "^1.0.0"},
        # the root's .npmignore applies to a workspace too (npm reads it out of tree)
        files={"index.js": "module.exports = 'a'\n", "README.md": "# alpha\n", "debug.log": "x"},
    )
    make_package(root / "packages" / "secret", name="@acme/secret", version="1.0.0", private=True)
    make_package(root / "tools" / "cli", name="acme-cli", version="0.3.0")
    return root


def _names(selected):
    return list(selected[1])


def test_selection_follows_npm(tmp_path):
    root = _workspace(tmp_path / "ws")
    assert _names(select_workspaces(str(root))) == [
        "@acme/alpha",
        "@acme/secret",
        "@acme/zeta",
        "acme-cli",
    ]
    assert _names(select_workspaces(str(root), ["acme-cli", "@acme/zeta"])) == [
        "acme-cli",
        "@acme/zeta",
    ]
    assert _names(select_workspaces(str(root), ["packages/alpha"])) == ["@acme/alpha"]
    assert _names(select_workspaces(str(root), ["packages"])) == [
        "@acme/alpha",
        "@acme/secret",
        "@acme/zeta",
    ]
    assert _names(select_workspaces(str(root), ["tools/cli"], include_root=True)) == [
        "ws-root",
        "acme-cli",
    ]
    # from inside a package, the workspace is still found
    inside = root / "packages" / "alpha"
    assert _names(select_workspaces(str(root), ["acme-cli"])) == _names(
        select_workspaces(str(inside.parent.parent), ["acme-cli"])
    )
    with pytest.raises(PystageError) as info:
        select_workspaces(str(root), ["nope"])
    assert "No workspaces found" in info.value.message and "--workspace=nope" in info.value.message


def test_two_workspaces_with_one_name_are_refused(tmp_path):
    root = _workspace(tmp_path / "ws")
    make_package(root / "packages" / "again", name="@acme/zeta", version="2.0.0")
    with pytest.raises(PystageError) as info:
        select_workspaces(str(root))
    assert info.value.code == "EDUPLICATEWORKSPACE"


def _posts(server):
    return [r for r in server.requests if r.method == "POST"]


def _sequence(server) -> list[tuple[str, str]]:
    """The requests in order, a repeated GET of the same packument counted once (npm's
    pacote asks twice when the packument is missing: once per accept header)."""
    out: list[tuple[str, str]] = []
    for r in server.requests:
        if not (r.method == "GET" and out and out[-1] == (r.method, r.path)):
            out.append((r.method, r.path))
    return out


def _comparable(document: dict) -> dict:
    """A stage document without what Node's gzip and npm's own versions make differ."""
    for manifest in document["versions"].values():
        for key in ("_npmVersion", "_nodeVersion", "dist"):
            manifest.pop(key, None)
    (attachment,) = document["_attachments"].values()
    attachment["tar"] = gzip.decompress(base64.b64decode(attachment.pop("data"))).hex()
    attachment.pop("length")
    return document


@requires_npm((11,))
@pytest.mark.npm
@pytest.mark.parametrize(
    "args",
    [
        ("--workspaces",),
        ("-w", "acme-cli", "-w", "packages/alpha"),
        ("--workspaces", "--include-workspace-root"),
    ],
)
def test_requests_match_npm_stage_publish(tmp_path, stage_server, npm_env, run_pystage, args):
    root = _workspace(tmp_path / "ws")
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    env = {**npm_env, "npm_config_userconfig": npmrc}
    npm = run_npm(
        ["stage", "publish", *args, "--registry", stage_server.url, "--json", "--ignore-scripts"],
        cwd=root,
        env=env,
    )
    assert npm.returncode == 0, npm.stderr
    theirs = _sequence(stage_server)
    their_bodies = [_comparable(r.body_json()) for r in _posts(stage_server)]
    stage_server.clear()
    ours = run_pystage(
        "publish",
        *args,
        "--registry",
        stage_server.url,
        "--userconfig",
        npmrc,
        "--json",
        "--ignore-scripts",
        cwd=root,
    )
    assert ours.returncode == 0, ours.stderr
    assert _sequence(stage_server) == theirs
    assert [_comparable(r.body_json()) for r in _posts(stage_server)] == their_bodies
    assert "Skipping workspace @acme/secret" in ours.stderr or "-w" in args
    npm_json, our_json = json.loads(npm.stdout), json.loads(ours.stdout)
    assert list(our_json) == list(npm_json)
    for name in npm_json:
        assert our_json[name]["stageId"] == npm_json[name]["stageId"]
        assert our_json[name]["files"] == npm_json[name]["files"]


def test_one_failure_does_not_hide_the_others(tmp_path, stage_server, run_pystage):
    root = _workspace(tmp_path / "ws")
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    # @acme/zeta@1.0.0 is published already: npm's check refuses it, the others go on
    stage_server.state.packuments["@acme/zeta"] = {
        "name": "@acme/zeta",
        "versions": {"1.0.0": {"name": "@acme/zeta", "version": "1.0.0"}},
        "dist-tags": {"latest": "1.0.0"},
    }
    args = ("--workspaces", "--registry", stage_server.url, "--userconfig", npmrc)
    human = run_pystage("publish", *args, "-q", cwd=root)
    assert human.returncode == 1, human.stderr
    assert "+ @acme/alpha@1.2.0 (staged with id" in human.stdout
    assert "+ acme-cli@0.3.0 (staged with id" in human.stdout
    assert "failed workspace @acme/zeta: EPUBLISHCONFLICT" in human.stderr
    assert "1 of 4 workspaces were not staged: @acme/zeta (EPUBLISHCONFLICT)" in human.stderr
    staged = [r.path for r in _posts(stage_server)]
    assert staged == ["/-/stage/package/@acme%2falpha", "/-/stage/package/acme-cli"] or staged == [
        "/-/stage/package/@acme/alpha",
        "/-/stage/package/acme-cli",
    ]
    stage_server.clear()
    data = run_pystage("publish", *args, "--json", cwd=root)
    assert data.returncode == 1
    out = json.loads(data.stdout)
    assert out["@acme/zeta"]["error"]["code"] == "EPUBLISHCONFLICT"
    assert out["@acme/alpha"]["stageId"] and out["acme-cli"]["stageId"]


def test_message_goes_with_every_workspace(tmp_path, stage_server, run_pystage):
    root = _workspace(tmp_path / "ws")
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    result = run_pystage(
        "publish",
        "-w",
        "packages",
        "-m",
        "release 7",
        "--registry",
        stage_server.url,
        "--userconfig",
        npmrc,
        cwd=root,
    )
    assert result.returncode == 0, result.stderr
    assert [r.headers.get("pystage-stage-message") for r in _posts(stage_server)] == [
        "release%207",
        "release%207",
    ]


def test_an_unknown_workspace_is_an_error_before_any_request(tmp_path, stage_server, run_pystage):
    root = _workspace(tmp_path / "ws")
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    result = run_pystage(
        "publish", "-w", "nope", "--registry", stage_server.url, "--userconfig", npmrc, cwd=root
    )
    assert result.returncode == 1
    assert "No workspaces found: --workspace=nope" in result.stderr
    assert stage_server.requests == []
