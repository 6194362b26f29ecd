"""One-time passwords: stored TOTP secrets (opt-in), CI refusal, `pystage otp set|remove`."""

from __future__ import annotations

import pyotp
import pytest

from pystage.credentials import OTP_KEYRING_SERVICE
from pystage.errors import PystageError
from pystage.otp import OtpHandler, is_ci, parse_secret

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
REG = "http://127.0.0.1:4873/"


def test_parse_secret_accepts_base32_and_otpauth_uris():
    assert parse_secret(" jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp\n") == SECRET
    assert parse_secret(f"otpauth://totp/npm:alice?secret={SECRET}&issuer=npm") == SECRET
    for bad in ("", "not base32 !!", "JBSWY3DP", f"otpauth://hotp/x?secret={SECRET}&counter=1"):
        with pytest.raises(PystageError) as err:
            parse_secret(bad)
        assert err.value.code == "EUSAGE"


def test_ci_detection():
    assert is_ci({"CI": "true"}) and is_ci({"GITHUB_ACTIONS": "true"}) and is_ci({"GITLAB_CI": "1"})
    assert not is_ci({}) and not is_ci({"CI": "false"})


def test_stored_secret_answers_the_challenge(memory_keyring):
    memory_keyring.set_password(OTP_KEYRING_SERVICE, "//127.0.0.1:4873/", SECRET)
    now = [1_800_000_000.0]
    handler = OtpHandler(
        registry=REG,
        interactive=False,
        env={},
        wall=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
        notify=lambda m: None,
    )
    code = handler.challenge({}, poll=None)
    assert code == pyotp.TOTP(SECRET).at(1_800_000_000)
    assert handler.last_source == "totp"
    # a refused TOTP code was most likely used already: the next step's code, once
    assert handler.retry_after_refusal("invalid") == pyotp.TOTP(SECRET).at(1_800_000_030)
    assert handler.retry_after_refusal("invalid") is None


def test_stored_secret_is_ignored_in_ci(memory_keyring):
    memory_keyring.set_password(OTP_KEYRING_SERVICE, "//127.0.0.1:4873/", SECRET)
    handler = OtpHandler(registry=REG, interactive=False, env={"CI": "true"})
    with pytest.raises(PystageError) as err:
        handler.challenge({}, poll=None)
    assert err.value.code == "EOTP"


def test_no_keyring_backend_means_no_stored_code(no_keyring):
    with pytest.raises(PystageError) as err:
        OtpHandler(registry=REG, interactive=False, env={}).challenge({}, poll=None)
    assert err.value.code == "EOTP" and "--otp" in err.value.hint


def test_otp_set_and_remove_cli(run_pystage, file_keyring_env, tmp_path):
    env = {**file_keyring_env.env, "CI": "", "GITHUB_ACTIONS": "", "GITLAB_CI": "", "CIRCLECI": ""}
    r = run_pystage(
        "otp", "set", "--registry", REG, input=f"otpauth://totp/x?secret={SECRET}\n", env=env
    )
    assert r.returncode == 0, r.stderr
    assert "warning" in r.stderr and "2FA" in r.stderr
    assert SECRET not in r.stdout + r.stderr
    assert file_keyring_env.contents() == {f"{OTP_KEYRING_SERVICE}|//127.0.0.1:4873/": SECRET}
    r = run_pystage("otp", "remove", "--registry", REG, "--json", env=env)
    assert r.returncode == 0 and '"removed": true' in r.stdout
    assert file_keyring_env.contents() == {}


def test_otp_set_refused_in_ci(run_pystage, file_keyring_env):
    r = run_pystage(
        "otp",
        "set",
        "--registry",
        REG,
        input=SECRET + "\n",
        env={**file_keyring_env.env, "CI": "true"},
    )
    assert r.returncode != 0
    assert "pystage error ECI" in r.stderr
    assert file_keyring_env.contents() == {}


def test_otp_set_without_keyring_backend(run_pystage, no_keyring_env):
    r = run_pystage(
        "otp",
        "set",
        "--registry",
        REG,
        input=SECRET + "\n",
        env={**no_keyring_env, "CI": "", "GITHUB_ACTIONS": ""},
    )
    assert r.returncode != 0
    assert "pystage error ENOKEYRING" in r.stderr
    assert len([ln for ln in r.stderr.splitlines() if ln.startswith("pystage error")]) == 1


def test_otp_set_rejects_garbage(run_pystage, file_keyring_env):
    r = run_pystage(
        "otp",
        "set",
        "--registry",
        REG,
        input="definitely not!\n",
        env={**file_keyring_env.env, "CI": ""},
    )
    assert r.returncode == 2 and "EUSAGE" in r.stderr
    assert "Traceback" not in r.stderr
