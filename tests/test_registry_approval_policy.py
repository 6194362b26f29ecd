"""Approval policies on the embedded registry: N distinct maintainers, each with their own
one-time password, must approve a staged version before it is published."""

import threading

from helpers import add_owner, approve, events, published_versions, remove_owner, set_policy


def _item(reg, user, stage_id):
    response = reg.request("GET", f"-/stage/{stage_id}", user)
    assert response.status_code == 200, response.text
    return response.json()


def _is_otp_challenge(response):
    return response.status_code == 401 and "otp" in response.headers["www-authenticate"].lower()


def test_the_default_policy_is_one_approver_and_no_expiry(team):
    policy = team.request("GET", "-/pystage/policy/pkg", team.bob)
    assert policy.json() == {"package": "pkg", "approvers": 1, "expireAfter": None}
    stage_id = team.stage(team.alice, "pkg", "1.1.0")
    item = _item(team, team.bob, stage_id)
    assert item["approvalsRequired"] == 1
    assert item["approvals"] == []
    assert "expiresAt" not in item
    response = approve(team, team.bob, stage_id)
    assert response.status_code == 200, response.text
    assert response.json()["published"] is True
    assert [a["actor"] for a in response.json()["approvals"]] == ["bob"]
    assert "1.1.0" in published_versions(team, "pkg")


def test_two_maintainers_each_with_their_own_code(team):
    response = set_policy(team, team.alice, "pkg", approvers=2)
    assert response.status_code == 200, response.text
    assert response.json() == {"package": "pkg", "approvers": 2, "expireAfter": None}
    stage_id = team.stage(team.alice, "pkg", "1.1.0")
    assert _item(team, team.bob, stage_id)["approvalsRequired"] == 2

    first = approve(team, team.alice, stage_id)
    assert first.status_code == 202, first.text
    body = first.json()
    assert body["ok"] is True and body["published"] is False
    assert body["approvalsRequired"] == 2
    assert [a["actor"] for a in body["approvals"]] == ["alice"]
    assert "1.1.0" not in published_versions(team, "pkg")

    again = approve(team, team.alice, stage_id, otp="000000")  # refused before any code check
    assert again.status_code == 409
    assert again.json()["error"] == "you have already approved this version"
    assert [a["actor"] for a in _item(team, team.bob, stage_id)["approvals"]] == ["alice"]
    assert "1.1.0" not in published_versions(team, "pkg")

    assert _is_otp_challenge(team.request("POST", f"-/stage/{stage_id}/approve", team.bob))
    second = approve(team, team.bob, stage_id)
    assert second.status_code == 200, second.text
    assert second.json()["published"] is True
    assert [a["actor"] for a in second.json()["approvals"]] == ["alice", "bob"]
    assert "1.1.0" in published_versions(team, "pkg")
    assert team.request("GET", f"-/stage/{stage_id}", team.bob).status_code == 404

    log = [e for e in events(team, team.alice, "pkg") if e["id"] == stage_id]
    assert [(e["event"], e["actor"], e["detail"]) for e in reversed(log)] == [
        ("stage", "alice", {"tag": "latest"}),
        ("approve", "alice", {"approval": 1, "of": 2}),
        ("approve", "bob", {"approval": 2, "of": 2}),
        ("publish", "bob", {"tag": "latest", "staged": True}),
    ]


def test_a_reject_by_any_maintainer_ends_a_pending_quorum(team):
    assert set_policy(team, team.alice, "pkg", approvers=2).status_code == 200
    stage_id = team.stage(team.alice, "pkg", "1.1.0")
    assert approve(team, team.alice, stage_id).status_code == 202
    rejected = team.request("DELETE", f"-/stage/{stage_id}", team.bob, otp=team.totp_code(team.bob))
    assert rejected.status_code == 204
    late = approve(team, team.alice, stage_id, otp="000000")
    assert late.status_code == 409 and "rejected" in late.json()["error"]
    assert "1.1.0" not in published_versions(team, "pkg")


def test_an_approval_by_someone_no_longer_an_owner_stops_counting(team):
    carol = team.carol
    dave, erin = team.add_user("dave"), team.add_user("erin")
    team.publish(carol, "solo", "1.0.0")
    for name in ("dave", "erin"):
        assert add_owner(team, carol, name, "solo").status_code == 200
    assert set_policy(team, carol, "solo", approvers=2).status_code == 200
    stage_id = team.stage(carol, "solo", "1.1.0")
    assert approve(team, dave, stage_id).status_code == 202
    assert remove_owner(team, carol, "dave", "solo").status_code == 200
    assert _item(team, carol, stage_id)["approvals"] == []
    response = approve(team, erin, stage_id)
    assert response.status_code == 202, response.text
    assert [a["actor"] for a in response.json()["approvals"]] == ["erin"]
    assert "1.1.0" not in published_versions(team, "solo")


def test_raising_the_policy_holds_back_a_version_staged_before(team):
    stage_id = team.stage(team.alice, "pkg", "1.1.0")
    assert set_policy(team, team.alice, "pkg", approvers=2).status_code == 200
    assert approve(team, team.bob, stage_id).status_code == 202
    assert "1.1.0" not in published_versions(team, "pkg")


def test_bad_policies_are_refused_and_change_nothing(team):
    otp = team.totp_code(team.alice)  # a refused body does not spend the code
    for body, says in (
        ({"approvers": 3}, "has 2 maintainers"),
        ({"approvers": 0}, "at least 1"),
        ({"approvers": "2"}, "whole number"),
        ({"approvers": True}, "whole number"),
        ({"approvers": 1.5}, "whole number"),
        ({"expireAfter": 0}, "expireAfter"),
        ({"expireAfter": -5}, "expireAfter"),
        ({"expireAfter": "2s"}, "expireAfter"),
        ({"expireAfter": 10**12}, "expireAfter"),
        ({"approvers": 1, "quorum": 2}, "quorum"),
        ([2], "JSON object"),
    ):
        response = team.request("PUT", "-/pystage/policy/pkg", team.alice, otp=otp, json=body)
        assert response.status_code == 400, (body, response.text)
        assert says in response.json()["error"], (body, response.text)
    malformed = team.request(
        "PUT",
        "-/pystage/policy/pkg",
        team.alice,
        otp=otp,
        data=b"{",
        headers={"content-type": "application/json"},
    )
    assert malformed.status_code == 400
    # the code was never spent: it still works, for a valid change
    ok = team.request("PUT", "-/pystage/policy/pkg", team.alice, otp=otp, json={"expireAfter": 60})
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"package": "pkg", "approvers": 1, "expireAfter": 60}
    assert [e["event"] for e in events(team, team.alice, "pkg")].count("policy") == 1


def test_a_policy_change_needs_the_code_of_a_2fa_maintainer(team):
    response = team.request("PUT", "-/pystage/policy/pkg", team.alice, json={"approvers": 2})
    assert _is_otp_challenge(response)
    wrong = team.request(
        "PUT", "-/pystage/policy/pkg", team.alice, otp="000000", json={"approvers": 2}
    )
    assert wrong.status_code == 401
    assert team.request("GET", "-/pystage/policy/pkg", team.alice).json()["approvers"] == 1
    assert "policy" not in [e["event"] for e in events(team, team.alice, "pkg")]


def test_only_maintainers_read_or_change_a_policy(team):
    for user in (team.carol, None):
        read = team.request("GET", "-/pystage/policy/pkg", user)
        assert read.status_code == (404 if user else 401)
        write = team.request("PUT", "-/pystage/policy/pkg", user, json={"approvers": 1})
        assert write.status_code == (404 if user else 401)
    assert team.request("GET", "-/pystage/policy/nope", team.alice).status_code == 404
    assert team.request("GET", "-/pystage/policy/@s%2fnope", team.alice).status_code == 404


def test_an_account_without_2fa_sets_a_policy_without_a_code(team):
    team.publish(team.carol, "carols", "1.0.0")
    response = team.request("PUT", "-/pystage/policy/carols", team.carol, json={"expireAfter": 90})
    assert response.status_code == 200, response.text
    assert response.json()["expireAfter"] == 90
    [event] = [e for e in events(team, team.carol, "carols") if e["event"] == "policy"]
    assert event["actor"] == "carol"
    assert event["detail"]["approvers"] == 1 and event["detail"]["expireAfter"] == 90


def test_a_scoped_package_policy(team):
    team.publish(team.carol, "@team/lib", "1.0.0")
    response = team.request(
        "PUT", "-/pystage/policy/@team%2flib", team.carol, json={"approvers": 1}
    )
    assert response.status_code == 200, response.text
    assert response.json()["package"] == "@team/lib"


def test_two_maintainers_approving_at_once_publish_exactly_once(team):
    team.publish(team.carol, "race", "1.0.0")
    dave = team.add_user("dave")
    assert add_owner(team, team.carol, "dave", "race").status_code == 200
    assert set_policy(team, team.carol, "race", approvers=2).status_code == 200
    for round_number in range(5):
        stage_id = team.stage(team.carol, "race", f"1.1.{round_number}")
        results = []
        barrier = threading.Barrier(2)

        def go(user, stage_id=stage_id, barrier=barrier, results=results):
            barrier.wait()
            results.append(approve(team, user, stage_id).status_code)

        threads = [threading.Thread(target=go, args=(u,)) for u in (team.carol, dave)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200, 202], results
        log = [e["event"] for e in events(team, team.carol, "race") if e["id"] == stage_id]
        assert log.count("publish") == 1 and log.count("approve") == 2
    assert {f"1.1.{n}" for n in range(5)} <= published_versions(team, "race")


def test_the_same_maintainer_approving_twice_at_once_counts_once(team):
    team.publish(team.carol, "twice", "1.0.0")
    team.add_user("dave")
    assert add_owner(team, team.carol, "dave", "twice").status_code == 200
    assert set_policy(team, team.carol, "twice", approvers=2).status_code == 200
    stage_id = team.stage(team.carol, "twice", "1.1.0")
    results = []
    barrier = threading.Barrier(4)

    def go():
        barrier.wait()
        results.append(approve(team, team.carol, stage_id).status_code)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [202, 409, 409, 409], results
    assert [a["actor"] for a in _item(team, team.carol, stage_id)["approvals"]] == ["carol"]
    assert "1.1.0" not in published_versions(team, "twice")
