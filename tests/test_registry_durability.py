"""The registry under stress: concurrent approvals, crashes mid-approve, 100 MB bodies."""

import base64
import hashlib
import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from helpers import start_registry


def _wait_for(server, text, timeout=30):
    deadline = time.monotonic() + timeout
    while text not in server.log_text():
        assert time.monotonic() < deadline, f"never saw {text!r}:\n{server.log_text()}"
        time.sleep(0.05)


def _state(server, user, name):
    doc = server.request("GET", name).json()
    staged = server.request("GET", "-/stage", user, params={"package": name}).json()
    return doc, staged


def test_two_simultaneous_approvals_one_wins(registry_server):
    reg = registry_server
    alice = reg.add_user("alice")
    reg.publish(alice, "pkg", "1.0.0")
    for round_ in range(4):
        version = f"1.{round_ + 1}.0"
        stage_id = reg.stage(alice, "pkg", version)
        barrier = threading.Barrier(2)

        def approve(stage_id=stage_id, barrier=barrier):
            barrier.wait()
            return reg.request("POST", f"-/stage/{stage_id}/approve", alice)

        with ThreadPoolExecutor(2) as pool:
            results = [f.result() for f in [pool.submit(approve), pool.submit(approve)]]
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 409], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 409)
        assert "already approved" in loser.json()["error"]
        doc, staged = _state(reg, alice, "pkg")
        assert doc["dist-tags"]["latest"] == version
        assert list(doc["versions"]) == [f"1.{i}.0" for i in range(round_ + 2)]
        assert staged["total"] == 0


def test_approve_racing_reject_leaves_exactly_one_outcome(registry_server):
    reg = registry_server
    alice = reg.add_user("alice")
    reg.publish(alice, "pkg", "1.0.0")
    stage_id = reg.stage(alice, "pkg", "1.1.0")
    barrier = threading.Barrier(2)

    def act(method, path):
        barrier.wait()
        return reg.request(method, path, alice)

    with ThreadPoolExecutor(2) as pool:
        approve = pool.submit(act, "POST", f"-/stage/{stage_id}/approve")
        reject = pool.submit(act, "DELETE", f"-/stage/{stage_id}")
        approve, reject = approve.result(), reject.result()
    doc, staged = _state(reg, alice, "pkg")
    assert staged["total"] == 0
    if approve.status_code == 200:
        assert reject.status_code == 409 and "1.1.0" in doc["versions"]
    else:
        assert (approve.status_code, reject.status_code) == (409, 204)
        assert "1.1.0" not in doc["versions"]


@pytest.mark.parametrize("point", ["approve-before-commit", "approve-after-commit"])
def test_killed_during_approve_restarts_consistent(tmp_path, point):
    server = start_registry(tmp_path / "r", env={"PYSTAGE_REGISTRY_PAUSE_AT": point})
    try:
        alice = server.add_user("alice")
        server.publish(alice, "pkg", "1.0.0")
        stage_id = server.stage(alice, "pkg", "1.1.0", {"index.js": "staged"})
        staged_tarball = server.request("GET", f"-/stage/{stage_id}/tarball", alice).content

        def approve():
            try:
                server.request("POST", f"-/stage/{stage_id}/approve", alice, timeout=60)
            except requests.RequestException:
                pass  # the server dies under it

        worker = threading.Thread(target=approve)
        worker.start()
        _wait_for(server, f"paused at {point}")
        server.kill()
        worker.join(30)
        server.restart(env={"PYSTAGE_REGISTRY_PAUSE_AT": ""})

        doc, staged = _state(server, alice, "pkg")
        if point == "approve-before-commit":  # nothing happened
            assert list(doc["versions"]) == ["1.0.0"] and doc["dist-tags"] == {"latest": "1.0.0"}
            assert [i["id"] for i in staged["items"]] == [stage_id]
            assert (
                server.request("GET", f"-/stage/{stage_id}/tarball", alice).content
                == staged_tarball
            )
            assert server.request("POST", f"-/stage/{stage_id}/approve", alice).status_code == 200
            doc, staged = _state(server, alice, "pkg")
        # whichever way, it ends published exactly once, with its tarball, and no stage left
        assert list(doc["versions"]) == ["1.0.0", "1.1.0"] and doc["dist-tags"]["latest"] == "1.1.0"
        assert staged["total"] == 0
        assert server.request("GET", "pkg/-/pkg-1.1.0.tgz").content == staged_tarball
        assert len(os.listdir(server.storage / "tarballs")) == 2
    finally:
        server.stop()


def test_killed_while_staging_leaves_no_stage_and_no_orphan_file(tmp_path):
    server = start_registry(
        tmp_path / "r", env={"PYSTAGE_REGISTRY_PAUSE_AT": "stage-before-commit"}
    )
    try:
        alice = server.add_user("alice")
        server.publish(alice, "pkg", "1.0.0")
        worker = threading.Thread(target=lambda: _ignore(server.stage, alice, "pkg", "1.1.0"))
        worker.start()
        _wait_for(server, "paused at stage-before-commit")
        assert len(os.listdir(server.storage / "tarballs")) == 2  # renamed before the commit
        server.kill()
        worker.join(30)
        server.restart(env={"PYSTAGE_REGISTRY_PAUSE_AT": ""})
        assert server.request("GET", "-/stage", alice).json()["total"] == 0
        assert len(os.listdir(server.storage / "tarballs")) == 1  # the orphan was collected
        assert os.listdir(server.storage / "tmp") == []
        server.stage(alice, "pkg", "1.1.0")  # and the version is free again
    finally:
        server.stop()


def _ignore(fn, *args):
    try:
        fn(*args)
    except requests.RequestException:
        pass


def _peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_100mb_stage_body_is_streamed_with_bounded_memory(registry_server):
    reg = registry_server
    alice = reg.add_user("alice")
    reg.publish(alice, "big", "1.0.0")
    chunk_size, chunks = 3 * 2**18, 134  # ~105 MB of tarball, ~140 MB of base64

    def tarball_chunks():
        rng = random.Random(7)
        for i in range(chunks):
            data = rng.randbytes(chunk_size)
            yield b"\x1f\x8b" + data[2:] if i == 0 else data

    sha1, sha512 = hashlib.sha1(), hashlib.sha512()
    for chunk in tarball_chunks():
        sha1.update(chunk)
        sha512.update(chunk)
    integrity = "sha512-" + base64.b64encode(sha512.digest()).decode()
    size = chunk_size * chunks
    head = {
        "_id": "big",
        "name": "big",
        "dist-tags": {"latest": "2.0.0"},
        "access": None,
        "versions": {
            "2.0.0": {
                "name": "big",
                "version": "2.0.0",
                "_id": "big@2.0.0",
                "dist": {"integrity": integrity, "shasum": sha1.hexdigest()},
            }
        },
    }

    def body():  # chunked transfer encoding: the server never learns the size up front
        yield json.dumps(head)[:-1].encode() + b', "_attachments": {"big-2.0.0.tgz": {"data": "'
        for chunk in tarball_chunks():
            yield base64.b64encode(chunk)
        yield b'", "length": ' + str(size).encode() + b"}}}"

    baseline = _peak_rss_kib(reg.process.pid)
    response = reg.request("POST", "-/stage/package/big", alice, data=body(), timeout=300)
    assert response.status_code == 201, response.text
    assert response.json()["integrity"] == integrity
    growth_mib = (_peak_rss_kib(reg.process.pid) - baseline) / 1024
    assert growth_mib < 60, (
        f"server memory grew by {growth_mib:.0f} MiB for a {size >> 20} MiB tarball"
    )

    download = reg.request(
        "GET", f"-/stage/{response.json()['stageId']}/tarball", alice, stream=True
    )
    received = hashlib.sha512()
    for piece in download.iter_content(1 << 20):
        received.update(piece)
    assert "sha512-" + base64.b64encode(received.digest()).decode() == integrity
