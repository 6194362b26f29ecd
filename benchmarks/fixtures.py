"""What the benchmarks work on: a running embedded registry, logged-in npmrc files,
generated package trees. Everything lives under ``benchmarks/.work/`` (gitignored)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
from contextlib import contextmanager
from pathlib import Path

from benchmarks.measure import ROOT, WORK, isolated_npm_env


def _registry_module():
    # the test suite's helper also serves scripts (make demo) and the benchmarks
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import helpers

    return helpers


@contextmanager
def registry(name: str, *, fresh: bool = True, extra_args: tuple[str, ...] = ()):
    """A running ``pystage registry serve`` with storage ``.work/<name>``; yields
    (server, user, npmrc path, npm environment)."""
    storage = WORK / name
    if fresh:
        shutil.rmtree(storage, ignore_errors=True)
    server = _registry_module().start_registry(storage / "storage", extra_args=extra_args)
    try:
        user_file = storage / "user.json"
        if user_file.exists():
            data = json.loads(user_file.read_text())
            user = _registry_module().User(**data)
        else:
            user = server.add_user("bench")
            user_file.write_text(json.dumps(user.__dict__))
        npmrc = server.write_npmrc(storage / "npmrc", user)
        yield server, user, npmrc, isolated_npm_env(npmrc)
    finally:
        server.stop()


def write_package(directory: Path, manifest: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")


def incompressible_package(size: int, seed: int = 6) -> Path:
    """A package with one ``size``-byte file of seeded random bytes (made once)."""
    directory = WORK / f"random-{size}"
    blob = directory / "native.bin"
    if not (blob.exists() and blob.stat().st_size == size):
        directory.mkdir(parents=True, exist_ok=True)
        rng = random.Random(seed)
        with open(blob, "wb") as out:
            left = size
            while left:
                n = min(left, 1 << 20)
                out.write(rng.randbytes(n))
                left -= n
    write_package(
        directory,
        {
            "name": "bench-native",
            "version": "1.0.0",
            "description": "100 MB of incompressible bytes",
        },
    )
    return directory


def typescript_tree() -> Path:
    """The unpacked typescript 5.9 package (fetched once with ``npm pack``)."""
    directory = WORK / "typescript"
    if (directory / "package.json").exists():
        return directory
    WORK.mkdir(parents=True, exist_ok=True)
    tgz = next(iter(sorted(WORK.glob("typescript-5.9.*.tgz"))), None)
    if tgz is None:
        subprocess.run(
            ["npm", "pack", "typescript@5.9", "--silent"],
            cwd=WORK,
            check=True,
            env=isolated_npm_env(),
            stdout=subprocess.DEVNULL,
        )
        tgz = next(iter(sorted(WORK.glob("typescript-5.9.*.tgz"))))
    tmp = WORK / "typescript.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(tgz) as tar:
        tar.extractall(tmp, filter="data")
    (tmp / "package").rename(directory)
    tmp.rmdir()
    # typescript's own prepack script is not part of the published package
    manifest = json.loads((directory / "package.json").read_text())
    manifest.pop("scripts", None)
    write_package(directory, manifest)
    return directory


def small_files_tree(count: int = 6000, seed: int = 6) -> Path:
    """``count`` small files in nested directories, with ignore files at several levels."""
    directory = WORK / f"small-{count}"
    marker = WORK / f"small-{count}.complete"
    if marker.exists():
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    rng = random.Random(seed)
    write_package(directory, {"name": "bench-small", "version": "1.0.0", "main": "lib/index.js"})
    (directory / ".npmignore").write_text("*.log\n/coverage\ntest/**/fixtures\n")
    words = ["alpha", "beta", "gamma", "delta", "util", "core", "index", "helpers", "Types"]
    made = 0
    while made < count:
        depth = rng.randint(1, 4)
        parts = ["lib"] + [rng.choice(words) + str(rng.randint(0, 9)) for _ in range(depth - 1)]
        folder = directory.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        if rng.random() < 0.05 and not (folder / ".gitignore").exists():
            (folder / ".gitignore").write_text("*.tmp\nbuild/\n")
        ext = rng.choice([".js", ".js", ".d.ts", ".json", ".md", ".log", ".tmp"])
        name = f"{rng.choice(words)}{made}{ext}"
        (folder / name).write_text(_source_text(rng, made))
        made += 1
    marker.touch()
    return directory


_VOCABULARY = (
    "const let function return if else for while export import from require "
    "module value result options config error index length push map filter "
    "reduce async await promise resolve reject this new class extends"
).split()


def _source_text(rng: random.Random, n: int) -> str:
    """A few hundred bytes to a few KB of JavaScript-like text (compresses about 4:1)."""
    lines = [f"// generated file {n}"]
    for _ in range(rng.randint(3, 60)):
        words = [rng.choice(_VOCABULARY) for _ in range(rng.randint(2, 8))]
        ident = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10)))
        lines.append(
            f"{' ' * rng.choice((0, 2, 4))}{' '.join(words)} {ident}({rng.randint(0, 9999)});"
        )
    return "\n".join(lines) + "\n"


def env_with(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}
