"""Which files pack takes and in which order: ignore files read as ignore-walk reads
them (also those above a workspace), names sorted as ICU sorts them. The behaviour
asserted is npm's (checked against the real npm when it is on PATH, and stated
literally so the tests hold without it).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile

from helpers import NPM_VERSION, write_file

from pystage.packing import pack

HAVE_NPM = NPM_VERSION is not None and NPM_VERSION >= (11,)


def _package(root, **fields):
    write_file(root, "package.json", json.dumps({"name": "qa-pkg", "version": "1.0.0", **fields}))
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
    write_file(pkg, ".npmignore", "\ufeff*.log\r\nsecret/\r\n!important.log\r\ntrail.js\x1f\r\n")
    for name in ("a.log", "important.log", "secret/x.js", "ok.js", "trail.js"):
        write_file(pkg, name)
    _assert_packs_like_npm(
        pkg, tmp_path, request, ["ok.js", "trail.js", "package.json", "important.log"]
    )


def test_an_empty_npmignore_switches_off_the_gitignore(tmp_path, request):
    """The common idiom `touch .npmignore` (or one holding only comments) makes npm
    ignore .gitignore: the built dist/ a .gitignore lists is packed."""
    for variant, text in (("empty", ""), ("comments", "# publish everything\n\n")):
        pkg = _package(tmp_path / variant / "pkg")
        write_file(pkg, ".npmignore", text)
        write_file(pkg, ".gitignore", "dist/\n*.log\n")
        write_file(pkg, "dist/index.js")
        write_file(pkg, "debug.log")
        write_file(pkg, "src/index.ts")
        write_file(pkg, "src/.gitignore", "*.ts\n")
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
            write_file(pkg, name)
    _assert_packs_like_npm(pkg, tmp_path, request, UNICODE_TAR_ORDER)
    result = pack(pkg, tmp_path, ignore_scripts=True, dry_run=True)
    assert [f.path for f in result.files] == UNICODE_LISTING


# --- a workspace of a monorepo -------------------------------------------------------


def test_a_workspace_package_obeys_the_ignore_files_above_it(tmp_path, run_pystage, request):
    """Packed from inside a workspace of a monorepo, npm applies the ignore files of
    every directory from the workspace root down to the package (its dist/, logs and
    secrets stay out)."""
    root = tmp_path / "mono"
    write_file(
        root,
        "package.json",
        json.dumps({"name": "root", "private": True, "workspaces": ["packages/*"]}),
    )
    write_file(root, ".gitignore", "dist\n*.log\n")
    write_file(root, "packages/.npmignore", "secret.txt\n")
    write_file(root, "packages/.gitignore", "index.js\n")  # the .npmignore beside it wins
    pkg = _package(root / "packages" / "a")
    for name in ("dist/x.js", "debug.log", "secret.txt", "index.js"):
        write_file(pkg, name)
    write_file(root, "other/package.json", json.dumps({"name": "other", "version": "1.0.0"}))
    write_file(root, "other/debug.log")  # not a workspace: the root's rules do not reach it
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
