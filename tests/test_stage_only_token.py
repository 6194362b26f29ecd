"""Tokens through the CLI: `pystage token create --stage-only` makes the token a CI job
holds: it stages (pystage publish) but approve, reject, npm publish and npm dist-tag are
refused; the token is printed once and never in -v lines; list and revoke; read-only
and CIDR-limited tokens; unknown ids change nothing."""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
from helpers import make_package, requires_npm, run_npm

PASSWORD = "correct horse\n"


def _create(crew, user, *args):
    result = crew.run(user, "token", "create", "--password-stdin", *args, input=PASSWORD)
    assert result.returncode == 0, result.stderr
    return result


def _ci_npmrc(crew, token):
    """A CI job's npmrc: nothing but the stage-only token."""
    path = crew.home / "ci.npmrc"
    host = crew.url.split("://", 1)[1]
    path.write_text(f"registry={crew.url}\n//{host}:_authToken={token}\n")
    return path


def test_stage_only_token_stages_and_is_refused_on_approve(crew, npm_env):
    created = _create(crew, crew.carol, "--stage-only", "-v")
    match = re.fullmatch(r"Created token (pystage_\S+)\n", created.stdout)
    assert match, created.stdout
    token = match.group(1)
    assert token not in created.stderr  # -v lines show requests, never the token
    assert "correct horse" not in created.stderr
    assert "stage-only" in created.stderr

    crew.reg.publish(crew.carol, "ci-pkg", "1.0.0")
    ci = _ci_npmrc(crew, token)
    pkg = make_package(crew.home / "ci-pkg", name="ci-pkg", version="1.1.0")
    staged = crew.run(crew.carol, "publish", "--json", cwd=pkg, npm_config_userconfig=str(ci))
    assert staged.returncode == 0, staged.stderr
    stage_id = json.loads(staged.stdout)["ci-pkg"]["stageId"]
    listed = crew.run(crew.carol, "list", "--json", npm_config_userconfig=str(ci))
    assert [i["id"] for i in json.loads(listed.stdout)] == [stage_id]

    for args in (("approve", stage_id), ("reject", stage_id)):
        refused = crew.run(crew.carol, *args, npm_config_userconfig=str(ci))
        assert refused.returncode == 3, (args, refused.stderr)
        assert "this token may only stage" in refused.stderr
    assert set(crew.reg.request("GET", "ci-pkg").json()["versions"]) == {"1.0.0"}
    still = crew.run(crew.carol, "view", stage_id, "--json")
    assert still.returncode == 0, still.stderr

    approved = crew.run(crew.carol, "approve", stage_id)  # carol's own login may
    assert approved.returncode == 0, approved.stderr


@requires_npm()
def test_stage_only_token_cannot_publish_or_move_dist_tags_with_npm(crew, npm_env):
    token = _create(crew, crew.carol, "--stage-only").stdout.split()[-1]
    crew.reg.publish(crew.carol, "ci-npm", "1.0.0")
    ci = _ci_npmrc(crew, token)
    env = {**npm_env, "npm_config_userconfig": str(ci)}
    pkg = make_package(crew.home / "ci-npm", name="ci-npm", version="2.0.0")
    published = run_npm(["publish", "--registry", crew.url], cwd=pkg, env=env)
    assert published.returncode != 0
    assert "403" in published.stderr
    tagged = run_npm(
        ["dist-tag", "add", "ci-npm@1.0.0", "beta", "--registry", crew.url], cwd=pkg, env=env
    )
    assert tagged.returncode != 0 and "403" in tagged.stderr
    doc = crew.reg.request("GET", "ci-npm").json()
    assert set(doc["versions"]) == {"1.0.0"} and doc["dist-tags"] == {"latest": "1.0.0"}


def test_token_list_and_revoke(crew):
    token = _create(crew, crew.carol, "--stage-only", "--name", "ci").stdout.split()[-1]
    listed = crew.run(crew.carol, "token", "list", "--json")
    tokens = json.loads(listed.stdout)
    mine = [t for t in tokens if t["stage_only"]]
    assert len(mine) == 1 and mine[0]["name"] == "ci"
    assert token not in listed.stdout  # only a preview is ever listed
    table = crew.run(crew.carol, "token", "list").stdout
    assert "stage-only" in table and mine[0]["key"] in table

    unknown = crew.run(crew.carol, "token", "revoke", "ffffffffnotakey")
    assert unknown.returncode == 4 and "no token with id" in unknown.stderr
    assert len(json.loads(crew.run(crew.carol, "token", "list", "--json").stdout)) == len(tokens)

    revoked = crew.run(crew.carol, "token", "revoke", mine[0]["key"][:8])
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout == f"Removed 1 token ({mine[0]['key']})\n"
    after = json.loads(crew.run(crew.carol, "token", "list", "--json").stdout)
    assert mine[0]["key"] not in [t["key"] for t in after]
    ci = _ci_npmrc(crew, token)
    gone = crew.run(crew.carol, "whoami", npm_config_userconfig=str(ci))
    assert gone.returncode == 3, gone.stderr


def test_read_only_and_cidr_tokens(crew):
    token = json.loads(_create(crew, crew.carol, "--read-only", "--json").stdout)["token"]
    ci = _ci_npmrc(crew, token)
    crew.reg.publish(crew.carol, "ro-pkg", "1.0.0")
    pkg = make_package(crew.home / "ro-pkg", name="ro-pkg", version="1.1.0")
    refused = crew.run(crew.carol, "publish", cwd=pkg, npm_config_userconfig=str(ci))
    assert refused.returncode == 3 and "read-only" in refused.stderr
    assert crew.run(crew.carol, "whoami", npm_config_userconfig=str(ci)).stdout == "carol\n"

    far = json.loads(_create(crew, crew.carol, "--cidr", "192.0.2.0/24", "--json").stdout)
    assert far["cidr_whitelist"] == ["192.0.2.0/24"]
    ci = _ci_npmrc(crew, far["token"])
    outside = crew.run(crew.carol, "whoami", npm_config_userconfig=str(ci))
    assert outside.returncode == 3, outside.stderr


@pytest.mark.parametrize(
    "args",
    [("--stage-only", "--read-only"), ("--cidr", "300.1.2.3/8"), ("--cidr", "10.0.0.0/8,x")],
)
def test_bad_token_requests_are_refused_before_any_request(crew, args):
    before = crew.run(crew.carol, "token", "list", "--json").stdout
    result = crew.run(crew.carol, "token", "create", "--password-stdin", *args, input=PASSWORD)
    assert result.returncode == 2, result.stderr
    assert crew.run(crew.carol, "token", "list", "--json").stdout == before


def test_a_wrong_password_makes_no_token(crew):
    before = json.loads(crew.run(crew.carol, "token", "list", "--json").stdout)
    result = crew.run(crew.carol, "token", "create", "--password-stdin", input="wrong-pass\n")
    assert result.returncode == 3, result.stderr
    assert "incorrect password" in result.stderr and "wrong-pass" not in result.stderr
    assert json.loads(crew.run(crew.carol, "token", "list", "--json").stdout) == before


def test_with_2fa_a_token_needs_the_one_time_password(crew):
    before = json.loads(crew.run(crew.alice, "token", "list", "--json").stdout)
    refused = crew.run(crew.alice, "token", "create", "--password-stdin", input=PASSWORD)
    assert refused.returncode == 3 and "EOTP" in refused.stderr, refused.stderr
    assert refused.stdout == ""
    assert json.loads(crew.run(crew.alice, "token", "list", "--json").stdout) == before
    made = _create(crew, crew.alice, "--stage-only", "--otp", crew.code(crew.alice), "--json")
    assert json.loads(made.stdout)["stage_only"] is True


def test_a_ci_job_with_a_stage_only_token_can_wait_for_the_maintainer(crew):
    """The CI recipe of docs/team.md: stage with the token, --wait; a maintainer approves."""
    token = _create(crew, crew.carol, "--stage-only").stdout.split()[-1]
    crew.reg.publish(crew.carol, "ci-wait", "1.0.0")
    ci = _ci_npmrc(crew, token)
    pkg = make_package(crew.home / "ci-wait", name="ci-wait", version="1.1.0")
    env = crew.env(crew.carol, npm_config_userconfig=str(ci))
    proc = subprocess.Popen(
        crew.args(crew.carol, "publish", "-m", "from CI", "--wait", "--wait-timeout", "60s"),
        cwd=pkg,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (items := json.loads(crew.run(crew.carol, "list", "ci-wait", "--json").stdout)):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.3)
    approved = crew.run(crew.carol, "approve", items[0]["id"])  # the maintainer's own login
    assert approved.returncode == 0, approved.stderr
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert "ci-wait@1.1.0 was approved and published." in out
