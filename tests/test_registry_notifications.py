"""``pystage registry serve --notify URL``: a JSON event per history event, POSTed by a
background sender that retries a failing hook, logs it, and never holds up the action."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import Receiver, make_package, set_policy, start_registry


@pytest.fixture
def failing():
    hook = Receiver(status=503)
    yield hook
    hook.stop()


def _registry(tmp_path, *urls):
    args = [arg for url in urls for arg in ("--notify", url)]
    return start_registry(tmp_path / "registry", extra_args=tuple(args))


def test_every_event_reaches_every_hook(tmp_path, receiver):
    second = Receiver()
    reg = _registry(tmp_path, receiver.url, second.url)
    try:
        carol = reg.add_user("carol")
        reg.publish(carol, "pkg", "1.0.0")
        assert set_policy(reg, carol, "pkg", expireAfter=600).status_code == 200
        one = reg.stage(carol, "pkg", "1.1.0")
        assert reg.request("POST", f"-/stage/{one}/approve", carol).status_code == 200
        two = reg.stage(carol, "pkg", "1.2.0")
        reason = {"pystage-reject-reason": "not%20yet"}
        assert reg.request("DELETE", f"-/stage/{two}", carol, headers=reason).status_code == 204
        kinds = ["publish", "policy", "stage", "approve", "publish", "stage", "reject"]
        for hook in (receiver, second):
            assert hook.wait_for(lambda r: len(r.received) >= len(kinds)), hook.received
            assert [e["event"] for e in hook.received] == kinds
        history = reg.request("GET", "-/pystage/history", carol).json()["events"]
        assert receiver.received == list(reversed(history))  # the very history events
        rejected = receiver.received[-1]
        assert set(rejected) == {
            "seq",
            "at",
            "event",
            "package",
            "version",
            "id",
            "actor",
            "detail",
        }
        assert rejected["detail"] == {"reason": "not yet"} and rejected["id"] == two
        assert rejected["actor"] == "carol" and rejected["version"] == "1.2.0"
    finally:
        reg.stop()
        second.stop()


def test_a_failing_hook_is_retried_then_logged_and_the_others_still_get_it(
    tmp_path, receiver, failing
):
    reg = _registry(tmp_path, failing.url, receiver.url)
    try:
        carol = reg.add_user("carol")
        started = time.monotonic()
        reg.publish(carol, "pkg", "1.0.0")
        assert time.monotonic() - started < 2  # not held up by the 503s
        assert receiver.wait_for(lambda r: len(r.received) == 1)
        assert failing.wait_for(lambda r: r.attempts == 4)  # the first try and 3 retries
        deadline = time.monotonic() + 10
        while "failed after 4 attempt(s)" not in reg.log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = reg.log_text()
        assert "notification publish #1 to http://127.0.0.1:" in log
        assert "failed after 4 attempt(s): HTTP 503" in log
        assert "s3cr3t" not in log and "/hook" not in log  # the hook's secret stays out of logs
        time.sleep(1)
        assert failing.attempts == 4  # gave up
    finally:
        reg.stop()


def test_an_unreachable_or_hanging_hook_never_blocks_the_action(tmp_path, receiver):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    release = threading.Event()

    class Hang(BaseHTTPRequestHandler):
        def do_POST(self):
            release.wait(30)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    hanging = ThreadingHTTPServer(("127.0.0.1", 0), Hang)
    threading.Thread(
        target=hanging.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    reg = _registry(tmp_path, dead, f"http://127.0.0.1:{hanging.server_address[1]}/", receiver.url)
    try:
        carol = reg.add_user("carol")
        started = time.monotonic()
        reg.publish(carol, "pkg", "1.0.0")
        for n in range(5):
            reg.stage(carol, "pkg", f"1.1.{n}")
        assert time.monotonic() - started < 5
        assert receiver.wait_for(lambda r: len(r.received) == 6)
        deadline = time.monotonic() + 15
        while "ConnectionRefusedError" not in reg.log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "ConnectionRefusedError" in reg.log_text()
    finally:
        release.set()
        reg.stop()
        hanging.shutdown()
        hanging.server_close()


def test_a_hook_is_not_sent_anywhere_else_by_a_redirect(tmp_path, receiver):
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(307)
            self.send_header("location", receiver.url)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    redirecting = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(
        target=redirecting.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    reg = _registry(tmp_path, f"http://127.0.0.1:{redirecting.server_address[1]}/")
    try:
        reg.publish(reg.add_user("carol"), "pkg", "1.0.0")
        deadline = time.monotonic() + 10
        while "HTTP 307" not in reg.log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "HTTP 307" in reg.log_text()
        assert receiver.received == []
    finally:
        reg.stop()
        redirecting.shutdown()
        redirecting.server_close()


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "example.com/hook", "http://"])
def test_a_bad_hook_url_is_a_usage_error(run_pystage, tmp_path, url):
    result = run_pystage(
        "registry", "serve", "--listen", "127.0.0.1:0", "--storage", tmp_path / "s", "--notify", url
    )
    assert result.returncode == 2
    assert result.stderr.startswith("pystage error EUSAGE: --notify URL #1 ")
    assert "Traceback" not in result.stderr


def test_the_stage_of_a_real_pystage_publish_is_announced(tmp_path, receiver, run_pystage):
    reg = _registry(tmp_path, receiver.url)
    try:
        carol = reg.add_user("carol")
        reg.publish(carol, "demo-pkg", "1.0.0")
        pkg = make_package(tmp_path / "pkg", version="1.1.0")
        npmrc = reg.write_npmrc(tmp_path / "npmrc", carol)
        result = run_pystage("publish", cwd=pkg, env={"npm_config_userconfig": str(npmrc)})
        assert result.returncode == 0, result.stderr
        assert receiver.wait_for(lambda r: [e["event"] for e in r.received] == ["publish", "stage"])
        assert receiver.received[-1]["version"] == "1.1.0"
    finally:
        reg.stop()
