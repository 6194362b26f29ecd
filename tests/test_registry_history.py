"""The append-only history log of the embedded registry and its endpoint."""

import sqlite3

import pytest
from helpers import add_owner, events, set_policy


@pytest.fixture
def reg(registry_server):
    reg = registry_server
    reg.carol = reg.add_user("carol")
    reg.dave = reg.add_user("dave")
    reg.publish(reg.carol, "pkg", "1.0.0")
    reg.publish(reg.dave, "other", "1.0.0")
    return reg


def test_every_kind_of_event_newest_first(reg):
    assert add_owner(reg, reg.carol, "dave", "pkg").status_code == 200
    assert set_policy(reg, reg.carol, "pkg", approvers=2).status_code == 200
    one = reg.stage(reg.carol, "pkg", "1.1.0")
    assert reg.request("POST", f"-/stage/{one}/approve", reg.carol).status_code == 202
    assert reg.request("POST", f"-/stage/{one}/approve", reg.dave).status_code == 200
    two = reg.stage(reg.dave, "pkg", "1.2.0")
    assert reg.request("DELETE", f"-/stage/{two}", reg.carol).status_code == 204
    log = events(reg, reg.carol, "pkg")
    assert [(e["event"], e["actor"], e["version"]) for e in log] == [
        ("reject", "carol", "1.2.0"),
        ("stage", "dave", "1.2.0"),
        ("publish", "dave", "1.1.0"),
        ("approve", "dave", "1.1.0"),
        ("approve", "carol", "1.1.0"),
        ("stage", "carol", "1.1.0"),
        ("policy", "carol", None),
        ("owner-add", "carol", None),
        ("publish", "carol", "1.0.0"),
    ]
    seqs = [e["seq"] for e in log]
    assert seqs == sorted(seqs, reverse=True)
    assert log[-2]["detail"] == {"user": "dave"}
    assert log[-3]["detail"] == {
        "approvers": 2,
        "expireAfter": None,
        "previous": {"approvers": 1, "expireAfter": None},
    }
    assert all(e["package"] == "pkg" and e["at"].endswith("Z") for e in log)
    assert {e["id"] for e in log if e["version"] == "1.1.0"} == {one}


def test_without_a_package_all_the_callers_packages_and_only_theirs(reg):
    reg.stage(reg.carol, "pkg", "1.1.0")
    reg.stage(reg.dave, "other", "1.1.0")
    assert {e["package"] for e in events(reg, reg.carol)} == {"pkg"}
    assert {e["package"] for e in events(reg, reg.dave)} == {"other"}
    assert (
        reg.request("GET", "-/pystage/history", reg.carol, params={"package": "other"}).status_code
        == 404
    )
    assert (
        reg.request("GET", "-/pystage/history", reg.carol, params={"package": "nope"}).status_code
        == 404
    )
    assert reg.request("GET", "-/pystage/history").status_code == 401


def test_pages(reg):
    for n in range(5):
        reg.stage(reg.carol, "pkg", f"1.1.{n}")
    response = reg.request(
        "GET", "-/pystage/history", reg.carol, params={"package": "pkg", "page": 1, "perPage": 2}
    ).json()
    assert response["total"] == 6 and response["page"] == 1 and response["perPage"] == 2
    assert [e["version"] for e in response["events"]] == ["1.1.2", "1.1.1"]
    beyond = events(reg, reg.carol, "pkg", page=10**30, perPage=2)
    assert beyond == []
    for params in ({"page": -1}, {"perPage": 0}, {"perPage": 1001}, {"page": "x"}):
        bad = reg.request("GET", "-/pystage/history", reg.carol, params=params)
        assert bad.status_code == 400, params


def test_no_endpoint_edits_or_deletes_events(reg):
    for method in ("PUT", "POST", "DELETE", "PATCH"):
        response = reg.request(method, "-/pystage/history", reg.carol, json={})
        assert response.status_code in (404, 405), method
    assert len(events(reg, reg.carol, "pkg")) == 1


def test_the_table_refuses_updates_and_deletes(reg):
    db = sqlite3.connect(reg.storage / "registry.db")
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE history SET actor = 'mallory'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM history")
    finally:
        db.close()


def test_the_history_survives_a_restart(reg):
    reg.stage(reg.carol, "pkg", "1.1.0")
    before = events(reg, reg.carol, "pkg")
    reg.restart()
    assert events(reg, reg.carol, "pkg") == before
