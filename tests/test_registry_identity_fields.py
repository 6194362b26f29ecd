"""Who published and who maintains is the registry's to say, never the publish document's."""

import json
import os
import subprocess

import pytest
from helpers import escaped, make_tarball, npm_as, publish_document, requires_npm

FORGED = {
    "maintainers": [{"name": "mallory", "email": "mallory@evil.example"}],
    "_npmUser": {"name": "mallory", "email": "mallory@evil.example"},
    "_npmOperationalInternal": {"host": "evil", "tmp": "x"},
    "users": {"mallory": True},
}


def _forged_document(reg, version):
    tarball = make_tarball("pkg", version)
    doc = publish_document(reg.url, "pkg", version, tarball)
    doc["versions"][version].update(json.loads(json.dumps(FORGED)))
    doc["maintainers"] = FORGED["maintainers"]  # the top level too
    return doc


@pytest.fixture
def reg(registry_server):
    registry_server.alice = registry_server.add_user("alice")
    registry_server.bob = registry_server.add_user("bob")
    return registry_server


def _served(reg, version):
    return reg.request("GET", "pkg").json()["versions"][version]


def test_publish_cannot_forge_maintainers_or_publisher(reg):
    response = reg.request("PUT", "pkg", reg.alice, json=_forged_document(reg, "1.0.0"))
    assert response.status_code == 201, response.text
    manifest = _served(reg, "1.0.0")
    assert manifest["maintainers"] == [{"name": "alice", "email": "alice@example.com"}]
    assert manifest["_npmUser"] == {"name": "alice", "email": "alice@example.com"}
    assert "_npmOperationalInternal" not in manifest and "users" not in manifest
    packument = reg.request("GET", "pkg").json()
    assert "mallory" not in json.dumps(packument)
    single = reg.request("GET", "pkg/1.0.0").json()
    assert single["maintainers"] == manifest["maintainers"]


def test_staged_then_approved_version_carries_the_servers_identity(reg):
    reg.publish(reg.alice, "pkg", "1.0.0")
    response = reg.request(
        "POST", f"-/stage/package/{escaped('pkg')}", reg.alice, json=_forged_document(reg, "1.1.0")
    )
    assert response.status_code == 201, response.text
    stage_id = response.json()["stageId"]
    assert reg.request("POST", f"-/stage/{stage_id}/approve", reg.alice).status_code == 200
    manifest = _served(reg, "1.1.0")
    assert [m["name"] for m in manifest["maintainers"]] == ["alice"]
    assert manifest["_npmUser"]["name"] == "alice"
    assert "mallory" not in json.dumps(reg.request("GET", "pkg").json())


@requires_npm((11, 15))
@pytest.mark.npm
def test_npm_view_shows_the_real_maintainers(reg, tmp_path):
    reg.request("PUT", "pkg", reg.alice, json=_forged_document(reg, "1.0.0")).raise_for_status()
    npmrc = reg.write_npmrc(tmp_path / "npmrc")
    result = subprocess.run(
        ["npm", "view", "pkg@1.0.0", "maintainers", "_npmUser", "--json"],
        env={
            **os.environ,
            "npm_config_userconfig": str(npmrc),
            "npm_config_cache": str(tmp_path / "cache"),
            "npm_config_update_notifier": "false",
        },
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert "mallory" not in result.stdout
    assert "alice" in json.dumps(shown["maintainers"])
    assert shown["_npmUser"].startswith("alice")


def test_versions_name_their_publisher_as_npm_user(reg):
    bob = reg.bob
    reg.publish(reg.alice, "plain", "1.0.0")
    reg.publish(bob, "@bob/tool", "1.0.0")
    reg.request("POST", f"-/stage/{reg.stage(bob, '@bob/tool', '1.1.0')}/approve", bob)
    versions = reg.request("GET", escaped("@bob/tool")).json()["versions"]
    for version in ("1.0.0", "1.1.0"):
        assert versions[version]["_npmUser"] == {"name": "bob", "email": "bob@example.com"}
    assert reg.request("GET", "plain/1.0.0").json()["_npmUser"]["name"] == "alice"


@requires_npm((11,))
def test_npm_view_says_who_published(reg, tmp_path):
    reg.publish(reg.alice, "plain", "1.0.0")
    result = npm_as(reg, reg.alice, tmp_path, "view", "plain")
    assert result.returncode == 0, result.stderr
    assert "published just now by alice <alice@example.com>" in result.stdout
