"""Helpers for the team workflow on the embedded registry: owners, policies, approvals,
history, notification receivers. Everything goes over real HTTP, as a client sends it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from fixtures_registry import escaped


def add_owner(reg, by, name: str, package: str, otp: str | None = None):
    """What ``npm owner add`` sends: read the packument, PUT the longer list to -rev."""
    doc = reg.request("GET", escaped(package), by).json()
    maintainers = [*doc["maintainers"], {"name": name, "email": f"{name}@example.com"}]
    return _put_owners(reg, by, package, doc, maintainers, otp)


def remove_owner(reg, by, name: str, package: str, otp: str | None = None):
    doc = reg.request("GET", escaped(package), by).json()
    maintainers = [m for m in doc["maintainers"] if m["name"] != name]
    return _put_owners(reg, by, package, doc, maintainers, otp)


def _put_owners(reg, by, package, doc, maintainers, otp):
    if otp is None and by.totp_secret:
        otp = reg.totp_code(by)
    return reg.request(
        "PUT",
        f"{escaped(package)}/-rev/{quote(doc['_rev'], safe='')}",
        by,
        otp=otp,
        json={"_id": doc["_id"], "_rev": doc["_rev"], "maintainers": maintainers},
    )


def set_policy(reg, by, package: str, otp: str | None = None, **body):
    """PUT the policy (``approvers=``, ``expireAfter=``) with ``by``'s next code."""
    if otp is None and by.totp_secret:
        otp = reg.totp_code(by)
    return reg.request("PUT", f"-/pystage/policy/{escaped(package)}", by, otp=otp, json=body)


def approve(reg, by, stage_id: str, otp: str | None = None):
    if otp is None and by.totp_secret:
        otp = reg.totp_code(by)
    return reg.request("POST", f"-/stage/{stage_id}/approve", by, otp=otp)


def events(reg, by, package: str | None = None, **params) -> list[dict]:
    query = {**({"package": package} if package else {}), **params}
    response = reg.request("GET", "-/pystage/history", by, params=query)
    assert response.status_code == 200, response.text
    return response.json()["events"]


def published_versions(reg, package: str) -> set[str]:
    response = reg.request("GET", escaped(package))
    return set(response.json()["versions"]) if response.status_code == 200 else set()


@pytest.fixture
def team(registry_server):
    """alice and bob (both 2FA) maintain ``pkg`` (1.0.0 published); carol has no 2FA and
    maintains nothing. Tests where a second factor is not the point use carol's packages."""
    reg = registry_server
    alice = reg.add_user("alice")
    reg.publish(alice, "pkg", "1.0.0")
    reg.bob = reg.add_user("bob", tfa=True)
    reg.carol = reg.add_user("carol")
    response = add_owner(reg, alice, "bob", "pkg")
    assert response.status_code == 200, response.text
    # enrolled last: TOTP gives each user about three codes per 30 s, so spend none here
    reg.alice = reg.enrol_2fa(alice)
    return reg


class Receiver:
    """A loopback webhook receiver: records each POSTed JSON body; answers ``status``."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[dict] = []
        self.attempts = 0
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._cond:
                    receiver.attempts += 1
                    if receiver.status < 300:
                        receiver.received.append(json.loads(body))
                    receiver._cond.notify_all()
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook?secret=s3cr3t"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout: float = 15) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    hook = Receiver()
    yield hook
    hook.stop()
