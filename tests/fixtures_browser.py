"""A real headless Chromium for the review page's tests, driven by Playwright.

The browser is Debian's ``chromium`` package (``make browser`` installs it and the
Playwright package; Playwright's own browser download cannot run here). Where it is
missing the tests skip with the reason, except under ``CI=true``, where a missing
browser fails them loudly: CI must prove the page in a browser.

Screenshots go to ``tests/.artifacts/`` (not committed) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PYSTAGE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / ".artifacts"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (run `make browser`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ModuleNotFoundError:
        return "the playwright package is not installed (run `make browser`)"
    return None


@pytest.fixture(scope="session")
def chromium():
    problem = _missing()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run in CI: {problem}", pytrace=False)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(chromium):
    """``new_page(viewport=LAPTOP, javascript=False, state=None)``: a page in a fresh
    context (its own cookies, or those of ``state``, a Playwright storage state).
    JavaScript is off by default: the page must work without it."""
    contexts = []

    def make(viewport=LAPTOP, javascript=False, state=None):
        context = chromium.new_context(
            viewport=viewport, java_script_enabled=javascript, storage_state=state
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
