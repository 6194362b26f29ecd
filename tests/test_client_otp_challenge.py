"""OTP challenges, in-process (``responses``): how the client recognises one (401 with
``www-authenticate: otp``, or a body that asks for a one-time password), when it asks
its OTP provider and what it sends then, and that without a provider a challenge is
EOTP at once. The provider is the real ``OtpHandler`` with its prompt, browser opener
and notices injected, as ``cli/`` injects them."""

from __future__ import annotations

import pytest
import responses
from helpers import TOKEN, token_line

from pystage.config import load_config
from pystage.context import client_from_config, client_settings
from pystage.credentials.lookup import CredentialResolver
from pystage.errors import PystageError, RegistryHTTPError
from pystage.http import RegistryClient
from pystage.otp import OtpHandler

REGISTRY = "http://registry.test/"
APPROVE = REGISTRY + "-/stage/x/approve"
CHALLENGE = {
    "status": 401,
    "headers": {"www-authenticate": "OTP"},
    "json": {"error": "You must provide a one-time pass."},
}


@pytest.fixture
def registry():
    with responses.RequestsMock() as mock:
        yield mock


class Terminal:
    """What cli/ injects: a prompt answering from a list, notices and opened URLs kept."""

    def __init__(self, *codes: str) -> None:
        self.codes = list(codes)
        self.prompts: list[str] = []
        self.notices: list[str] = []
        self.opened: list[str] = []

    def prompt(self, text: str) -> str:
        self.prompts.append(text)
        return self.codes.pop(0)


def _config(tmp_path):
    rc = tmp_path / "npmrc"
    rc.write_text(token_line(REGISTRY))
    return load_config(
        cwd=tmp_path,
        env={"HOME": str(tmp_path)},
        cli={"registry": REGISTRY, "userconfig": str(rc), "globalconfig": str(tmp_path / "g")},
    )


def _client(tmp_path, terminal=None, otp=None, log=None, notice=None):
    handler = OtpHandler(
        registry=REGISTRY,
        given=otp,
        interactive=terminal is not None,
        env={},
        prompt=terminal.prompt if terminal else None,
        notify=terminal.notices.append if terminal else None,
        opener=terminal.opened.append if terminal else None,
        use_stored_secret=False,  # never the keyring of the machine running the tests
        sleep=lambda s: None,
    )
    client = client_from_config(
        _config(tmp_path), otp=otp, otp_handler=handler, log=log, notice=notice, use_keyring=False
    )
    client.sleep = lambda s: None
    return client


def _otps(registry):
    return [c.request.headers.get("npm-otp") for c in registry.calls]


def test_a_challenge_asks_the_provider_and_sends_its_code(tmp_path, registry):
    registry.post(APPROVE, **CHALLENGE)
    registry.post(APPROVE, json={"ok": True})
    terminal = Terminal("123 456")
    assert _client(tmp_path, terminal).json("POST", "-/stage/x/approve") == {"ok": True}
    assert len(terminal.prompts) == 1
    assert _otps(registry) == [None, "123456"]  # spaces a user typed are dropped
    # the same request again: same body, same credential
    first, second = (c.request for c in registry.calls)
    assert second.body == first.body and second.headers["authorization"] == f"Bearer {TOKEN}"


def test_a_challenge_is_recognised_by_its_body_alone(tmp_path, registry):
    registry.post(
        APPROVE, status=401, json={"error": "This operation requires a one-time password"}
    )
    registry.post(APPROVE, json={"ok": True})
    terminal = Terminal("123456")
    _client(tmp_path, terminal).request("POST", "-/stage/x/approve")
    assert _otps(registry) == [None, "123456"]


def test_a_plain_401_is_not_a_challenge(tmp_path, registry):
    registry.post(APPROVE, status=401, headers={"www-authenticate": "Bearer"}, json={})
    terminal = Terminal("123456")
    with pytest.raises(RegistryHTTPError) as err:
        _client(tmp_path, terminal).request("POST", "-/stage/x/approve")
    assert err.value.code == "E401" and terminal.prompts == []
    assert len(registry.calls) == 1


def test_without_a_provider_a_challenge_is_eotp_and_nothing_is_repeated(tmp_path, registry):
    registry.post(APPROVE, **CHALLENGE)
    config = _config(tmp_path)
    client = RegistryClient(
        client_settings(config, REGISTRY),
        CredentialResolver(config, REGISTRY, use_keyring=False),
        otp=None,
    )
    with pytest.raises(RegistryHTTPError) as err:
        client.request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP" and err.value.status == 401
    assert "--otp" in err.value.hint
    assert len(registry.calls) == 1


def test_a_provider_that_cannot_ask_makes_it_eotp(tmp_path, registry):
    # not at a terminal, no --otp, no stored secret
    registry.post(APPROVE, **CHALLENGE)
    with pytest.raises(PystageError) as err:
        _client(tmp_path).request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP" and "--otp" in err.value.hint
    assert len(registry.calls) == 1


def test_a_given_code_goes_with_the_first_request(tmp_path, registry):
    registry.post(APPROVE, json={"ok": True})
    _client(tmp_path, otp="654321").request("POST", "-/stage/x/approve")
    assert _otps(registry) == ["654321"]


def test_a_refused_given_code_is_eotp_with_the_registrys_reason(tmp_path, registry):
    registry.post(
        APPROVE, status=401, headers={"www-authenticate": "otp"}, json={"error": "code expired"}
    )
    with pytest.raises(RegistryHTTPError) as err:
        _client(tmp_path, otp="654321").request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP" and "code expired" in err.value.message
    assert len(registry.calls) == 1


def test_a_refused_code_is_asked_for_once_more_then_eotp(tmp_path, registry):
    for _ in range(3):
        registry.post(
            APPROVE,
            status=401,
            headers={"www-authenticate": "OTP"},
            json={"error": "invalid otp 111111"},
        )
    terminal = Terminal("111111", "222222", "333333")
    with pytest.raises(RegistryHTTPError) as err:
        _client(tmp_path, terminal).request("POST", "-/stage/x/approve")
    assert err.value.code == "EOTP" and "refused" in err.value.message
    assert "111111" not in err.value.message  # echoed by the registry, masked by the client
    assert _otps(registry) == [None, "111111", "222222"]
    assert len(terminal.prompts) == 2
    assert any("refused" in n for n in terminal.notices)


def test_a_request_that_must_not_ask_treats_the_challenge_as_its_answer(tmp_path, registry):
    registry.get(REGISTRY + "-/stage", **CHALLENGE)
    terminal = Terminal("123456")
    with pytest.raises(RegistryHTTPError) as err:
        _client(tmp_path, terminal).request("GET", "-/stage", otp_ok=False)
    assert err.value.code == "EOTP" and terminal.prompts == []


def test_a_body_that_cannot_be_sent_again_is_not_answered_with_a_code(tmp_path, registry):
    class OneShot:
        def __init__(self):
            self.chunks = [b"{}"]

        def read(self, n=-1):
            return self.chunks.pop() if self.chunks else b""

    registry.put(APPROVE, **CHALLENGE)
    terminal = Terminal("123456")
    with pytest.raises(PystageError) as err:
        _client(tmp_path, terminal).request(
            "PUT", "-/stage/x/approve", data=OneShot(), headers={"content-length": "2"}
        )
    assert err.value.code == "EOTP" and "cannot be repeated" in err.value.message
    assert terminal.prompts == [] and len(registry.calls) == 1


def test_the_web_flow_opens_the_auth_url_and_sends_the_token_it_polled_for(tmp_path, registry):
    registry.post(
        APPROVE,
        status=401,
        headers={"www-authenticate": "OTP"},
        json={"authUrl": REGISTRY + "-/web/otp/s1", "doneUrl": REGISTRY + "-/web/otp/s1/done"},
    )
    registry.get(REGISTRY + "-/web/otp/s1/done", status=202, headers={"retry-after": "0"})
    registry.get(REGISTRY + "-/web/otp/s1/done", json={"token": "web-otp-777"})
    registry.post(APPROVE, json={"ok": True})
    terminal = Terminal()
    _client(tmp_path, terminal).request("POST", "-/stage/x/approve")
    assert terminal.opened == [REGISTRY + "-/web/otp/s1"] and terminal.prompts == []
    assert any(REGISTRY + "-/web/otp/s1" in n for n in terminal.notices)
    assert _otps(registry) == [None, None, None, "web-otp-777"]


def test_the_registrys_npm_notice_is_passed_on_and_the_code_never_logged(tmp_path, registry):
    registry.post(
        APPROVE,
        status=401,
        headers={"www-authenticate": "OTP", "npm-notice": "Check your authenticator app"},
        json={},
    )
    registry.post(APPROVE, json={"ok": True})
    notices: list[str] = []
    lines: list[str] = []
    terminal = Terminal("246810")
    client = _client(tmp_path, terminal, log=lines.append, notice=notices.append)
    client.request("POST", "-/stage/x/approve")
    assert notices == ["Check your authenticator app"]
    assert lines and not any("246810" in line or TOKEN in line for line in lines)
