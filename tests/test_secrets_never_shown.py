"""A password in the registry URL (http://user:pass@host/) never shows, whatever the
command and whether the registry refuses or cannot be reached."""

from __future__ import annotations

import pytest
from helpers import (
    FAST_RETRIES,
    assert_clean_failure,
    closed_port,
)


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("list", "-v"),
        ("whoami",),
        ("view", "pkg@1.0.0"),
        ("approve", "pkg@1.0.0"),
        ("logout",),
    ],
)
@pytest.mark.parametrize("where", ["unauthorised", "closed"])
def test_a_password_in_the_registry_url_never_shows(
    recording_server, run_pystage, tmp_path, args, where
):
    server = recording_server()
    server.script[("GET", "/-/stage")] = (401, {}, {"error": "authentication required"})
    server.script[("GET", "/-/whoami")] = (401, {}, {"error": "authentication required"})
    port = server.port if where == "unauthorised" else closed_port()
    registry = f"http://bob:s3cretpw@127.0.0.1:{port}/"
    result = run_pystage(
        *args,
        "--registry",
        registry,
        "--userconfig",
        tmp_path / "none",
        env={**FAST_RETRIES, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    assert_clean_failure(result, verbose="-v" in args)
    assert "s3cretpw" not in result.stdout + result.stderr
