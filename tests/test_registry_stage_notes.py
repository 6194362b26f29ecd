"""The stager's message and the reject reason: stored, returned, recorded, and refused
whole (nothing staged, nothing rejected) when malformed."""

from urllib.parse import quote

import pytest
from helpers import events, make_tarball, publish_document

from pystage.stagenote import MAX_NOTE_CHARS, encode_note

NOTE = "Release 1.1: fixes #12 — see https://example.com/pr/12?x=1&y=2\n\tthanks, Zoë 🎉"


@pytest.fixture
def reg(registry_server):
    registry_server.carol = registry_server.add_user("carol")
    registry_server.publish(registry_server.carol, "pkg", "1.0.0")
    return registry_server


def _stage(reg, version, message=None, raw_header=None):
    tarball = make_tarball("pkg", version)
    headers = {}
    if message is not None:
        headers["pystage-stage-message"] = encode_note(message)
    if raw_header is not None:
        headers["pystage-stage-message"] = raw_header
    return reg.request(
        "POST",
        "-/stage/package/pkg",
        reg.carol,
        json=publish_document(reg.url, "pkg", version, tarball),
        headers=headers,
    )


def test_the_message_is_stored_and_returned_in_every_item(reg):
    response = _stage(reg, "1.1.0", NOTE)
    assert response.status_code == 201, response.text
    stage_id = response.json()["stageId"]
    item = reg.request("GET", f"-/stage/{stage_id}", reg.carol).json()
    assert item["message"] == NOTE
    [listed] = reg.request("GET", "-/stage", reg.carol).json()["items"]
    assert listed["message"] == NOTE
    [staged] = [e for e in events(reg, reg.carol, "pkg") if e["event"] == "stage"]
    assert staged["detail"] == {"tag": "latest", "message": NOTE}
    assert staged["id"] == stage_id and staged["version"] == "1.1.0"


def test_without_a_message_the_item_has_none(reg):
    stage_id = _stage(reg, "1.1.0").json()["stageId"]
    assert "message" not in reg.request("GET", f"-/stage/{stage_id}", reg.carol).json()
    empty = _stage(reg, "1.2.0", raw_header="").json()["stageId"]
    assert "message" not in reg.request("GET", f"-/stage/{empty}", reg.carol).json()


def test_a_message_of_exactly_the_limit_is_accepted(reg):
    longest = "é" * MAX_NOTE_CHARS  # characters, not bytes, count
    response = _stage(reg, "1.1.0", raw_header=quote(longest))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "header, says",
    [
        (quote("x" * (MAX_NOTE_CHARS + 1)), "over the limit"),
        ("%ff%fe", "not percent-encoded UTF-8"),
        ("caf%C3", "not percent-encoded UTF-8"),
        ("%1b[2Jgotcha", "U+001B"),
        ("a%00b", "U+0000"),
        ("line%0dover", "U+000D"),
        ("%e2%80%aeevil", "U+202E"),  # right-to-left override hides what a reviewer reads
        ("%7f", "U+007F"),
    ],
)
def test_a_bad_message_is_refused_and_nothing_is_staged(reg, header, says):
    response = _stage(reg, "1.1.0", raw_header=header)
    assert response.status_code == 400, response.text
    assert "stage message" in response.json()["error"] and says in response.json()["error"]
    assert reg.request("GET", "-/stage", reg.carol).json()["total"] == 0
    assert "stage" not in [e["event"] for e in events(reg, reg.carol, "pkg")]
    assert list((reg.storage / "tmp").iterdir()) == []
    # the version is still free
    assert _stage(reg, "1.1.0").status_code == 201


def test_raw_non_ascii_header_bytes_are_refused(reg):
    response = _stage(reg, "1.1.0", raw_header="Zoë".encode())
    assert response.status_code == 400
    assert "percent-encoded" in response.json()["error"]


def test_the_reject_reason_is_recorded(reg):
    stage_id = _stage(reg, "1.1.0").json()["stageId"]
    reason = "the changelog is missing\nplease add it — ça ira"
    response = reg.request(
        "DELETE",
        f"-/stage/{stage_id}",
        reg.carol,
        headers={"pystage-reject-reason": encode_note(reason)},
    )
    assert response.status_code == 204, response.text
    [rejected] = [e for e in events(reg, reg.carol, "pkg") if e["event"] == "reject"]
    assert rejected["detail"] == {"reason": reason}
    assert rejected["actor"] == "carol" and rejected["id"] == stage_id


def test_a_reject_without_reason_records_an_empty_detail(reg):
    stage_id = _stage(reg, "1.1.0").json()["stageId"]
    assert reg.request("DELETE", f"-/stage/{stage_id}", reg.carol).status_code == 204
    [rejected] = [e for e in events(reg, reg.carol, "pkg") if e["event"] == "reject"]
    assert rejected["detail"] == {}


def test_a_bad_reason_is_refused_and_the_version_stays_staged(reg):
    stage_id = _stage(reg, "1.1.0").json()["stageId"]
    response = reg.request(
        "DELETE", f"-/stage/{stage_id}", reg.carol, headers={"pystage-reject-reason": "%1b]0;x"}
    )
    assert response.status_code == 400
    assert "reject reason" in response.json()["error"]
    assert reg.request("GET", f"-/stage/{stage_id}", reg.carol).status_code == 200
    assert "reject" not in [e["event"] for e in events(reg, reg.carol, "pkg")]
