"""The review page's rules over plain HTTP: sign-in, sessions, CSRF, the 404 rule,
approve/reject refusals, headers and ``--no-web``. (The browser tests show the
same flows in Chromium; these cover the cases a browser would not send.)"""

from __future__ import annotations

import re

import pytest
from helpers import WebClient, csrf_of, start_registry

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server = start_registry(
        tmp_path_factory.mktemp("web-http") / "registry",
        extra_args=("--otp-max-failures", "3", "--otp-account-max-failures", "3"),
    )
    try:
        # two-factor "auth-only": publishing needs no code, so the test's codes last
        # (the registry takes three per 30 s window: one step either side)
        alice = server.add_user("alice", "alice password", tfa="auth-only")
        amy = server.add_user("amy", "amy password", tfa="auth-only")
        bob = server.add_user("bob", "bob password")
        server.publish(alice, "web-http-pkg", "1.0.0")
        server.publish(amy, "amy-pkg", "1.0.0")
        server.publish(bob, "bob-pkg", "1.0.0")
        yield {"server": server, "alice": alice, "amy": amy, "bob": bob}
    finally:
        server.stop()


def alert_of(html: str) -> str:
    match = re.search(r'role="alert"[^>]*>(.*?)</p>', html, re.S)
    assert match, html
    return match.group(1).strip()


# -- switched on and off ---------------------------------------------------------------
def test_the_page_is_on_by_default_and_sends_strict_headers(site):
    client = WebClient(site["server"])
    answer = client.get("")
    assert answer.status_code == 303 and answer.headers["location"].endswith(
        "/-/web/signin?next=%2F-%2Fweb%2F"
    )
    page = client.get("signin")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "unsafe" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text
    css = client.get("static/web.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.http.get(site["server"].url + "-/web", allow_redirects=False).status_code == 308


def test_no_web_turns_the_page_off(tmp_path):
    server = start_registry(tmp_path / "registry", extra_args=("--no-web",))
    try:
        for path in ("-/web/", "-/web/signin", "-/web/static/web.css"):
            answer = server.request("GET", path)
            assert answer.status_code == 404
            assert answer.headers["content-type"] == "application/json"
        assert server.request("GET", "-/ping").status_code == 200
    finally:
        server.stop()


def test_npm_web_login_pages_keep_their_paths_beside_the_page(tmp_path):
    server = start_registry(tmp_path / "registry", extra_args=("--web-auth",))
    try:
        urls = server.request("POST", "-/v1/login", json={}).json()
        login = server.http.get(urls["loginUrl"], timeout=10)
        assert login.status_code == 200 and "Log in to the pystage registry" in login.text
        assert WebClient(server).get("").status_code == 303  # the review page is there too
    finally:
        server.stop()


# -- signing in --------------------------------------------------------------------------
def test_session_cookie_is_httponly_strict_and_expiring(site):
    client = WebClient(site["server"])
    answer = client.sign_in(site["bob"])
    assert answer.status_code == 303 and answer.headers["location"] == "/-/web/"
    cookies = answer.raw.headers.getlist("set-cookie")
    cookie = next(c for c in cookies if c.startswith("pystage_web="))
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes and "samesite=strict" in attributes
    assert "path=/-/web/" in attributes
    assert any(a.startswith("max-age=") and 0 < int(a[8:]) <= 12 * 3600 for a in attributes)
    assert "secure" not in attributes  # plain http here: a Secure cookie would never return
    assert client.get("").status_code == 200


def test_cookies_are_secure_when_served_over_https(tmp_path):
    server = start_registry(
        tmp_path / "registry", extra_args=("--public-url", "https://npm.example.test/")
    )
    try:
        page = WebClient(server).get("signin")
        assert "secure" in page.headers["set-cookie"].lower()
    finally:
        server.stop()


def test_wrong_password_and_unknown_name_get_the_same_answer(site):
    client = WebClient(site["server"])
    wrong = client.sign_in(site["bob"], password="not it")
    from helpers import User

    unknown = client.sign_in(User("nobody", "whatever", ""))
    assert wrong.status_code == unknown.status_code == 401
    assert alert_of(wrong.text) == alert_of(unknown.text) == "Incorrect user name or password."
    assert "pystage_web=" not in wrong.headers.get("set-cookie", "")


def test_sign_in_asks_for_the_code_and_refuses_a_replayed_one(site):
    server, alice = site["server"], site["alice"]
    client = WebClient(server)
    missing = client.sign_in(alice)
    assert missing.status_code == 401
    assert alert_of(missing.text) == "Enter the one-time password from your authenticator app."
    code = server.totp_code(alice)
    assert client.sign_in(alice, code).status_code == 303
    replayed = WebClient(server).sign_in(alice, code)
    assert replayed.status_code == 401
    assert "wrong or was already used" in alert_of(replayed.text)


def test_sign_in_form_needs_its_own_cookie(site):
    client = WebClient(site["server"])
    token = csrf_of(client.get("signin").text)
    stranger = WebClient(site["server"])  # another browser: has the token, not the cookie
    answer = stranger.post(
        "signin", {"csrf": token, "name": "bob", "password": site["bob"].password}
    )
    assert answer.status_code == 403 and "expired" in alert_of(answer.text)


def test_after_sign_in_only_our_own_pages_are_a_destination(site):
    client = WebClient(site["server"])
    form = client.get("signin?next=https://evil.example/")
    assert 'value="/-/web/"' in form.text
    for target in ("https://evil.example/", "//evil.example/-/web/", "/-/web//evil.example"):
        client = WebClient(site["server"])
        form = client.get("signin")
        data = {"csrf": csrf_of(form.text), "name": "bob", "password": site["bob"].password}
        answer = client.post("signin", {**data, "next": target})
        assert answer.headers["location"] == "/-/web/", target


def test_sign_out_ends_the_session_for_good(site):
    client = WebClient(site["server"]).signed_in(site["bob"])
    cookie = client.http.cookies.get("pystage_web")
    token = client.form_token("")
    assert client.post("signout", {"csrf": token}).status_code == 303
    thief = WebClient(site["server"])
    thief.http.cookies.set("pystage_web", cookie, path="/-/web/")
    assert thief.get("").status_code == 303  # back to sign-in: the old cookie is dead


# -- forms that change state -------------------------------------------------------------
def test_state_changing_posts_without_a_valid_token_are_refused(site):
    server, bob = site["server"], site["bob"]
    stage_id = server.stage(bob, "bob-pkg", "1.0.1")
    client = WebClient(server).signed_in(bob)
    token = client.form_token(f"stage/{stage_id}")
    refusals = [
        client.post(f"stage/{stage_id}/approve", {}),
        client.post(f"stage/{stage_id}/approve", {"csrf": "forged"}),
        client.post(
            f"stage/{stage_id}/approve", {"csrf": token}, headers={"origin": "https://evil.example"}
        ),
        client.post(f"stage/{stage_id}/approve", {"csrf": token}, headers={"origin": "null"}),
        client.http.post(
            client.url(f"stage/{stage_id}/approve"),
            data=f"csrf={token}",
            headers={"content-type": "text/plain"},
            allow_redirects=False,
        ),
        WebClient(server).post(f"stage/{stage_id}/approve", {"csrf": token}),  # no session
        client.post("signout", {}),
    ]
    assert [r.status_code for r in refusals] == [403, 403, 403, 403, 415, 403, 403]
    assert "CSRF" in refusals[0].text
    assert server.request("GET", f"-/stage/{stage_id}", bob).status_code == 200
    assert client.get("").status_code == 200  # still signed in
    done = client.post(f"stage/{stage_id}/approve", {"csrf": token})
    assert done.status_code == 303
    assert server.request("GET", f"-/stage/{stage_id}", bob).status_code == 404


def test_a_non_maintainer_gets_the_same_404_as_for_nothing(site):
    server, alice, bob = site["server"], site["alice"], site["bob"]
    stage_id = server.stage(alice, "web-http-pkg", "1.0.1")
    client = WebClient(server).signed_in(bob)
    theirs, nothing = client.get(f"stage/{stage_id}"), client.get(f"stage/{UNKNOWN_ID}")
    assert theirs.status_code == nothing.status_code == 404
    assert theirs.text == nothing.text
    assert client.get("stage/not-a-uuid").status_code == 404
    token = client.form_token("")
    acting = client.post(f"stage/{stage_id}/reject", {"csrf": token, "reason": "mine now"})
    assert acting.status_code == 404
    assert server.request("GET", f"-/stage/{stage_id}", alice).status_code == 200
    assert client.get("history?package=web-http-pkg").status_code == 404
    assert client.get("history?package=no-such-package").status_code == 404
    listing = client.get("?package=web-http-pkg")
    assert listing.status_code == 200 and "web-http-pkg@" not in listing.text


def test_approve_messages_for_wrong_and_locked_codes(site):
    server, amy = site["server"], site["amy"]
    stage_id = server.stage(amy, "amy-pkg", "2.0.0")
    client = WebClient(server).signed_in(amy)
    token = client.form_token(f"stage/{stage_id}")
    path = f"stage/{stage_id}/approve"

    empty = client.post(path, {"csrf": token})
    assert empty.status_code == 401
    assert alert_of(empty.text) == "Enter the one-time password from your authenticator app."
    wrong = client.post(path, {"csrf": token, "otp": "000000"})
    assert wrong.status_code == 401 and "wrong or was already used" in alert_of(wrong.text)
    wrong = client.post(path, {"csrf": token, "otp": "000001"})
    locked = client.post(path, {"csrf": token, "otp": "000002"})  # the 3rd wrong code in a row
    assert locked.status_code == 429
    assert re.fullmatch(
        r"Too many wrong one-time passwords: [\w ]+ locked, try again in \d+ s\.",
        alert_of(locked.text),
    )
    right_but_locked = client.post(path, {"csrf": token, "otp": server.totp_code(amy)})
    assert right_but_locked.status_code == 429
    assert server.request("GET", f"-/stage/{stage_id}", amy).status_code == 200


def test_an_item_approved_meanwhile_says_who_did_it(tmp_path):
    server = start_registry(tmp_path / "registry")
    try:
        dana = server.add_user("dana", "dana password")
        server.publish(dana, "raced", "1.0.0")
        stage_id = server.stage(dana, "raced", "1.1.0")
        first, second = WebClient(server).signed_in(dana), WebClient(server).signed_in(dana)
        first_token, second_token = (
            first.form_token(f"stage/{stage_id}"),
            second.form_token(f"stage/{stage_id}"),
        )
        assert first.post(f"stage/{stage_id}/approve", {"csrf": first_token}).status_code == 303
        late = second.post(f"stage/{stage_id}/reject", {"csrf": second_token, "reason": "too late"})
        assert late.status_code == 303
        assert late.headers["location"] == "/-/web/history?package=raced"
        history = second.get("history?package=raced")
        assert re.search(r"raced@1\.1\.0 was already approved by you at \S+Z\.", history.text)
        published = server.request("GET", "raced").json()
        assert "1.1.0" in published["versions"]
    finally:
        server.stop()


# -- the list ----------------------------------------------------------------------------
def test_the_list_filters_by_package_and_stager(tmp_path):
    server = start_registry(tmp_path / "registry")
    try:
        erin = server.add_user("erin", "erin password")
        for name in ("filt-a", "filt-b"):
            server.publish(erin, name, "1.0.0")
            server.stage(erin, name, "1.0.1")
        server.stage(erin, "filt-a", "1.0.2")
        client = WebClient(server).signed_in(erin)

        def versions(query):
            page = client.get(query).text
            return re.findall(r">(filt-[ab])<span class=\"at\">@</span>([\d.]+)<", page)

        assert len(versions("")) == 3
        assert versions("?package=filt-b") == [("filt-b", "1.0.1")]
        assert versions("?stager=erin&package=filt-a") == [("filt-a", "1.0.1"), ("filt-a", "1.0.2")]
        assert versions("?stager=someone-else") == []
        assert "Nothing staged matches this filter." in client.get("?stager=someone-else").text
    finally:
        server.stop()
