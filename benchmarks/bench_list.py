"""`list` over 5,000 staged items (50 pages of 100) against the embedded registry:
`pystage list --json` against `npm stage list --json`. Target: under 2 s.

Also the start-up case of issue 12: `pystage list --json` with a handful of staged
items, at most half of `npm stage list --json`'s wall time, npm measured in the same
run against the same embedded registry: the budget of a command that talks to a
registry (Click, the client on requests, one request)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from benchmarks.fixtures import _registry_module, registry
from benchmarks.measure import WORK, Result, cpu_note, npm_cmd, paired_medians, pystage_cmd

PACKAGES, VERSIONS = 50, 100  # 5,000 staged items
RUNS = 5
SMALL_RUNS = 15


def _seed(server, user, marker) -> None:
    """Stage PACKAGES x VERSIONS items over HTTP (once: the storage is kept)."""
    import requests

    helpers = _registry_module()
    local = threading.local()

    def session():
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["authorization"] = f"Bearer {user.token}"
        return local.session

    def stage(args):
        name, version = args
        tarball = helpers.make_tarball(name, version)
        doc = helpers.publish_document(server.url, name, version, tarball)
        r = session().post(
            f"{server.url}-/stage/package/{helpers.escaped(name)}", json=doc, timeout=60
        )
        r.raise_for_status()

    names = [f"bench-list-{p:02d}" for p in range(PACKAGES)]
    for name in names:
        server.publish(user, name, "0.0.1")
    jobs = [(name, f"1.0.{v}") for name in names for v in range(VERSIONS)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(stage, jobs))
    marker.touch()


def _count(expected):
    def check(run):
        items = json.loads(run.stdout)
        assert len(items) == expected, f"{len(items)} items listed, {expected} staged"

    return check


def run():
    # start-up: a few staged items
    with registry("list-small") as (server, user, npmrc, env):
        server.publish(user, "bench-small-list", "0.0.1")
        for v in range(5):
            server.stage(user, "bench-small-list", f"1.0.{v}")
        npm = npm_cmd("stage", "list", "--json")
        cpu: list[float | None] = []
        ours, theirs = paired_medians(
            pystage_cmd("list", "--json"), npm, SMALL_RUNS, env=env, check=_count(5), cpu=cpu
        )
        yield Result(
            "start-up: list --json (5 items)",
            "s",
            ours,
            theirs,
            "<= 0.5 x npm",
            theirs is not None and ours <= 0.5 * theirs,
            cpu_note(cpu),
        )

    marker = WORK / "list-5000.seeded"
    with registry("list-5000", fresh=not marker.exists()) as (server, user, npmrc, env):
        if not marker.exists():
            print("  staging 5,000 items (once; kept in benchmarks/.work)", flush=True)
            _seed(server, user, marker)
        total = PACKAGES * VERSIONS
        npm = npm_cmd("stage", "list", "--json")
        ours, theirs = paired_medians(
            pystage_cmd("list", "--json"), npm, RUNS, env=env, check=_count(total)
        )
        yield Result("list 5,000 staged items", "s", ours, theirs, "< 2 s", ours < 2.0)
