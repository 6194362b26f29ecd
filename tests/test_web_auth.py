"""npm's web flows on the embedded registry (``registry serve --web-auth``), end to end.

The test plays the user's browser: it reads the URL the client shows (or that the
client hands to $BROWSER) and completes the registry's form with requests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest
import requests
from helpers import requires_npm, start_registry, wait_until_blocked

from pystage.otp import CI_VARS


@pytest.fixture(scope="module")
def web_registry(tmp_path_factory):
    server = start_registry(tmp_path_factory.mktemp("web") / "registry", extra_args=("--web-auth",))
    try:
        yield server
    finally:
        server.stop()


def clean_env(**extra) -> dict[str, str]:
    """No CI markers (they turn browsers and stored secrets off), no real keyring."""
    env = {k: v for k, v in os.environ.items() if k not in CI_VARS}
    env.update({"NO_COLOR": "1", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    env.update(extra)
    return env


def browser_login(url: str, name: str, password: str, otp: str | None = None):
    form = {"name": name, "password": password, **({"otp": otp} if otp else {})}
    return requests.post(url, data=form, timeout=10)


def browser_confirm(url: str, password: str, otp: str):
    return requests.post(url, data={"password": password, "otp": otp}, timeout=10)


def wait_for_file(path, timeout=10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} never written")


# -- the registry's side, over HTTP ---------------------------------------------------
def test_web_login_is_not_offered_without_the_option(registry_server):
    response = registry_server.request("POST", "-/v1/login", json={})
    assert response.status_code == 404
    assert registry_server.request("GET", "-/web/login/anything").status_code == 404


def test_web_login_session_over_http(web_registry):
    user = web_registry.add_user("wl-plain", "pw-plain-1")
    urls = web_registry.request("POST", "-/v1/login", json={}).json()
    login_url, done_url = urls["loginUrl"], urls["doneUrl"]
    assert login_url.startswith(web_registry.url) and done_url.startswith(web_registry.url)

    waiting = requests.get(done_url, timeout=10)
    assert waiting.status_code == 202 and waiting.headers["retry-after"] == "1"
    page = requests.get(login_url, timeout=10)
    assert page.status_code == 200 and "<form method='post'>" in page.text

    refused = browser_login(login_url, user.name, "wrong")
    assert refused.status_code == 401 and "Incorrect user name or password" in refused.text
    assert requests.get(done_url, timeout=10).status_code == 202

    assert browser_login(login_url, user.name, user.password).status_code == 200
    done = requests.get(done_url, timeout=10)
    assert done.status_code == 200
    token = done.json()["token"]
    whoami = requests.get(
        web_registry.url + "-/whoami", headers={"authorization": f"Bearer {token}"}, timeout=10
    )
    assert whoami.json() == {"username": "wl-plain"}
    # the token is handed out once; the page is gone too
    assert requests.get(done_url, timeout=10).status_code == 404
    assert browser_login(login_url, user.name, user.password).status_code == 404


def test_web_login_of_a_2fa_account_needs_its_code(web_registry):
    user = web_registry.add_user("wl-tfa", "pw-tfa-1", tfa=True)
    urls = web_registry.request("POST", "-/v1/login", json={}).json()
    refused = browser_login(urls["loginUrl"], user.name, user.password)
    assert refused.status_code == 401 and "one-time password" in refused.text
    accepted = browser_login(
        urls["loginUrl"], user.name, user.password, web_registry.totp_code(user)
    )
    assert accepted.status_code == 200
    assert requests.get(urls["doneUrl"], timeout=10).json()["token"].startswith("pystage_")


def test_otp_challenge_carries_a_web_flow_whose_code_works_once(web_registry):
    user = web_registry.add_user("wo-http", "pw-wo-1", tfa=True)
    web_registry.publish(user, "wo-http-pkg", "1.0.0")
    first = web_registry.stage(user, "wo-http-pkg", "1.1.0")
    second = web_registry.stage(user, "wo-http-pkg", "1.2.0")

    challenge = web_registry.request("POST", f"-/stage/{first}/approve", user)
    assert challenge.status_code == 401
    assert challenge.headers["www-authenticate"] == "OTP"
    body = challenge.json()
    auth_url, done_url = body["authUrl"], body["doneUrl"]
    assert requests.get(done_url, timeout=10).status_code == 202
    page = requests.get(auth_url, timeout=10)
    assert "wo-http" in page.text and "<form method='post'>" in page.text

    # (each fresh TOTP code is one of only three the registry accepts at a time: spend few)
    assert browser_confirm(auth_url, "wrong", "123456").status_code == 401
    assert browser_confirm(auth_url, user.password, "000000").status_code == 401
    assert browser_confirm(auth_url, user.password, web_registry.totp_code(user)).status_code == 200
    code = requests.get(done_url, timeout=10).json()["token"]
    assert requests.get(done_url, timeout=10).status_code == 404

    # the code is this user's: another user cannot spend it
    other = web_registry.add_user("wo-other", "pw-other-1", tfa=True)
    web_registry.publish(other, "wo-other-pkg", "1.0.0")
    theirs = web_registry.stage(other, "wo-other-pkg", "1.1.0")
    stolen = web_registry.request("POST", f"-/stage/{theirs}/approve", other, otp=code)
    assert stolen.status_code == 401
    # ... it works once for its owner, then never again
    assert web_registry.request("POST", f"-/stage/{first}/approve", user, otp=code).ok
    reused = web_registry.request("DELETE", f"-/stage/{second}", user, otp=code)
    assert reused.status_code == 401 and "authUrl" not in reused.json()


def test_otp_challenge_without_the_option_has_no_web_flow(registry_server):
    user = registry_server.add_user("plain", tfa=True)
    registry_server.publish(user, "plain-pkg", "1.0.0")
    stage_id = registry_server.stage(user, "plain-pkg", "1.1.0")
    challenge = registry_server.request("POST", f"-/stage/{stage_id}/approve", user)
    assert challenge.status_code == 401
    assert set(challenge.json()) == {"error"}


# -- pystage as the client ------------------------------------------------------------
def test_pystage_login_through_the_browser(web_registry, tmp_path):
    user = web_registry.add_user("py-web", "pw-py-web-1")
    opened = tmp_path / "opened-url"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf %s "$1" > {opened}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    npmrc = tmp_path / "npmrc"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pystage",
            "login",
            "--auth-type",
            "web",
            "--save-to-npmrc",
            "--registry",
            web_registry.url,
            "--userconfig",
            str(npmrc),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(BROWSER=str(browser)),
    )
    try:
        login_url = wait_for_file(opened)
        assert "/-/web/login/" in login_url
        assert browser_login(login_url, user.name, user.password).status_code == 200
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert f"Login at:\n{login_url}" in err
    assert "py-web" in out + err
    netloc = urlparse(web_registry.url).netloc
    token = re.search(rf"^//{re.escape(netloc)}/:_authToken=(\S+)$", npmrc.read_text(), re.M)
    assert token, npmrc.read_text()
    whoami = requests.get(
        web_registry.url + "-/whoami",
        headers={"authorization": f"Bearer {token.group(1)}"},
        timeout=10,
    )
    assert whoami.json() == {"username": "py-web"}


def _spawn(pexpect, program, args, env, cwd):
    return pexpect.spawn(program, args, env=env, cwd=str(cwd), encoding="utf-8", timeout=15)


def test_pystage_approve_at_a_terminal_through_the_web_otp_flow(web_registry, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    user = web_registry.add_user("py-otp", "pw-py-otp-1", tfa=True)
    web_registry.publish(user, "py-otp-pkg", "1.0.0")
    stage_id = web_registry.stage(user, "py-otp-pkg", "1.1.0")
    npmrc = web_registry.write_npmrc(tmp_path / "npmrc", user)
    child = _spawn(
        pexpect,
        sys.executable,
        [
            "-m",
            "pystage",
            "approve",
            stage_id,
            "--registry",
            web_registry.url,
            "--userconfig",
            str(npmrc),
        ],
        clean_env(npm_config_browser="false"),
        tmp_path,
    )
    child.expect(r"Approve and publish \S+\? \[y/N\] ")  # at a terminal approve asks first
    child.sendline("y")
    child.expect(r"Authenticate your account at:\r?\n(http://\S+/-/web/otp/[\w-]+)")
    auth_url = child.match.group(1)
    assert browser_confirm(auth_url, user.password, web_registry.totp_code(user)).status_code == 200
    child.expect("approved and published successfully")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert web_registry.request("GET", "py-otp-pkg").json()["dist-tags"]["latest"] == "1.1.0"


# -- the real npm as the client -------------------------------------------------------
@pytest.fixture
def npm_web_env(tmp_path):
    userconfig = tmp_path / "npm-userconfig"
    userconfig.write_text("")
    cache = tmp_path / "npm-cache"
    return userconfig, clean_env(
        npm_config_userconfig=str(userconfig),
        npm_config_cache=str(cache),
        npm_config_update_notifier="false",
        npm_config_audit="false",
        npm_config_fund="false",
        npm_config_browser="false",
    )


@requires_npm((11,))
def test_npm_login_auth_type_web(web_registry, npm_web_env, tmp_path):
    userconfig, env = npm_web_env
    user = web_registry.add_user("npm-web", "pw-npm-web-1")
    proc = subprocess.Popen(
        [shutil.which("npm"), "login", "--auth-type=web", "--registry", web_registry.url],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout.readline().strip() == "Login at:"
        login_url = proc.stdout.readline().strip()
        assert "/-/web/login/" in login_url
        assert browser_login(login_url, user.name, user.password).status_code == 200
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert f"Logged in on {web_registry.url}" in out
    netloc = urlparse(web_registry.url).netloc
    assert re.search(rf"^//{re.escape(netloc)}/:_authToken=pystage_", userconfig.read_text(), re.M)
    whoami = subprocess.run(
        [shutil.which("npm"), "whoami", "--registry", web_registry.url],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )
    assert whoami.stdout.strip() == "npm-web", whoami.stderr


@requires_npm((11,))
def test_npm_stage_approve_through_the_web_otp_flow(web_registry, npm_web_env, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    userconfig, env = npm_web_env
    user = web_registry.add_user("npm-otp", "pw-npm-otp-1", tfa=True)
    web_registry.publish(user, "npm-otp-pkg", "1.0.0")
    stage_id = web_registry.stage(user, "npm-otp-pkg", "1.1.0")
    web_registry.write_npmrc(userconfig, user)
    child = _spawn(
        pexpect,
        shutil.which("npm"),
        ["stage", "approve", stage_id, "--registry", web_registry.url],
        env,
        tmp_path,
    )
    child.expect(r"Authenticate your account at:\r?\n(http://\S+/-/web/otp/[\w-]+)")
    auth_url = child.match.group(1)
    assert browser_confirm(auth_url, user.password, web_registry.totp_code(user)).status_code == 200
    child.expect(f"Staged package {stage_id} approved and published successfully")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    packument = web_registry.request("GET", "npm-otp-pkg").json()
    assert packument["dist-tags"]["latest"] == "1.1.0"
    assert json.dumps(packument).count("1.1.0") >= 1


def test_quiet_web_login_still_shows_the_url_to_authenticate_at(web_registry, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "pystage", "login", "-q", "--save-to-npmrc", "--registry", web_registry.url]
        + ["--userconfig", str(tmp_path / "npmrc")],
        # no browser may open during the test; CI=... would also change the flow
        env={**clean_env(), "BROWSER": "true"},
        encoding="utf-8",
        timeout=30,
    )
    child.expect(["Login at:", pexpect.EOF, pexpect.TIMEOUT])
    shown = child.after
    if shown == "Login at:":
        wait_until_blocked(child.pid)  # polling the registry, not printing
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert shown == "Login at:"
    assert web_registry.url in child.before
    assert child.exitstatus == 130
