"""Reviewing a 100 MB staged version against a 100 MB published one: `pystage review`
against downloading both tarballs with `pystage download` (two processes, to
/dev/null; each checks the tarball's integrity and lists it, as a reviewer who
downloads both would), in the same run, interleaved. Targets: pystage's peak
resident memory under 64 MiB, wall time at most 1.5 x the downloads. A raw
streamed GET of both (curl) is printed for reference.

`pystage download` takes staged versions only, so the baseline's tree is staged a
second time (as 1.0.0-copy, on another tag) to be downloaded the same way.

Both versions are real ones on the embedded registry: `pystage publish` stages them
from generated trees, the first is approved (published) to be the baseline. Each
tree holds four 24 MiB files of seeded random bytes (two of them different in the
staged version, so they are hashed and compared, not skipped) and ~4 MB of
JavaScript-like text in 400 files, a quarter of them changed (diffed and scanned)."""

from __future__ import annotations

import json
import random
import shutil
import statistics
from pathlib import Path

from benchmarks.fixtures import _source_text, registry, write_package
from benchmarks.measure import WORK, Result, pystage_cmd, run_once

BLOB = 24 * 1024 * 1024
BLOBS = 4
TEXT_FILES = 400
RUNS = 3
NAME = "bench-review"


def _tree(version: str, seed_of_blob, text_changed) -> Path:
    """The package tree for ``version`` (made once, kept under .work/)."""
    directory = WORK / f"review-{version}"
    marker = WORK / f"review-{version}.complete"
    if not marker.exists():
        shutil.rmtree(directory, ignore_errors=True)
        (directory / "native").mkdir(parents=True)
        for n in range(BLOBS):
            rng = random.Random(seed_of_blob(n))
            with open(directory / "native" / f"part{n}.bin", "wb") as out:
                for _ in range(BLOB >> 20):
                    out.write(rng.randbytes(1 << 20))
        for n in range(TEXT_FILES):
            rng = random.Random(1000 + n + (7919 if text_changed(n) else 0))
            text = "".join(_source_text(rng, n) for _ in range(4))
            path = directory / "lib" / f"mod{n // 50}" / f"file{n}.js"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        marker.touch()
    write_package(directory, {"name": NAME, "version": version, "main": "lib/mod0/file0.js"})
    return directory


def _stage(directory: Path, npmrc: Path, env, *more: str) -> str:
    run = run_once(
        pystage_cmd("publish", str(directory), "--userconfig", str(npmrc), "--json", *more),
        env=env,
    )
    return json.loads(run.stdout)[NAME]["stageId"]


def run():
    baseline = _tree("1.0.0", lambda n: 100 + n, lambda n: False)
    staged = _tree("1.1.0", lambda n: 100 + n + (50 if n % 2 else 0), lambda n: n % 4 == 0)
    with registry("review-registry") as (server, user, npmrc, env):
        server.publish(user, NAME, "0.0.1")  # staging needs an existing package
        base_id = _stage(baseline, npmrc, env)
        run_once(pystage_cmd("approve", base_id, "--userconfig", str(npmrc)), env=env)
        stage_id = _stage(staged, npmrc, env)
        write_package(baseline, {"name": NAME, "version": "1.0.0-copy"})
        copy_id = _stage(baseline, npmrc, env, "--tag", "copy")
        write_package(baseline, {"name": NAME, "version": "1.0.0"})
        downloads = [
            pystage_cmd("download", sid, "-o", "/dev/null", "--userconfig", str(npmrc))
            for sid in (stage_id, copy_id)
        ]
        auth = f"authorization: Bearer {user.token}"
        download = [
            "curl", "-sS", "--fail", "-H", auth,
            "-o", "/dev/null", f"{server.url}-/stage/{stage_id}/tarball",
            "-o", "/dev/null", f"{server.url}{NAME}/-/{NAME}-1.0.0.tgz",
        ]  # fmt: skip
        review = pystage_cmd(
            "review", stage_id, "--userconfig", str(npmrc), "--json", "--fail-on", "never"
        )
        ours_t, ours_rss, theirs_t, curl_t = [], [], [], []
        report = None
        for _ in range(RUNS):  # interleaved: both see the same machine load
            theirs_t.append(sum(run_once(cmd, env=env).seconds for cmd in downloads))
            curl_t.append(run_once(download, env=env).seconds)
            result = run_once(review, env=env)
            ours_t.append(result.seconds)
            ours_rss.append(result.peak_rss)
            report = json.loads(result.stdout)
    assert report is not None and report["baseline"] == "1.0.0", report
    changed = {c["path"] for c in report["files"]["changed"]}
    assert {f"native/part{n}.bin" for n in (1, 3)} <= changed, sorted(changed)[:10]
    ours, theirs = statistics.median(ours_t), statistics.median(theirs_t)
    peak = max(ours_rss) / (1024 * 1024)
    print(f"(reference: a streamed GET of both with curl: {statistics.median(curl_t):.2f} s)")
    yield Result("review 100 MB vs 100 MB: peak memory", "MiB", peak, None, "< 64 MiB", peak < 64)
    yield Result(
        "review 100 MB vs 100 MB: wall time",
        "s",
        ours,
        theirs,
        "<= 1.5 x pystage download x2",
        ours <= 1.5 * theirs,
    )
