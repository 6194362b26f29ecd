"""What a failed request becomes, in-process (``responses``): an HTTP answer the command
cannot use is a ``RegistryHTTPError`` with npm's code (E404, E409, EOTP, EAUTHIP, ...),
the status, method, URL and JSON body as fields, the registry's own reason in the
message, and a hint; a network failure is one npm code (ECONNREFUSED, ENOTFOUND,
ETIMEDOUT, ECONNRESET, ECERT) classified by exception type, not by message text. No
secret is in any of it."""

from __future__ import annotations

import socket
import ssl

import pytest
import requests
import responses
from helpers import TOKEN, make

from pystage.errors import PystageError, RegistryHTTPError

REGISTRY = "http://registry.test/"
ITEM = REGISTRY + "-/stage/x"


@pytest.fixture
def registry():
    with responses.RequestsMock() as mock:
        yield mock


def _error(tmp_path, method="GET", path="-/stage/x", npmrc=None, **kw) -> PystageError:
    extra = {} if npmrc is None else {"npmrc": npmrc}
    client = make(tmp_path, REGISTRY, **{"fetch-retries": 0, **extra})
    with pytest.raises(PystageError) as err:
        client.request(method, path, **kw)
    return err.value


@pytest.mark.parametrize(
    "status,code",
    [(400, "E400"), (403, "E403"), (404, "E404"), (409, "E409"), (422, "E422"), (500, "E500")],
)
def test_a_status_is_its_npm_code_with_the_request_and_the_body(tmp_path, registry, status, code):
    registry.delete(ITEM, status=status, json={"error": "the reason"})
    err = _error(tmp_path, "DELETE")
    assert isinstance(err, RegistryHTTPError)
    assert (err.code, err.status, err.method, err.url) == (code, status, "DELETE", ITEM)
    assert err.body == {"error": "the reason"}
    assert "the reason" in err.message and f"{status}" in err.message


@pytest.mark.parametrize("key", ["error", "message", "reason", "detail"])
def test_the_registrys_reason_is_read_from_the_usual_fields(tmp_path, registry, key):
    registry.get(ITEM, status=409, json={key: "version already staged"})
    assert "version already staged" in _error(tmp_path).message


def test_a_message_names_the_method_and_url_when_the_body_says_nothing(tmp_path, registry):
    registry.get(ITEM, status=404, json={})
    err = _error(tmp_path)
    assert err.message == f"404 Not Found - GET {ITEM}"


def test_an_html_error_page_is_shown_by_its_title(tmp_path, registry):
    page = (
        "<html><head><title>Down for maintenance</title><style>h1 {}</style></head>"
        "<body><h1>nginx</h1></body></html>"
    )
    registry.get(ITEM, status=502, body=page, content_type="text/html")
    err = _error(tmp_path)
    assert err.code == "E502" and err.message.endswith(" - Down for maintenance")
    assert "nginx" not in err.message and err.body is None


def test_an_error_page_without_charset_in_latin_1_is_read(tmp_path, registry):
    registry.get(ITEM, status=503, body="Service indisponible \xe0 cette heure".encode("latin-1"))
    err = _error(tmp_path)
    assert "indisponible à cette heure" in err.message


def test_a_binary_error_body_is_not_shown(tmp_path, registry):
    registry.get(
        ITEM, status=500, body=b"\x1f\x8b\x08\x00garbage", content_type="application/octet-stream"
    )
    err = _error(tmp_path)
    assert err.code == "E500" and "garbage" not in err.message and err.body is None


@pytest.mark.parametrize(
    "www,code,text",
    [
        ("Basic realm=npm", "E401", "unable to authenticate, need: Basic realm=npm"),
        ("ipaddress", "EAUTHIP", "not allowed from your IP address"),
        ("OTP", "EOTP", "OTP required"),
    ],
)
def test_a_401_is_read_by_its_www_authenticate(tmp_path, registry, www, code, text):
    registry.get(ITEM, status=401, headers={"www-authenticate": www}, json={})
    err = _error(tmp_path, otp_ok=False)
    assert err.code == code and text in err.message


def test_a_401_without_a_credential_hints_at_login(tmp_path, registry):
    registry.get(ITEM, status=401, json={"error": "unauthorized"})
    err = _error(tmp_path, npmrc="")
    assert err.code == "E401" and "pystage login --registry" in err.hint


def test_a_401_with_a_credential_says_it_was_refused(tmp_path, registry):
    registry.get(ITEM, status=401, json={"error": "unauthorized"})
    err = _error(tmp_path)
    assert err.code == "E401" and "refused" in err.hint


def test_a_404_without_a_credential_says_staged_versions_need_a_login(tmp_path, registry):
    registry.get(ITEM, status=404, json={})
    assert "logged in" in _error(tmp_path, npmrc="").hint
    registry.get(ITEM, status=404, json={})
    assert _error(tmp_path).hint is None


def test_invalid_json_in_a_success_is_ejsonparse(tmp_path, registry):
    registry.get(ITEM, body="<html>sign in</html>")
    client = make(tmp_path, REGISTRY)
    with pytest.raises(PystageError) as err:
        client.json("GET", "-/stage/x")
    assert err.value.code == "EJSONPARSE" and "200" in err.value.message


def test_an_answer_outside_expect_is_an_error_even_when_2xx(tmp_path, registry):
    registry.get(ITEM, status=202, json={})
    err = _error(tmp_path, expect=(200,))
    assert err.code == "E202"


def test_no_secret_is_in_an_error(tmp_path, registry):
    # a registry echoing the request back: token, password in the URL, the OTP
    echo = f"token {TOKEN} otp 135790"
    registry.get(ITEM, status=500, json={"error": echo})
    err = _error(tmp_path, headers={"npm-otp": "135790"})
    for text in (err.message, err.hint or "", str(err.url)):
        assert TOKEN not in text and "135790" not in text


def test_the_userinfo_of_a_registry_url_is_not_in_an_error(tmp_path, registry):
    url = "http://alice:s3cret-pass@registry.test/"
    registry.get("http://alice:s3cret-pass@registry.test/-/stage/x", status=404, json={})
    client = make(tmp_path, url, npmrc="", **{"fetch-retries": 0})
    with pytest.raises(RegistryHTTPError) as err:
        client.request("GET", "-/stage/x")
    assert "s3cret-pass" not in err.value.message and "s3cret-pass" not in err.value.url
    sent = registry.calls[0].request.headers["authorization"]
    assert sent.startswith("Basic ")  # sent as Basic auth, as Node does


@pytest.mark.parametrize(
    "failure,code,text",
    [
        (
            requests.ConnectionError(ConnectionRefusedError(111, "refused")),
            "ECONNREFUSED",
            "connect ECONNREFUSED registry.test",
        ),
        (
            requests.ConnectionError(socket.gaierror(-2, "Name or service not known")),
            "ENOTFOUND",
            "getaddrinfo ENOTFOUND registry.test",
        ),
        (requests.ConnectTimeout("connect timed out"), "ETIMEDOUT", "timed out"),
        (requests.ReadTimeout("read timed out"), "ETIMEDOUT", "timed out"),
        (requests.ConnectionError("Connection aborted."), "ECONNRESET", "socket hang up"),
        (
            requests.exceptions.SSLError(ssl.SSLCertVerificationError(1, "unable to get issuer")),
            "ECERT",
            "certificate verification failed",
        ),
    ],
    ids=["refused", "unknown-name", "connect-timeout", "read-timeout", "reset", "certificate"],
)
def test_a_network_failure_is_one_npm_code(tmp_path, registry, failure, code, text):
    registry.get(ITEM, body=failure)
    err = _error(tmp_path)
    assert not isinstance(err, RegistryHTTPError)
    assert err.code == code and text in err.message
    assert err.message.startswith(f"request to {ITEM} failed, reason: ")


def test_the_classification_does_not_depend_on_the_message_text(tmp_path, registry):
    # a reset whose text mentions a refusal and a timeout is still a reset
    registry.get(ITEM, body=requests.ConnectionError("refused; timed out; ENOTFOUND"))
    assert _error(tmp_path).code == "ECONNRESET"


def test_a_refused_proxy_tunnel_is_the_proxys_status(tmp_path, registry):
    tunnel = OSError("Tunnel connection failed: 407 Proxy Authentication Required")
    registry.get(ITEM, body=requests.exceptions.ProxyError(tunnel))
    err = _error(tmp_path)
    assert err.code == "E407" and "refused to open a tunnel to registry.test" in err.message
    assert "user:password@" in err.hint
