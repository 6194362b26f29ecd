"""A real embedded registry for end-to-end tests (the server itself, ``start_registry``,
is in helpers.py; scripts and benchmarks use it through this module too).

``registry_server`` starts ``python -m pystage registry serve`` as a subprocess on
a free port with its own storage, waits for ``/-/ping``, and offers helpers to
create users (optionally with TOTP two-factor), produce fresh one-time
passwords, publish and stage packages over HTTP.
"""

from __future__ import annotations

import pytest

# start_registry is also what benchmarks/fixtures.py uses; the other names are
from helpers import start_registry


@pytest.fixture
def registry_server(tmp_path):
    server = start_registry(tmp_path / "registry")
    try:
        yield server
    finally:
        server.stop()
