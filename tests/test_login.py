"""login / whoami / logout end to end: the real `pystage` in a subprocess against real HTTP servers.

``couch_registry`` is a small scripted server speaking the account endpoints
(couch login, whoami, token revocation, OTP challenge); the tests against the
embedded registry (``registry_server``) run the same flows on the real server.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import pytest
from helpers import (
    assert_clean_failure,
    requires_npm,
)

USER, PASSWORD, TOKEN, OTP = "alice", "correct horse", "tok_" + "x" * 32, "424242"


@pytest.fixture
def couch_registry(recording_server):
    server = recording_server()
    state = {"tokens": set(), "tfa": False}

    def put_user(req):
        body = json.loads(req["body"])
        if body.get("name") != USER or body.get("password") != PASSWORD:
            return 401, {}, {"error": "incorrect username or password"}
        if state["tfa"] and req["headers"].get("npm-otp") != OTP:
            return 401, {"www-authenticate": "OTP"}, {"error": "OTP required"}
        state["tokens"].add(TOKEN)
        return 201, {}, {"ok": True, "token": TOKEN}

    def whoami(req):
        auth = req["headers"].get("authorization", "")
        if auth.removeprefix("Bearer ") in state["tokens"]:
            return 200, {}, {"username": USER}
        return 401, {}, {"error": "unauthorized"}

    def revoke(req):
        state["tokens"].discard(TOKEN)
        return 200, {}, {"ok": True}

    server.script[("PUT", f"/-/user/org.couchdb.user:{USER}")] = put_user
    server.script[("GET", "/-/whoami")] = whoami
    server.script[("DELETE", f"/-/user/token/{TOKEN}")] = revoke
    server.state = state
    return server


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return h


def isolated(home, extra=None):
    return {
        "HOME": str(home),
        "npm_config_userconfig": str(home / ".npmrc"),
        "npm_config_globalconfig": str(home / "globalrc"),
        "CI": "",
        "GITHUB_ACTIONS": "",
        "PYSTAGE_TOKEN": "",
        **(extra or {}),
    }


def test_login_whoami_logout_with_keyring(run_pystage, couch_registry, file_keyring_env, home):
    env = isolated(home, file_keyring_env.env)
    reg = couch_registry.url
    r = run_pystage(
        "login",
        "--registry",
        reg,
        "--username",
        USER,
        "--password-stdin",
        input=PASSWORD + "\n",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert f"Logged in as {USER} on {reg}" in r.stdout
    assert PASSWORD not in r.stdout + r.stderr and TOKEN not in r.stdout + r.stderr
    key = reg.replace("http:", "")
    assert file_keyring_env.contents() == {f"pystage|{key}": TOKEN}
    assert not (home / ".npmrc").exists()

    r = run_pystage("whoami", "--registry", reg, env=env)
    assert (r.returncode, r.stdout) == (0, f"{USER}\n"), r.stderr
    r = run_pystage("whoami", "--registry", reg, "--json", env=env)
    assert json.loads(r.stdout) == USER

    r = run_pystage("logout", "--registry", reg, env=env)
    assert r.returncode == 0, r.stderr
    assert couch_registry.state["tokens"] == set()  # revoked on the registry
    assert file_keyring_env.contents() == {}
    r = run_pystage("whoami", "--registry", reg, env=env)
    assert r.returncode == 3 and "ENEEDAUTH" in r.stderr
    r = run_pystage("logout", "--registry", reg, env=env)
    assert r.returncode == 3 and "not logged in" in r.stderr


def test_login_save_to_npmrc_is_0600_and_npm_reads_it(
    run_pystage, couch_registry, home, no_keyring_env
):
    env = isolated(home, no_keyring_env)
    reg = couch_registry.url
    r = run_pystage(
        "login",
        "--registry",
        reg,
        "-u",
        USER,
        "--password-stdin",
        "--save-to-npmrc",
        input=PASSWORD + "\n",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    rc = home / ".npmrc"
    assert rc.read_text() == f"{reg.replace('http:', '')}:_authToken={TOKEN}\n"
    assert stat.S_IMODE(os.stat(rc).st_mode) == 0o600
    if shutil.which("npm"):
        out = subprocess.run(
            ["npm", "whoami", "--registry", reg],
            env={**os.environ, **env, "npm_config_update_notifier": "false"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.stdout.strip() == USER, out.stderr
    r = run_pystage("logout", "--registry", reg, env=env)
    assert r.returncode == 0, r.stderr
    assert TOKEN not in rc.read_text()


def test_login_without_keyring_backend_says_so_and_sends_nothing(
    run_pystage, couch_registry, home, no_keyring_env
):
    r = run_pystage(
        "login",
        "--registry",
        couch_registry.url,
        "-u",
        USER,
        "--password-stdin",
        input=PASSWORD + "\n",
        env=isolated(home, no_keyring_env),
    )
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("pystage error ENOKEYRING: no OS keyring backend")
    assert "--save-to-npmrc" in lines[1]
    assert couch_registry.requests == []
    assert not (home / ".npmrc").exists()


def test_bad_password_is_e401_with_registry_text(
    run_pystage, couch_registry, home, file_keyring_env
):
    r = run_pystage(
        "login",
        "--registry",
        couch_registry.url,
        "-u",
        USER,
        "--password-stdin",
        input="wrong password\n",
        env=isolated(home, file_keyring_env.env),
    )
    assert r.returncode == 3
    assert "E401" in r.stderr and "incorrect username or password" in r.stderr
    assert "wrong password" not in r.stderr
    assert file_keyring_env.contents() == {}


def test_login_otp_without_terminal_is_eotp(run_pystage, couch_registry, home, file_keyring_env):
    couch_registry.state["tfa"] = True
    r = run_pystage(
        "login",
        "--registry",
        couch_registry.url,
        "-u",
        USER,
        "--password-stdin",
        input=PASSWORD + "\n",
        env=isolated(home, file_keyring_env.env),
    )
    assert r.returncode == 3 and "EOTP" in r.stderr and "--otp" in r.stderr
    r = run_pystage(
        "login",
        "--registry",
        couch_registry.url,
        "-u",
        USER,
        "--password-stdin",
        "--otp",
        OTP,
        input=PASSWORD + "\n",
        env=isolated(home, file_keyring_env.env),
    )
    assert r.returncode == 0, r.stderr


def test_login_prompts_for_user_password_and_otp_at_a_terminal(
    couch_registry, home, file_keyring_env
):
    pexpect = pytest.importorskip("pexpect")
    couch_registry.state["tfa"] = True
    env = {**os.environ, **isolated(home, file_keyring_env.env), "NO_COLOR": "1"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "pystage", "login", "--registry", couch_registry.url, "--auth-type", "legacy"],
        env=env,
        encoding="utf-8",
        timeout=30,
    )
    child.expect("Username")
    child.sendline(USER)
    child.expect("Password: ")
    child.sendline(PASSWORD)
    child.expect("Enter OTP: ")
    child.sendline("000000")  # wrong: the registry refuses, we are asked once more
    child.expect("refused")
    child.expect("Enter OTP: ")
    child.sendline(OTP)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert f"Logged in as {USER}" in child.before
    # the password prompt hides what is typed; the OTP prompt echoes it, as npm's does
    assert PASSWORD not in child.before and OTP in child.before
    assert [r["headers"].get("npm-otp") for r in couch_registry.requests] == [None, "000000", OTP]


@requires_npm((11,))
def test_whoami_matches_npm_for_an_env_expanded_token(run_pystage, couch_registry, home):
    """`//host/:_authToken=${NODE_AUTH_TOKEN}` as in GitHub Actions: both clients agree."""
    couch_registry.state["tokens"].add(TOKEN)
    reg = couch_registry.url
    (home / ".npmrc").write_text(f"{reg.replace('http:', '')}:_authToken=${{NODE_AUTH_TOKEN}}\n")
    env = isolated(
        home, {"NODE_AUTH_TOKEN": TOKEN, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    )
    ours = run_pystage("whoami", "--registry", reg, env=env)
    npm = subprocess.run(
        ["npm", "whoami", "--registry", reg],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "npm_config_update_notifier": "false"},
        timeout=60,
    )
    assert ours.stdout == npm.stdout == f"{USER}\n", ours.stderr + npm.stderr


# -- against the embedded registry ------------------------------------------------


@pytest.fixture
def embedded(registry_server):
    return registry_server


def test_embedded_login_whoami_logout(run_pystage, embedded, home, file_keyring_env):
    user = embedded.add_user("bob", "bob-password-1", tfa=False)
    env = isolated(home, file_keyring_env.env)
    r = run_pystage(
        "login",
        "--registry",
        embedded.url,
        "-u",
        user.name,
        "--password-stdin",
        input=user.password + "\n",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    r = run_pystage("whoami", "--registry", embedded.url, env=env)
    assert r.stdout == f"{user.name}\n", r.stderr
    r = run_pystage("logout", "--registry", embedded.url, env=env)
    assert r.returncode == 0, r.stderr
    assert file_keyring_env.contents() == {}


def test_embedded_otp_prompt_at_a_terminal(embedded, home, file_keyring_env):
    pexpect = pytest.importorskip("pexpect")
    user = embedded.add_user("carol", "carol-password-1", tfa=True)
    env = {**os.environ, **isolated(home, file_keyring_env.env), "NO_COLOR": "1"}
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "pystage",
            "login",
            "--registry",
            embedded.url,
            "--auth-type",
            "legacy",
            "-u",
            user.name,
        ],
        env=env,
        encoding="utf-8",
        timeout=30,
    )
    child.expect("Password: ")
    child.sendline(user.password)
    child.expect("Enter OTP: ")
    child.sendline(embedded.totp_code(user))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before


def test_verbose_logs_requests_without_secrets(run_pystage, couch_registry, home):
    couch_registry.state["tokens"].add(TOKEN)
    reg = couch_registry.url
    (home / ".npmrc").write_text(f"{reg.replace('http:', '')}:_authToken={TOKEN}\n")
    r = run_pystage(
        "whoami",
        "--registry",
        reg,
        "-v",
        env=isolated(home, {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}),
    )
    assert r.returncode == 0, r.stderr
    assert f"pystage http GET 200 {reg}-/whoami" in r.stderr
    assert TOKEN not in r.stderr


def _npm(args, cwd, env):
    return subprocess.run(
        [shutil.which("npm"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


# -- login --scope ---------------------------------------------------------------

_USER, _PASSWORD, _TOKEN = "alice", "correct horse", "tok_" + "s" * 32


@pytest.fixture
def login_registry(recording_server):
    server = recording_server()

    def put_user(req):
        body = json.loads(req["body"])
        if (body.get("name"), body.get("password")) != (_USER, _PASSWORD):
            return 401, {}, {"error": "incorrect username or password"}
        return 201, {}, {"ok": True, "token": _TOKEN}

    server.script[("PUT", f"/-/user/org.couchdb.user:{_USER}")] = put_user
    server.script[("GET", "/-/whoami")] = lambda req: (200, {}, {"username": _USER})
    return server


def _login_env(home, extra=None):
    return {
        "HOME": str(home),
        "npm_config_userconfig": str(home / ".npmrc"),
        "npm_config_globalconfig": str(home / "globalrc"),
        "CI": "",
        "GITHUB_ACTIONS": "",
        "PYSTAGE_TOKEN": "",
        "npm_config_update_notifier": "false",
        **(extra or {}),
    }


@pytest.mark.parametrize("scope_arg", ["@acme", "acme"])
def test_login_scope_maps_the_scope_to_the_registry(
    run_pystage, login_registry, tmp_path, no_keyring_env, scope_arg
):
    home = tmp_path / "home"
    home.mkdir()
    env = _login_env(home, no_keyring_env)
    reg = login_registry.url
    r = run_pystage(
        "login",
        "--scope",
        scope_arg,
        "--registry",
        reg,
        "-u",
        _USER,
        "--password-stdin",
        "--save-to-npmrc",
        input=_PASSWORD + "\n",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    key = reg.replace("http:", "")
    assert (home / ".npmrc").read_text() == f"{key}:_authToken={_TOKEN}\n@acme:registry={reg}\n"
    if shutil.which("npm"):
        npm = _npm(["config", "get", "@acme:registry"], tmp_path, {**os.environ, **env})
        assert npm == reg


def test_login_scope_uses_the_scope_registry_and_keeps_the_token_in_the_keyring(
    run_pystage, login_registry, tmp_path, file_keyring_env
):
    home = tmp_path / "home"
    home.mkdir()
    reg = login_registry.url
    (home / ".npmrc").write_text(f"registry=http://127.0.0.1:9/\n@acme:registry={reg}\n")
    env = _login_env(home, file_keyring_env.env)
    r = run_pystage(
        "login",
        "--scope",
        "@acme",
        "-u",
        _USER,
        "--password-stdin",
        input=_PASSWORD + "\n",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert file_keyring_env.contents() == {f"pystage|{reg.replace('http:', '')}": _TOKEN}
    assert (home / ".npmrc").read_text() == f"registry=http://127.0.0.1:9/\n@acme:registry={reg}\n"


def test_login_scope_rejects_a_malformed_scope(run_pystage, tmp_path, no_keyring_env):
    r = run_pystage(
        "login",
        "--scope",
        "@",
        "--save-to-npmrc",
        "-u",
        "x",
        "--password-stdin",
        input="p\n",
        env=_login_env(tmp_path, no_keyring_env),
    )
    assert r.returncode != 0 and "EUSAGE" in r.stderr and "invalid scope" in r.stderr


def test_login_with_a_wrong_password_does_not_suggest_logging_in(
    registry_server, run_pystage, tmp_path
):
    registry_server.add_user("alice", "correct horse")
    result = run_pystage(
        "login",
        "-u",
        "alice",
        "--password-stdin",
        "--save-to-npmrc",
        "--registry",
        registry_server.url,
        "--userconfig",
        tmp_path / "npmrc",
        input="wrong horse\n",
    )
    assert_clean_failure(result, "E401")
    assert "incorrect" in result.stderr
    assert "pystage login" not in result.stderr
    assert "wrong horse" not in result.stderr
    assert not (tmp_path / "npmrc").exists()
