"""pystage publish sends the document npm stage publish sends.

Both run against the same scripted stage server; the POSTed bodies are
compared whole, except ``_npmVersion``/``_nodeVersion`` (npm's own versions).
When pystage packs the directory itself, its gzip bytes may differ from
Node's, so the attachment is compared as the gunzipped tar stream and the
digests are checked against pystage's own attachment.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json

import pytest
from helpers import make_package, npm_pack_tarball, requires_npm, run_npm, write_npmrc

pytestmark = [requires_npm((11,)), pytest.mark.npm]

README = "# Demo\n\nA demo package for staging.\n\nMore text.\n"

PACKAGES = {
    "plain": dict(
        name="demo-pkg",
        version="1.1.0",
        description="x",
        main="index.js",
        repository="github:foo/bar",
        license="MIT",
        scripts={"test": "node_modules/.bin/tap"},
        files={"index.js": "module.exports = 1\n", "README.md": README},
    ),
    "scoped-rich": dict(
        name="@acme/widget",
        version="2.0.0-beta.1",
        author="Ann Dev <ann@example.com> (https://ann.dev)",
        bin="./cli.js",
        keywords="one, two",
        bugs="bugs@example.com",
        homepage="example.com/widget",
        repository={"type": "git", "url": "git@gitlab.com:acme/widget.git"},
        dependencies={"left-pad": "^1.3.0", "gh": "foo/bar"},
        publishConfig={"access": "public"},
        files={
            "cli.js": "#!/usr/bin/env node\n",
            "index.js": "",
            "index.d.ts": "export {}\n",
            "server.js": "",
            "AUTHORS": "# people\nBob <bob@example.com>\n",
            "readme.markdown": "Widget\n======\n\nMakes widgets.\n",
        },
    ),
    "no-readme": dict(
        name="bare",
        version="0.0.1",
        _private_note="dropped",
        files={"lib/a.js": "", "lib/b.js": ""},
    ),
}
ARGS = {"plain": [], "scoped-rich": ["--tag", "next"], "no-readme": ["--access", "public"]}


def _without_npm_versions(document: dict) -> dict:
    for manifest in document["versions"].values():
        manifest.pop("_npmVersion", None)
        manifest.pop("_nodeVersion", None)
    return document


def _stage_both(tmp_path, stage_server, npm_env, run_pystage, key, *, target="tarball"):
    spec = dict(PACKAGES[key])
    pkg = make_package(tmp_path / "pkg", **spec)
    npmrc = write_npmrc(tmp_path / "npmrc", stage_server.url)
    env = {**npm_env, "npm_config_userconfig": npmrc}
    npm = run_npm(
        ["stage", "publish", "--registry", stage_server.url, "--json", *ARGS[key]], cwd=pkg, env=env
    )
    assert npm.returncode == 0, npm.stderr
    npm_posts = [r for r in stage_server.requests if r.method == "POST"]
    stage_server.clear()
    if target == "tarball":
        (tmp_path / "out").mkdir()
        target = npm_pack_tarball(pkg, str(tmp_path / "out"), env)
    else:
        target = pkg
    ours = run_pystage(
        "publish",
        target,
        "--registry",
        stage_server.url,
        "--userconfig",
        npmrc,
        "--json",
        *ARGS[key],
        cwd=tmp_path,
    )
    assert ours.returncode == 0, ours.stderr
    our_posts = [r for r in stage_server.requests if r.method == "POST"]
    assert len(npm_posts) == len(our_posts) == 1
    return npm, npm_posts[0], ours, our_posts[0]


@pytest.mark.parametrize("key", sorted(PACKAGES))
def test_publishing_npm_packed_tarball_sends_npm_identical_document(
    tmp_path, stage_server, npm_env, run_pystage, key
):
    npm, npm_post, ours, our_post = _stage_both(tmp_path, stage_server, npm_env, run_pystage, key)

    assert our_post.path == npm_post.path
    assert our_post.headers["content-type"] == "application/json"
    assert our_post.headers["npm-command"] == "stage"
    assert "npm-otp" not in our_post.headers
    assert _without_npm_versions(our_post.body_json()) == _without_npm_versions(
        npm_post.body_json()
    )
    # --json: npm's shape, with the stageId the registry answered
    assert json.loads(ours.stdout) == json.loads(npm.stdout)


def _tar_stream(document: dict) -> bytes:
    (attachment,) = document["_attachments"].values()
    return gzip.decompress(base64.b64decode(attachment["data"]))


@pytest.mark.parametrize("key", ["plain", "scoped-rich"])
def test_publishing_a_directory_sends_npm_equivalent_document(
    tmp_path, stage_server, npm_env, run_pystage, key
):
    _, npm_post, ours, our_post = _stage_both(
        tmp_path, stage_server, npm_env, run_pystage, key, target="dir"
    )
    theirs, mine = (_without_npm_versions(p.body_json()) for p in (npm_post, our_post))

    assert _tar_stream(mine) == _tar_stream(theirs)
    (att,) = mine["_attachments"].values()
    raw = base64.b64decode(att["data"])
    version = next(iter(mine["versions"].values()))
    assert att["length"] == len(raw)
    assert version["dist"]["shasum"] == hashlib.sha1(raw).hexdigest()
    assert (
        version["dist"]["integrity"]
        == "sha512-" + base64.b64encode(hashlib.sha512(raw).digest()).decode()
    )
    for doc in (theirs, mine):
        (a,) = doc["_attachments"].values()
        a.pop("data"), a.pop("length")
        next(iter(doc["versions"].values())).pop("dist")
    assert mine == theirs
