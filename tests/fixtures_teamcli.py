"""The team commands driven through the CLI, as maintainers run them: ``crew`` is an
embedded registry where alice (2FA) publishes ``pkg`` 1.0.0, bob (2FA) and carol exist,
and ``crew.run(user, *args)`` runs ``python -m pystage`` logged in as that user
(``make_crew`` and ``Crew`` are in helpers.py)."""

from __future__ import annotations

import pytest
from helpers import make_crew


@pytest.fixture
def crew(tmp_path, registry_server):
    return make_crew(tmp_path, registry_server)
