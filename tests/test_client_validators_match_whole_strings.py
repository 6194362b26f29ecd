"""The client's validators match the whole string: Python's ``$`` also matches before a
final newline, and ``\\d`` takes any Unicode digit (which ``int()`` then reads), so
``"1.1.0\\n"`` or ``"١.٠.٠"`` would pass a ``^...$`` pattern and end up in a tarball
name, a publish document and the registry's ``latest``."""

from __future__ import annotations

import json
import os

import pytest
from helpers import closed_port

from pystage.errors import PystageError, exit_code_for
from pystage.packing.manifest import check_name, check_version
from pystage.publishing import semver

NOT_WHOLE = [
    "1.1.0\n",
    "1.1.0\r\n",
    "1.1.0 ",
    " 1.1.0",
    "1.1.0\t",
    "1.1.0-beta.1\n",
    "1.1.0+build\n",
    "1.1.0\nx",
    "\u0661.\u0660.\u0660",  # Arabic-Indic digits
    "1.\uff11.0",  # a fullwidth 1
]
IDS = [
    "newline",
    "crlf",
    "space-after",
    "space-before",
    "tab",
    "prerelease-newline",
    "build-newline",
    "newline-then-more",
    "arabic-digits",
    "fullwidth-digit",
]


@pytest.mark.parametrize("version", NOT_WHOLE, ids=IDS)
def test_package_json_versions_must_be_whole_semver(version):
    with pytest.raises(PystageError) as err:
        check_version(version)
    assert err.value.code == "EBADSEMVER"
    assert repr(version) in err.value.message  # shown escaped: "'1.1.0\\n'"


def test_a_version_with_a_line_break_says_what_to_remove():
    with pytest.raises(PystageError) as err:
        check_version("1.1.0\n")
    assert "line breaks" in err.value.hint


@pytest.mark.parametrize("version", ["1.1.0", "0.0.0-0", "1.2.3-alpha.1+build.5", "10.20.30"])
def test_valid_versions_still_pass(version):
    check_version(version)
    assert semver.valid(version) == version.split("+")[0]


@pytest.mark.parametrize(
    "version", ["1.1.0\nx", "1.1.0\n2.0.0", "\u0661.\u0660.\u0660", "1.\uff11.0"]
)
def test_semver_parse_matches_the_whole_string(version):
    assert semver.parse(version) is None
    assert semver.parse(version, loose=True) is None
    assert semver.valid(version) is None


def test_semver_trims_like_node_semver_but_never_reads_past_a_line_break():
    # node-semver trims surrounding whitespace (so does npm's clean); what is left must match
    assert semver.valid(" 1.1.0\n") == "1.1.0"
    assert semver.valid("1.1.0\n-beta") is None


@pytest.mark.parametrize("name", ["pkg\n", "@scope/pkg\n", "pkg\nother", "@scope\n/pkg"])
def test_package_names_with_a_line_break_are_refused(name):
    with pytest.raises(PystageError) as err:
        check_name(name)
    assert err.value.code == "EINVALIDPACKAGENAME"


@pytest.fixture
def package_with(tmp_path):
    def make(version):
        pkg = tmp_path / "pkg"
        pkg.mkdir(exist_ok=True)
        (pkg / "package.json").write_text(json.dumps({"name": "vpkg", "version": version}))
        (pkg / "index.js").write_text("module.exports = 1\n")
        return pkg

    return make


@pytest.mark.parametrize(
    "command",
    [["pack"], ["pack", "--dry-run"], ["publish", "--dry-run"], ["publish"]],
    ids=["pack", "pack-dry-run", "publish-dry-run", "publish"],
)
@pytest.mark.parametrize(
    "version", ["1.1.0\n", "1.1.0 ", "\u0661.\u0660.\u0660"], ids=["newline", "space", "arabic"]
)
def test_pack_and_publish_refuse_the_version_with_one_clear_line(
    run_pystage, package_with, command, version
):
    pkg = package_with(version)
    result = run_pystage(
        *command,
        "--ignore-scripts",
        "--registry",
        f"http://127.0.0.1:{closed_port()}/",
        cwd=pkg,
        env={"npm_config_fetch_retries": "0"},
    )
    assert result.returncode == exit_code_for("EBADSEMVER") == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("pystage error")]
    assert errors == [f"pystage error EBADSEMVER: invalid version {version!r} in package.json"]
    assert "Traceback" not in result.stderr
    assert "ECONNREFUSED" not in result.stderr  # refused before any request
    assert result.stdout == ""
    assert sorted(os.listdir(pkg)) == ["index.js", "package.json"]  # no tarball


def test_a_tarball_url_with_a_line_break_is_not_followed():
    from pystage.staging import stream_published_tarball

    class Recorder:
        def request(self, method, url, **kwargs):
            self.url = url
            return None

    client = Recorder()
    stream_published_tarball(
        client, "pkg", "1.0.0", {"dist": {"tarball": "http://evil.example/x.tgz\n"}}
    )
    assert client.url == "/pkg/-/pkg-1.0.0.tgz"
    stream_published_tarball(
        client, "pkg", "1.0.0", {"dist": {"tarball": "http://r.example/pkg/-/pkg-1.0.0.tgz"}}
    )
    assert client.url == "http://r.example/pkg/-/pkg-1.0.0.tgz"
