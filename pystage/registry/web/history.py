"""The history shown on the page: who staged, approved, rejected a package's versions.

It reads the registry's append-only history (``pystage/registry/history.py``) through
the same function as the API's history endpoint, so the page and
``pystage history`` can never disagree, and with the same visibility rule: only
maintainers see a package's events (404 otherwise).
"""

from __future__ import annotations

from pystage.registry.accounts import User
from pystage.registry.history import history_for
from pystage.registry.service import Registry

PER_PAGE = 100


def package_history(registry: Registry, user: User, package: str | None, page: int = 0) -> dict:
    """``{"events": [...], "total", "page", "perPage"}``, newest first; 404 for a package
    the user does not maintain (whether or not it exists)."""
    return history_for(registry, user, package, page, PER_PAGE)
