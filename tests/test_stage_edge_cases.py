"""Edge cases left open by the first QA pass: netrc must not be a hidden credential
source, any 2xx confirms approve/reject, and a path or URL is not a package name."""

from __future__ import annotations

import pytest

SID = "0f3c2a4e-1111-4222-8333-944445555666"


@pytest.fixture
def scripted(recording_server, run_pystage, tmp_path):
    server = recording_server()
    (tmp_path / "npmrc").write_text("")

    def run(*args, env=None):
        return run_pystage(
            *args,
            "--registry",
            server.url,
            "--userconfig",
            tmp_path / "npmrc",
            env={"HOME": str(tmp_path), **(env or {})},
        )

    server.run = run
    return server


def test_netrc_is_not_a_credential_source(scripted, tmp_path):
    # npm never reads ~/.netrc; a token-less pystage must not send Basic auth from it.
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login mallory password hunter2\n")
    netrc.chmod(0o600)
    scripted.script[("GET", "/-/stage")] = (200, {}, {"items": [], "total": 0})
    result = scripted.run("list", "--json")
    assert result.returncode == 0, result.stderr
    assert "authorization" not in scripted.requests[0]["headers"]


@pytest.mark.parametrize(
    "action,method,path",
    [
        ("approve", "POST", f"/-/stage/{SID}/approve"),
        ("reject", "DELETE", f"/-/stage/{SID}"),
    ],
)
def test_any_2xx_confirms_the_decision(scripted, action, method, path):
    scripted.script[(method, path)] = (202, {}, b"")
    result = scripted.run(action, SID, "--otp", "123456")
    assert result.returncode == 0, result.stderr
    assert SID in result.stdout


@pytest.mark.parametrize(
    "arg", ["./dir", "http://example.com/x.tgz", "github:foo/bar", "file:../x"]
)
def test_list_of_a_path_or_url_is_a_usage_error_before_any_request(scripted, arg):
    result = scripted.run("list", arg)
    assert result.returncode == 2, result.stderr
    assert "pystage error EUSAGE:" in result.stderr
    assert scripted.requests == []


def test_empty_answer_at_the_otp_prompt_says_so_without_a_misleading_hint():
    from pystage.errors import PystageError
    from pystage.otp import OtpHandler

    handler = OtpHandler(
        registry="http://127.0.0.1:1/",
        interactive=True,
        env={},
        prompt=lambda _question: "   ",
        use_stored_secret=False,
    )
    with pytest.raises(PystageError) as info:
        handler.challenge({}, poll=None)
    assert info.value.code == "EOTP"
    assert "no one-time password entered" in info.value.message
    assert "at a terminal" not in (info.value.hint or "")


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_download_to_dev_stdout_keeps_stdout_pure_tarball_bytes(
    recording_server, tmp_path, json_flag
):
    import gzip
    import io
    import json
    import os
    import subprocess
    import sys
    import tarfile

    manifest = json.dumps({"name": "pkg", "version": "1.0.0"}).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("package/package.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    data = gzip.compress(raw.getvalue())
    server = recording_server()
    server.script[("GET", f"/-/stage/{SID}/tarball")] = (
        200,
        {"content-type": "application/octet-stream"},
        data,
    )
    (tmp_path / "npmrc").write_text("")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pystage",
            "download",
            SID,
            "-o",
            "/dev/stdout",
            *json_flag,
            "--registry",
            server.url,
            "--userconfig",
            str(tmp_path / "npmrc"),
        ],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == data
    assert b"Tarball Contents" in result.stderr


def test_a_plain_http_registry_never_loads_the_configured_certificates(scripted, tmp_path):
    # As npm: a cafile only matters for https. Loading it anyway cost every command
    # ~25 ms per load with a system-sized bundle (the global npmrc here sets one).
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    scripted.script[("GET", "/-/stage")] = (200, {}, {"items": [], "total": 0})
    result = scripted.run("list", "--json", env={"npm_config_cafile": str(bad)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_ctrl_d_at_the_otp_prompt_is_no_code_entered(capsys, monkeypatch):
    import getpass

    from pystage.cli.options import GlobalOptions
    from pystage.errors import PystageError
    from pystage.otp import OtpHandler

    def eof(*_args, **_kw):
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", eof)
    handler = OtpHandler(
        registry="http://127.0.0.1:1/",
        interactive=True,
        env={},
        prompt=GlobalOptions().ui.prompt,  # the terminal's prompt, as cli/ injects it
        use_stored_secret=False,
    )
    with pytest.raises(PystageError) as info:
        handler.challenge({}, poll=None)
    assert info.value.code == "EOTP"
    assert info.value.message == "no one-time password entered"
    assert capsys.readouterr().err == "\n"  # the error starts on its own line
