"""Lifecycle scripts, run as @npmcli/run-script runs them for npm."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pystage import __version__
from pystage.errors import PystageError


def package_env(manifest: dict) -> dict[str, str]:
    """npm_package_* variables: name, version, config, engines and bin (npm RFC 183)."""
    env: dict[str, str] = {}

    def put(name: str, value) -> None:
        if value is None or value is False:
            env[name] = ""
        elif isinstance(value, list):
            for i, item in enumerate(value):
                put(f"{name}_{i}", item)
        elif isinstance(value, dict):
            for k, v in value.items():
                put(f"{name}_{k}", v)
        elif value is True:
            env[name] = "true"
        else:
            env[name] = str(value)

    for key in ("name", "version", "config", "engines", "bin"):
        if key in manifest:
            put("npm_package_" + key, manifest[key])
    return env


def _path_with_bins(pkg_dir: Path, path: str) -> str:
    dirs, p = [], pkg_dir
    while True:
        dirs.append(str(p / "node_modules" / ".bin"))
        if p.parent == p:
            break
        p = p.parent
    return os.pathsep.join(dirs + ([path] if path else []))


def run_script(
    pkg_dir,
    event: str,
    manifest: dict,
    *,
    extra_env: dict | None = None,
    command: str = "pack",
    stdout=None,
) -> None:
    """Run ``scripts[event]`` in pkg_dir (no-op when absent); ELIFECYCLE when it fails."""
    scripts = manifest.get("scripts")
    cmd = scripts.get(event) if isinstance(scripts, dict) else None
    if not isinstance(cmd, str) or not cmd:
        return
    pkg_dir = Path(pkg_dir).resolve()
    env = {**os.environ, **{k: v for k, v in (extra_env or {}).items() if v is not None}}
    env.update(package_env(manifest))
    env.update(
        {
            "npm_package_json": str(pkg_dir / "package.json"),
            "npm_lifecycle_event": event,
            "npm_lifecycle_script": cmd,
            "npm_command": command,
            "npm_config_user_agent": f"pystage/{__version__} python/{sys.version.split()[0]}",
            "INIT_CWD": os.getcwd(),
        }
    )
    env.setdefault("npm_execpath", sys.argv[0] if sys.argv and sys.argv[0] else "pystage")
    env["PATH"] = _path_with_bins(pkg_dir, os.environ.get("PATH", ""))
    pkgid = f"{manifest.get('name', '')}@{manifest.get('version', '')}"
    banner = f"\n> {pkgid} {event}\n> " + cmd.strip().replace("\n", "\n> ") + "\n\n"
    sys.stderr.write(banner)
    sys.stderr.flush()
    try:
        proc = subprocess.run(["sh", "-c", cmd], cwd=pkg_dir, env=env, stdout=stdout)
    except OSError as exc:
        raise PystageError(
            "ELIFECYCLE", f"{pkgid} {event}: cannot start sh: {exc.strerror}"
        ) from None
    if proc.returncode != 0:
        raise PystageError(
            "ELIFECYCLE",
            f"{pkgid} {event} script failed with exit code {proc.returncode}: {cmd}",
            "run with --ignore-scripts to skip lifecycle scripts",
        )
