"""The glob rules and the ordering, checked against the very libraries npm uses
(minimatch and ICU's localeCompare, through node) when node and npm are present."""

from __future__ import annotations

import functools
import itertools
import json
import shutil
import subprocess

import pytest

from pystage.packing.collate import locale_compare
from pystage.packing.glob import Rule, brace_expand

PATTERNS = [
    "*.js",
    "!*.js",
    "lib/**/*.js",
    "**/test",
    "/build",
    "build/",
    "/build/",
    "*.{log,tmp}",
    "+(foo|bar).txt",
    "[ab].js",
    "[!ab].js",
    "?.md",
    "**/fixtures/**",
    "docs/**/*.draft",
    "\\#hash.txt",
    "CAPS.TXT",
    "readme{,.*[^~$]}",
    "/readme{,.*[^~$]}",
    "!/license{,.*[^~$]}",
    "a/../b",
    "**",
    "*",
    "dist/**",
    ".*.swp",
    "._*",
    "**/._*/**",
    "/.wafpickle-*",
    "lib/*",
    "lib/**",
    "!dist/internal",
    "@(x|y)z",
    "*.d.ts",
    "**/*.test.js",
    "{a,b}/{c,d}",
    "file{1..3}.txt",
    "x/**/y/**/z",
    "[[:digit:]]*",
    "*(ab)c",
]
PATHS = [
    "a.js",
    "/a.js",
    "lib/a.js",
    "lib/deep/a.js",
    "test",
    "x/test",
    "x/test/",
    "build",
    "/build",
    "build/",
    "/build/",
    "x/build/",
    "debug.log",
    "x.tmp",
    "foo.txt",
    "foobar.txt",
    "a.js",
    "c.js",
    "x.md",
    "xy.md",
    "t/fixtures/f.json",
    "fixtures/g",
    "docs/a/b/c.draft",
    "#hash.txt",
    "caps.txt",
    "README",
    "readme.md",
    "README.md~",
    "/LICENSE",
    "license.txt",
    "b",
    ".x.swp",
    "._x",
    "q/._r/s",
    ".wafpickle-2",
    "lib/",
    "lib",
    "dist/internal/",
    "xz",
    "index.d.ts",
    "a/b.test.js",
    "a/c",
    "b/d",
    "file2.txt",
    "x/1/y/2/z",
    "9lives",
    "ababc",
    "",
    "lib/.hidden",
]  # "." and ".." never reach the matcher: readdir does not list them


def _minimatch_path():
    npm = shutil.which("npm")
    node = shutil.which("node")
    if not npm or not node:
        return None
    root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True).stdout.strip()
    for candidate in (f"{root}/npm/node_modules/minimatch", f"{root}/minimatch"):
        if shutil.os.path.isdir(candidate):
            return candidate
    return None


@functools.lru_cache
def _node(script: str, data: str) -> object:
    out = subprocess.run(
        [shutil.which("node"), "-e", script],
        input=data,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


MINIMATCH = _minimatch_path()
needs_node = pytest.mark.skipif(MINIMATCH is None, reason="needs node and npm's minimatch")


@needs_node
def test_rules_match_like_minimatch():
    cases = [(p, f, partial) for p, f, partial in itertools.product(PATTERNS, PATHS, (False, True))]
    script = f"""
const {{ Minimatch }} = require({json.dumps(MINIMATCH)});
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const opts = {{ matchBase: true, dot: true, flipNegate: true, nocase: true }};
const cache = new Map();
const out = cases.map(([p, f, partial]) => {{
  if (!cache.has(p)) cache.set(p, new Minimatch(p, opts));
  const mm = cache.get(p);
  return [mm.match(f, partial), mm.negate,
          mm.globParts.some(part => part.length <= (part.slice(-1)[0] ? 1 : 2))];
}});
console.log(JSON.stringify(out));
"""
    expected = _node(script, json.dumps(cases))
    mismatches = []
    for (p, f, partial), (match, negate, relative) in zip(cases, expected, strict=True):
        rule = Rule(p)
        ours = (rule.match(f, partial), rule.negate, rule.is_relative)
        if ours != (match, negate, relative):
            mismatches.append((p, f, partial, ours, (match, negate, relative)))
    assert not mismatches, mismatches[:20]


def test_brace_expansion():
    assert brace_expand("a{b,c}d") == ["abd", "acd"]
    assert brace_expand("x{1..3}") == ["x1", "x2", "x3"]
    assert brace_expand("{a,b}{c,d}") == ["ac", "ad", "bc", "bd"]
    assert brace_expand("{a}") == ["{a}"]
    assert brace_expand("readme{,.*[^~$]}") == ["readme", "readme.*[^~$]"]


NAMES = [
    "a",
    "A",
    "b",
    "B",
    "_a",
    "-a",
    ".a",
    "a.b",
    "a-b",
    "a_b",
    "a b",
    "1",
    "10",
    "2",
    "a1",
    "a10",
    "a2",
    "é",
    "e",
    "E",
    "f",
    "Z",
    "z",
    "~",
    "@",
    "$",
    "#",
    "ab",
    "aB",
    "Ab",
    "readme.md",
    "README.md",
    "café",
    "cafe",
    "caff",
    "日本",
    "x.JS",
    "x.js",
    "a.d.ts",
]


@needs_node
@pytest.mark.parametrize("options", [{}, {"numeric": True, "case_only": True}])
def test_ordering_matches_icu(options):
    js_opts = "{sensitivity: 'case', numeric: true}" if options else "undefined"
    script = f"""
const names = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify([...names].sort((a, b) => a.localeCompare(b, 'en', {js_opts}))));
"""
    expected = _node(script, json.dumps(NAMES))
    ours = sorted(NAMES, key=functools.cmp_to_key(lambda a, b: locale_compare(a, b, **options)))
    assert ours == expected
