"""The streaming publish-document reader: same values as json, attachments decoded to disk."""

import base64
import hashlib
import io
import json
import os

import pytest

from pystage.registry.jsonstream import JSONStreamError, read_document


def _read(text, tmp_path):
    data = text.encode() if isinstance(text, str) else text
    return read_document(io.BytesIO(data), str(tmp_path))


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        {"a": [1, -2.5, 3e10, True, False, None, "x"]},
        {"nested": {"deep": [{"k": 'v\u00e9\n\t"\\/'}]}, "emoji": "\U0001f600"},
        {"esc": "\\u00e9 \\ud83d\\ude00", "num": 0, "neg": -0.0},
    ],
)
def test_plain_documents_parse_like_json(value, tmp_path):
    text = json.dumps(value, ensure_ascii=False)
    assert _read(text, tmp_path)[0] == json.loads(text)
    text = json.dumps(value, ensure_ascii=True, indent=3)
    assert _read(text, tmp_path)[0] == json.loads(text)


def test_attachment_is_decoded_to_a_file_with_hashes(tmp_path, monkeypatch):
    import pystage.registry.jsonstream as js

    monkeypatch.setattr(js, "CHUNK", 7)  # force every boundary case through the buffer
    payload = os.urandom(10_001)
    doc = {
        "name": "x",
        "_attachments": {
            "x-1.0.0.tgz": {"data": base64.b64encode(payload).decode(), "length": len(payload)}
        },
    }
    document, attachments = _read(json.dumps(doc), tmp_path)
    attachment = attachments["x-1.0.0.tgz"]
    assert document["_attachments"]["x-1.0.0.tgz"]["length"] == len(payload)
    with open(attachment.path, "rb") as f:
        assert f.read() == payload
    assert attachment.length == len(payload)
    assert attachment.sha1_hex == hashlib.sha1(payload).hexdigest()
    assert (
        attachment.integrity
        == "sha512-" + base64.b64encode(hashlib.sha512(payload).digest()).decode()
    )


def test_escaped_slashes_in_base64_are_accepted(tmp_path):
    payload = bytes(range(256)) * 3
    encoded = base64.b64encode(payload).decode().replace("/", "\\/")
    text = '{"_attachments": {"a.tgz": {"data": "' + encoded + '"}}}'
    _, attachments = _read(text, tmp_path)
    with open(attachments["a.tgz"].path, "rb") as f:
        assert f.read() == payload


@pytest.mark.parametrize(
    "text,message",
    [
        ('{"a": 1', "malformed JSON"),
        ('{"a": 1} x', "after the document"),
        ('{"a" 1}', "':'"),
        ("{'a': 1}", "string key"),
        ('{"a": tru}', "unexpected character"),
        ('{"a": "x\x01"}', "control character"),
        ('["unterminated', "unterminated"),
        ("[" * 100 + "]" * 100, "nesting"),
        ('{"_attachments": {"a.tgz": {"data": "AAA"}}}', "multiple of 4"),
        ('{"_attachments": {"a.tgz": {"data": "AA!A"}}}', "not valid base64"),
        ('{"_attachments": {"a.tgz": {"data": "AA==AAAA"}}}', "padding"),
        ("", "end of input"),
    ],
)
def test_malformed_input_is_a_clear_error_and_leaves_no_file(text, message, tmp_path):
    with pytest.raises(JSONStreamError, match=message):
        _read(text, tmp_path)
    assert os.listdir(tmp_path) == []


def test_padding_split_across_reads_is_still_refused(tmp_path, monkeypatch):
    import pystage.registry.jsonstream as js

    monkeypatch.setattr(js, "CHUNK", 3)
    with pytest.raises(JSONStreamError, match="padding"):
        _read('{"_attachments": {"a.tgz": {"data": "AA==AAAA"}}}', tmp_path)
    assert os.listdir(tmp_path) == []


def test_metadata_is_bounded(tmp_path):
    with pytest.raises(JSONStreamError, match="too large"):
        read_document(
            io.BytesIO(json.dumps({"readme": "x" * 5000}).encode()),
            str(tmp_path),
            max_metadata=1000,
        )
