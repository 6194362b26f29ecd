"""`make bench`: every benchmark, each measuring npm in the same run as the yardstick.

Usage: python -m benchmarks [NAME ...]   (names: see BENCHMARKS)
"""

from __future__ import annotations

import compileall
import importlib
import sys

from benchmarks.measure import ROOT, Result, fmt

BENCHMARKS = ["startup", "pack", "publish", "list", "registry", "webpage", "review"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    _compile_bytecode()
    results: list[Result] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"== {name}", flush=True)
        for result in module.run():
            results.append(result)
            _print_row(result)
    print()
    print(f"{'benchmark':44} {'pystage':>12} {'npm':>12} {'ratio':>7}  target")
    for r in results:
        _print_row(r)
    failed = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} targets met, {len(failed)} missed")
    return 1 if failed else 0


def _compile_bytecode() -> None:
    """Bring pystage's .pyc files up to date, as ``pip install`` leaves an installed
    package. The checkout is installed in editable mode, so an edited module is
    otherwise compiled again on every run when PYTHONDONTWRITEBYTECODE is set (as
    it is in some CI and container set-ups): ~25 ms of every `list --json` start-up."""
    compileall.compile_dir(ROOT / "pystage", quiet=1)


def _print_row(r: Result) -> None:
    ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
    mark = "ok" if r.ok else "MISSED"
    print(
        f"{r.name:44} {fmt(r.pystage, r.unit):>12} {fmt(r.npm, r.unit):>12} {ratio:>7}  {r.target} [{mark}]",
        flush=True,
    )
    if r.note:
        print(f"  ({r.note})", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
