"""An attacker's go at the embedded registry, over real sockets, beyond issue 10's list.

The cast: alice maintains ``pkg`` (2FA, auth-and-writes) and has staged 1.1.0;
mallory has an account of her own, alice's stolen CI token, a read-only and a
stage-only token of alice's, and raw sockets. Whatever she tries, no version
becomes public without alice's one-time password, no identity is forged, nothing
answers 500, and the server's log shows no traceback.

One registry serves the whole module (as ``registry serve`` starts by default,
except a high per-address password limit, so that the tests' own wrong passwords
from 127.0.0.1 do not throttle each other; the throttling has its own tests).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time

import pytest
from helpers import User, escaped, make_tarball, publish_document, start_registry


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    server = start_registry(
        tmp_path_factory.mktemp("attacks") / "registry",
        extra_args=("--password-max-failures-per-address", "100000"),
    )
    try:
        alice = server.add_user("alice")
        server.publish(alice, "pkg", "1.0.0")

        def token(**rights):
            response = server.request(
                "POST", "-/npm/v1/tokens", alice, json={"password": alice.password, **rights}
            )
            response.raise_for_status()
            return User("alice", alice.password, response.json()["token"])

        server.stolen = token()
        server.readonly = token(readonly=True)
        server.stage_only = token(stage_only=True)
        server.alice = server.enrol_2fa(alice)
        server.stage_id = server.stage(server.alice, "pkg", "1.1.0")
        server.mallory = server.add_user("mallory")
        server.publish(server.mallory, "mallorys", "1.0.0")
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _no_500_and_no_traceback(reg):
    offset = len(reg.log_text())
    yield
    log = reg.log_text(offset)
    assert "Traceback" not in log, log[-3000:]
    assert '" 500' not in log


def _public_versions(reg):
    return set(reg.request("GET", "pkg").json()["versions"])


def _doc(reg, name, version, **kw):
    return publish_document(reg.url, name, version, make_tarball(name, version), **kw)


def _basic(name, password):
    raw = name.encode() + b":" + password.encode() if isinstance(password, str) else password
    return {"authorization": "Basic " + base64.b64encode(raw).decode()}


def _raw_http(reg, request: bytes) -> bytes:
    """Send ``request`` as it is; the answer up to the end of its body (a kept-alive
    connection is not waited on once the declared content-length has arrived)."""
    with socket.create_connection((reg.host, reg.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while not _complete(answer):
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            answer += data
    return answer


def _complete(answer: bytes) -> bool:
    head, separator, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return bool(separator and length and len(body) >= int(length.group(1)))


# -- the stolen token: nothing public without the second factor ------------------------


@pytest.mark.parametrize("otp", [None, "", "1234567", "abcdef", "webotp_x"])
def test_stolen_token_cannot_approve_without_the_code(reg, otp):
    # no more than 4 wrong codes here: the fifth would lock the stolen token
    response = reg.request("POST", f"-/stage/{reg.stage_id}/approve", reg.stolen, otp=otp)
    assert response.status_code == 401
    assert "1.1.0" not in _public_versions(reg)


@pytest.mark.parametrize(
    "headers",
    [
        {"x-http-method-override": "DELETE"},
        {"x-forwarded-for": "10.0.0.1"},
        {"npm-auth-type": "web"},
        {"npm-command": "stage"},
    ],
)
def test_headers_do_not_bypass_the_otp(reg, headers):
    response = reg.request("POST", f"-/stage/{reg.stage_id}/approve", reg.stolen, headers=headers)
    assert response.status_code == 401
    assert "1.1.0" not in _public_versions(reg)


def test_stolen_token_cannot_publish_directly_or_move_latest(reg):
    assert reg.request("PUT", "pkg", reg.stolen, json=_doc(reg, "pkg", "9.0.0")).status_code == 401
    tag = reg.request("PUT", "-/package/pkg/dist-tags/latest", reg.stolen, json="1.0.0")
    assert tag.status_code == 401
    assert reg.request("DELETE", "-/package/pkg/dist-tags/latest", reg.stolen).status_code in (
        400,
        401,
    )
    assert "9.0.0" not in _public_versions(reg)


def test_stolen_token_cannot_turn_off_2fa_or_mint_tokens(reg):
    off = reg.request(
        "POST",
        "-/npm/v1/user",
        reg.stolen,
        json={"tfa": {"mode": "disable", "password": "correct horse"}},
    )
    assert off.status_code == 401
    assert reg.request("GET", "-/npm/v1/user", reg.alice).json()["tfa"]["mode"] == "auth-and-writes"
    email = reg.request("POST", "-/npm/v1/user", reg.stolen, json={"email": "m@evil.example"})
    assert email.status_code == 401
    mint = reg.request("POST", "-/npm/v1/tokens", reg.stolen, json={"password": "correct horse"})
    assert mint.status_code == 401
    wrong_password = reg.request("POST", "-/npm/v1/tokens", reg.stolen, json={"password": "x"})
    assert wrong_password.status_code == 403


def test_stolen_token_cannot_revoke_the_maintainers_other_tokens(reg):
    keys = [o["key"] for o in reg.request("GET", "-/npm/v1/tokens", reg.alice).json()["objects"]]
    response = reg.request("DELETE", f"-/npm/v1/tokens/token/{keys[0]}", reg.stolen)
    assert response.status_code == 401  # auth-and-writes: revoking another token needs the code
    assert reg.request("GET", "-/whoami", reg.alice).status_code == 200


def test_one_code_serves_one_request(reg):
    second = reg.stage(reg.alice, "pkg", "1.2.0")
    code = reg.totp_code(reg.alice)
    first = reg.request("DELETE", f"-/stage/{second}", reg.alice, otp=code)
    assert first.status_code == 204
    replay = reg.request("POST", f"-/stage/{reg.stage_id}/approve", reg.alice, otp=code)
    assert replay.status_code == 401
    assert "1.1.0" not in _public_versions(reg)


# -- restricted tokens: no way around their restriction --------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/-/npm/v1/tokens"),
        ("POST", "/-/npm/v1/user"),
        ("PUT", "/pkg"),
        ("PUT", "/-/package/pkg/dist-tags/next"),
        ("DELETE", "/-/package/pkg/dist-tags/next"),
        ("POST", "/-/stage/{id}/approve"),
        ("DELETE", "/-/stage/{id}"),
        ("PUT", "/pkg/-rev/1-abc"),
        ("PUT", "/-/pystage/policy/pkg"),
        ("DELETE", "/-/npm/v1/tokens/token/0123456789abcdef"),
        ("PATCH", "/pkg"),
    ],
)
@pytest.mark.parametrize("kind", ["readonly", "stage_only"])
def test_restricted_tokens_cannot_write(reg, kind, method, path):
    token = getattr(reg, kind)
    response = reg.request(method, path.format(id=reg.stage_id), token, json={})
    # 404: a route not on this registry (yet) answers before it authenticates
    assert response.status_code in (403, 404, 405), (response.status_code, response.text)
    assert "1.1.0" not in _public_versions(reg)
    assert reg.request("GET", f"-/stage/{reg.stage_id}", reg.alice).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "-/stage/package/pkg/../../-/stage/{id}/approve",
        "-/stage/package/pkg%2F..%2F..%2F-%2Fstage%2F{id}%2Fapprove",
        "-/stage/package/pkg/-rev/1",
        "-/stage/package/",
    ],
)
def test_stage_only_token_cannot_reach_other_writes_through_the_stage_path(reg, path):
    response = reg.request(
        "POST", path.format(id=reg.stage_id), reg.stage_only, json=_doc(reg, "pkg", "3.0.0")
    )
    assert response.status_code in (400, 403, 404, 405)
    assert not {"1.1.0", "3.0.0"} & _public_versions(reg)


def test_stage_only_token_stages_but_cannot_touch_what_it_staged(reg):
    staged = reg.request(
        "POST", f"-/stage/package/{escaped('pkg')}", reg.stage_only, json=_doc(reg, "pkg", "4.0.0")
    )
    assert staged.status_code == 201
    stage_id = staged.json()["stageId"]
    approve = reg.request("POST", f"-/stage/{stage_id}/approve", reg.stage_only)
    assert approve.status_code == 403
    assert "4.0.0" not in _public_versions(reg)


# -- another user: mallory's own account ---------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "-/stage/{id}"),
        ("GET", "-/stage/{id}/tarball"),
        ("POST", "-/stage/{id}/approve"),
        ("DELETE", "-/stage/{id}"),
        ("GET", "-/stage/{ID}"),
    ],
)
def test_another_user_sees_no_stage_of_alice(reg, method, path):
    url = path.format(id=reg.stage_id, ID=reg.stage_id.upper())
    assert reg.request(method, url, reg.mallory).status_code == 404
    assert reg.request("GET", f"-/stage/{reg.stage_id}", reg.alice).status_code == 200


def test_another_user_cannot_publish_stage_or_tag_alices_package(reg):
    doc = _doc(reg, "pkg", "5.0.0")
    assert reg.request("PUT", "pkg", reg.mallory, json=doc).status_code == 403
    staged = reg.request("POST", f"-/stage/package/{escaped('pkg')}", reg.mallory, json=doc)
    assert staged.status_code == 403
    tag = reg.request("PUT", "-/package/pkg/dist-tags/evil", reg.mallory, json="1.0.0")
    assert tag.status_code == 403
    assert reg.request("GET", "-/stage", reg.mallory).json()["items"] == []


def test_a_document_for_another_package_under_her_own_url_is_refused(reg):
    doc = _doc(reg, "pkg", "6.0.0")
    response = reg.request("PUT", "mallorys", reg.mallory, json=doc)
    assert response.status_code == 400
    staged = reg.request("POST", "-/stage/package/mallorys", reg.mallory, json=doc)
    assert staged.status_code == 400
    assert "6.0.0" not in _public_versions(reg)


@pytest.mark.parametrize("name", ["Alice", "alice ", "аlice", "alice\u200b", "alice%00", "al/ice"])
def test_look_alike_accounts_cannot_be_made(reg, name):
    body = {"name": name, "password": "pw", "email": "m@evil.example"}
    response = reg.request("PUT", f"-/user/org.couchdb.user:{name}", json=body)
    assert response.status_code in (400, 404), (name, response.status_code)


# -- forged identity ------------------------------------------------------------------


@pytest.mark.parametrize(
    "forged",
    [
        {"_npmUser": {"name": "alice"}},
        {"maintainers": [{"name": "alice"}, {"name": "mallory"}]},
        {"_npmUser": "alice <alice@example.com>"},
        {"maintainers": "alice"},
    ],
)
def test_mallory_cannot_claim_to_be_alice(reg, forged):
    version = f"2.{abs(hash(json.dumps(forged, sort_keys=True))) % 10000}.0"
    doc = _doc(reg, "mallorys", version)
    doc["versions"][version].update(forged)
    assert reg.request("PUT", "mallorys", reg.mallory, json=doc).status_code == 201
    manifest = reg.request("GET", "mallorys").json()["versions"][version]
    assert manifest["_npmUser"]["name"] == "mallory"
    assert [m["name"] for m in manifest["maintainers"]] == ["mallory"]


# -- malformed credentials ------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Basic " + base64.b64encode(b"alice").decode(),  # no colon
        "Basic " + base64.b64encode(b":correct horse").decode(),
        "Basic " + base64.b64encode(b"alice:correct horse:extra").decode(),
        "Basic " + base64.b64encode(b"alice\n:correct horse").decode(),
        "Bearer ' OR '1'='1",
        "Bearer " + "A" * 10_000,
        "Bearer",
        "Token " + "x" * 40,
        "Basic",
    ],
)
def test_malformed_credentials_are_refused_not_crashed(reg, authorization):
    response = reg.request("GET", "-/whoami", headers={"authorization": authorization})
    assert response.status_code == 401, (authorization[:40], response.status_code)


def test_basic_password_then_a_wrong_code_is_still_a_challenge(reg):
    headers = {**_basic("alice", "correct horse"), "npm-otp": "000001"}
    response = reg.request("POST", f"-/stage/{reg.stage_id}/approve", headers=headers)
    assert response.status_code == 401
    assert "1.1.0" not in _public_versions(reg)


def test_a_wrong_user_name_costs_as_much_time_as_a_wrong_password(reg):
    def timed(name):
        started = time.perf_counter()
        reg.request("GET", "-/whoami", headers=_basic(name, "wrong"))
        return time.perf_counter() - started

    unknown = min(timed("nobody-here") for _ in range(3))
    known = min(timed("mallory") for _ in range(3))
    assert unknown > known * 0.5  # both pay for scrypt (a lookup alone is ~100x faster)


# -- paths: traversal and odd ids -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "pkg/-/..%2F..%2Fregistry.db",
        "pkg/-/../../registry.db",
        "pkg/-/pkg-1.0.0.tgz%00.txt",
        "pkg/-/pkg-..%2F..%2Fregistry.db.tgz",
        "-/stage/..%2F..%2Fregistry.db",
        "-/stage/{id}%0A",
        "-/stage/{id}%0A/tarball",
        "-/stage/%7B%7D",
        "%2E%2E/registry.db",
        "-/package/..%2Fpkg/dist-tags",
    ],
)
def test_paths_never_reach_files_outside_the_store(reg, path):
    response = reg.request("GET", path.format(id=reg.stage_id), reg.alice)
    assert response.status_code in (400, 404, 405), (path, response.status_code)
    assert b"SQLite format" not in response.content


def test_a_raw_request_with_a_newline_in_the_path_is_refused(reg):
    answer = _raw_http(
        reg, b"GET /-/stage/" + reg.stage_id.encode() + b"\n HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert not answer.startswith(b"HTTP/1.1 200"), answer[:200]


# -- bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b"1" * 5000,  # past Python's int-to-str digit limit
        b'"1.0.0"' + b" " * 10 + b"garbage",
        b"\xff\xfe\x00\x00",
        b'"\\u0000"',
        b"[]" * 1000,
        b"",
    ],
)
def test_dist_tag_bodies_that_are_not_a_version_are_400(reg, body):
    response = reg.request(
        "PUT",
        "-/package/mallorys/dist-tags/next",
        reg.mallory,
        data=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400, (body[:20], response.status_code, response.text[:200])


@pytest.mark.parametrize(
    "password", [None, 12345, ["correct horse"], {"a": 1}, True, "", "x" * 2_000_000]
)
def test_login_with_a_password_that_is_not_a_string(reg, password):
    body = {"name": "mallory", "password": password}
    response = reg.request("PUT", "-/user/org.couchdb.user:mallory", json=body)
    assert response.status_code in (400, 401, 413), response.status_code


def test_a_huge_declared_length_is_refused_before_the_body(reg):
    answer = _raw_http(
        reg,
        b"PUT /pkg HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + reg.alice.token.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{",
    )
    assert answer.startswith(b"HTTP/1.1 413") or answer.startswith(b"HTTP/1.1 401"), answer[:100]


def test_a_chunked_small_body_over_its_limit_is_413(reg):
    chunk = b"[" + b"1," * 600_000 + b"1]"  # over 1 MiB, no content-length
    response = reg.request(
        "POST",
        "-/npm/v1/user",
        reg.mallory,
        data=iter([chunk[i : i + 65536] for i in range(0, len(chunk), 65536)]),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["_attachments"].update({"../../evil.tgz": {"data": "", "length": 0}}),
        lambda d: d.update(_attachments={"../mallorys-7.0.0.tgz": d["_attachments"].popitem()[1]}),
        lambda d: d.update({"dist-tags": {"latest": "1.0.0"}}),
        lambda d: d.update({"dist-tags": {"latest": "7.0.0", "next": "7.0.0"}}),
        lambda d: d["versions"]["7.0.0"].update(name="pkg"),
        lambda d: d["versions"]["7.0.0"].update(version="7.0.1"),
        lambda d: d.update(access="restricted"),
        lambda d: d["versions"]["7.0.0"]["dist"].update(integrity="sha512-AAAA"),
        lambda d: d["_attachments"]["mallorys-7.0.0.tgz"].update(length=1),
        lambda d: d["_attachments"]["mallorys-7.0.0.tgz"].update(data="not base64!"),
        lambda d: d["_attachments"]["mallorys-7.0.0.tgz"].update(
            data=base64.b64encode(b"plain text, not gzip").decode(), length=20
        ),
        lambda d: d["versions"].update({"7.0.1": d["versions"]["7.0.0"]}),
        lambda d: d.update(versions={"v7.0.0": d["versions"]["7.0.0"]}),
        lambda d: d.update({"dist-tags": {"7": "7.0.0"}}),
    ],
)
def test_lying_publish_documents_publish_nothing(reg, mutate):
    doc = _doc(reg, "mallorys", "7.0.0")
    mutate(doc)
    response = reg.request("PUT", "mallorys", reg.mallory, json=doc)
    assert response.status_code == 400, response.text[:300]
    assert "7.0.0" not in reg.request("GET", "mallorys").json()["versions"]
    assert list((reg.storage / "tmp").iterdir()) == []


@pytest.mark.parametrize("query", ["page=-1", "perPage=0", "perPage=100000", "page=x", "page=1e9"])
def test_odd_stage_list_paging_is_400(reg, query):
    assert reg.request("GET", f"-/stage?{query}", reg.mallory).status_code == 400


def test_many_concurrent_approves_with_one_code_publish_once(reg):
    from concurrent.futures import ThreadPoolExecutor

    third = reg.stage(reg.alice, "pkg", "1.3.0")
    code = reg.totp_code(reg.alice)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    reg.request("POST", f"-/stage/{third}/approve", reg.alice, otp=code).status_code
                ),
                range(8),
            )
        )
    assert statuses.count(200) == 1, statuses
    # the others are replays: wrong codes, which may lock this token (429)
    assert all(s in (200, 401, 409, 429) for s in statuses), statuses
    assert "1.3.0" in _public_versions(reg)
