"""QA round 2 of the embedded registry: everyday npm workflows beyond staging."""

import json
import os
import subprocess

import pytest
from helpers import escaped, make_tarball, publish_document, requires_npm


@pytest.fixture
def reg(registry_server):
    registry_server.alice = registry_server.add_user("alice")
    registry_server.publish(registry_server.alice, "plain", "1.0.0")
    return registry_server


def _npm(reg, tmp_path, *args, cwd=None):
    npmrc = reg.write_npmrc(tmp_path / "npmrc", reg.alice)
    env = {
        **os.environ,
        "npm_config_userconfig": str(npmrc),
        "npm_config_cache": str(tmp_path / "npm-cache"),
        "npm_config_update_notifier": "false",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        ["npm", *args],
        cwd=cwd or tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


# validate-npm-package-name: invalid for new packages (errors or "no longer" warnings)
@pytest.mark.parametrize(
    "name",
    ["a~b", "~ab", "@scope/~x", "-ab", "_ab", ".ab", "@s/.x", "fs", "http", "worker_threads"],
)
def test_names_npm_refuses_for_new_packages_are_refused(reg, name):
    body = publish_document(reg.url, name, "1.0.0", make_tarball(name, "1.0.0"))
    response = reg.request("PUT", escaped(name), reg.alice, json=body)
    assert response.status_code == 400, (name, response.text)
    assert "package name" in response.json()["error"]
    assert reg.request("GET", escaped(name)).status_code == 404


@pytest.mark.parametrize(
    "name",
    ["@fs/http", "@s/-x", "@s/_x", "a.b-c_d", "x" * 214, "@" + "s" * 100 + "/" + "b" * 112],
)
def test_names_npm_accepts_are_accepted(reg, name):
    body = publish_document(reg.url, name, "1.0.0", make_tarball(name, "1.0.0"))
    response = reg.request("PUT", escaped(name), reg.alice, json=body)
    assert response.status_code == 201, (name, response.text)
    assert reg.request("GET", escaped(name)).json()["dist-tags"] == {"latest": "1.0.0"}


def test_unknown_dash_endpoints_say_so(reg):
    for path in ["-/v1/search?text=plain", "-/user/alice/package", "-/nope"]:
        response = reg.request("GET", path, reg.alice)
        assert response.status_code == 404, path
        error = response.json()["error"]
        assert "not supported" in error and '"-"' not in error, (path, error)


def test_unpublish_and_deprecate_get_a_clear_refusal_over_http(reg):
    before = reg.request("GET", "plain").json()
    response = reg.request("DELETE", "plain/-rev/undefined", reg.alice)
    assert response.status_code == 405
    assert "unpublish" in response.json()["error"]
    edited = json.loads(json.dumps(before))
    edited["versions"]["1.0.0"]["deprecated"] = "use 2"
    response = reg.request("PUT", "plain", reg.alice, json=edited)
    assert response.status_code == 405, response.text
    assert "deprecat" in response.json()["error"]
    assert reg.request("GET", "plain").json() == before


@requires_npm((11,))
def test_npm_unpublish_and_deprecate_show_the_refusal(reg, tmp_path):
    result = _npm(reg, tmp_path, "deprecate", "plain@1.0.0", "use something else")
    assert result.returncode != 0
    assert "not supported by this registry" in result.stderr
    result = _npm(reg, tmp_path, "unpublish", "plain", "--force")
    assert result.returncode != 0
    assert "not supported by this registry" in result.stderr
    assert reg.request("GET", "plain").json()["versions"].keys() == {"1.0.0"}


def test_versions_name_their_publisher_as_npm_user(reg):
    bob = reg.add_user("bob")
    reg.publish(bob, "@bob/tool", "1.0.0")
    reg.request("POST", f"-/stage/{reg.stage(bob, '@bob/tool', '1.1.0')}/approve", bob)
    versions = reg.request("GET", escaped("@bob/tool")).json()["versions"]
    for version in ("1.0.0", "1.1.0"):
        assert versions[version]["_npmUser"] == {"name": "bob", "email": "bob@example.com"}
    assert reg.request("GET", "plain/1.0.0").json()["_npmUser"]["name"] == "alice"


@requires_npm((11,))
def test_npm_view_says_who_published(reg, tmp_path):
    result = _npm(reg, tmp_path, "view", "plain")
    assert result.returncode == 0, result.stderr
    assert "published just now by alice <alice@example.com>" in result.stdout
