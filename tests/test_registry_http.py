"""The embedded registry over real HTTP: packages, staging semantics, bad input."""

import base64
import hashlib
import json
import os

import pytest
from helpers import (
    escaped,
    make_tarball,
    publish_document,
)


@pytest.fixture
def reg(registry_server):
    registry_server.alice = registry_server.add_user("alice")
    registry_server.publish(registry_server.alice, "@demo/pkg", "1.0.0", {"index.js": "one"})
    return registry_server


def _files(storage):
    return sorted(os.listdir(storage / "tarballs")), sorted(os.listdir(storage / "tmp"))


def test_ping_and_packuments(reg):
    assert reg.request("GET", "-/ping").status_code == 200
    full = reg.request("GET", escaped("@demo/pkg")).json()
    assert full["name"] == "@demo/pkg"
    assert full["dist-tags"] == {"latest": "1.0.0"}
    assert full["maintainers"] == [{"name": "alice", "email": "alice@example.com"}]
    dist = full["versions"]["1.0.0"]["dist"]
    assert dist["tarball"] == f"{reg.url}@demo/pkg/-/pkg-1.0.0.tgz"
    assert set(full["time"]) == {"created", "modified", "1.0.0"}

    short = reg.request(
        "GET", "@demo/pkg", headers={"accept": "application/vnd.npm.install-v1+json"}
    )
    assert short.headers["content-type"].startswith("application/vnd.npm.install-v1+json")
    assert "readme" not in short.json()["versions"]["1.0.0"]
    assert short.json()["versions"]["1.0.0"]["dist"] == dist

    tarball = reg.request("GET", dist["tarball"][len(reg.url) :])
    assert tarball.status_code == 200
    assert (
        "sha512-" + base64.b64encode(hashlib.sha512(tarball.content).digest()).decode()
        == dist["integrity"]
    )
    assert reg.request("GET", "@demo/pkg/latest").json()["version"] == "1.0.0"
    assert reg.request("GET", "nope").status_code == 404


def test_tarball_urls_follow_the_host_used_or_public_url(tmp_path):
    from helpers import start_registry

    server = start_registry(
        tmp_path / "r", extra_args=("--public-url", "https://npm.example.com/base")
    )
    try:
        alice = server.add_user("alice")
        server.publish(alice, "pkg", "1.0.0")
        dist = server.request("GET", "pkg").json()["versions"]["1.0.0"]["dist"]
        assert dist["tarball"] == "https://npm.example.com/base/pkg/-/pkg-1.0.0.tgz"
    finally:
        server.stop()


def test_host_header_decides_tarball_url(reg):
    doc = reg.request("GET", "@demo/pkg", headers={"host": "example.test:9999"}).json()
    assert doc["versions"]["1.0.0"]["dist"]["tarball"].startswith("http://example.test:9999/")


def test_stage_list_view_tarball_approve(reg):
    alice = reg.alice
    stage_id = reg.stage(alice, "@demo/pkg", "1.1.0", {"index.js": "two"}, tag="next")
    item = reg.request("GET", f"-/stage/{stage_id}", alice).json()
    assert item["id"] == stage_id
    assert item["packageName"] == "@demo/pkg" and item["version"] == "1.1.0"
    assert item["tag"] == "next" and item["actor"] == "alice" and item["actorType"] == "user"
    assert set(item) >= {"createdAt", "access", "shasum", "integrity"}
    tarball = reg.request("GET", f"-/stage/{stage_id}/tarball", alice)
    assert tarball.headers["content-type"] == "application/octet-stream"
    assert hashlib.sha1(tarball.content).hexdigest() == item["shasum"]
    assert "1.1.0" not in reg.request("GET", "@demo/pkg").json()["versions"]

    approved = reg.request("POST", f"-/stage/{stage_id}/approve", alice)
    assert approved.status_code == 200, approved.text
    doc = reg.request("GET", "@demo/pkg").json()
    assert doc["dist-tags"] == {"latest": "1.0.0", "next": "1.1.0"}  # tag fixed at staging
    assert doc["versions"]["1.1.0"]["dist"]["shasum"] == item["shasum"]
    assert reg.request("GET", "@demo/pkg/-/pkg-1.1.0.tgz").content == tarball.content
    assert reg.request("GET", f"-/stage/{stage_id}", alice).status_code == 404
    again = reg.request("POST", f"-/stage/{stage_id}/approve", alice)
    assert again.status_code == 409 and "already approved" in again.json()["error"]
    assert reg.request("GET", "-/stage", alice).json()["total"] == 0


def test_reject_deletes_record_and_tarball(reg):
    before = _files(reg.storage)
    stage_id = reg.stage(reg.alice, "@demo/pkg", "2.0.0")
    assert reg.request("DELETE", f"-/stage/{stage_id}", reg.alice).status_code == 204
    assert reg.request("GET", f"-/stage/{stage_id}", reg.alice).status_code == 404
    assert reg.request("GET", f"-/stage/{stage_id}/tarball", reg.alice).status_code == 404
    assert _files(reg.storage) == before
    assert "2.0.0" not in reg.request("GET", "@demo/pkg").json()["versions"]
    # A rejected version can be staged again.
    reg.stage(reg.alice, "@demo/pkg", "2.0.0")


def test_versions_are_unique_across_published_and_staged(reg):
    alice = reg.alice
    tarball = make_tarball("@demo/pkg", "1.0.0")
    body = publish_document(reg.url, "@demo/pkg", "1.0.0", tarball)
    assert (
        reg.request("POST", f"-/stage/package/{escaped('@demo/pkg')}", alice, json=body).status_code
        == 409
    )
    assert reg.request("PUT", escaped("@demo/pkg"), alice, json=body).status_code == 409
    reg.stage(alice, "@demo/pkg", "1.2.0")
    body = publish_document(reg.url, "@demo/pkg", "1.2.0", make_tarball("@demo/pkg", "1.2.0"))
    conflict = reg.request("POST", f"-/stage/package/{escaped('@demo/pkg')}", alice, json=body)
    assert conflict.status_code == 409 and "already staged" in conflict.json()["error"]
    assert reg.request("PUT", escaped("@demo/pkg"), alice, json=body).status_code == 409


def test_staging_a_package_that_does_not_exist_is_refused(reg):
    body = publish_document(reg.url, "brand-new", "1.0.0", make_tarball("brand-new", "1.0.0"))
    response = reg.request("POST", "-/stage/package/brand-new", reg.alice, json=body)
    assert response.status_code == 404
    assert "publish its first version normally" in response.json()["error"]
    assert reg.request("GET", "brand-new").status_code == 404


def test_only_maintainers_see_or_act_on_staged_versions(reg):
    stage_id = reg.stage(reg.alice, "@demo/pkg", "1.3.0")
    bob = reg.add_user("bob")
    for method, path in [
        ("GET", f"-/stage/{stage_id}"),
        ("GET", f"-/stage/{stage_id}/tarball"),
        ("POST", f"-/stage/{stage_id}/approve"),
        ("DELETE", f"-/stage/{stage_id}"),
    ]:
        response = reg.request(method, path, bob)
        assert response.status_code == 404, (method, path, response.text)
        assert reg.request(method, path).status_code == 401  # anonymous
    assert reg.request("GET", "-/stage", bob).json() == {
        "items": [],
        "total": 0,
        "page": 0,
        "perPage": 100,
    }
    assert reg.request("GET", "-/stage", reg.alice).json()["total"] == 1
    body = publish_document(reg.url, "@demo/pkg", "1.4.0", make_tarball("@demo/pkg", "1.4.0"))
    assert (
        reg.request("POST", f"-/stage/package/{escaped('@demo/pkg')}", bob, json=body).status_code
        == 403
    )
    assert reg.request("PUT", escaped("@demo/pkg"), bob, json=body).status_code == 403
    assert reg.request("GET", f"-/stage/{stage_id}", reg.alice).status_code == 200


def test_list_pagination_and_package_filter(reg):
    reg.publish(reg.alice, "other", "0.1.0")
    ids = [reg.stage(reg.alice, "@demo/pkg", f"3.0.{i}") for i in range(5)]
    other = reg.stage(reg.alice, "other", "0.2.0")
    seen, page = [], 0
    while True:
        result = reg.request("GET", f"-/stage?page={page}&perPage=2", reg.alice).json()
        assert result["total"] == 6 and result["perPage"] == 2 and result["page"] == page
        seen += [item["id"] for item in result["items"]]
        if len(seen) >= result["total"] or len(result["items"]) < 2:
            break
        page += 1
    assert seen == ids + [other]
    only = reg.request("GET", "-/stage", reg.alice, params={"package": "other"}).json()
    assert [i["id"] for i in only["items"]] == [other] and only["total"] == 1
    assert reg.request("GET", "-/stage?perPage=0", reg.alice).status_code == 400
    assert reg.request("GET", "-/stage?page=x", reg.alice).status_code == 400


def _bad_bodies(url):
    name, version = "@demo/pkg", "4.0.0"
    tarball = make_tarball(name, version)
    good = publish_document(url, name, version, tarball)

    def edit(change):
        body = json.loads(json.dumps(good))
        change(body)
        return json.dumps(body).encode()

    att = f"{name}-{version}.tgz"
    return {
        "malformed JSON": json.dumps(good).encode()[:-5],
        "does not match the URL": edit(lambda b: b.update(name="@demo/other")),
        "semantic version": edit(
            lambda b: b.update(
                versions={"4.0": {**b["versions"][version], "version": "4.0"}},
                **{"dist-tags": {"latest": "4.0"}},
            )
        ),
        "length": edit(lambda b: b["_attachments"][att].update(length=3)),
        "integrity mismatch": edit(
            lambda b: b["versions"][version]["dist"].update(
                integrity="sha512-" + base64.b64encode(b"x" * 64).decode()
            )
        ),
        "shasum mismatch": edit(lambda b: b["versions"][version]["dist"].update(shasum="0" * 40)),
        "not valid base64": edit(lambda b: b["_attachments"][att].update(data="@@@@")),
        "exactly one tarball": edit(lambda b: b["_attachments"].update({"extra.tgz": {}})),
        "exactly one version": edit(lambda b: b.update(versions={})),
        "dist-tag": edit(lambda b: b.update(**{"dist-tags": {"1.x": version}})),
        "gzip": edit(
            lambda b: b["_attachments"][att].update(
                data=base64.b64encode(b"plain").decode(), length=5
            )
        ),
    }


@pytest.mark.parametrize("problem", list(_bad_bodies("http://x/")))
def test_bad_publish_bodies_get_400_and_change_nothing(reg, problem):
    body = _bad_bodies(reg.url)[problem]
    stage_id = reg.stage(reg.alice, "@demo/pkg", "1.5.0")  # something to stay untouched
    before = (
        reg.request("GET", "@demo/pkg").json(),
        reg.request("GET", "-/stage", reg.alice).json(),
        _files(reg.storage),
    )
    for method, path in [
        ("PUT", escaped("@demo/pkg")),
        ("POST", f"-/stage/package/{escaped('@demo/pkg')}"),
    ]:
        response = reg.request(
            method, path, reg.alice, data=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, (problem, response.text)
        assert problem in response.json()["error"]
    after = (
        reg.request("GET", "@demo/pkg").json(),
        reg.request("GET", "-/stage", reg.alice).json(),
        _files(reg.storage),
    )
    assert after == before
    assert reg.request("GET", f"-/stage/{stage_id}", reg.alice).status_code == 200


def test_bad_package_names_are_refused(reg):
    for name in ["UPPER", ".dot", "_under", "has space", "node_modules", "a" * 215]:
        body = publish_document(reg.url, name, "1.0.0", make_tarball(name, "1.0.0"))
        response = reg.request("PUT", escaped(name), reg.alice, json=body)
        assert response.status_code == 400, name
        assert "package name" in response.json()["error"]


def test_body_size_limit(tmp_path):
    from helpers import start_registry

    server = start_registry(tmp_path / "r", extra_args=("--max-body-size", "20KB"))
    try:
        alice = server.add_user("alice")
        server.publish(alice, "small", "1.0.0")
        big = make_tarball("small", "1.1.0", {"blob.bin": os.urandom(40_000)})
        body = publish_document(server.url, "small", "1.1.0", big)
        response = server.request("PUT", "small", alice, json=body)
        assert response.status_code == 413

        def chunks():  # no content-length: the limit must hold while streaming
            data = json.dumps(body).encode()
            for i in range(0, len(data), 4096):
                yield data[i : i + 4096]

        response = server.request("PUT", "small", alice, data=chunks())
        assert response.status_code == 413
        assert "1.1.0" not in server.request("GET", "small").json()["versions"]
        assert _files(server.storage)[1] == []
    finally:
        server.stop()


def test_login_rules(tmp_path):
    from helpers import start_registry

    server = start_registry(tmp_path / "r", open_registration=False)
    try:
        body = {"name": "carol", "password": "pw", "type": "user", "roles": []}
        response = server.request("PUT", "-/user/org.couchdb.user:carol", json=body)
        assert (
            response.status_code == 403 and "registration is disabled" in response.json()["error"]
        )
    finally:
        server.stop()
    server = start_registry(tmp_path / "r", open_registration=True)
    try:
        first = server.request("PUT", "-/user/org.couchdb.user:carol", json=body)
        assert first.status_code == 201
        token = first.json()["token"]
        wrong = server.request(
            "PUT", "-/user/org.couchdb.user:carol", json={**body, "password": "no"}
        )
        assert wrong.status_code == 401 and "www-authenticate" not in wrong.headers
        again = server.request("PUT", "-/user/org.couchdb.user:carol", json=body)
        assert again.status_code == 201 and again.json()["token"] != token
        auth = {"authorization": f"Bearer {token}"}
        assert server.request("GET", "-/whoami", headers=auth).json() == {"username": "carol"}
        assert server.request("DELETE", f"-/user/token/{token}", headers=auth).status_code == 200
        assert server.request("GET", "-/whoami", headers=auth).status_code == 401
        basic = base64.b64encode(b"carol:pw").decode()
        assert server.request(
            "GET", "-/whoami", headers={"authorization": f"Basic {basic}"}
        ).json() == {"username": "carol"}
    finally:
        server.stop()
    # registration closed, but an existing user may still log in
    server = start_registry(tmp_path / "r", open_registration=False)
    try:
        assert server.request("PUT", "-/user/org.couchdb.user:carol", json=body).status_code == 201
    finally:
        server.stop()


def test_dist_tags(reg):
    alice = reg.alice
    reg.publish(alice, "@demo/pkg", "1.0.1")
    path = f"-/package/{escaped('@demo/pkg')}/dist-tags"
    assert reg.request("GET", path).json() == {"latest": "1.0.1"}
    assert reg.request("PUT", f"{path}/stable", alice, json="1.0.0").status_code == 201
    assert reg.request("GET", path).json() == {"latest": "1.0.1", "stable": "1.0.0"}
    assert reg.request("PUT", f"{path}/stable", alice, json="9.9.9").status_code == 404
    assert reg.request("DELETE", f"{path}/stable", alice).status_code == 201
    assert reg.request("DELETE", f"{path}/latest", alice).status_code == 400
    assert reg.request("PUT", f"{path}/beta", reg.add_user("bob"), json="1.0.0").status_code == 403


def test_dist_tags_keep_the_order_they_were_set_in(reg):
    # as a JavaScript object (npm's own registry) keeps them: a tag set again keeps its place
    alice = reg.alice
    reg.publish(alice, "ordered", "1.0.0")
    path = f"-/package/{escaped('ordered')}/dist-tags"
    for tag in ("next", "beta", "alpha", "next"):
        assert reg.request("PUT", f"{path}/{tag}", alice, json="1.0.0").status_code == 201
    assert list(reg.request("GET", path).json()) == ["latest", "next", "beta", "alpha"]
    assert list(reg.request("GET", "ordered").json()["dist-tags"]) == [
        "latest",
        "next",
        "beta",
        "alpha",
    ]


@pytest.mark.parametrize("page", ["99999999999999999999", str(2**62)])
def test_registry_answers_a_page_far_past_the_end_with_an_empty_page(registry_server, page):
    alice = registry_server.add_user("alice")
    registry_server.publish(alice, "pkg", "1.0.0")
    registry_server.stage(alice, "pkg", "1.1.0")
    resp = registry_server.request("GET", f"-/stage?page={page}&perPage=1000", alice)
    assert resp.status_code == 200, resp.text
    assert resp.json()["items"] == [] and resp.json()["total"] == 1
