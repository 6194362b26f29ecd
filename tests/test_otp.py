"""One-time passwords: stored TOTP secrets (opt-in), CI refusal, `pystage otp set|remove`."""

from __future__ import annotations

import pyotp
import pytest
import responses
from helpers import STAGE_ID

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


@responses.activate
def test_stored_totp_code_refused_as_already_used_waits_for_the_next_one(memory_keyring, tmp_path):
    # Approving two staged versions within 30 s with `pystage otp set` failed the second:
    # the same code again is a replay, which registries refuse.
    from pystage.config import load_config
    from pystage.context import client_from_config

    registry = "http://registry.test/"
    secret = pyotp.random_base32()
    wall = [1_800_000_010.0]  # 10 s into a 30-second step
    used_now, fresh = pyotp.TOTP(secret).at(wall[0]), pyotp.TOTP(secret).at(wall[0] + 30)

    def approve(request):
        if request.headers.get("npm-otp") == fresh:
            return 200, {}, '{"ok": true}'
        refusal = '{"error": "invalid or already used one-time password"}'
        return 401, {"www-authenticate": "OTP"}, refusal

    responses.add_callback(
        "POST", f"{registry}-/stage/{STAGE_ID}/approve", approve, content_type="application/json"
    )
    memory_keyring.set_password(OTP_KEYRING_SERVICE, "//registry.test/", secret)
    config = load_config(
        cwd=tmp_path,
        env={"HOME": str(tmp_path)},
        cli={"registry": registry, "userconfig": str(tmp_path / "npmrc")},
    )
    slept, notices = [], []

    def sleep(seconds):
        slept.append(seconds)
        wall[0] += seconds

    handler = OtpHandler(
        registry=registry,
        interactive=False,
        env={},
        sleep=sleep,
        notify=notices.append,
        wall=lambda: wall[0],
    )
    client = client_from_config(config, otp_handler=handler, use_keyring=False)
    assert client.json("POST", f"-/stage/{STAGE_ID}/approve") == {"ok": True}
    sent = [call.request.headers.get("npm-otp") for call in responses.calls]
    assert sent == [None, used_now, fresh]
    assert 20 <= sum(slept) <= 21
    assert any("next" in n for n in notices)
    assert not any(used_now in n or fresh in n or secret in n for n in notices)


def test_empty_answer_at_the_otp_prompt_says_so_without_a_misleading_hint():
    from pystage.errors import PystageError
    from pystage.otp import OtpHandler

    handler = OtpHandler(
        registry="http://127.0.0.1:1/",
        interactive=True,
        env={},
        prompt=lambda _question: "   ",
        use_stored_secret=False,
    )
    with pytest.raises(PystageError) as info:
        handler.challenge({}, poll=None)
    assert info.value.code == "EOTP"
    assert "no one-time password entered" in info.value.message
    assert "at a terminal" not in (info.value.hint or "")


def test_ctrl_d_at_the_otp_prompt_is_no_code_entered(capsys, monkeypatch):
    import io
    import sys

    from pystage.cli.options import GlobalOptions
    from pystage.errors import PystageError
    from pystage.otp import OtpHandler

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # Ctrl-D: end of input
    handler = OtpHandler(
        registry="http://127.0.0.1:1/",
        interactive=True,
        env={},
        prompt=GlobalOptions().ui.prompt,  # the terminal's prompt, as cli/ injects it
        use_stored_secret=False,
    )
    with pytest.raises(PystageError) as info:
        handler.challenge({}, poll=None)
    assert info.value.code == "EOTP"
    assert info.value.message == "no one-time password entered"
    # the error starts on its own line, after the (visible) prompt
    assert capsys.readouterr().err.endswith("Enter OTP: \n")
