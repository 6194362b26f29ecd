"""What the stage commands make of a registry's odd answers (a scripted registry over a
real socket, the CLI in a subprocess): items that are not objects or have no id, a
registry ignoring ``page``, HTML error pages, any 2xx or a 200 without JSON confirming a
decision, malformed or dead redirects. Each is a clean one-line outcome."""

from __future__ import annotations

import time

import pytest
from helpers import (
    STAGE_ID,
    assert_clean_failure,
    closed_port,
)


def test_list_with_items_that_are_not_objects_is_a_clean_error(scripted_cli):
    scripted_cli.script[("GET", "/-/stage")] = (200, {}, {"items": [None, 3], "total": 2})
    assert_clean_failure(scripted_cli.run("list"), "EBADRESPONSE")


def test_name_at_version_matching_an_item_without_id_is_a_clean_error(scripted_cli):
    scripted_cli.script[("GET", "/-/stage")] = (
        200,
        {},
        {"items": [{"packageName": "pkg", "version": "1.0.0"}], "total": 1},
    )
    assert_clean_failure(scripted_cli.run("view", "pkg@1.0.0"), "EBADRESPONSE")


def test_a_registry_that_ignores_page_does_not_make_list_loop_forever(scripted_cli):
    page = [
        {"id": f"{i:08d}-1111-4222-8333-944445555666", "packageName": "p", "version": f"1.0.{i}"}
        for i in range(100)
    ]
    scripted_cli.script[("GET", "/-/stage")] = (200, {}, {"items": page, "total": 10**9})
    started = time.monotonic()
    result = scripted_cli.run("list", timeout=60)
    assert_clean_failure(result, "EBADRESPONSE")
    assert time.monotonic() - started < 30
    assert len([r for r in scripted_cli.requests if r["path"].startswith("/-/stage")]) <= 3


@pytest.mark.parametrize(
    "page, words",
    [
        (
            b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center>"
            b"<h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
            "502 Bad Gateway",
        ),
        (
            b"<html><head><style>p {color: red}</style></head><body><p>Sign in to "
            b"<b>Corp&nbsp;SSO</b></p><script>var x = '<b>';</script></body></html>",
            "Sign in to Corp SSO",
        ),
    ],
)
def test_html_error_page_is_reported_as_text_not_markup(scripted_cli, page, words):
    scripted_cli.script[("GET", f"/-/stage/{STAGE_ID}")] = (
        502,
        {"content-type": "text/html"},
        page,
    )
    result = scripted_cli.run("view", STAGE_ID, env={"npm_config_fetch_retries": "0"})
    assert_clean_failure(result, "E502")
    assert "<" not in result.stderr and "color" not in result.stderr
    assert words in result.stderr
    assert result.returncode == 7
    assert len(result.stderr.splitlines()) == 1


def test_approve_confirmed_by_a_200_without_json_is_a_success(scripted_cli):
    # the registry published it: reporting EJSONPARSE (exit 1) would make the user retry
    scripted_cli.script[("POST", f"/-/stage/{STAGE_ID}/approve")] = (
        200,
        {"content-type": "text/plain"},
        b"OK",
    )
    result = scripted_cli.run("approve", STAGE_ID, "--otp", "123456")
    assert result.returncode == 0, result.stderr
    assert "approved and published successfully" in result.stdout


@pytest.mark.parametrize("location", ["http://[::1", "http://[zz]:80/x"])
def test_a_malformed_redirect_location_is_a_clean_error(scripted_cli, location):
    scripted_cli.script[("GET", f"/-/stage/{STAGE_ID}")] = (302, {"location": location}, b"")
    assert_clean_failure(scripted_cli.run("view", STAGE_ID, env={"npm_config_fetch_retries": "0"}))


def test_a_network_error_after_a_redirect_names_the_host_that_failed(scripted_cli):
    gone = closed_port()
    scripted_cli.script[("GET", f"/-/stage/{STAGE_ID}")] = (
        302,
        {"location": f"http://127.0.0.1:{gone}/elsewhere"},
        b"",
    )
    result = scripted_cli.run("view", STAGE_ID, env={"npm_config_fetch_retries": "0"})
    assert_clean_failure(result, "ECONNREFUSED")
    assert f"127.0.0.1:{gone}" in result.stderr


@pytest.mark.parametrize(
    "action,method,path",
    [
        ("approve", "POST", f"/-/stage/{STAGE_ID}/approve"),
        ("reject", "DELETE", f"/-/stage/{STAGE_ID}"),
    ],
)
def test_any_2xx_confirms_the_decision(scripted_cli, action, method, path):
    scripted_cli.script[(method, path)] = (202, {}, b"")
    result = scripted_cli.run(action, STAGE_ID, "--otp", "123456")
    assert result.returncode == 0, result.stderr
    assert STAGE_ID in result.stdout
