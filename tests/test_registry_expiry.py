"""Expiry of staged versions under a policy: lazily on access, by the periodic sweep,
and racing an approval with exactly one outcome."""

import threading
import time
from datetime import datetime

import pytest
from helpers import events, published_versions, set_policy, start_registry


def _when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture
def reg(registry_server):
    registry_server.carol = registry_server.add_user("carol")
    registry_server.publish(registry_server.carol, "pkg", "1.0.0")
    return registry_server


def _tarballs(reg):
    return len(list((reg.storage / "tarballs").iterdir()))


def test_a_version_not_approved_in_time_is_discarded(reg):
    assert set_policy(reg, reg.carol, "pkg", expireAfter=2).status_code == 200
    stage_id = reg.stage(reg.carol, "pkg", "1.1.0")
    item = reg.request("GET", f"-/stage/{stage_id}", reg.carol).json()
    assert _when(item["expiresAt"]) - _when(item["createdAt"]) == pytest.approx(2, abs=0.01)
    assert _tarballs(reg) == 2
    time.sleep(max(0.0, _when(item["expiresAt"]) - time.time()) + 0.2)

    assert reg.request("GET", f"-/stage/{stage_id}", reg.carol).status_code == 404
    assert reg.request("GET", "-/stage", reg.carol).json()["total"] == 0
    late = reg.request("POST", f"-/stage/{stage_id}/approve", reg.carol)
    assert late.status_code == 409 and "expired" in late.json()["error"]
    assert published_versions(reg, "pkg") == {"1.0.0"}
    assert _tarballs(reg) == 1
    [expired] = [e for e in events(reg, reg.carol, "pkg") if e["event"] == "expire"]
    assert expired["actor"] is None and expired["id"] == stage_id
    assert expired["detail"] == {"expiresAt": item["expiresAt"]}
    # the version number is free again
    assert reg.stage(reg.carol, "pkg", "1.1.0")


def test_approved_in_time_is_published(reg):
    assert set_policy(reg, reg.carol, "pkg", expireAfter=30).status_code == 200
    stage_id = reg.stage(reg.carol, "pkg", "1.1.0")
    assert reg.request("POST", f"-/stage/{stage_id}/approve", reg.carol).status_code == 200
    assert "1.1.0" in published_versions(reg, "pkg")


def test_the_expiry_is_fixed_when_staged(reg):
    assert set_policy(reg, reg.carol, "pkg", expireAfter=3600).status_code == 200
    stage_id = reg.stage(reg.carol, "pkg", "1.1.0")
    before = reg.request("GET", f"-/stage/{stage_id}", reg.carol).json()["expiresAt"]
    assert set_policy(reg, reg.carol, "pkg", expireAfter=None).status_code == 200
    assert reg.request("GET", f"-/stage/{stage_id}", reg.carol).json()["expiresAt"] == before
    later = reg.stage(reg.carol, "pkg", "1.2.0")
    assert "expiresAt" not in reg.request("GET", f"-/stage/{later}", reg.carol).json()


def test_the_sweep_expires_without_any_request(tmp_path, receiver):
    reg = start_registry(
        tmp_path / "registry", extra_args=("--expiry-sweep", "0.2", "--notify", receiver.url)
    )
    try:
        carol = reg.add_user("carol")
        reg.publish(carol, "pkg", "1.0.0")
        assert set_policy(reg, carol, "pkg", expireAfter=1).status_code == 200
        stage_id = reg.stage(carol, "pkg", "1.1.0")
        # no request to the registry from here on: only the sweep can expire it
        assert receiver.wait_for(lambda r: any(e["event"] == "expire" for e in r.received))
        [expired] = [e for e in receiver.received if e["event"] == "expire"]
        assert expired["id"] == stage_id and expired["version"] == "1.1.0"
        assert len(list((reg.storage / "tarballs").iterdir())) == 1
    finally:
        reg.stop()


def test_expiry_and_approval_racing_leave_exactly_one_outcome(reg):
    dave = reg.add_user("dave")
    reg.publish(dave, "race", "1.0.0")
    assert set_policy(reg, dave, "race", expireAfter=2).status_code == 200
    count = 12
    ids = [reg.stage(dave, "race", f"2.0.{n}") for n in range(count)]
    deadline = _when(reg.request("GET", f"-/stage/{ids[-1]}", dave).json()["expiresAt"])
    results: dict[str, int] = {}
    barrier = threading.Barrier(count)

    def go(n, stage_id):
        barrier.wait()
        # spread the approvals across the expiry moment: some before, some after
        time.sleep(max(0.0, deadline - time.time() - 0.15 + n * 0.025))
        results[stage_id] = reg.request("POST", f"-/stage/{stage_id}/approve", dave).status_code

    threads = [threading.Thread(target=go, args=(n, i)) for n, i in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    published = published_versions(reg, "race")
    log = events(reg, dave, "race", perPage=1000)
    for n, stage_id in enumerate(ids):
        outcomes = [e["event"] for e in log if e["id"] == stage_id and e["event"] != "stage"]
        version = f"2.0.{n}"
        if results[stage_id] == 200:
            assert outcomes == ["publish", "approve"], (version, outcomes)
            assert version in published
        else:
            assert results[stage_id] == 409, (version, results[stage_id])
            assert outcomes == ["expire"], (version, outcomes)
            assert version not in published
    assert reg.request("GET", "-/stage", dave).json()["total"] == 0
    tarballs = len(list((reg.storage / "tarballs").iterdir()))
    assert tarballs == 2 + sum(1 for r in results.values() if r == 200)
