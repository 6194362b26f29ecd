"""Staging a 100 MB package of incompressible bytes: `pystage publish` against
`npm stage publish`, both packing the same directory and POSTing to the embedded
registry. Targets: pystage's peak resident memory under 64 MiB, wall time at most
half of npm's."""

from __future__ import annotations

import json
import statistics

from benchmarks.fixtures import incompressible_package, registry, write_package
from benchmarks.measure import Result, npm_cmd, pystage_cmd, run_once

SIZE = 100 * 1024 * 1024
RUNS = 2


def run():
    package = incompressible_package(SIZE)
    manifest = json.loads((package / "package.json").read_text())
    with registry("publish-registry") as (server, user, npmrc, npm_env):
        server.publish(user, manifest["name"], "0.0.1")  # staging needs an existing package
        ours_t, ours_rss, theirs_t, theirs_rss = [], [], [], []
        version = 0
        for _ in range(RUNS):  # interleaved, each with a fresh version
            version += 1
            write_package(package, {**manifest, "version": f"1.0.{version}"})
            run = run_once(
                pystage_cmd("publish", str(package), "--userconfig", str(npmrc), "--json"),
                env=npm_env,
            )
            assert json.loads(run.stdout)[manifest["name"]]["stageId"]
            ours_t.append(run.seconds)
            ours_rss.append(run.peak_rss)
            npm = npm_cmd("stage", "publish", str(package), "--json")
            if npm:
                version += 1
                write_package(package, {**manifest, "version": f"1.0.{version}"})
                run = run_once(npm, env=npm_env)
                theirs_t.append(run.seconds)
                theirs_rss.append(run.peak_rss)
        write_package(package, manifest)
    ours, theirs = statistics.median(ours_t), statistics.median(theirs_t) if theirs_t else None
    mib = 1024 * 1024
    peak = max(ours_rss) / mib
    yield Result(
        "stage 100 MB: peak memory",
        "MiB",
        peak,
        max(theirs_rss) / mib if theirs_rss else None,
        "< 64 MiB",
        peak < 64,
    )
    yield Result(
        "stage 100 MB: wall time",
        "s",
        ours,
        theirs,
        "<= 0.5 x npm",
        theirs is not None and ours <= 0.5 * theirs,
    )
