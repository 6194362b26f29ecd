"""list, view, download, approve and reject: npm and pystage against the same
scripted stage server, comparing requests, --json outputs, saved files and
the server's state afterwards; plus the refusals made before any request."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from helpers import make_package, npm_pack_tarball, requires_npm, run_npm, staged_item, write_npmrc

npm_only = requires_npm((11,))


@pytest.fixture
def setup(tmp_path, stage_server, npm_env, run_pystage):
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    env = {**npm_env, "npm_config_userconfig": npmrc}
    (tmp_path / "npm").mkdir()
    (tmp_path / "ours").mkdir()

    def npm(*args, cwd=None):
        return run_npm(
            ["stage", *args, "--registry", stage_server.url], cwd=cwd or tmp_path / "npm", env=env
        )

    def ours(*args, cwd=None, **kw):
        return run_pystage(
            *args,
            "--registry",
            stage_server.url,
            "--userconfig",
            npmrc,
            cwd=cwd or tmp_path / "ours",
            **kw,
        )

    return stage_server, npm, ours


def _requests(server):
    reqs = [(r.method, r.path, {k: v for k, v in sorted(r.query.items())}) for r in server.requests]
    server.clear()
    return reqs


@npm_only
def test_list_json_equals_npm_across_pages(setup):
    server, npm, ours = setup
    server.state.items = [staged_item(f"pkg-{i % 7}", f"1.0.{i}") for i in range(230)]
    theirs = npm("list", "--json")
    assert theirs.returncode == 0, theirs.stderr
    npm_requests = _requests(server)
    mine = ours("list", "--json")
    assert mine.returncode == 0, mine.stderr

    assert json.loads(mine.stdout) == json.loads(theirs.stdout)
    assert len(json.loads(mine.stdout)) == 230
    assert _requests(server) == npm_requests  # pages 0, 1, 2 of 100


@npm_only
def test_list_of_one_package_json_equals_npm(setup):
    server, npm, ours = setup
    server.state.items = [staged_item("@acme/w", "2.0.0"), staged_item("other", "1.0.0")]
    theirs, mine = npm("list", "@acme/w", "--json"), ours("ls", "@acme/w", "--json")
    assert mine.returncode == theirs.returncode == 0
    assert json.loads(mine.stdout) == json.loads(theirs.stdout) == [server.state.items[0]]


def test_list_piped_is_a_table_of_whole_values(setup):
    server, _, ours = setup
    server.state.items = [
        staged_item("demo-pkg", "1.1.0", stage_id="0f3c2a4e-1111-4222-8333-944445555666")
    ]
    server.state.items.append(
        staged_item("b", "2.0.0", stage_id="1f3c2a4e-1111-4222-8333-944445555666", actor="al")
    )
    result = ours("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line for line in lines if line != line.rstrip()] == []  # no padding left at the ends
    header, row = lines[:2]
    assert header.split() == ["id", "package", "version", "tag", "staged", "at", "staged", "by"]
    assert row.split() == [
        "0f3c2a4e-1111-4222-8333-944445555666",
        "demo-pkg",
        "1.1.0",
        "latest",
        "2026-01-02T03:04:05.000Z",
        "alice",
        "(user)",
    ]


def test_list_says_when_nothing_is_staged(setup):
    server, _, ours = setup
    assert ours("list").stdout.strip() == "No staged packages found."
    assert ours("list", "demo").stdout.strip() == 'No staged versions of package name "demo".'


def test_list_refuses_a_version_spec_before_any_request(setup):
    server, _, ours = setup
    result = ours("list", "demo@1.0.0")
    assert result.returncode == 2
    assert (
        "pystage error EUSAGE: Version specifiers are not supported for listing staged packages"
    ) in result.stderr
    assert server.requests == []


@npm_only
def test_view_json_equals_npm_and_human_output_has_every_field(setup):
    server, npm, ours = setup
    item = staged_item("demo-pkg", "1.1.0", extra_field="kept", size=315)
    server.state.items = [item]
    theirs, mine = npm("view", item["id"], "--json"), ours("view", item["id"], "--json")
    assert mine.returncode == theirs.returncode == 0
    assert json.loads(mine.stdout) == json.loads(theirs.stdout) == item

    human = ours("view", item["id"]).stdout.splitlines()
    npm_human = npm("view", item["id"]).stdout.splitlines()
    assert human == npm_human
    assert human[:3] == [f"id: {item['id']}", "package name: demo-pkg", "version: 1.1.0"]
    assert "staged by: alice (user)" in human and "extra_field: kept" in human


def test_view_by_name_at_version_resolves_through_list(setup):
    server, _, ours = setup
    wanted = staged_item("@acme/w", "2.0.0")
    server.state.items = [staged_item("@acme/w", "1.9.0"), wanted]
    result = ours("view", "@acme/w@2.0.0", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == wanted
    assert [(m, p) for m, p, _ in _requests(server)] == [
        ("GET", "/-/stage"),
        ("GET", f"/-/stage/{wanted['id']}"),
    ]


def test_name_at_version_that_matches_nothing_says_so(setup):
    server, _, ours = setup
    server.state.items = [staged_item("demo", "1.0.0")]
    result = ours("view", "demo@2.0.0")
    assert result.returncode == 4
    assert "pystage error E404: no staged version matches demo@2.0.0" in result.stderr
    assert "staged versions of demo: 1.0.0" in result.stderr


def test_name_at_version_that_matches_several_says_so(setup):
    server, _, ours = setup
    a, b = staged_item("demo", "1.0.0"), staged_item("demo", "1.0.0", tag="next")
    server.state.items = [a, b]
    result = ours("approve", "demo@1.0.0", "--otp", "123456")
    assert result.returncode == 1
    assert "pystage error EAMBIGUOUS: 2 staged items match demo@1.0.0" in result.stderr
    assert a["id"] in result.stderr and b["id"] in result.stderr
    assert len(server.state.items) == 2


@pytest.mark.parametrize("command", ["view", "download", "approve", "reject"])
@pytest.mark.parametrize(
    "bad", ["not-a-uuid", "0f3c2a4e-1111-4222-8333-94444555566", "demo@latest"]
)
def test_malformed_id_fails_before_any_request(setup, command, bad):
    server, _, ours = setup
    result = ours(command, bad)
    assert result.returncode == 2
    assert "pystage error EUSAGE: stage-id must be a valid UUID" in result.stderr
    assert server.requests == []


@pytest.mark.parametrize("command", ["view", "download", "approve", "reject"])
def test_missing_id_is_a_usage_error(setup, command):
    server, _, ours = setup
    result = ours(command)
    assert result.returncode == 2
    assert "Missing required <stage-id>" in result.stderr
    assert server.requests == []


@npm_only
def test_download_saves_npm_file_name_and_bytes(setup, tmp_path, npm_env):
    server, npm, ours = setup
    pkg = make_package(
        tmp_path / "pkg",
        name="@acme/widget",
        version="2.0.0",
        files={"index.js": "x", "README.md": "# w\n", "lib/Z.js": "", "lib/a.js": ""},
    )
    (tmp_path / "packed").mkdir()
    tarball = npm_pack_tarball(pkg, str(tmp_path / "packed"), npm_env)
    with open(tarball, "rb") as handle:
        data = handle.read()
    item = staged_item("@acme/widget", "2.0.0", shasum=hashlib.sha1(data).hexdigest())
    server.state.items = [item]
    server.state.tarballs[item["id"]] = data

    theirs, mine = npm("download", item["id"]), ours("download", item["id"])
    assert mine.returncode == theirs.returncode == 0, mine.stderr
    expected = f"acme-widget-2.0.0-{item['id']}.tgz"
    assert mine.stdout.strip() == theirs.stdout.strip() == expected
    assert os.listdir(tmp_path / "ours") == os.listdir(tmp_path / "npm") == [expected]
    with (
        open(tmp_path / "ours" / expected, "rb") as a,
        open(tmp_path / "npm" / expected, "rb") as b,
    ):
        assert a.read() == b.read() == server.state.tarballs[item["id"]]
    listing = [line.replace("npm notice ", "") for line in theirs.stderr.splitlines()]
    for line in (
        "Tarball Contents",
        "4B README.md",
        "1B index.js",
        "0B lib/a.js",
        "0B lib/Z.js",
        "total files: 5",
    ):
        assert line in mine.stderr
        assert line in listing

    as_json = json.loads(ours("download", item["id"], "--json", cwd=tmp_path).stdout)
    # npm's object, plus where the file went and that its bytes were checked
    shown = as_json["@acme/widget"]
    assert shown.pop("path") == str(tmp_path / expected)
    assert shown.pop("verified") is True
    assert as_json == json.loads(npm("download", item["id"], "--json").stdout)


def test_download_to_a_file_or_directory(setup, tmp_path):
    from pystage.packing import pack

    server, _, ours = setup
    pkg = make_package(tmp_path / "pkg")
    (tmp_path / "packed").mkdir()

    packed = pack(pkg, str(tmp_path / "packed"), ignore_scripts=True)
    item = staged_item("demo-pkg", "1.0.0", shasum=packed.shasum, integrity=packed.integrity)
    server.state.items = [item]
    server.state.tarballs[item["id"]] = packed.path.read_bytes()
    (tmp_path / "ours" / "into").mkdir()

    to_dir = ours("download", "demo-pkg@1.0.0", "-o", "into")
    assert to_dir.returncode == 0, to_dir.stderr
    assert os.listdir(tmp_path / "ours" / "into") == [f"demo-pkg-1.0.0-{item['id']}.tgz"]
    to_file = ours("download", item["id"], "-o", "into/mine.tgz")
    assert to_file.returncode == 0, to_file.stderr
    assert (tmp_path / "ours" / "into" / "mine.tgz").read_bytes() == packed.path.read_bytes()
    assert to_file.stdout.strip() == os.path.join("into", "mine.tgz")


def test_download_of_a_corrupt_tarball_leaves_no_file(setup, tmp_path):
    server, _, ours = setup
    garbage = b"\x1f\x8b\x08\x00garbage" * 10
    item = staged_item("demo-pkg", "1.0.0", shasum=hashlib.sha1(garbage).hexdigest())
    server.state.items = [item]
    server.state.tarballs[item["id"]] = garbage
    result = ours("download", item["id"])
    assert result.returncode == 1
    assert "pystage error ETARBALL:" in result.stderr and "Traceback" not in result.stderr
    assert os.listdir(tmp_path / "ours") == []


def test_download_of_an_unknown_id_is_e404_and_leaves_no_file(setup, tmp_path):
    server, _, ours = setup
    result = ours("download", "0f3c2a4e-1111-4222-8333-944445555666")
    assert result.returncode == 4
    assert "pystage error E404" in result.stderr
    assert os.listdir(tmp_path / "ours") == []


@npm_only
@pytest.mark.parametrize("action", ["approve", "reject"])
def test_approve_and_reject_send_what_npm_sends(setup, action):
    server, npm, ours = setup
    server.state.otp = "123456"
    results = []
    for run in (npm, ours):
        item = staged_item("demo-pkg", "1.1.0")
        server.state.items = [item]
        result = run(action, item["id"], "--otp", "123456")
        assert result.returncode == 0, result.stderr
        assert server.state.items == []  # the server confirmed and removed it
        sent = [
            (r.method, r.path.replace(item["id"], "<id>"), r.headers.get("npm-otp"))
            for r in server.requests
        ]
        server.clear()
        results.append((sent, result.stdout.strip().replace(item["id"], "<id>")))
    assert results[0] == results[1]
    verb = "approved and published successfully." if action == "approve" else "has been rejected."
    assert results[1][1] == f"Staged package <id> {verb}"


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_approve_and_reject_without_otp_fail_with_eotp_off_a_terminal(setup, action):
    server, _, ours = setup
    server.state.otp = "123456"
    item = staged_item("demo-pkg", "1.1.0")
    server.state.items = [item]
    result = ours(action, item["id"], input="")
    assert result.returncode == 3
    assert "pystage error EOTP" in result.stderr and "--otp" in result.stderr
    assert server.state.items == [item]


def test_reject_warns_that_it_is_permanent(setup):
    server, _, ours = setup
    item = staged_item("demo-pkg", "1.1.0")
    server.state.items = [item]
    result = ours("reject", "demo-pkg@1.1.0")
    assert result.returncode == 0, result.stderr
    assert "permanently delete" in result.stderr
    assert (
        result.stdout.strip() == f"Staged package {item['id']} (demo-pkg@1.1.0) has been rejected."
    )


def test_approve_of_an_unknown_id_is_not_a_success(setup):
    server, _, ours = setup
    result = ours("approve", "0f3c2a4e-1111-4222-8333-944445555666", "--otp", "1")
    assert result.returncode == 4
    assert "pystage error E404" in result.stderr
    assert result.stdout == ""
