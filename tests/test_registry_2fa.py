"""Two-factor authentication in the embedded registry: enrolment, challenges, replay, lockout."""

import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from helpers import start_registry


@pytest.fixture
def reg(registry_server):
    """alice (2FA auth-and-writes) maintains pkg@1.0.0 and has staged 1.1.0."""
    alice = registry_server.add_user("alice")
    registry_server.publish(alice, "pkg", "1.0.0")  # before enrolling: saves a one-time code
    registry_server.alice = registry_server.enrol_2fa(alice)
    registry_server.stage_id = registry_server.stage(registry_server.alice, "pkg", "1.1.0")
    return registry_server


def _is_otp_challenge(response):
    return (
        response.status_code == 401
        and "otp" in response.headers.get("www-authenticate", "").lower()
    )


def _versions(reg):
    return set(reg.request("GET", "pkg").json()["versions"])


def _wrong_code(secret):
    totp, now = pyotp.TOTP(secret), time.time()
    valid = {totp.at(now + skew * 30) for skew in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def test_profile_shows_enrolled_mode(reg):
    profile = reg.request("GET", "-/npm/v1/user", reg.alice).json()
    assert profile["name"] == "alice"
    assert profile["tfa"] == {"pending": False, "mode": "auth-and-writes"}


def test_approve_and_reject_need_an_otp(reg):
    response = reg.request("POST", f"-/stage/{reg.stage_id}/approve", reg.alice)
    assert _is_otp_challenge(response)
    assert _versions(reg) == {"1.0.0"}
    assert reg.request("GET", f"-/stage/{reg.stage_id}", reg.alice).status_code == 200

    ok = reg.request(
        "POST", f"-/stage/{reg.stage_id}/approve", reg.alice, otp=reg.totp_code(reg.alice)
    )
    assert ok.status_code == 200, ok.text
    assert _versions(reg) == {"1.0.0", "1.1.0"}

    other = reg.stage(reg.alice, "pkg", "1.2.0")  # staging itself never asks for an OTP
    assert _is_otp_challenge(reg.request("DELETE", f"-/stage/{other}", reg.alice))
    assert reg.request("GET", f"-/stage/{other}", reg.alice).status_code == 200
    assert (
        reg.request(
            "DELETE", f"-/stage/{other}", reg.alice, otp=reg.totp_code(reg.alice)
        ).status_code
        == 204
    )


def test_a_code_is_accepted_only_once(reg):
    second = reg.stage(reg.alice, "pkg", "1.2.0")
    code = reg.totp_code(reg.alice)
    assert (
        reg.request("POST", f"-/stage/{reg.stage_id}/approve", reg.alice, otp=code).status_code
        == 200
    )
    replay = reg.request("POST", f"-/stage/{second}/approve", reg.alice, otp=code)
    assert _is_otp_challenge(replay)
    assert "1.2.0" not in _versions(reg)


def test_codes_far_from_now_are_refused(reg):
    totp = pyotp.TOTP(reg.alice.totp_secret)
    for skew in (-3, 3):
        response = reg.request(
            "POST",
            f"-/stage/{reg.stage_id}/approve",
            reg.alice,
            otp=totp.at(time.time() + skew * 30),
        )
        assert _is_otp_challenge(response)
    assert _versions(reg) == {"1.0.0"}


def test_repeated_wrong_codes_lock_the_account(tmp_path):
    server = start_registry(
        tmp_path / "r", extra_args=("--otp-max-failures", "3", "--otp-lockout", "120")
    )
    try:
        alice = server.add_user("alice", tfa=True)
        server.publish(alice, "pkg", "1.0.0")
        stage_id = server.stage(alice, "pkg", "1.1.0")
        path = f"-/stage/{stage_id}/approve"
        wrong = _wrong_code(alice.totp_secret)
        assert _is_otp_challenge(server.request("POST", path, alice, otp=wrong))
        assert _is_otp_challenge(server.request("POST", path, alice, otp=wrong))
        locked = server.request("POST", path, alice, otp=wrong)
        assert locked.status_code == 429 and "locked" in locked.json()["error"]
        still = server.request("POST", path, alice, otp=server.totp_code(alice))  # even a right one
        assert still.status_code == 429 and 0 < int(still.headers["retry-after"]) <= 120
        assert set(server.request("GET", "pkg").json()["versions"]) == {"1.0.0"}
    finally:
        server.stop()


def test_auth_only_mode_asks_at_login_and_approve_but_not_publish(registry_server):
    reg = registry_server
    bob = reg.add_user("bob", tfa="auth-only")
    reg.publish(bob, "bobs", "1.0.0", otp="")  # no OTP needed for a normal write
    body = {"name": "bob", "password": bob.password}
    assert _is_otp_challenge(reg.request("PUT", "-/user/org.couchdb.user:bob", json=body))
    login = reg.request("PUT", "-/user/org.couchdb.user:bob", json=body, otp=reg.totp_code(bob))
    assert login.status_code == 201
    stage_id = reg.stage(bob, "bobs", "1.1.0")
    assert _is_otp_challenge(reg.request("POST", f"-/stage/{stage_id}/approve", bob))


def test_auth_and_writes_mode_asks_on_publish(reg):
    from helpers import make_tarball, publish_document

    body = publish_document(reg.url, "pkg", "2.0.0", make_tarball("pkg", "2.0.0"))
    assert _is_otp_challenge(reg.request("PUT", "pkg", reg.alice, json=body))
    assert "2.0.0" not in _versions(reg)
    assert (
        reg.request("PUT", "pkg", reg.alice, json=body, otp=reg.totp_code(reg.alice)).status_code
        == 201
    )


def test_enrolment_with_recovery_codes_and_disable(registry_server):
    reg = registry_server
    carol = reg.add_user("carol")
    start = reg.request(
        "POST",
        "-/npm/v1/user",
        carol,
        json={"tfa": {"mode": "auth-and-writes", "password": "wrong"}},
    )
    assert start.status_code == 403
    start = reg.request(
        "POST",
        "-/npm/v1/user",
        carol,
        json={"tfa": {"mode": "auth-and-writes", "password": carol.password}},
    )
    uri = start.json()["tfa"]
    assert uri.startswith("otpauth://totp/")
    assert reg.request("GET", "-/npm/v1/user", carol).json()["tfa"]["pending"] is True
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    wrong = reg.request("POST", "-/npm/v1/user", carol, json={"tfa": [_wrong_code(secret)]})
    assert _is_otp_challenge(wrong)
    confirm = reg.request("POST", "-/npm/v1/user", carol, json={"tfa": [pyotp.TOTP(secret).now()]})
    recovery = confirm.json()["tfa"]
    assert len(recovery) == 5

    reg.publish(carol, "cpkg", "1.0.0", otp=recovery[0])
    replay = reg.request("PUT", "cpkg", carol, json={}, otp=recovery[0])
    assert _is_otp_challenge(replay)

    disable = {"tfa": {"mode": "disable", "password": carol.password}}
    assert _is_otp_challenge(reg.request("POST", "-/npm/v1/user", carol, json=disable))
    assert reg.request("POST", "-/npm/v1/user", carol, json=disable, otp=recovery[1]).json() == {
        "tfa": False
    }
    stage_id = reg.stage(carol, "cpkg", "1.1.0")
    assert reg.request("POST", f"-/stage/{stage_id}/approve", carol).status_code == 200
