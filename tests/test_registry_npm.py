"""The real npm against the embedded registry: the whole staged-publishing story."""

import json
import os
import re
import subprocess

import pytest
from helpers import User, requires_npm

pytestmark = [requires_npm((11, 15)), pytest.mark.npm]


class Npm:
    def __init__(self, tmp_path, registry):
        self.npmrc = tmp_path / "npmrc"
        registry.write_npmrc(self.npmrc)
        self.env = {
            **os.environ,
            "npm_config_userconfig": str(self.npmrc),
            "npm_config_cache": str(tmp_path / "npm-cache"),
            "npm_config_update_notifier": "false",
            "npm_config_audit": "false",
            "npm_config_fund": "false",
            "NO_COLOR": "1",
        }

    def run(self, *args, cwd):
        return subprocess.run(
            ["npm", *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )

    def ok(self, *args, cwd):
        result = self.run(*args, cwd=cwd)
        assert result.returncode == 0, f"npm {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    def interactive(self, *args, cwd):
        import pexpect

        return pexpect.spawn(
            "npm", list(args), cwd=str(cwd), env=self.env, encoding="utf-8", timeout=60
        )


def _package(directory, version):
    directory.mkdir(exist_ok=True)
    (directory / "package.json").write_text(
        json.dumps({"name": "@demo/hello", "version": version, "main": "index.js"})
    )
    (directory / "index.js").write_text(f"module.exports = '{version}'\n")
    return directory


def _stage_id(output):
    return re.search(r"staged with id ([0-9a-f-]{36})", output).group(1)


def test_npm_adduser_publish_2fa_stage_approve_install_reject(tmp_path, registry_server):
    reg = registry_server
    npm = Npm(tmp_path, reg)
    work = tmp_path / "work"
    work.mkdir()

    # Sign up through npm's couch flow: it stores a token in the npmrc.
    child = npm.interactive("adduser", "--auth-type=legacy", cwd=work)
    child.expect("Username:")
    child.sendline("alice")
    child.expect("Password:")
    child.sendline("correct horse")
    child.expect("Email")
    child.sendline("alice@example.com")
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 0
    assert "_authToken=" in npm.npmrc.read_text()
    assert npm.ok("whoami", cwd=work).stdout.strip() == "alice"

    pkg = _package(tmp_path / "pkg", "1.0.0")
    npm.ok("publish", cwd=pkg)

    # Enrol two-factor the way a user would: npm profile enable-2fa.
    child = npm.interactive("profile", "enable-2fa", "auth-and-writes", cwd=work)
    child.expect("assword:")
    child.sendline("correct horse")
    child.expect(r"Or enter code:\s+([A-Z2-7]+)")
    token = re.search(r"_authToken=(\S+)", npm.npmrc.read_text()).group(1)
    alice = User("alice", "correct horse", token, child.match.group(1))
    child.expect("OTP code from your authenticator:")
    child.sendline(reg.totp_code(alice))
    child.expect("recovery codes")
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 0
    assert reg.request("GET", "-/npm/v1/user", alice).json()["tfa"]["mode"] == "auth-and-writes"

    _package(pkg, "1.1.0")
    staged = npm.ok("stage", "publish", cwd=pkg)  # no OTP: 2FA is deferred to approval
    stage_id = _stage_id(staged.stdout)

    listing = npm.ok("stage", "list", "--json", cwd=work)
    items = json.loads(listing.stdout)
    assert [(i["id"], i["packageName"], i["version"], i["tag"]) for i in items] == [
        (stage_id, "@demo/hello", "1.1.0", "latest")
    ]
    view = npm.ok("stage", "view", stage_id, cwd=work).stdout
    assert "package name: @demo/hello" in view and "staged by: alice (user)" in view
    npm.ok("stage", "download", stage_id, cwd=work)
    downloaded = work / f"demo-hello-1.1.0-{stage_id}.tgz"
    assert (
        downloaded.read_bytes() == reg.request("GET", f"-/stage/{stage_id}/tarball", alice).content
    )

    refused = npm.run("stage", "approve", stage_id, cwd=work)
    assert refused.returncode != 0
    assert "EOTP" in refused.stderr
    assert "1.1.0" not in reg.request("GET", "@demo/hello").json()["versions"]

    npm.ok("stage", "approve", stage_id, "--otp", reg.totp_code(alice), cwd=work)
    packument = reg.request("GET", "@demo/hello").json()
    assert packument["dist-tags"]["latest"] == "1.1.0"

    project = tmp_path / "project"
    project.mkdir()
    (project / "package.json").write_text("{}")
    npm.ok("install", "@demo/hello@1.1.0", cwd=project)
    installed = project / "node_modules" / "@demo" / "hello"
    assert json.loads((installed / "package.json").read_text())["version"] == "1.1.0"
    assert (installed / "index.js").read_text() == "module.exports = '1.1.0'\n"

    _package(pkg, "1.2.0")
    rejected_id = _stage_id(npm.ok("stage", "publish", cwd=pkg).stdout)
    npm.ok("stage", "reject", rejected_id, "--otp", reg.totp_code(alice), cwd=work)
    assert reg.request("GET", f"-/stage/{rejected_id}", alice).status_code == 404
    assert "1.2.0" not in reg.request("GET", "@demo/hello").json()["versions"]
    assert json.loads(npm.ok("stage", "list", "--json", cwd=work).stdout) == []


def pexpect_eof():
    import pexpect

    return pexpect.EOF
