"""The manifest publish sends, from a directory or a tarball: the readme as written,
a tarball whose top folder is not package/, directory entries, a plain tar. The
behaviour asserted is npm's (checked against the real npm when it is on PATH, and
stated literally so the tests hold without it).
"""

from __future__ import annotations

import io
import json
import tarfile

from helpers import NPM_VERSION, run_npm, write_file, write_npmrc

HAVE_NPM = NPM_VERSION is not None and NPM_VERSION >= (11,)


def _package(root, **fields):
    write_file(root, "package.json", json.dumps({"name": "qa-pkg", "version": "1.0.0", **fields}))
    return root


# --- the manifest publish sends ----------------------------------------------------


def _stage(run_pystage, stage_server, target, tmp_path, *args):
    npmrc = write_npmrc(tmp_path / "npmrc-qa", stage_server.url)
    proc = run_pystage(
        "publish",
        target,
        "--registry",
        stage_server.url,
        "--userconfig",
        npmrc,
        "--ignore-scripts",
        "--json",
        *args,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    posts = [r for r in stage_server.requests if r.method == "POST"]
    stage_server.clear()
    if "--dry-run" in args:
        assert posts == []
        return None, proc
    (post,) = posts
    return post.body_json(), proc


def _npm_stage(stage_server, pkg, tmp_path, npm_env, *args):
    npmrc = write_npmrc(tmp_path / "npmrc-npm", stage_server.url)
    proc = run_npm(
        ["stage", "publish", "--ignore-scripts", "--registry", stage_server.url, "--json", *args],
        cwd=pkg,
        env={**npm_env, "npm_config_userconfig": npmrc},
    )
    assert proc.returncode == 0, proc.stderr
    (post,) = [r for r in stage_server.requests if r.method == "POST"]
    stage_server.clear()
    return post.body_json(), proc


def _version_manifest(document: dict) -> dict:
    (manifest,) = document["versions"].values()
    manifest = dict(manifest)
    for key in ("dist", "_npmVersion", "_nodeVersion"):
        manifest.pop(key, None)
    return manifest


README_CRLF_BOM = "\ufeff# Title\r\n\r\nFirst para line\r\ncontinues here.\r\n\r\nMore.\r\n"


def test_published_readme_is_the_file_as_written(tmp_path, stage_server, run_pystage, request):
    """The readme goes out byte for byte (CRLF kept), and the description skips the
    heading even behind a byte-order mark, as npm's extractDescription does."""
    pkg = _package(tmp_path / "pkg")
    write_file(pkg, "README.md", README_CRLF_BOM)
    document, _ = _stage(run_pystage, stage_server, pkg, tmp_path)
    manifest = _version_manifest(document)
    assert manifest["readme"] == README_CRLF_BOM
    assert manifest["readmeFilename"] == "README.md"
    assert manifest["description"] == document["description"] == "First para line\r continues here."
    if HAVE_NPM:
        theirs, _ = _npm_stage(stage_server, pkg, tmp_path, request.getfixturevalue("npm_env"))
        assert manifest == _version_manifest(theirs)


# --- publish TARBALL ---------------------------------------------------------------


def _tarball(path, root: str, files: dict[str, str]) -> str:
    """A .tgz whose entries sit under root/ (npm pack writes package/; the @types
    packages on the registry use their own folder name, e.g. node/)."""
    with tarfile.open(path, "w:gz") as archive:
        for rel, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"{root}/{rel}")
            info.size, info.mode, info.mtime = len(data), 0o644, 499162500
            archive.addfile(info, io.BytesIO(data))
    return str(path)


# the fields pacote adds to a tarball's manifest, with the local path in them:
# pystage does not send them (see the report in test_publishing_a_tarball_*)
PACOTE_LOCAL_FIELDS = ("_from", "_resolved", "_integrity")


def test_publishing_a_tarball_whose_folder_is_not_package(
    tmp_path, stage_server, run_pystage, request
):
    """npm unpacks a tarball with strip=1, whatever the top folder is called."""
    files = {
        "package.json": json.dumps({"name": "@types/qa", "version": "1.0.0"}),
        "README.md": "# @types/qa\n\nType definitions for qa.\n",
        "index.d.ts": "export {}\n",
    }
    tgz = _tarball(tmp_path / "types-qa-1.0.0.tgz", "qa", files)
    document, proc = _stage(run_pystage, stage_server, tgz, tmp_path)
    manifest = _version_manifest(document)
    assert manifest["readme"] == files["README.md"]
    assert manifest["readmeFilename"] == "README.md"
    assert manifest["description"] == "Type definitions for qa."
    assert manifest["types"] == "./index.d.ts"
    listed = json.loads(proc.stdout)["@types/qa"]["files"]
    # npm's getContents strips only a package/ prefix from the listed paths
    assert [f["path"] for f in listed] == ["qa/index.d.ts", "qa/package.json", "qa/README.md"]
    if HAVE_NPM:
        npm_env = request.getfixturevalue("npm_env")
        theirs, npm_proc = _npm_stage(stage_server, tmp_path, tmp_path, npm_env, tgz)
        their_manifest = _version_manifest(theirs)
        for key in PACOTE_LOCAL_FIELDS:
            their_manifest.pop(key, None)
        assert manifest == their_manifest
        assert json.loads(proc.stdout) == json.loads(npm_proc.stdout)


def test_tarball_listing_shows_directory_entries_as_npm_does(
    tmp_path, stage_server, run_pystage, request
):
    """Registry tarballs made by other tools (the @types ones) hold directory entries:
    npm lists them with their trailing slash, and sorts them as such."""
    tgz = tmp_path / "types-dirs-1.0.0.tgz"
    with tarfile.open(tgz, "w:gz") as archive:
        for name, data in (
            ("node/", None),
            ("node/assert/", None),
            ("node/assert/strict.d.ts", b"x\n"),
            ("node/assert.d.ts", b"y\n"),
            ("node/package.json", b'{"name":"@types/dirs","version":"1.0.0"}'),
        ):
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                archive.addfile(info, io.BytesIO(data))
    _, proc = _stage(run_pystage, stage_server, str(tgz), tmp_path, "--dry-run")
    listed = json.loads(proc.stdout)["@types/dirs"]
    assert [(f["path"], f["mode"]) for f in listed["files"]] == [
        ("node/", 0o755),
        ("node/assert.d.ts", 0o644),
        ("node/assert/", 0o755),
        ("node/assert/strict.d.ts", 0o644),
        ("node/package.json", 0o644),
    ]
    assert listed["entryCount"] == 5
    if HAVE_NPM:
        npm_env = request.getfixturevalue("npm_env")
        npmrc = write_npmrc(tmp_path / "npmrc-npm", stage_server.url)
        npm = run_npm(
            ["stage", "publish", str(tgz), "--dry-run", "--json", "--registry", stage_server.url],
            cwd=tmp_path,
            env={**npm_env, "npm_config_userconfig": npmrc},
        )
        assert npm.returncode == 0, npm.stderr
        assert json.loads(npm.stdout) == json.loads(proc.stdout)


def test_an_uncompressed_tarball_is_published_as_npm_does(tmp_path, stage_server, run_pystage):
    """npm (node-tar) reads a plain tar as well as a gzipped one, and sends the file as is."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        data = b'{"name":"plain-tar","version":"1.0.0"}'
        info = tarfile.TarInfo("package/package.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    tgz = tmp_path / "plain-tar-1.0.0.tar"
    tgz.write_bytes(raw.getvalue())
    document, proc = _stage(run_pystage, stage_server, str(tgz), tmp_path)
    (attachment,) = document["_attachments"].values()
    import base64

    assert base64.b64decode(attachment["data"]) == raw.getvalue()
    assert json.loads(proc.stdout)["plain-tar"]["files"] == [
        {"path": "package.json", "size": 38, "mode": 420}
    ]
