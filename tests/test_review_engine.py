"""The review engine on its own (pystage.review): tarballs read as streams, hostile
archives turned into findings, the file and manifest diffs, bounded memory, and the
engine's purity (the registry's web page imports it)."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tracemalloc
import zlib

import pytest
from reviewkit import chunked, gzip_stream_of_zeros, tarball

from pystage.review import Limits, list_files, review


def rules(report, severity=None):
    return {(f.rule, f.path) for f in report.findings if severity is None or f.severity == severity}


def test_files_are_listed_with_size_mode_type_and_sha512():
    import base64
    import hashlib

    data = b"console.log(1)\n"
    index = list_files(chunked(tarball({"index.js": data, "bin/cli.js": "#!/usr/bin/env node\n"})))
    entry = index.files["index.js"]
    assert (entry.type, entry.size, entry.mode) == ("file", len(data), 0o644)
    assert entry.sha512 == "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    assert index.files["bin/cli.js"].mode == 0o755
    assert index.files["bin/cli.js"].to_json()["mode"] == "0755"
    assert index.manifest["name"] == "pkg"
    assert index.anomalies == []


def test_a_plain_uncompressed_tar_is_read_too():
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("package/package.json")
        body = b'{"name":"p","version":"1.0.0"}'
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    assert list_files(io.BytesIO(raw.getvalue())).manifest == {"name": "p", "version": "1.0.0"}


@pytest.mark.parametrize(
    "name, rule",
    [
        ("@raw:package/../../etc/passwd", "path-traversal"),
        ("@raw:/etc/cron.d/x", "absolute-path"),
        ("@raw:package/a/../../../x", "path-traversal"),
        ("@raw:loose.js", "outside-package"),
    ],
)
def test_paths_leaving_the_package_are_findings(name, rule):
    report = review(io.BytesIO(tarball({name: "x"})))
    assert any(f.rule == rule for f in report.findings), report.findings
    severity = {f.rule: f.severity for f in report.findings}[rule]
    assert severity == ("low" if rule == "outside-package" else "high")


def test_links_are_reported_never_followed():
    staged = tarball(
        {
            "evil": {"type": tarfile.SYMTYPE, "link": "/home/user/.npmrc"},
            "up": {"type": tarfile.SYMTYPE, "link": "../../.ssh/id_rsa"},
            "ok": {"type": tarfile.SYMTYPE, "link": "lib/index.js"},
            "hard": {"type": tarfile.LNKTYPE, "link": "package/../../x"},
            "dev": {"type": tarfile.CHRTYPE},
        }
    )
    report = review(io.BytesIO(staged))
    got = rules(report)
    assert ("link-outside", "evil") in got
    assert ("link-outside", "up") in got
    assert ("link-outside", "hard") in got
    assert ("link", "ok") in got
    assert ("special-file", "dev") in got
    assert {f.severity for f in report.findings if f.rule == "link-outside"} == {"high"}
    types = {c.path: c.type for c in report.added}
    assert types["evil"] == "symlink" and types["hard"] == "hardlink"


def test_a_bomb_is_a_finding_and_memory_stays_bounded():
    tracemalloc.start()
    report = review(gzip_stream_of_zeros(3 * 1024**3))  # 3 GiB of zeros, ~3 MB gzipped
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert ("archive-bomb", "") in rules(report, "high")
    assert peak < 16 * 1024 * 1024, peak


def test_a_bomb_below_the_floor_with_tight_limits():
    limits = Limits(ratio_floor=1024 * 1024, max_ratio=50)
    index = list_files(gzip_stream_of_zeros(64 * 1024 * 1024), limits=limits)
    assert not index.complete
    assert index.anomalies[-1].rule == "archive-bomb"


def test_a_huge_pax_header_is_refused_without_reading_it():
    header = tarfile.TarInfo("package/././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 512 * 1024 * 1024  # claims 512 MiB of pax records
    raw = header.tobuf(format=tarfile.USTAR_FORMAT) + b"0" * 4096
    tracemalloc.start()
    index = list_files([_gz(raw)])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert not index.complete and index.anomalies[-1].rule == "corrupt-archive"
    assert peak < 8 * 1024 * 1024


def _gz(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    return comp.compress(data) + comp.flush()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b[: len(b) // 2],  # cut short
        lambda b: b[:20] + bytes(x ^ 0x55 for x in b[20:60]) + b[60:],  # corrupt deflate
        lambda b: b"\x1f\x8b" + b"\x00" * 40,  # not a gzip stream at all
        lambda b: _gz(b"\x01" * 512 * 3),  # a tar header with a bad checksum
    ],
    ids=["truncated", "corrupt", "bad-gzip-header", "bad-tar-checksum"],
)
def test_corrupt_archives_are_findings_not_crashes(mangle):
    report = review(io.BytesIO(mangle(tarball({"index.js": "x" * 5000}))))
    assert any(f.rule == "corrupt-archive" and f.severity == "high" for f in report.findings)


def test_duplicate_entries_are_reported():
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for body in (b'{"name":"p","version":"1.0.0"}', b"first", b"second"):
            name = "package/package.json" if body.startswith(b"{") else "package/index.js"
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    report = review(io.BytesIO(raw.getvalue()))
    assert ("duplicate-entry", "index.js") in rules(report, "medium")


def test_files_added_removed_changed_with_a_short_text_diff():
    base = tarball({"a.js": "one\ntwo\nthree\n", "gone.txt": "bye"}, version="1.0.0")
    staged = tarball({"a.js": "one\n2\nthree\n", "new.txt": "hi"}, version="1.1.0")
    report = review(io.BytesIO(staged), io.BytesIO(base), baseline_version="1.0.0")
    assert [c.path for c in report.added] == ["new.txt"]
    assert [c.path for c in report.removed] == ["gone.txt"]
    changed = {c.path: c for c in report.changed}
    assert set(changed) == {"package.json", "a.js"}
    assert "-two" in changed["a.js"].diff and "+2" in changed["a.js"].diff
    assert report.to_json()["manifest"]["version"] == {
        "change": "changed",
        "from": "1.0.0",
        "to": "1.1.0",
    }


def test_unchanged_files_are_not_reported():
    files = {"a.js": "same\n", "b.bin": bytes(range(256))}
    report = review(
        io.BytesIO(tarball(files)), io.BytesIO(tarball(files)), baseline_version="1.0.0"
    )
    assert report.added == report.removed == report.changed == []
    assert report.findings == []


def test_mode_change_alone_counts_as_changed():
    base = tarball({"run.sh": "echo\n"})
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, body, mode in (
            ("package/package.json", b'{"name":"pkg","version":"1.0.0"}\n', 0o644),
            ("package/run.sh", b"echo\n", 0o755),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(body), mode
            tar.addfile(info, io.BytesIO(body))
    report = review(io.BytesIO(raw.getvalue()), io.BytesIO(base), baseline_version="1.0.0")
    change = {c.path: c for c in report.changed}["run.sh"]
    assert change.to_json()["mode"] == "0755" and change.to_json()["baselineMode"] == "0644"


def test_first_version_counts_everything_as_added():
    report = review(io.BytesIO(tarball({"index.js": "x\n"})), None)
    assert {c.path for c in report.added} == {"package.json", "index.js"}
    assert ("first-version", "") in rules(report, "info")
    assert report.baseline is None


def test_no_package_json_is_high():
    report = review(io.BytesIO(tarball({"index.js": "x"}, manifest=False)))
    assert ("no-manifest", "package.json") in rules(report, "high")


def test_a_tarball_naming_another_package_than_staged_is_high():
    report = review(
        io.BytesIO(tarball({}, name="other")), item={"packageName": "pkg", "version": "1.0.0"}
    )
    assert ("manifest-mismatch", "name") in rules(report, "high")


def test_secrets_only_in_files_that_changed():
    key = 'const aws = "AKIAIOSFODNN7EXAMPLE";\n'
    base = tarball({"old.js": key}, version="1.0.0")
    staged = tarball({"old.js": key, "new.js": key}, version="1.0.1")
    report = review(io.BytesIO(staged), io.BytesIO(base), baseline_version="1.0.0")
    secrets = [(f.path, f.line) for f in report.findings if f.rule == "secret"]
    assert secrets == [("new.js", 1)]
    assert "AKIAIOSFODNN7EXAMPLE" not in str(report.to_json())  # never the value


def test_the_engine_imports_nothing_from_the_client_or_the_registry():
    code = (
        "import sys, io, pystage.review as r; "
        "r.review(io.BytesIO(open(sys.argv[1],'rb').read())); "
        "bad = [m for m in sys.modules if m.startswith(('pystage.http', 'pystage.staging', "
        "'pystage.cli', 'pystage.render', 'pystage.registry', 'pystage.transport', "
        "'pystage.context', 'click', 'rich'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".tgz") as f:
        f.write(tarball({"a.js": "x"}))
        f.flush()
        result = subprocess.run(
            [sys.executable, "-c", code, f.name], capture_output=True, text=True
        )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_baseline_is_the_tagged_version_else_the_highest_below():
    from pystage.errors import PystageError
    from pystage.review.baseline import choose_baseline

    pack = {
        "dist-tags": {"latest": "1.2.0", "next": "2.0.0-rc.1"},
        "versions": {v: {} for v in ("1.0.0", "1.2.0", "1.10.0-beta.1", "2.0.0-rc.1", "0.9.0")},
    }
    assert choose_baseline(pack, "1.3.0", "latest") == "1.2.0"
    assert choose_baseline(pack, "2.0.0-rc.2", "next") == "2.0.0-rc.1"
    assert choose_baseline(pack, "1.1.0", "beta") == "1.0.0"  # no such tag: highest below
    assert choose_baseline(pack, "0.9.5", "old") == "0.9.0"
    assert choose_baseline(pack, "0.1.0", "old") is None
    assert choose_baseline(None, "1.0.0", "latest") is None
    assert choose_baseline(pack, "1.3.0", "latest", against="1.0.0") == "1.0.0"
    with pytest.raises(PystageError) as err:
        choose_baseline(pack, "1.3.0", "latest", against="3.0.0")
    assert err.value.code == "E404"
