"""Validators match whole strings; deep nesting and lone surrogates are a short 400, never a 500.

Over real HTTP against ``pystage registry serve``; the server's log is read back to
check that each refusal is one line and no traceback.
"""

import json

import pytest
from helpers import escaped, make_tarball, publish_document


@pytest.fixture
def reg(registry_server):
    registry_server.alice = registry_server.add_user("alice")
    registry_server.publish(registry_server.alice, "pkg", "1.0.0")
    return registry_server


def _no_traceback(reg):
    log = reg.log_text()
    assert "Traceback" not in log, log[-2000:]
    assert "internal registry error" not in log


# -- whole-string validators ---------------------------------------------------------


def test_version_with_a_trailing_newline_cannot_be_staged_or_published(reg):
    for version in ("1.1.0\n", "1.1.0\r", " 1.1.0", "١.١.٠"):
        doc = publish_document(reg.url, "pkg", version, make_tarball("pkg", version))
        staged = reg.request("POST", f"-/stage/package/{escaped('pkg')}", reg.alice, json=doc)
        assert staged.status_code == 400, (version, staged.text)
        published = reg.request("PUT", "pkg", reg.alice, json=doc)
        assert published.status_code == 400
    assert reg.request("GET", "pkg").json()["dist-tags"] == {"latest": "1.0.0"}


def test_name_and_tag_with_a_trailing_newline_are_refused(reg):
    doc = publish_document(reg.url, "pkg\n", "2.0.0", make_tarball("pkg\n", "2.0.0"))
    assert reg.request("PUT", "pkg%0A", reg.alice, json=doc).status_code == 400
    doc = publish_document(reg.url, "pkg", "2.0.0", make_tarball("pkg", "2.0.0"), tag="beta\n")
    assert reg.request("PUT", "pkg", reg.alice, json=doc).status_code == 400
    tag = reg.request("PUT", "-/package/pkg/dist-tags/beta%0A", reg.alice, json="1.0.0")
    assert tag.status_code == 400
    bad_version = reg.request("PUT", "-/package/pkg/dist-tags/beta", reg.alice, json="1.0.0\n")
    assert bad_version.status_code == 400
    assert reg.request("GET", "-/package/pkg/dist-tags").json() == {"latest": "1.0.0"}


def test_user_name_with_a_trailing_newline_is_no_look_alike_account(reg):
    body = {"name": "alice\n", "password": "other password", "email": "m@example.com"}
    response = reg.request("PUT", "-/user/org.couchdb.user:alice%0A", json=body)
    assert response.status_code == 400
    assert "\n" not in response.json()["error"]  # the name is shown escaped
    login = reg.request("PUT", "-/user/org.couchdb.user:alice", json={**body, "name": "alice"})
    assert login.status_code == 401  # still only the real alice, with her password


# -- hostile JSON on small bodies ----------------------------------------------------


SMALL_BODY_ENDPOINTS = [
    ("PUT", "-/user/org.couchdb.user:mallory", False),
    ("POST", "-/npm/v1/user", True),
    ("PUT", "-/package/pkg/dist-tags/beta", True),
    ("POST", "-/npm/v1/tokens", True),
]


@pytest.mark.parametrize(("method", "path", "auth"), SMALL_BODY_ENDPOINTS)
def test_deeply_nested_json_is_a_short_400(reg, method, path, auth):
    for body in (b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"[" * 65 + b"]" * 65):
        response = reg.request(
            method,
            path,
            reg.alice if auth else None,
            data=body,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400, (path, response.status_code, response.text[:200])
        assert "nesting deeper than 64" in response.json()["error"]
        assert len(response.text) < 300
    _no_traceback(reg)


@pytest.mark.parametrize(("method", "path", "auth"), SMALL_BODY_ENDPOINTS)
def test_lone_surrogates_are_a_short_400(reg, method, path, auth):
    for body in (
        b'{"name": "mallory", "password": "\\ud800"}',
        b'{"\\udfff": 1}',
        b'"1.0.0\\ud800"',
        b'{"password": "\xed\xa0\x80"}',  # the surrogate as raw (CESU-8) bytes
    ):
        response = reg.request(
            method,
            path,
            reg.alice if auth else None,
            data=body,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400, (path, body, response.text[:200])
        assert len(response.text) < 300
    _no_traceback(reg)


def test_each_refusal_is_logged_once_in_one_line(reg):
    before = reg.log_text()
    reg.request("POST", "-/npm/v1/user", reg.alice, data=b"[" * 100_000)
    added = reg.log_text()[len(before) :]
    lines = [line for line in added.splitlines() if "refused" in line]
    assert len(lines) == 1 and "nesting deeper" in lines[0] and "/-/npm/v1/user" in lines[0]
    assert "[[[[" not in added  # the body itself is not logged


# -- hostile publish documents -------------------------------------------------------


def _raw_publish(reg, raw: bytes, stage=False):
    return reg.request(
        "POST" if stage else "PUT",
        f"-/stage/package/{escaped('pkg')}" if stage else "pkg",
        reg.alice,
        data=raw,
        headers={"content-type": "application/json"},
    )


@pytest.mark.parametrize("stage", [False, True])
def test_publish_documents_with_lone_surrogates_are_refused(reg, stage):
    doc = publish_document(reg.url, "pkg", "2.0.0", make_tarball("pkg", "2.0.0"))
    text = json.dumps(doc)
    for hostile in (
        text.replace('"readme": "', '"readme": "\\ud800', 1),  # in a manifest value
        text.replace('"2.0.0": {', '"2.0.0\\udc00": {', 1),  # in the version key
        text.replace('"pkg-2.0.0.tgz": {', '"pkg-2.0.0.tgz\\ud83d": {', 1),
    ):
        assert hostile != text
        response = _raw_publish(reg, hostile.encode(), stage)
        assert response.status_code == 400, response.text[:300]
        assert "surrogate" in response.json()["error"] or "invalid" in response.json()["error"]
    assert set(reg.request("GET", "pkg").json()["versions"]) == {"1.0.0"}
    assert reg.request("GET", "pkg").status_code == 200  # the packument still serves
    _no_traceback(reg)


def test_publish_documents_nested_too_deep_are_refused(reg):
    response = _raw_publish(reg, b'{"name": "pkg", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert response.status_code == 400
    assert "nesting deeper" in response.json()["error"]
    _no_traceback(reg)


# validate-npm-package-name: invalid for new packages (errors or "no longer" warnings)
@pytest.mark.parametrize(
    "name",
    ["a~b", "~ab", "@scope/~x", "-ab", "_ab", ".ab", "@s/.x", "fs", "http", "worker_threads"],
)
def test_names_npm_refuses_for_new_packages_are_refused(reg, name):
    body = publish_document(reg.url, name, "1.0.0", make_tarball(name, "1.0.0"))
    response = reg.request("PUT", escaped(name), reg.alice, json=body)
    assert response.status_code == 400, (name, response.text)
    assert "package name" in response.json()["error"]
    assert reg.request("GET", escaped(name)).status_code == 404


@pytest.mark.parametrize(
    "name",
    ["@fs/http", "@s/-x", "@s/_x", "a.b-c_d", "x" * 214, "@" + "s" * 100 + "/" + "b" * 112],
)
def test_names_npm_accepts_are_accepted(reg, name):
    body = publish_document(reg.url, name, "1.0.0", make_tarball(name, "1.0.0"))
    response = reg.request("PUT", escaped(name), reg.alice, json=body)
    assert response.status_code == 201, (name, response.text)
    assert reg.request("GET", escaped(name)).json()["dist-tags"] == {"latest": "1.0.0"}
