"""``--access-log`` writes to stderr, as the docs say; stdout keeps only the "listening" line."""

import re
import subprocess
import sys

import requests
from helpers import StreamLines


def test_access_log_goes_to_stderr_and_hides_tokens(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pystage",
            "registry",
            "serve",
            "--storage",
            str(tmp_path / "s"),
            "--listen",
            "127.0.0.1:0",
            "--access-log",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = StreamLines(process.stderr)
    try:
        line = process.stdout.readline()
        url = re.search(r"listening on (http://\S+/)", line).group(1)
        requests.get(url + "-/ping", timeout=10)
        requests.get(url + "no-such-package", timeout=10)
        requests.delete(url + "-/npm/v1/tokens/token/pystage_SECRETVALUE", timeout=10)
        requests.delete(url + "-/user/token/pystage_OTHERSECRET", timeout=10)
        # the log line of the last request, which uvicorn writes after answering it
        assert log.wait_for('"DELETE /-/user/token/'), log.lines
    finally:
        process.terminate()
        process.wait(20)
        stdout, stderr = process.stdout.read(), log.text()
    assert stdout == "", stdout  # nothing after the "listening" line
    assert "GET /-/ping" in stderr and "GET /no-such-package" in stderr
    assert "SECRETVALUE" not in stderr and "OTHERSECRET" not in stderr
