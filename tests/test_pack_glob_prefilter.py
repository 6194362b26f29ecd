"""The packlist's quick "this rule cannot match" test (literal segments and literal
starts of wildcard segments, compared case-folded) never rejects a path the full
minimatch-style match accepts, whatever the case or Unicode look-alikes."""

from __future__ import annotations

import itertools
import random

from pystage.packing.glob import Rule, folded_segments

RULES = [
    "**/.git",
    "**/.git/**",
    "/.wafpickle-*",
    "**/._*/**",
    "/build/config.gypi",
    "/archived-packages/**",
    "test/**/fixtures",
    "build/",
    "/node_modules",
    "lib/*.js",
    "docs/{a,b}/*.md",
    "**/CVS",
    "src/**/gen-*.ts",
    "a/b?c/d",
    "/readme{,.*[^~$]}",
    "x/[ab]*/y",
]
SEGMENTS = [
    ".git",
    ".GIT",
    ".g\u0130t",
    ".g\u0131t",
    "._x",
    "._",
    ".wafpickle-7",
    ".WAFPICKLE-1",
    "build",
    "BUILD",
    "config.gypi",
    "archived-packages",
    "test",
    "fixtures",
    "node_modules",
    "lib",
    "a.js",
    "docs",
    "a",
    "b",
    "x.md",
    "CVS",
    "cvs",
    "src",
    "gen-x.ts",
    "GEN-1.TS",
    "bxc",
    "d",
    "readme",
    "README.md",
    "x",
    "ay",
    "y",
    "\u212a",
    "s\u017f",
    "",
]


def test_a_rejected_path_never_matches():
    rng = random.Random(5)
    rules = [Rule(r) for r in RULES]
    checked = rejected = 0
    paths = set()
    for n in range(1, 5):
        for _ in range(3000):
            paths.add("/".join(rng.choice(SEGMENTS) for _ in range(n)))
    for body in itertools.product(SEGMENTS[:12], repeat=2):
        paths.add("/".join(body))
    for path in paths:
        for form in (path, "/" + path, path + "/", "/" + path + "/"):
            folded = folded_segments(form)
            for rule in rules:
                checked += 1
                if not rule.may_match_within(folded):
                    rejected += 1
                    assert not rule.match(form), (rule.source, form)
    assert rejected > checked // 2  # the filter does its job on most pairs


def test_look_alike_letters_are_not_rejected():
    # re's IGNORECASE lets "i" match dotted/dotless I and "k" match the Kelvin sign
    for pattern, path in [
        ("**/.git", "a/.G\u0130T"),
        ("**/.git", "a/.g\u0131t"),
        ("/.wafpickle-*", "/.WAFP\u0130CKLE-3"),
        ("**/k/**", "\u212a/x"),
    ]:
        rule = Rule(pattern)
        if rule.match(path):
            assert rule.may_match_within(folded_segments(path)), (pattern, path)
