"""Start-up: `pystage --version` (target < 80 ms), with `npm --version` as the yardstick."""

from __future__ import annotations

from benchmarks.measure import Result, isolated_npm_env, median_seconds, npm_cmd, pystage_cmd

RUNS = 15


def run():
    ours = median_seconds(pystage_cmd("--version"), RUNS)
    npm = npm_cmd("--version")
    theirs = median_seconds(npm, RUNS, env=isolated_npm_env()) if npm else None
    yield Result("start-up: --version", "s", ours, theirs, "< 80 ms", ours < 0.080)
