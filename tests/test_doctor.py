"""pystage doctor: the registry for this directory and which setting chose it, the
credential and where it comes from (never the secret), the account and its 2FA mode as
the registry reports them, keyring, TLS trust, proxy and trusted publishing."""

from __future__ import annotations

import json


def _doctor(run_pystage, *args, **kw):
    result = run_pystage("doctor", *args, **kw)
    return result


def test_doctor_names_the_registry_credential_and_2fa_and_never_the_token(
    registry_server, tmp_path, run_pystage
):
    user = registry_server.enrol_2fa(registry_server.add_user("alice"))
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    result = _doctor(run_pystage, "--json", "--userconfig", npmrc)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["registry"]["url"] == registry_server.url
    assert report["registry"]["source"] == f"user config {npmrc}"
    assert report["credential"]["kind"] == "token"
    assert str(npmrc) in report["credential"]["source"]
    assert report["account"] == {"name": "alice", "tfa": "auth-and-writes"}
    assert set(report) == {"registry", "credential", "account", "keyring", "ca", "proxy", "oidc"}
    human = _doctor(run_pystage, "--userconfig", npmrc)
    assert human.returncode == 0, human.stderr
    assert "alice, two-factor auth: auth-and-writes" in human.stdout
    for out in (result.stdout, human.stdout, result.stderr, human.stderr):
        assert user.token not in out


def test_doctor_without_2fa_says_disabled(registry_server, tmp_path, run_pystage):
    user = registry_server.add_user("bob")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", user)
    report = json.loads(_doctor(run_pystage, "--json", "--userconfig", npmrc).stdout)
    assert report["account"] == {"name": "bob", "tfa": "disabled"}


def test_doctor_follows_the_package_scope_and_pystage_token(registry_server, tmp_path, run_pystage):
    user = registry_server.add_user("carol")
    npmrc = tmp_path / "npmrc"
    npmrc.write_text(f"@acme:registry={registry_server.url}\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / "package.json").write_text(json.dumps({"name": "@acme/thing", "version": "1.0.0"}))
    result = _doctor(
        run_pystage, "--json", "--userconfig", npmrc, cwd=work, env={"PYSTAGE_TOKEN": user.token}
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["registry"] == {
        "url": registry_server.url,
        "source": f"user config {npmrc}",
        "package": "@acme/thing",
    }
    assert report["credential"]["source"] == "the PYSTAGE_TOKEN variable"
    assert report["account"]["name"] == "carol"
    assert user.token not in result.stdout


def test_doctor_offline_and_logged_out(run_pystage, tmp_path):
    (tmp_path / "npmrc").write_text("registry=http://127.0.0.1:9/\nstrict-ssl=false\n")
    result = _doctor(run_pystage, "--offline", "--userconfig", tmp_path / "npmrc")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines() if line.strip())
    assert lines["registry"].startswith("http://127.0.0.1:9/ (from user config")
    assert lines["credential"].startswith("none")
    assert lines["account"] == "not checked (--offline)"
    assert "strict-ssl=false" in result.stdout


def test_doctor_says_when_the_registry_cannot_be_reached(run_pystage, tmp_path):
    from helpers import closed_port

    npmrc = tmp_path / "npmrc"
    url = f"http://127.0.0.1:{closed_port()}/"
    npmrc.write_text(f"registry={url}\n//127.0.0.1:{url.split(':')[2]}:_authToken=abc\n")
    result = _doctor(
        run_pystage,
        "--json",
        "--userconfig",
        npmrc,
        env={"npm_config_fetch_retries": "0"},
    )
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["account"]["problem"].startswith("ECONNREFUSED")
    assert json.loads(result.stderr)["error"]["code"] == "EDOCTOR"
    human = _doctor(run_pystage, "--userconfig", npmrc, env={"npm_config_fetch_retries": "0"})
    assert "pystage error EDOCTOR: found a problem with: account" in human.stderr
    assert "account" in human.stdout and "ECONNREFUSED" in human.stdout


def test_doctor_knows_a_ci_with_trusted_publishing(run_pystage, tmp_path):
    (tmp_path / "npmrc").write_text("")
    env = {"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": "", "CI": "true"}
    report = json.loads(
        _doctor(
            run_pystage, "--json", "--offline", "--userconfig", tmp_path / "npmrc", env=env
        ).stdout
    )
    assert report["oidc"]["provider"] == "github" and report["oidc"]["id_token"] is False
    assert "id-token: write" in report["oidc"]["note"]
