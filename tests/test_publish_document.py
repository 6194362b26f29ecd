"""The pieces under pystage publish: the streamed publish document, and the
ports of node-semver and hosted-git-info checked against npm's own copies."""

from __future__ import annotations

import base64
import json
import os
import subprocess

import pytest
from helpers import requires_npm

from pystage.publishing import hosted_git, semver
from pystage.publishing.document import build_publish_document, tarball_url
from pystage.render.pack import format_bytes


@pytest.mark.parametrize("size", [0, 1, 2, 3, 786431, 786432, 786433, 3 * 786432 + 5])
def test_streamed_body_is_the_json_document_with_the_whole_tarball(tmp_path, size):
    tarball = tmp_path / "x.tgz"
    data = os.urandom(size)
    tarball.write_bytes(data)
    manifest = {"name": "@s/x", "version": "1.0.0", "description": 'd\u00e9j\u00e0 "quoted"'}
    document, body = build_publish_document(
        manifest,
        registry="https://r.example/npm/",
        tag="next",
        access="public",
        tarball_path=str(tarball),
        tarball_size=size,
        shasum="ab",
        integrity="sha512-x",
    )
    chunks = list(body)
    raw = b"".join(chunks)
    assert len(raw) == len(body)  # the Content-Length sent up front is exact
    for middle in chunks[1:-2]:  # every base64 chunk but the last is unpadded
        assert not middle.endswith(b"=")
    sent = json.loads(raw)
    attachment = sent["_attachments"]["@s/x-1.0.0.tgz"]
    assert base64.b64decode(attachment["data"]) == data
    assert attachment == {
        "content_type": "application/octet-stream",
        "data": attachment["data"],
        "length": size,
    }
    assert sent["dist-tags"] == {"next": "1.0.0"} and sent["access"] == "public"
    assert (
        sent["versions"]["1.0.0"]["dist"]["tarball"] == "http://r.example/npm/@s/x/-/@s/x-1.0.0.tgz"
    )
    assert sent["description"] == manifest["description"]
    assert b"".join(body) == raw  # re-iterable: a retry sends the same bytes
    assert "data" not in document["_attachments"]["@s/x-1.0.0.tgz"]


def test_tarball_url_keeps_http_and_rewrites_https():
    assert (
        tarball_url("http://127.0.0.1:4873/", "a", "1.0.0")
        == "http://127.0.0.1:4873/a/-/a-1.0.0.tgz"
    )
    assert (
        tarball_url("https://registry.npmjs.org", "a", "1.0.0")
        == "http://registry.npmjs.org/a/-/a-1.0.0.tgz"
    )


def test_format_bytes_rounds_like_javascript_to_fixed():
    assert [format_bytes(n) for n in (999, 1000, 1250, 1350, 999949, 999950, 2_500_000)] == [
        "999 B",
        "1.0 kB",
        "1.3 kB",
        "1.4 kB",
        "999.9 kB",
        "1.0 MB",
        "2.5 MB",
    ]


RANGES = [
    "latest",
    "1",
    "v1",
    "x",
    "1.x",
    "^1.2",
    ">= 1.0.0",
    "1.0.0 - 2.0.0",
    "next",
    "beta",
    "",
    "*",
    "1.0.0-beta.1",
    "~ 1",
    ">=1 <2 || 3",
    "canary-1",
    "v1-maintenance",
    "X.x",
    "=1.2.3",
    "1.2.3.4",
    "a||b",
    "~>1.2",
    "<=2",
    "rc",
]
VERSIONS = [
    "1.0.0",
    "v1.0.0",
    "=1.0.0",
    " 1.0.0 ",
    "01.0.0",
    "1.0",
    "1.0.0-rc.1",
    "1.0.0-01",
    "1.0.0+build.5",
    "1.0.0beta",
    "1.2.3-alpha.beta.1",
]
GIT_URLS = [
    "github:foo/bar",
    "foo/bar",
    "git@github.com:npm/cli.git",
    "https://github.com/npm/cli",
    "git+https://github.com/npm/cli.git#v1",
    "gitlab:grp/sub/proj",
    "https://gitlab.com/a/b.git",
    "bitbucket:a/b",
    "^1.0.0",
    "https://example.com/x.git",
    "git://github.com/a/b.git",
    "https://user:pw@github.com/a/b",
    "git+ssh://git@github.com/a/b.git",
    "https://www.github.com/a/b/tree/main",
    "github:a/b#semver:^1.0.0",
    "ssh://git@bitbucket.org/a/b.git",
    "./local",
    "@scope/pkg",
]

ORACLE = r"""
const root = process.argv[1] + '/npm/node_modules/'
const semver = require(root + 'semver'), H = require(root + 'hosted-git-info')
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'))
const h = u => { const x = H.fromUrl(u); return x ? [x.toString(), x.https(), x.bugs(), x.docs(), x.default] : null }
console.log(JSON.stringify({
  ranges: input.ranges.map(r => semver.validRange(r) !== null),
  loose: input.versions.map(v => semver.valid(v, true)),
  strict: input.versions.map(v => semver.valid(v)),
  cleaned: input.versions.map(v => semver.clean(v)),
  git: input.git.map(h),
}))
"""


@requires_npm((11,))
def test_semver_and_hosted_git_agree_with_npms_copies():
    root = subprocess.run(
        ["npm", "root", "-g"],
        capture_output=True,
        text=True,
        env={**os.environ, "npm_config_userconfig": os.devnull},
    ).stdout.strip()
    out = subprocess.run(
        ["node", "-e", ORACLE, root],
        capture_output=True,
        text=True,
        check=True,
        input=json.dumps({"ranges": RANGES, "versions": VERSIONS, "git": GIT_URLS}),
    )
    npm = json.loads(out.stdout)

    def ours_git(url):
        host = hosted_git.from_url(url)
        return [str(host), host.https(), host.bugs(), host.docs(), host.default] if host else None

    assert [semver.valid_range(r) for r in RANGES] == npm["ranges"]
    assert [semver.valid(v, loose=True) for v in VERSIONS] == npm["loose"]
    assert [semver.valid(v) for v in VERSIONS] == npm["strict"]
    assert [semver.clean(v) for v in VERSIONS] == npm["cleaned"]
    assert [ours_git(u) for u in GIT_URLS] == npm["git"]


def test_version_order_puts_prereleases_below_their_release():
    ordered = [
        "0.9.9",
        "1.0.0-1",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-beta",
        "1.0.0-rc.1",
        "1.0.0",
    ]
    assert sorted(ordered[::-1], key=semver.parse) == ordered
