"""`make bench`: every benchmark, each measuring npm in the same run as the yardstick.

Usage: python -m benchmarks [NAME ...]   (names: see BENCHMARKS)
"""

from __future__ import annotations

import importlib
import sys

from benchmarks.measure import Result, fmt

BENCHMARKS = ["startup", "pack", "publish", "list", "registry"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
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


def _print_row(r: Result) -> None:
    ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
    mark = "ok" if r.ok else "MISSED"
    print(
        f"{r.name:44} {fmt(r.pystage, r.unit):>12} {fmt(r.npm, r.unit):>12} {ratio:>7}  {r.target} [{mark}]",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
