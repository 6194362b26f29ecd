"""The review page's list of 1,000 staged items (10 packages x 100 versions), rendered
by the embedded registry: the server's own time (session, queries, template), read from
the page's ``server-timing`` header. Target: under 300 ms once the reviews are cached
(the first view queues them for the background reviewer; its time is shown too).
npm has no review page: its figure is `npm stage list --json` listing the same items."""

from __future__ import annotations

import re
import statistics
import time

from benchmarks.bench_list import _seed as _seed_list
from benchmarks.fixtures import registry
from benchmarks.measure import WORK, Result, npm_cmd, run_once

PACKAGES, VERSIONS = 10, 100
RUNS = 10
_TIMING = re.compile(r"render;dur=([\d.]+)")


def _seed(server, user, marker):
    import benchmarks.bench_list as bench_list

    saved = bench_list.PACKAGES, bench_list.VERSIONS
    bench_list.PACKAGES, bench_list.VERSIONS = PACKAGES, VERSIONS
    try:
        _seed_list(server, user, marker)
    finally:
        bench_list.PACKAGES, bench_list.VERSIONS = saved


def _signed_in(server, user):
    import requests

    browser = requests.Session()
    form = browser.get(server.url + "-/web/signin", timeout=30)
    token = re.search(r'name="csrf" value="([^"]*)"', form.text).group(1)
    answer = browser.post(
        server.url + "-/web/signin",
        data={"csrf": token, "name": user.name, "password": user.password},
        allow_redirects=False,
        timeout=30,
    )
    answer.raise_for_status()
    return browser


def _render(browser, url):
    started = time.perf_counter()
    page = browser.get(url, timeout=60)
    wall = time.perf_counter() - started
    page.raise_for_status()
    rows = page.text.count('<tr>\n  <td class="pkg"')
    return float(_TIMING.search(page.headers["server-timing"]).group(1)) / 1000, wall, page, rows


def run():
    marker = WORK / "webpage" / "seeded"
    with registry("webpage", fresh=not marker.exists()) as (server, user, _npmrc, env):
        if not marker.exists():
            _seed(server, user, marker)
        browser = _signed_in(server, user)
        url = server.url + "-/web/"
        cold, _, page, rows = _render(browser, url)
        deadline = time.monotonic() + 300
        while "reviewing…" in page.text and time.monotonic() < deadline:
            time.sleep(1)
            _, _, page, rows = _render(browser, url)
        timings = [_render(browser, url) for _ in range(RUNS)]
        server_time = statistics.median(t[0] for t in timings)
        wall = statistics.median(t[1] for t in timings)
        npm_time = None
        cmd = npm_cmd("stage", "list", "--json")
        if cmd:
            npm_time = statistics.median(run_once(cmd, env=env).seconds for _ in range(3))
    expected = PACKAGES * VERSIONS
    yield Result(
        f"web: list of {expected} staged, server time",
        "s",
        server_time,
        npm_time,
        "< 300 ms",
        server_time < 0.3 and rows == expected,
    )
    yield Result("web: same, wall time at the browser", "s", wall, None, "-", True)
    yield Result("web: first view (queues the reviews)", "s", cold, None, "-", True)
