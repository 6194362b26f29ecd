"""What the embedded registry does not do (search, unpublish, deprecate, other unknown
``-/`` endpoints) it refuses clearly: over HTTP, and as npm shows it."""

import json

import pytest
from helpers import npm_as, requires_npm


@pytest.fixture
def reg(registry_server):
    registry_server.alice = registry_server.add_user("alice")
    registry_server.publish(registry_server.alice, "plain", "1.0.0")
    return registry_server


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
    result = npm_as(reg, reg.alice, tmp_path, "deprecate", "plain@1.0.0", "use something else")
    assert result.returncode != 0
    assert "not supported by this registry" in result.stderr
    result = npm_as(reg, reg.alice, tmp_path, "unpublish", "plain", "--force")
    assert result.returncode != 0
    assert "not supported by this registry" in result.stderr
    assert reg.request("GET", "plain").json()["versions"].keys() == {"1.0.0"}
