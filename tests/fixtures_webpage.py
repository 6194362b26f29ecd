"""Driving the review page (``/-/web/``) over plain HTTP, as a browser without
JavaScript would: GET a form, read its hidden CSRF field, POST it back (``WebClient``
and ``csrf_of`` are in helpers.py; ``web_client`` makes them and closes them)."""

from __future__ import annotations

import pytest
from helpers import WebClient


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
