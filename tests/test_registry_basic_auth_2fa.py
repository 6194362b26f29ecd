"""HTTP Basic credentials meet two-factor like a login does, and password guesses are throttled.

All over real HTTP against ``pystage registry serve`` with its default settings
(plus --open-registration to create the accounts).
"""

import base64

import pytest
from helpers import make_tarball, publish_document, start_registry


def basic(name, password):
    return {"authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def is_otp_challenge(response):
    return (
        response.status_code == 401
        and "otp" in response.headers.get("www-authenticate", "").lower()
    )


@pytest.fixture
def reg(tmp_path):
    server = start_registry(tmp_path / "registry")
    try:
        alice = server.add_user("alice")
        server.publish(alice, "pkg", "1.0.0")
        server.stage_id = server.stage(alice, "pkg", "1.1.0")
        server.alice = server.enrol_2fa(alice, "auth-only")  # the weakest 2FA mode
        yield server
    finally:
        server.stop()


ENDPOINTS = [
    ("GET", "-/whoami"),
    ("GET", "-/stage"),
    ("GET", "-/stage/{id}"),
    ("GET", "-/stage/{id}/tarball"),
    ("GET", "-/npm/v1/user"),
    ("GET", "-/npm/v1/tokens"),
    ("GET", "pkg"),  # a public read: the credentials sent are checked all the same
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_basic_without_otp_meets_the_otp_challenge(reg, method, path):
    response = reg.request(
        method, path.format(id=reg.stage_id), headers=basic("alice", "correct horse")
    )
    assert is_otp_challenge(response), (response.status_code, response.text[:200])


def test_basic_publish_and_stage_need_the_otp_in_auth_only_mode(reg):
    for url, version in (("pkg", "2.0.0"), ("-/stage/package/pkg", "2.1.0")):
        tarball = make_tarball("pkg", version)
        response = reg.request(
            "PUT" if url == "pkg" else "POST",
            url,
            headers=basic("alice", "correct horse"),
            json=publish_document(reg.url, "pkg", version, tarball),
        )
        assert is_otp_challenge(response), response.text
    packument = reg.request("GET", "pkg").json()
    assert set(packument["versions"]) == {"1.0.0"}
    assert len(reg.request("GET", "-/stage", reg.alice).json()["items"]) == 1


def test_basic_with_a_valid_otp_works_once_per_code(reg):
    code = reg.totp_code(reg.alice)
    headers = {**basic("alice", "correct horse"), "npm-otp": code}
    ok = reg.request("GET", "-/whoami", headers=headers)
    assert ok.status_code == 200 and ok.json() == {"username": "alice"}
    replay = reg.request("GET", "-/whoami", headers=headers)
    assert is_otp_challenge(replay)


def test_basic_approve_with_one_code_uses_it_once(reg):
    # the OTP checked at authentication also serves the approve's own check (not twice)
    headers = {**basic("alice", "correct horse"), "npm-otp": reg.totp_code(reg.alice)}
    response = reg.request("POST", f"-/stage/{reg.stage_id}/approve", headers=headers)
    assert response.status_code == 200, response.text
    assert "1.1.0" in reg.request("GET", "pkg").json()["versions"]


def test_basic_for_an_account_without_2fa_still_works(reg):
    reg.add_user("bob")
    response = reg.request("GET", "-/whoami", headers=basic("bob", "correct horse"))
    assert response.json() == {"username": "bob"}


def test_wrong_basic_password_is_a_401_even_on_public_reads(reg):
    response = reg.request("GET", "pkg", headers=basic("alice", "wrong"))
    assert response.status_code == 401
    assert "incorrect" in response.json()["error"]


def test_password_guesses_are_throttled_per_account(tmp_path):
    server = start_registry(
        tmp_path / "r", extra_args=("--password-max-failures", "3", "--password-window", "60")
    )
    try:
        server.add_user("carol")
        body = {"name": "carol", "password": "guess"}
        statuses = [
            server.request("PUT", "-/user/org.couchdb.user:carol", json=body).status_code
            for _ in range(3)
        ]
        assert statuses == [401, 401, 401]
        # Basic, couch login, even the right password: all refused until the window passes
        throttled = server.request("GET", "-/whoami", headers=basic("carol", "guess"))
        assert throttled.status_code == 429 and 0 < int(throttled.headers["retry-after"]) <= 61
        right = {"name": "carol", "password": "correct horse"}
        again = server.request("PUT", "-/user/org.couchdb.user:carol", json=right)
        assert again.status_code == 429
        assert "too many wrong passwords" in again.json()["error"]
        # another account is not affected (the address limit is higher)
        server.add_user("dave")
        assert (
            server.request("GET", "-/whoami", headers=basic("dave", "correct horse")).status_code
            == 200
        )
    finally:
        server.stop()


def test_password_guesses_are_throttled_per_address(tmp_path):
    server = start_registry(
        tmp_path / "r",
        extra_args=("--password-max-failures-per-address", "4", "--password-window", "60"),
    )
    try:
        server.add_user("erin")
        for n in range(4):  # four different accounts (existing or not), one address
            response = server.request("GET", "-/whoami", headers=basic(f"user{n}", "guess"))
            assert response.status_code == 401
        blocked = server.request("GET", "-/whoami", headers=basic("erin", "correct horse"))
        assert blocked.status_code == 429
        assert "your address" in blocked.json()["error"]
    finally:
        server.stop()


def test_throttle_settings_come_from_the_environment_too(tmp_path):
    server = start_registry(tmp_path / "r", env={"PYSTAGE_REGISTRY_PASSWORD_MAX_FAILURES": "1"})
    try:
        server.add_user("fay")
        assert server.request("GET", "-/whoami", headers=basic("fay", "x")).status_code == 401
        assert server.request("GET", "-/whoami", headers=basic("fay", "x")).status_code == 429
    finally:
        server.stop()
