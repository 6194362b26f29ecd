"""Start-up: `pystage --version` (target < 50 ms, issue 12), with `npm --version` as the yardstick.

This is the start-up budget of a command that sends no request: it imports neither
Click nor requests (tests/test_startup_imports.py pins which modules each command
loads, which does not depend on machine load; this measures what they cost)."""

from __future__ import annotations

from benchmarks.measure import (
    Result,
    cpu_note,
    isolated_npm_env,
    npm_cmd,
    paired_medians,
    pystage_cmd,
)

RUNS = 15


def run():
    npm = npm_cmd("--version")
    cpu: list[float | None] = []
    ours, theirs = paired_medians(
        pystage_cmd("--version"),
        npm,
        RUNS,
        their_env=isolated_npm_env() if npm else None,
        cpu=cpu,
    )
    yield Result("start-up: --version", "s", ours, theirs, "< 50 ms", ours < 0.050, cpu_note(cpu))
