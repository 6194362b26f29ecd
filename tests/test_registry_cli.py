"""`pystage registry serve` as a command: options, defaults, failures."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests


def _serve(*args, env=None, cwd=None):
    return subprocess.Popen(
        [sys.executable, "-m", "pystage", "registry", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def _listening_url(process):
    line = process.stdout.readline()
    assert "listening on" in line, line + process.stderr.read()
    return line.split("listening on ")[1].split()[0]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serves_until_interrupted_in_default_storage(tmp_path, stop_signal):
    data_home = tmp_path / "xdg"
    process = _serve("--listen", "127.0.0.1:0", env={"XDG_DATA_HOME": str(data_home)})
    try:
        url = _listening_url(process)
        assert requests.get(url + "-/ping", timeout=10).status_code == 200
        assert (data_home / "pystage" / "registry" / "registry.db").is_file()
        assert (data_home / "pystage" / "registry" / "tarballs").is_dir()
        # registration is closed unless asked for
        response = requests.put(
            url + "-/user/org.couchdb.user:eve", json={"name": "eve", "password": "pw"}, timeout=10
        )
        assert response.status_code == 403
    finally:
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0


@pytest.mark.parametrize(
    "args,message",
    [
        (["--listen", "127.0.0.1:notaport"], "not a host:port"),
        (["--listen", "127.0.0.1:70000"], "port out of range"),
        (["--max-body-size", "lots"], "not a size"),
        (["--public-url", "ftp://x"], "--public-url"),
    ],
)
def test_bad_options_are_usage_errors(run_pystage, tmp_path, args, message):
    result = run_pystage("registry", "serve", "--storage", tmp_path / "s", *args)
    assert result.returncode == 2
    assert "EUSAGE" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


def test_address_in_use_is_a_clear_error(run_pystage, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_pystage(
            "registry", "serve", "--storage", tmp_path / "s", "--listen", f"127.0.0.1:{port}"
        )
    assert result.returncode != 0
    assert "EADDRINUSE" in result.stderr and "Traceback" not in result.stderr


def test_registry_is_listed_and_help_is_fast(run_pystage):
    started = time.monotonic()
    result = run_pystage("registry", "serve", "--help")
    assert result.returncode == 0 and "--open-registration" in result.stdout
    assert time.monotonic() - started < 10
    # the client's start-up never imports the server stack
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pystage.cli.main, pystage.cli.registry;"
            "print(any(m.split('.')[0] in ('starlette', 'uvicorn') for m in sys.modules))",
        ],
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip() == "False"


def test_access_log_never_shows_a_token(tmp_path):
    from helpers import start_registry

    server = start_registry(tmp_path / "r", extra_args=("--access-log",))
    try:
        alice = server.add_user("alice")
        assert server.request("GET", "-/whoami", alice).status_code == 200
        assert server.request("DELETE", f"-/user/token/{alice.token}", alice).status_code == 200
    finally:
        server.stop()
    log = server.log_text()
    assert "GET /-/whoami" in log and "DELETE /-/user/token/***" in log
    assert alice.token not in log and alice.password not in log
