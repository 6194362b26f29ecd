"""`make demo` runs the whole job on the embedded registry and cleans up after itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from helpers import requires_npm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@requires_npm((11,))
def test_demo_stages_approves_and_installs_then_cleans_up(tmp_path):
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "TMPDIR": str(tmp_path),
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
    }
    result = subprocess.run(
        ["bash", os.path.join(ROOT, "scripts", "demo.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out

    stage_id = re.search(r"\+ hello-stage@1\.1\.0 \(staged with id ([0-9a-f-]{36})\)", out).group(1)
    for expected in (
        "$ pystage publish",
        "$ pystage list",
        f"$ pystage view {stage_id}",
        f"$ pystage approve {stage_id} --otp ",
        f"Staged package {stage_id} approved and published successfully.",
        "hello from 1.1.0",
        "No staged packages found.",
    ):
        assert expected in out
    assert '"latest": "1.1.0"' in out
    # the throw-away directory (storage, npmrc with the token) is gone, and so is the server
    assert os.listdir(tmp_path) == []
    port = re.search(r"registry: http://127\.0\.0\.1:(\d+)/", out).group(1)
    import socket

    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", int(port))) != 0


@requires_npm((11,))
def test_demo_output_redirected_to_one_file_keeps_every_step(tmp_path):
    # `make demo > log 2>&1`, as a CI log does: nothing may truncate the shared file
    log = tmp_path / "demo.log"
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "TMPDIR": str(tmp_path),
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
    }
    with open(log, "w") as out:
        result = subprocess.run(
            ["bash", os.path.join(ROOT, "scripts", "demo.sh")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=240,
        )
    text = log.read_text()
    assert result.returncode == 0, text
    steps = re.findall(r"^== (\d)\.", text, re.M)
    assert steps == [str(n) for n in range(1, 9)], text
