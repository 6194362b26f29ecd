"""Adversarial QA of the stage commands and the registry client: what a
hostile or merely broken registry can send (odd tarballs, non-object items,
HTML error pages, lying pagination, long lock-outs), and where a download may
be asked to go. Each test reproduces a bug found by hand; the servers are real
HTTP servers on free ports (tests/fixtures_auth.py ``recording_server``) or
the embedded registry."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import tarfile
import threading
import time

import pytest
from helpers import requires_npm

requires_npm_11 = requires_npm((11,))
SID = "0f3c2a4e-1111-4222-8333-944445555666"
FAST_RETRIES = {
    "npm_config_fetch_retry_mintimeout": "50",
    "npm_config_fetch_retry_maxtimeout": "200",
}


def tgz(manifest: dict | str) -> bytes:
    data = (manifest if isinstance(manifest, str) else json.dumps(manifest)).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        info = tarfile.TarInfo("package/package.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


@pytest.fixture
def broken(recording_server, run_pystage, tmp_path):
    """A scripted registry and a ``pystage`` runner pointed at it (no credentials)."""
    server = recording_server()
    (tmp_path / "work").mkdir()

    def run(*args, env=None, **kw):
        return run_pystage(
            *args,
            "--registry",
            server.url,
            "--userconfig",
            tmp_path / "empty-npmrc",
            cwd=kw.pop("cwd", tmp_path / "work"),
            env={**FAST_RETRIES, **(env or {})},
            **kw,
        )

    server.run = run
    return server


def assert_clean_failure(result, code=None, verbose=False):
    assert result.returncode != 0
    assert verbose or "Traceback" not in result.stderr
    assert "EUNKNOWN" not in result.stderr, result.stderr
    if code:
        assert f"pystage error {code}:" in result.stderr, result.stderr


def files_in(path) -> list[str]:
    return sorted(os.listdir(path))


# -- download: where the file goes ----------------------------------------------------


def serve_tarball(server, data: bytes) -> None:
    server.script[("GET", f"/-/stage/{SID}/tarball")] = (
        200,
        {"content-type": "application/octet-stream"},
        data,
    )


def test_download_to_a_fifo_writes_through_it_and_keeps_it(broken, tmp_path):
    # `-o /dev/null` (or a FIFO) must be written to, not replaced by a regular file:
    # os.replace over /dev/null as root turned the device into a file.
    data = tgz({"name": "pkg", "version": "1.0.0"})
    serve_tarball(broken, data)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = broken.run("download", SID, "-o", fifo)
    reader.join(10)
    if reader.is_alive():  # nobody opened the FIFO for writing: unblock the reader
        with open(fifo, "wb"):
            pass
        reader.join(5)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced"
    assert received == [data]
    assert [n for n in files_in(tmp_path) if n.startswith(".pystage")] == []


def test_download_writes_a_file_with_the_umask_mode_as_npm_does(broken, tmp_path):
    serve_tarball(broken, tgz({"name": "pkg", "version": "1.0.0"}))
    result = broken.run("download", SID)
    assert result.returncode == 0, result.stderr
    mask = os.umask(0)
    os.umask(mask)
    saved = tmp_path / "work" / f"pkg-1.0.0-{SID}.tgz"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o666 & ~mask


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_download_where_no_file_can_be_created_is_a_clean_error(broken):
    serve_tarball(broken, tgz({"name": "pkg", "version": "1.0.0"}))
    result = broken.run("download", SID, "-o", "/proc/")
    assert_clean_failure(result)
    assert "/proc" in result.stderr


@pytest.mark.parametrize(
    "manifest",
    [
        {"name": "../../evil", "version": "1.0.0"},
        {"name": "x/../../evil", "version": "1.0.0"},
        {"name": "pkg", "version": "1.0.0/../../evil"},
        {"description": "no name, no version"},
    ],
)
def test_download_refuses_a_tarball_whose_name_makes_no_safe_file_name(broken, tmp_path, manifest):
    serve_tarball(broken, tgz(manifest))
    nested = tmp_path / "work" / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "work" / "a" / "b" / "..-..").mkdir()
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = broken.run("download", SID, cwd=nested)
    assert_clean_failure(result, "ETARBALL")
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_download_of_garbage_names_the_stage_id_not_a_temp_file(broken):
    serve_tarball(broken, b"<html>not a tarball</html>")
    result = broken.run("download", SID)
    assert_clean_failure(result, "ETARBALL")
    assert SID in result.stderr
    assert ".pystage-download" not in result.stderr


# -- odd registry answers -------------------------------------------------------------


def test_list_with_items_that_are_not_objects_is_a_clean_error(broken):
    broken.script[("GET", "/-/stage")] = (200, {}, {"items": [None, 3], "total": 2})
    assert_clean_failure(broken.run("list"), "EBADRESPONSE")


def test_name_at_version_matching_an_item_without_id_is_a_clean_error(broken):
    broken.script[("GET", "/-/stage")] = (
        200,
        {},
        {"items": [{"packageName": "pkg", "version": "1.0.0"}], "total": 1},
    )
    assert_clean_failure(broken.run("view", "pkg@1.0.0"), "EBADRESPONSE")


def test_a_registry_that_ignores_page_does_not_make_list_loop_forever(broken):
    page = [
        {"id": f"{i:08d}-1111-4222-8333-944445555666", "packageName": "p", "version": f"1.0.{i}"}
        for i in range(100)
    ]
    broken.script[("GET", "/-/stage")] = (200, {}, {"items": page, "total": 10**9})
    started = time.monotonic()
    result = broken.run("list", timeout=60)
    assert_clean_failure(result, "EBADRESPONSE")
    assert time.monotonic() - started < 30
    assert len([r for r in broken.requests if r["path"].startswith("/-/stage")]) <= 3


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
def test_html_error_page_is_reported_as_text_not_markup(broken, page, words):
    broken.script[("GET", f"/-/stage/{SID}")] = (502, {"content-type": "text/html"}, page)
    result = broken.run("view", SID, env={"npm_config_fetch_retries": "0"})
    assert_clean_failure(result, "E502")
    assert "<" not in result.stderr and "color" not in result.stderr
    assert words in result.stderr
    assert result.returncode == 7
    assert len(result.stderr.splitlines()) == 1


# -- lock-out ------------------------------------------------------------------------


def test_reject_while_the_account_is_locked_fails_at_once(registry_server, run_pystage, tmp_path):
    # A locked account answers 429 with retry-after: 300. DELETE is idempotent, so the
    # client retried it, sleeping a minute each time: two minutes for a certain refusal.
    alice = registry_server.add_user("alice", tfa=True)
    registry_server.publish(alice, "pkg", "1.0.0")
    stage_id = registry_server.stage(alice, "pkg", "1.1.0")
    for _ in range(6):
        registry_server.request("POST", f"-/stage/{stage_id}/approve", alice, otp="000000")
    npmrc = registry_server.write_npmrc(tmp_path / "npmrc", alice)
    started = time.monotonic()
    result = run_pystage(
        "reject",
        stage_id,
        "--otp",
        registry_server.totp_code(alice),
        "--userconfig",
        npmrc,
        timeout=100,
    )
    elapsed = time.monotonic() - started
    assert_clean_failure(result, "E429")
    assert "locked" in result.stderr
    assert elapsed < 20
    assert registry_server.request("GET", f"-/stage/{stage_id}", alice).status_code == 200


@pytest.mark.parametrize("retry_after", ["300", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_a_retry_after_beyond_the_longest_wait_is_not_retried(broken, retry_after):
    broken.script[("GET", f"/-/stage/{SID}")] = (
        503,
        {"retry-after": retry_after},
        {"error": "down for maintenance"},
    )
    started = time.monotonic()
    result = broken.run("view", SID)
    assert_clean_failure(result, "E503")
    assert "down for maintenance" in result.stderr
    assert time.monotonic() - started < 15
    assert len(broken.requests) == 1


def test_a_short_retry_after_is_honoured_and_retried(broken):
    answers = iter(
        [
            (429, {"retry-after": "0"}, {"error": "slow down"}),
            (200, {}, {"id": SID, "packageName": "pkg", "version": "1.0.0"}),
        ]
    )
    broken.script[("GET", f"/-/stage/{SID}")] = lambda req: next(answers)
    result = broken.run("view", SID, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == SID
    assert len(broken.requests) == 2


# -- secrets in a registry URL ------------------------------------------------------------


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


# -- legacy, un-keyed credentials ---------------------------------------------------------


@pytest.mark.parametrize(
    "lines, problem",
    [
        (["_authToken=abc123secret"], "`_authToken` must be renamed to `//{host}/:_authToken`"),
        (["_auth=YWxpY2U6cHc="], "`_auth` must be renamed to `//{host}/:_auth`"),
        (
            ["username=alice", "_password=cHc="],
            "`username` must be renamed to `//{host}/:username`",
        ),
        (["username=alice"], "`username` is not allowed in user config"),
    ],
)
def test_unkeyed_credentials_are_refused_as_npm_refuses_them(
    registry_server, run_pystage, tmp_path, lines, problem
):
    # npm 11 fails with ERR_INVALID_AUTH; pystage ignored them and said "not logged in"
    host = f"127.0.0.1:{registry_server.port}"
    npmrc = tmp_path / "npmrc"
    npmrc.write_text("\n".join([f"registry={registry_server.url}", *lines]) + "\n")
    for args in (("whoami",), ("list",), ("approve", SID)):
        result = run_pystage(*args, "--userconfig", npmrc)
        assert_clean_failure(result, "ERR_INVALID_AUTH")
        assert problem.format(host=host) in result.stderr
        assert "abc123secret" not in result.stderr


@requires_npm_11
def test_unkeyed_token_message_matches_npm(registry_server, run_pystage, tmp_path, npm_env):
    import subprocess

    npmrc = tmp_path / "npmrc"
    npmrc.write_text(f"registry={registry_server.url}\n_authToken=abc123secret\n")
    theirs = subprocess.run(
        ["npm", "whoami", "--userconfig", str(npmrc)],
        capture_output=True,
        text=True,
        env=npm_env,
        timeout=120,
    )
    mine = run_pystage("whoami", "--userconfig", npmrc)
    assert "ERR_INVALID_AUTH" in theirs.stderr and "ERR_INVALID_AUTH" in mine.stderr
    expected = re.search(r"Invalid auth configuration found: (.*)", theirs.stderr).group(1)
    assert expected in mine.stderr


# -- a stored TOTP secret used twice in one 30-second window --------------------------------


def test_stored_totp_code_refused_as_already_used_waits_for_the_next_one(
    recording_server, memory_keyring, tmp_path
):
    # Approving two staged versions within 30 s with `pystage otp set` failed the second:
    # the same code again is a replay, which registries refuse.
    import pyotp

    from pystage.config import load_config
    from pystage.context import client_from_config
    from pystage.credentials import OTP_KEYRING_SERVICE
    from pystage.otp import OtpHandler

    server = recording_server()
    secret = pyotp.random_base32()
    wall = [1_800_000_010.0]  # 10 s into a 30-second step
    used_now, fresh = pyotp.TOTP(secret).at(wall[0]), pyotp.TOTP(secret).at(wall[0] + 30)

    def approve(req):
        if req["headers"].get("npm-otp") == fresh:
            return 200, {}, {"ok": True}
        return (
            401,
            {"www-authenticate": "OTP"},
            {"error": "invalid or already used one-time password"},
        )

    server.script[("POST", f"/-/stage/{SID}/approve")] = approve
    key = "//" + server.url.split("//", 1)[1]
    memory_keyring.set_password(OTP_KEYRING_SERVICE, key, secret)
    config = load_config(
        cwd=tmp_path,
        env={"HOME": str(tmp_path)},
        cli={"registry": server.url, "userconfig": str(tmp_path / "npmrc")},
    )
    slept, notices = [], []

    def sleep(seconds):
        slept.append(seconds)
        wall[0] += seconds

    handler = OtpHandler(
        registry=server.url,
        interactive=False,
        env={},
        sleep=sleep,
        notify=notices.append,
        wall=lambda: wall[0],
    )
    client = client_from_config(config, otp_handler=handler, use_keyring=False)
    assert client.json("POST", f"-/stage/{SID}/approve") == {"ok": True}
    assert [r["headers"].get("npm-otp") for r in server.requests] == [None, used_now, fresh]
    assert 20 <= sum(slept) <= 21
    assert any("next" in n for n in notices)
    assert not any(used_now in n or fresh in n or secret in n for n in notices)


def test_approve_confirmed_by_a_200_without_json_is_a_success(broken):
    # the registry published it: reporting EJSONPARSE (exit 1) would make the user retry
    broken.script[("POST", f"/-/stage/{SID}/approve")] = (
        200,
        {"content-type": "text/plain"},
        b"OK",
    )
    result = broken.run("approve", SID, "--otp", "123456")
    assert result.returncode == 0, result.stderr
    assert "approved and published successfully" in result.stdout


def test_login_with_a_wrong_password_does_not_suggest_logging_in(
    registry_server, run_pystage, tmp_path
):
    registry_server.add_user("alice", "correct horse")
    result = run_pystage(
        "login",
        "-u",
        "alice",
        "--password-stdin",
        "--save-to-npmrc",
        "--registry",
        registry_server.url,
        "--userconfig",
        tmp_path / "npmrc",
        input="wrong horse\n",
    )
    assert_clean_failure(result, "E401")
    assert "incorrect" in result.stderr
    assert "pystage login" not in result.stderr
    assert "wrong horse" not in result.stderr
    assert not (tmp_path / "npmrc").exists()


# -- the embedded registry, from the outside ----------------------------------------------


@pytest.mark.parametrize("page", ["99999999999999999999", str(2**62)])
def test_registry_answers_a_page_far_past_the_end_with_an_empty_page(registry_server, page):
    alice = registry_server.add_user("alice")
    registry_server.publish(alice, "pkg", "1.0.0")
    registry_server.stage(alice, "pkg", "1.1.0")
    resp = registry_server.request("GET", f"-/stage?page={page}&perPage=1000", alice)
    assert resp.status_code == 200, resp.text
    assert resp.json()["items"] == [] and resp.json()["total"] == 1


# -- terminal escapes from the registry ---------------------------------------------------

EVIL_ITEM = {
    "id": SID,
    "packageName": "pkg\x1b[2J",
    "version": "1.0.0\r9.9.9",
    "tag": "latest",
    "actor": "\x1b]0;pwned\x07mallory\x1b[1A",
    "actorType": "user",
    "note": "line1\nversion: 0.0.1\x9b2K",
}


@pytest.mark.parametrize("args", [("list",), ("view", SID), ("list", "--json")])
def test_registry_text_cannot_inject_terminal_escapes(broken, args):
    # the item summary is what a maintainer checks before typing an OTP: a registry (or
    # anything it echoes) must not be able to move the cursor or rewrite lines
    broken.script[("GET", "/-/stage")] = (200, {}, {"items": [EVIL_ITEM], "total": 1})
    broken.script[("GET", f"/-/stage/{SID}")] = (200, {}, EVIL_ITEM)
    result = broken.run(*args)
    assert result.returncode == 0, result.stderr
    if "--json" in args:
        assert json.loads(result.stdout) == [EVIL_ITEM]  # data stays data
        return
    for stream in (result.stdout, result.stderr):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", stream), repr(stream)
    assert "mallory" in result.stdout and "pkg" in result.stdout


def test_registry_error_text_cannot_inject_terminal_escapes(broken):
    broken.script[("GET", f"/-/stage/{SID}")] = (
        403,
        {},
        {"error": "forbidden\x1b[2K\rpystage: all good\x1b]0;x\x07"},
    )
    result = broken.run("view", SID)
    assert_clean_failure(result, "E403")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.stderr), repr(result.stderr)


@pytest.mark.parametrize("registry", ["http://[::1", "http://[::1/x"])
def test_a_malformed_registry_url_is_einvalidurl(run_pystage, tmp_path, registry):
    result = run_pystage("list", "--registry", registry, "--userconfig", tmp_path / "none")
    assert_clean_failure(result, "EINVALIDURL")


@pytest.mark.parametrize("location", ["http://[::1", "http://[zz]:80/x"])
def test_a_malformed_redirect_location_is_a_clean_error(broken, location):
    broken.script[("GET", f"/-/stage/{SID}")] = (302, {"location": location}, b"")
    assert_clean_failure(broken.run("view", SID, env={"npm_config_fetch_retries": "0"}))


def test_a_network_error_after_a_redirect_names_the_host_that_failed(broken):
    gone = closed_port()
    broken.script[("GET", f"/-/stage/{SID}")] = (
        302,
        {"location": f"http://127.0.0.1:{gone}/elsewhere"},
        b"",
    )
    result = broken.run("view", SID, env={"npm_config_fetch_retries": "0"})
    assert_clean_failure(result, "ECONNREFUSED")
    assert f"127.0.0.1:{gone}" in result.stderr
