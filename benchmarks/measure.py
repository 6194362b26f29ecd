"""Timing and memory measurement of whole commands, pystage and npm alike."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"


def pystage_cmd(*args: str) -> list[str]:
    exe = Path(sys.executable).with_name("pystage")
    return [
        str(exe) if exe.exists() else sys.executable,
        *([] if exe.exists() else ["-m", "pystage"]),
        *args,
    ]


def npm_cmd(*args: str) -> list[str] | None:
    npm = shutil.which("npm")
    return [npm, *args] if npm else None


def isolated_npm_env(userconfig: Path | None = None) -> dict[str, str]:
    """npm with no user config noise and a private cache, as the tests run it."""
    cache = WORK / "npm-cache"
    cache.mkdir(parents=True, exist_ok=True)
    if userconfig is None:
        userconfig = WORK / "empty-npmrc"
        userconfig.touch()
    return {
        **os.environ,
        "npm_config_userconfig": str(userconfig),
        "npm_config_cache": str(cache),
        "npm_config_update_notifier": "false",
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "NO_COLOR": "1",
    }


@dataclass
class Run:
    seconds: float
    peak_rss: int  # bytes, of the process itself (and its waited children)
    returncode: int
    stdout: bytes
    stderr: bytes
    cpu_seconds: float = 0.0  # user + system time (of the process and its waited children)


# The command is started from a small launcher process, not from this one: a child's
# peak RSS (ru_maxrss) includes the memory it shared with its parent before exec
# (with vfork, the parent's whole high-water mark), and this runner grows to ~100 MB
# while it compares tarballs.
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    json.dump(
        [
            seconds,
            usage.ru_maxrss * 1024,
            os.waitstatus_to_exitcode(status),
            usage.ru_utime + usage.ru_stime,
        ],
        out,
    )
"""


def run_once(cmd: list[str], *, cwd=None, env=None, check=True) -> Run:
    """Run a command, returning wall time and the peak RSS the kernel recorded for it."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".json") as report,
    ):
        subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, report.name, *cmd],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            check=True,
        )
        seconds, peak_rss, returncode, cpu = json.loads(report.read())
        out.seek(0)
        err.seek(0)
        result = Run(seconds, peak_rss, returncode, out.read(), err.read(), cpu)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({result.returncode}):\n"
            f"{result.stderr.decode(errors='replace')[-2000:]}"
        )
    return result


def paired_medians(
    ours: list[str],
    theirs: list[str] | None,
    runs: int,
    *,
    env=None,
    their_env=None,
    check=None,
    cpu: list[float | None] | None = None,
) -> tuple[float, float | None]:
    """Median wall times of ``ours`` and ``theirs``, run alternately (ours, theirs, ours,
    ...) so both see the same machine load; ``check(run)`` looks at each run's output.
    ``theirs`` None (npm not installed): only ours is timed. ``cpu``, when given, is
    filled with the two median CPU times (user + system), which machine load
    changes far less than wall time."""
    walls: tuple[list[float], list[float]] = ([], [])
    cpus: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for cmd, cmd_env, i in ((ours, env, 0), (theirs, their_env or env, 1)):
            if cmd is None:
                continue
            run = run_once(cmd, env=cmd_env)
            if check:
                check(run)
            walls[i].append(run.seconds)
            cpus[i].append(run.cpu_seconds)
    if cpu is not None:
        cpu[:] = [statistics.median(c) if c else None for c in cpus]
    return statistics.median(walls[0]), (statistics.median(walls[1]) if walls[1] else None)


@dataclass
class Result:
    name: str
    unit: str
    pystage: float
    npm: float | None
    target: str
    ok: bool
    note: str = ""  # printed under the row (e.g. the CPU times behind a wall time)

    @property
    def ratio(self) -> float | None:
        return self.pystage / self.npm if self.npm else None


def cpu_note(cpu: list[float | None]) -> str:
    """The CPU times of a paired measurement, as a note under its row."""
    ours, theirs = cpu
    if ours is None:
        return ""
    text = f"CPU time: pystage {fmt(ours, 's')}"
    if theirs:
        text += f", npm {fmt(theirs, 's')}, ratio {ours / theirs:.2f}"
    return text


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "":  # a yes/no check
        return "yes" if value else "no"
    if unit == "n":
        return f"{value:.0f}"
    if unit == "req/s":
        return f"{value:.0f} req/s"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    return f"{value:.1f} {unit}"
