"""QA of `pystage pack` and `pystage publish` on odd inputs, each a bug found by
comparing with npm 11.19: the behaviour asserted is npm's (checked against the
real npm when it is on PATH, and stated literally so the tests hold without it).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile

from helpers import NPM_VERSION, run_npm, write_npmrc

from pystage.packing import pack

HAVE_NPM = NPM_VERSION is not None and NPM_VERSION >= (11,)


def _write(root, rel, content: str | bytes = "x\n", mode=0o644):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    os.chmod(path, mode)
    return path


def _package(root, **fields):
    _write(root, "package.json", json.dumps({"name": "qa-pkg", "version": "1.0.0", **fields}))
    return root


def _tar_names(tgz: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as archive:
        return [m.name for m in archive.getmembers()]


def _npm_pack(pkg, dest, npm_env) -> tuple[dict, bytes]:
    proc = subprocess.run(
        [shutil.which("npm"), "pack", "--json", "--ignore-scripts", "--pack-destination", dest],
        cwd=pkg,
        env=npm_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    item = json.loads(proc.stdout)[0]
    with open(os.path.join(dest, item["filename"]), "rb") as handle:
        return item, handle.read()


def _assert_packs_like_npm(pkg, tmp_path, request, expected_files: list[str]):
    """pystage's tarball holds expected_files in this order; so does npm's, byte for byte."""
    ours_dir = tmp_path / "ours"
    ours_dir.mkdir()
    result = pack(pkg, ours_dir, ignore_scripts=True)
    ours = result.path.read_bytes()
    assert _tar_names(ours) == ["package/" + f for f in expected_files]
    if HAVE_NPM:
        npm_dir = tmp_path / "npm"
        npm_dir.mkdir()
        item, theirs = _npm_pack(pkg, str(npm_dir), request.getfixturevalue("npm_env"))
        assert gzip.decompress(ours) == gzip.decompress(theirs)
        assert [f["path"] for f in result.to_npm_json()["files"]] == [
            f["path"] for f in item["files"]
        ]


# --- ignore files are read as ignore-walk reads them ---------------------------------


def test_ignore_file_lines_are_trimmed_as_javascript_trims(tmp_path, request):
    """A byte-order mark (Windows editors write one) is whitespace to JavaScript's trim,
    so npm applies the first rule; \\x1f is not, so that rule names no file."""
    pkg = _package(tmp_path / "pkg")
    _write(pkg, ".npmignore", "\ufeff*.log\r\nsecret/\r\n!important.log\r\ntrail.js\x1f\r\n")
    for name in ("a.log", "important.log", "secret/x.js", "ok.js", "trail.js"):
        _write(pkg, name)
    _assert_packs_like_npm(
        pkg, tmp_path, request, ["ok.js", "trail.js", "package.json", "important.log"]
    )


def test_an_empty_npmignore_switches_off_the_gitignore(tmp_path, request):
    """The common idiom `touch .npmignore` (or one holding only comments) makes npm
    ignore .gitignore: the built dist/ a .gitignore lists is packed."""
    for variant, text in (("empty", ""), ("comments", "# publish everything\n\n")):
        pkg = _package(tmp_path / variant / "pkg")
        _write(pkg, ".npmignore", text)
        _write(pkg, ".gitignore", "dist/\n*.log\n")
        _write(pkg, "dist/index.js")
        _write(pkg, "debug.log")
        _write(pkg, "src/index.ts")
        _write(pkg, "src/.gitignore", "*.ts\n")
        # a directory's own .gitignore still counts where it has no .npmignore
        _assert_packs_like_npm(
            pkg, tmp_path / variant, request, ["dist/index.js", "package.json", "debug.log"]
        )


# npm's tar order (extension, name, path; ICU root collation) and listing order
# (upper-case first; numeric, case-sensitive) of names beyond accented Latin
UNICODE_TAR_ORDER = [
    "–.js",
    "—.js",
    "¡.js",
    "«q».js",
    "©.js",
    "★.js",
    "😀.js",
    "€.js",
    "½.js",
    "12.js",
    "²x.js",
    "9.js",
    "a.js",
    "Ａ.js",
    "ae.js",
    "æ.js",
    "ð.js",
    "fi.js",
    "ﬁ.js",
    "İ.js",
    "ł.js",
    "ss.js",
    "ß.js",
    "™.js",
    "ω.js",
    "Ω.js",
    "ж.js",
    "Ж.js",
    "א.js",
    "한.js",
    "中.js",
    "package.json",
    "lib/emile.md",
    "lib/émile.md",
    "lib/Émile.md",
    "lib/zoe.TXT",
    "lib/Zoë.txt",
]
UNICODE_LISTING = [
    "–.js",
    "—.js",
    "¡.js",
    "«q».js",
    "©.js",
    "★.js",
    "😀.js",
    "€.js",
    "9.js",
    "12.js",
    "½.js",
    "²x.js",
    "Ａ.js",
    "İ.js",
    "™.js",
    "Ω.js",
    "Ж.js",
    "א.js",
    "한.js",
    "中.js",
    "a.js",
    "ae.js",
    "æ.js",
    "ð.js",
    "fi.js",
    "ﬁ.js",
    "ł.js",
    "lib/emile.md",
    "lib/émile.md",
    "lib/Émile.md",
    "lib/zoe.TXT",
    "lib/Zoë.txt",
    "package.json",
    "ss.js",
    "ß.js",
    "ω.js",
    "ж.js",
]


def test_unicode_names_sort_as_icu_sorts_them(tmp_path, request):
    # (names ICU finds equal, such as 12.js and ١٢.js, are left out: npm keeps them in
    # the order the file system lists them; pystage breaks the tie by code point)
    pkg = _package(tmp_path / "pkg")
    for name in UNICODE_TAR_ORDER[::-1]:
        if name != "package.json":
            _write(pkg, name)
    _assert_packs_like_npm(pkg, tmp_path, request, UNICODE_TAR_ORDER)
    result = pack(pkg, tmp_path, ignore_scripts=True, dry_run=True)
    assert [f.path for f in result.files] == UNICODE_LISTING


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
    _write(pkg, "README.md", README_CRLF_BOM)
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


def test_a_file_that_is_no_tarball_is_a_one_line_error(tmp_path, run_pystage):
    junk = tmp_path / "junk.tgz"
    junk.write_bytes(bytes(range(256)) * 8)
    proc = run_pystage("publish", junk, "--dry-run", "--registry", "http://127.0.0.1:9/")
    assert proc.returncode != 0
    assert proc.stderr.startswith("pystage error ETARBALL:") and "Traceback" not in proc.stderr


def test_a_workspace_package_obeys_the_ignore_files_above_it(tmp_path, run_pystage, request):
    """Packed from inside a workspace of a monorepo, npm applies the ignore files of
    every directory from the workspace root down to the package (its dist/, logs and
    secrets stay out)."""
    root = tmp_path / "mono"
    _write(
        root,
        "package.json",
        json.dumps({"name": "root", "private": True, "workspaces": ["packages/*"]}),
    )
    _write(root, ".gitignore", "dist\n*.log\n")
    _write(root, "packages/.npmignore", "secret.txt\n")
    _write(root, "packages/.gitignore", "index.js\n")  # the .npmignore beside it wins
    pkg = _package(root / "packages" / "a")
    for name in ("dist/x.js", "debug.log", "secret.txt", "index.js"):
        _write(pkg, name)
    _write(root, "other/package.json", json.dumps({"name": "other", "version": "1.0.0"}))
    _write(root, "other/debug.log")  # not a workspace: the root's rules do not reach it
    out = tmp_path / "out"
    out.mkdir()
    ours = run_pystage("pack", "--json", "--ignore-scripts", "--pack-destination", out, cwd=pkg)
    assert ours.returncode == 0, ours.stderr
    assert [f["path"] for f in json.loads(ours.stdout)[0]["files"]] == ["index.js", "package.json"]
    other = run_pystage("pack", "--json", "--dry-run", cwd=root / "other")
    assert [f["path"] for f in json.loads(other.stdout)[0]["files"]] == [
        "debug.log",
        "package.json",
    ]
    if HAVE_NPM:
        theirs, _ = _npm_pack(pkg, str(tmp_path), request.getfixturevalue("npm_env"))
        assert [f["path"] for f in theirs["files"]] == ["index.js", "package.json"]
