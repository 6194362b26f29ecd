"""Driving the review page (``/-/web/``) over plain HTTP, as a browser without
JavaScript would: GET a form, read its hidden CSRF field, POST it back."""

from __future__ import annotations

import re

import pytest
import requests

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


class WebClient:
    """One browser: its own cookie jar, no redirects followed unless asked."""

    def __init__(self, server) -> None:
        self.server = server
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return self.server.url + "-/web/" + path.lstrip("/")

    def get(self, path: str, **kwargs):
        return self.http.get(self.url(path), allow_redirects=False, timeout=30, **kwargs)

    def post(self, path: str, data: dict, **kwargs):
        return self.http.post(
            self.url(path), data=data, allow_redirects=False, timeout=30, **kwargs
        )

    def sign_in(self, user, otp: str | None = None, password: str | None = None):
        form = self.get("signin")
        data = {
            "csrf": csrf_of(form.text),
            "name": user.name,
            "password": user.password if password is None else password,
            "next": "/-/web/",
        }
        if otp is not None:
            data["otp"] = otp
        return self.post("signin", data)

    def signed_in(self, user):
        answer = self.sign_in(user, self.server.totp_code(user) if user.totp_secret else None)
        assert answer.status_code == 303, answer.text
        return self

    def form_token(self, path: str) -> str:
        page = self.get(path)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)


@pytest.fixture
def web_client():
    clients = []

    def make(server) -> WebClient:
        client = WebClient(server)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.http.close()
