"""Packing: `pystage pack` against `npm pack` on the unpacked typescript 5.9 package
(23 MB in ~130 files) and on a tree of 6,000 small files. Target: at most half of
npm's wall time, the same uncompressed tar stream, a .tgz within 1% of npm's size."""

from __future__ import annotations

import gzip
import shutil
import statistics

from benchmarks.fixtures import small_files_tree, typescript_tree
from benchmarks.measure import WORK, Result, isolated_npm_env, npm_cmd, pystage_cmd, run_once

RUNS = 5


def _pack(cmd: list[str], cwd, out_dir, env=None) -> tuple[float, bytes]:
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    run = run_once(cmd + ["--pack-destination", str(out_dir)], cwd=cwd, env=env)
    [tgz] = list(out_dir.glob("*.tgz"))
    return run.seconds, tgz.read_bytes()


def _case(label: str, tree) -> list[Result]:
    ours_dir, npm_dir = WORK / "pack-out-pystage", WORK / "pack-out-npm"
    npm = npm_cmd("pack", "--ignore-scripts", "--silent")
    ours_cmd = pystage_cmd("pack", "--ignore-scripts", "-q")
    ours_t, theirs_t = [], []
    ours_tgz = theirs_tgz = b""
    for _ in range(RUNS):  # interleaved, so both see the same machine load
        t, ours_tgz = _pack(ours_cmd, tree, ours_dir)
        ours_t.append(t)
        if npm:
            t, theirs_tgz = _pack(npm, tree, npm_dir, env=isolated_npm_env())
            theirs_t.append(t)
    ours, theirs = statistics.median(ours_t), statistics.median(theirs_t) if theirs_t else None
    results = [
        Result(
            f"pack {label}: wall time",
            "s",
            ours,
            theirs,
            "<= 0.5 x npm",
            theirs is not None and ours <= 0.5 * theirs,
        )
    ]
    if theirs_tgz:
        same = gzip.decompress(ours_tgz) == gzip.decompress(theirs_tgz)
        results.append(
            Result(f"pack {label}: tar stream identical", "", float(same), 1.0, "identical", same)
        )
        results.append(
            Result(
                f"pack {label}: .tgz size",
                "MiB",
                len(ours_tgz) / 2**20,
                len(theirs_tgz) / 2**20,
                "within 1%",
                abs(len(ours_tgz) - len(theirs_tgz)) <= 0.01 * len(theirs_tgz),
            )
        )
    return results


def run():
    yield from _case("typescript 5.9", typescript_tree())
    yield from _case("6,000 small files", small_files_tree(6000))
