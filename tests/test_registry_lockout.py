"""Wrong one-time passwords lock the token they came with first, the account only later.

A stolen token used to guess codes locks itself after --otp-max-failures; the real
maintainer, with another token, still approves. Guessing through many credentials
locks the whole account after --otp-account-max-failures (the trade-off
docs/security.md describes). Over real HTTP.
"""

import time

import pyotp
from helpers import User, start_registry


def _wrong_code(secret):
    totp, now = pyotp.TOTP(secret), time.time()
    valid = {totp.at(now + skew * 30) for skew in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def _second_token(server, user):
    """Another token of ``user``, made before 2FA (saves one-time codes, which the
    server takes once per 30-second step)."""
    response = server.request("POST", "-/npm/v1/tokens", user, json={"password": user.password})
    response.raise_for_status()
    return User(user.name, user.password, response.json()["token"])


def _setup(server, tokens=1):
    alice = server.add_user("alice")
    server.publish(alice, "pkg", "1.0.0")
    others = [_second_token(server, alice) for _ in range(tokens)]
    alice = server.enrol_2fa(alice)
    # the first is what an attacker took from a CI machine
    others = [User(t.name, t.password, t.token, alice.totp_secret) for t in others]
    stage_id = server.stage(alice, "pkg", "1.1.0")
    return alice, others, stage_id


def test_a_stolen_token_locks_itself_not_the_maintainer(tmp_path):
    server = start_registry(tmp_path / "r")  # the defaults: 5 per token, 20 per account
    try:
        alice, (stolen,), stage_id = _setup(server)
        approve = f"-/stage/{stage_id}/approve"
        wrong = _wrong_code(alice.totp_secret)
        for _ in range(4):
            assert server.request("POST", approve, stolen, otp=wrong).status_code == 401
        locked = server.request("POST", approve, stolen, otp=wrong)
        assert locked.status_code == 429 and "token locked" in locked.json()["error"]
        assert 0 < int(locked.headers["retry-after"]) <= 300
        # even the right code is refused through the locked token ...
        right = server.request("POST", approve, stolen, otp=server.totp_code(alice))
        assert right.status_code == 429
        assert "1.1.0" not in server.request("GET", "pkg").json()["versions"]
        # ... while the maintainer's own token approves at once
        ok = server.request("POST", approve, alice, otp=server.totp_code(alice))
        assert ok.status_code == 200, ok.text
    finally:
        server.stop()


def test_guessing_through_many_credentials_locks_the_account(tmp_path):
    server = start_registry(
        tmp_path / "r",
        extra_args=("--otp-max-failures", "2", "--otp-account-max-failures", "3"),
    )
    try:
        alice, (stolen, other), stage_id = _setup(server, tokens=2)
        approve = f"-/stage/{stage_id}/approve"
        wrong = _wrong_code(alice.totp_secret)
        assert server.request("POST", approve, stolen, otp=wrong).status_code == 401
        assert server.request("POST", approve, other, otp=wrong).status_code == 401
        locked = server.request("POST", approve, stolen, otp=wrong)
        assert locked.status_code == 429 and "account locked" in locked.json()["error"]
        refused = server.request("POST", approve, alice, otp=server.totp_code(alice))
        assert refused.status_code == 429 and "account locked" in refused.json()["error"]
    finally:
        server.stop()


def test_a_right_code_resets_the_count(tmp_path):
    server = start_registry(tmp_path / "r", extra_args=("--otp-max-failures", "2"))
    try:
        alice, _, stage_id = _setup(server)
        second = server.stage(alice, "pkg", "1.2.0")
        wrong = _wrong_code(alice.totp_secret)
        path = f"-/stage/{stage_id}/approve"
        assert server.request("POST", path, alice, otp=wrong).status_code == 401
        assert server.request("POST", path, alice, otp=server.totp_code(alice)).status_code == 200
        path = f"-/stage/{second}/approve"
        assert server.request("POST", path, alice, otp=wrong).status_code == 401  # 1, not 2
        assert server.request("POST", path, alice, otp=server.totp_code(alice)).status_code == 200
    finally:
        server.stop()


def test_lockout_is_tunable_from_the_environment(tmp_path):
    server = start_registry(
        tmp_path / "r",
        env={"PYSTAGE_REGISTRY_OTP_MAX_FAILURES": "1", "PYSTAGE_REGISTRY_OTP_LOCKOUT": "7"},
    )
    try:
        alice, (stolen,), stage_id = _setup(server)
        path = f"-/stage/{stage_id}/approve"
        locked = server.request("POST", path, stolen, otp=_wrong_code(alice.totp_secret))
        assert locked.status_code == 429
        assert 0 < int(locked.headers["retry-after"]) <= 7
    finally:
        server.stop()


def test_basic_password_guessing_of_codes_locks_that_login_not_the_token(tmp_path):
    import base64

    server = start_registry(tmp_path / "r", extra_args=("--otp-max-failures", "2"))
    try:
        alice, _, _ = _setup(server)
        auth = "Basic " + base64.b64encode(b"alice:correct horse").decode()
        wrong = _wrong_code(alice.totp_secret)
        for status in (401, 429):
            response = server.request(
                "GET", "-/whoami", headers={"authorization": auth, "npm-otp": wrong}
            )
            assert response.status_code == status
        assert "login locked" in response.json()["error"]
        assert server.request("GET", "-/whoami", alice).status_code == 200
    finally:
        server.stop()
