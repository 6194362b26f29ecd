"""What a shipped file's bytes say about it, computed chunk by chunk.

``Signals`` is a small summary of one file (never its content): how its lines
look (minified, obfuscated), which dangerous APIs it uses and where first,
which network hosts it names. The rules compare a staged file's signals with
its baseline's, so only what is new is reported.

The patterns are regular expressions over bytes (the ``re`` engine runs them
in C); each one is a sign seen in a documented npm incident, named in
docs/review.md.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from pystage.review import fastre

# Files read as code: what node, a shell or an installer would run.
CODE_EXTENSIONS = frozenset(
    ".js .cjs .mjs .jsx .ts .cts .mts .tsx .coffee .sh .bash .zsh .ps1 .bat .cmd .py .pl .rb "
    ".php .vbs".split()
)

# signal name -> (pattern, what it means)
PATTERNS: dict[str, tuple[re.Pattern[bytes], str]] = {
    "hex-identifiers": (
        re.compile(rb"\b_0x[0-9a-fA-F]{4,6}\b"),
        "hex-named identifiers (_0x1a2b), as javascript-obfuscator writes them",
    ),
    "escaped-strings": (
        re.compile(rb"(?:\\x[0-9a-fA-F]{2}){6,}|(?:\\u[0-9a-fA-F]{4}){6,}"),
        "strings spelled as \\x/\\u escapes",
    ),
    "eval": (
        re.compile(
            rb"\beval\s*\(|\bnew\s+Function\s*\(|\bFunction\s*\(\s*['\"`]|\bvm\.run\w*\("
            # a module compiled from a string (flatmap-stream 2018: new module.constructor)
            rb"|\bnew\s+module\.constructor\b|\._compile\s*\("
        ),
        "eval / new Function / a module compiled from a string: runs code built at run time",
    ),
    "decode": (
        re.compile(
            rb"\batob\s*\(|Buffer\.from\s*\([^)]{0,300}?['\"](?:base64|hex)['\"]"
            rb"|String\.fromCharCode\s*\(|\bbase64\s+(?:-d|--decode)\b"
            # names spelled backwards, decrypted payloads (flatmap-stream 2018)
            rb"|\.split\(\s*(?:''|\"\")\s*\)\s*\.reverse\(\s*\)\s*\.join\("
            rb"|\bcreateDecipher(?:iv)?\s*\("
        ),
        "decodes hidden data (base64, hex, char codes)",
    ),
    # a constant spelled in base64 and decoded at run time: an address or path the
    # code hides from a reader (node-ipc 2022 hid its geolocation URL and the folders
    # it overwrote this way)
    "decoded-constant": (
        re.compile(
            rb"Buffer\.from\s*\(\s*['\"`][A-Za-z0-9+/]{4,}={0,2}['\"`]\s*,\s*['\"`]base64['\"`]"
            rb"|\batob\s*\(\s*['\"`][A-Za-z0-9+/]{4,}={0,2}['\"`]\s*\)"
        ),
        "decodes constants hidden in base64 (addresses, paths)",
    ),
    "child-process": (
        re.compile(
            rb"child_process|\bexecSync\s*\(|\bspawnSync\s*\(|\bexecFile(?:Sync)?\s*\("
            rb"|\bsubprocess\.|\bos\.system\s*\("
            # what shell and batch droppers run (ua-parser-js, coa and rc 2021)
            rb"|\bchmod\s+(?:[ug]?\+x|[0-7]?[75]{3})\b|\bregsvr32\b|\brundll32\b"
            rb"|\bstart\s+/[Bb]\b|\|\s*(?:ba|z|da)?sh\b|\bnohup\b"
            rb"|\bpowershell(?:\.exe)?\s[^\n]*-(?:e|enc|encodedcommand|c|command)\b"
        ),
        "starts other programs (child_process, a shell, regsvr32)",
    ),
    "credential-files": (
        re.compile(
            rb"\.npmrc\b|\.ssh[/\\]|\bid_(?:rsa|ed25519)\b|\.aws[/\\]credentials|\.git-credentials"
            rb"|\.docker[/\\]config|\bNPM_TOKEN\b|\bGITHUB_TOKEN\b|\bAWS_SECRET_ACCESS_KEY\b"
            rb"|\bwallet\.dat\b|\.config[/\\]gcloud"
        ),
        "reads credential files or token variables (.npmrc, .ssh, cloud keys)",
    ),
    "whole-environment": (
        re.compile(
            rb"(?:JSON\.stringify|Object\.(?:keys|entries|values|assign))\s*\(\s*process\.env\b"
            rb"|\.\.\.\s*process\.env\b|\bos\.environ\.copy\(|\bdict\(os\.environ\)"
        ),
        "reads the whole environment (every variable, tokens included)",
    ),
    "network": (
        re.compile(
            rb"require\s*\(\s*['\"](?:node:)?(?:https?|net|dgram|tls|http2)['\"]\s*\)"
            rb"|\bfrom\s+['\"](?:node:)?(?:https?|net|dgram|tls)['\"]|\bfetch\s*\("
            rb"|\bXMLHttpRequest\b|\bnew\s+WebSocket\s*\(|\bcurl\s+(?:-|https?://|ftp://|\$)|\bwget\s+|\bInvoke-WebRequest\b"
            rb"|\burllib\.request\b|\bdns\.(?:resolve|lookup)\w*\("
        ),
        "makes network calls",
    ),
    "wallet": (
        re.compile(rb"\bwindow\.ethereum\b|\bethereum\.request\s*\(|\bsolana\.\w+\(|\bweb3\.eth\b"),
        "talks to crypto wallets in the browser",
    ),
    # not dangerous alone: what makes a new endpoint or network call in the same file
    # a key thief (@solana/web3.js 2024 sent secret keys to a new host)
    "key-material": (
        re.compile(rb"\b(?:secretKey|privateKey|private_key|mnemonic|seedPhrase|seed_phrase)\b"),
        "handles private keys or wallet seeds",
    ),
    # AI coding agents run with their safety checks off to hunt for secrets
    # (nx "s1ngularity" 2025)
    "ai-agent": (
        re.compile(rb"--dangerously-skip-permissions|--yolo\b|--trust-all-tools|--allow-all-tools"),
        "runs an AI coding agent with its permission checks turned off",
    ),
    # protestware that hangs every program loading it (colors 2022)
    "endless-loop": (
        re.compile(rb"\bfor\s*\([^;()]*;[^;()]*<\s*Infinity\s*;"),
        "loops forever (for ... < Infinity)",
    ),
}

URL = re.compile(
    rb"\b(?:https?|wss?|ftp)://((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}|\d{1,3}(?:\.\d{1,3}){3})"
)
# a host given to http.request/https.get as an option, not as a URL (eslint-scope 2018:
# hostname: 'pastebin.com'; crossenv 2017: const host = 'npm.hacktask.net')
HOST_OPTION = re.compile(
    rb"\bhost(?:name)?\s*[:=]\s*['\"`]((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}|\d{1,3}(?:\.\d{1,3}){3})['\"`]"
)
# hosts documentation and licences name everywhere: not endpoints worth a finding
QUIET_HOSTS = frozenset(
    """github.com www.github.com npmjs.com www.npmjs.com npmjs.org www.npmjs.org nodejs.org
    developer.mozilla.org www.w3.org w3.org json-schema.org tools.ietf.org datatracker.ietf.org
    opensource.org www.apache.org apache.org example.com www.example.com example.org example.net
    mths.be tc39.es spdx.org semver.org gnu.org www.gnu.org creativecommons.org
    git-scm.com en.wikipedia.org stackoverflow.com mozilla.org www.mozilla.org
    html.spec.whatwg.org url.spec.whatwg.org fetch.spec.whatwg.org www.ecma-international.org
    localhost 127.0.0.1 0.0.0.0 bit.ly""".split()
)
MAX_HOSTS = 64
LONG_LINE = 1000
_SAMPLE = 4096
# the same patterns, run by RE2 where it answers as re does (15-20x faster: fastre.py)
SEARCH = {name: fastre.compile_like(pattern) for name, (pattern, _why) in PATTERNS.items()}


@dataclass
class Hit:
    count: int
    line: int  # first line it appears on (1-based)


@dataclass
class Signals:
    """A file's shape and the signs it shows; small whatever the file's size."""

    size: int = 0
    lines: int = 0
    max_line: int = 0
    long_lines: int = 0
    long_line_at: int = 0  # first line longer than LONG_LINE
    entropy: float = 0.0  # of a sample of its long lines, bits per byte
    hits: dict[str, Hit] = field(default_factory=dict)
    hosts: dict[str, int] = field(default_factory=dict)  # host -> first line

    @property
    def minified(self) -> bool:
        """Most of the file is in lines no person writes."""
        return (
            self.long_lines > 0
            and self.max_line >= 5 * LONG_LINE
            or (self.long_lines > 0 and bool(self.size) and self.size / max(self.lines, 1) > 400)
        )

    @property
    def obfuscated(self) -> bool:
        hex_ids = self.hits.get("hex-identifiers")
        escapes = self.hits.get("escaped-strings")
        return bool(
            (hex_ids and hex_ids.count >= 8)
            or (escapes and escapes.count >= 4)
            or (self.long_lines and self.entropy >= 5.6)
        )

    def obfuscation_line(self) -> int:
        hits = [h.line for k, h in self.hits.items() if k in ("hex-identifiers", "escaped-strings")]
        return min(hits) if hits else self.long_line_at or 1


class Scanner:
    """Feed a file's bytes in order; ``finish()`` gives its Signals."""

    def __init__(self) -> None:
        self.signals = Signals()
        self._carry = b""
        self._line = 1  # line number of the first byte of the next piece analysed
        self._samples: list[bytes] = []

    def feed(self, data: bytes) -> None:
        self.signals.size += len(data)
        data = self._carry + data if self._carry else data
        cut = data.rfind(b"\n")
        if cut == -1 and len(data) < 4 * 1024 * 1024:
            self._carry = data  # a line not yet complete (bounded: 4 MiB, then cut)
            return
        if cut == -1:
            cut = len(data) - 1
        self._carry = data[cut + 1 :]
        self._analyse(data[: cut + 1])

    def finish(self) -> Signals:
        if self._carry:
            self._analyse(self._carry)
            self._carry = b""
        sig = self.signals
        if self._samples:
            sig.entropy = _entropy(b"".join(self._samples))
        return sig

    def _analyse(self, text: bytes) -> None:
        sig = self.signals
        lines = text.split(b"\n")
        newlines = len(lines) - 1
        longest = max(map(len, lines))
        if longest > sig.max_line:
            sig.max_line = longest
        if longest > LONG_LINE:
            long_ones = [i for i, line in enumerate(lines) if len(line) > LONG_LINE]
            if not sig.long_lines:
                sig.long_line_at = self._line + long_ones[0]
            sig.long_lines += len(long_ones)
            if len(self._samples) < 4:
                self._samples.append(lines[long_ones[0]][:_SAMPLE])
        for name, pattern in SEARCH.items():
            hit = sig.hits.get(name)
            if hit is not None and name not in ("hex-identifiers", "escaped-strings"):
                continue  # where it first shows is known: a later chunk adds nothing
            first = pattern.search(text)
            if first is None:
                continue
            count = (
                len(pattern.findall(text, first.start()))
                if name in ("hex-identifiers", "escaped-strings")
                else 1
            )
            if hit is None:
                sig.hits[name] = Hit(count, self._line + text.count(b"\n", 0, first.start()))
            else:
                hit.count += count
        for pattern, marker in ((URL, b"://"), (HOST_OPTION, b"host")):
            if len(sig.hosts) >= MAX_HOSTS or marker not in text:
                continue
            for match in pattern.finditer(text):
                host = match.group(1).decode("ascii").lower()
                if host not in QUIET_HOSTS and host not in sig.hosts:
                    sig.hosts[host] = self._line + text.count(b"\n", 0, match.start())
                    if len(sig.hosts) >= MAX_HOSTS:
                        break
        sig.lines += newlines
        self._line += newlines


def _entropy(data: bytes) -> float:
    if not data:
        return 0.0
    counts = [0] * 256
    for b in data:
        counts[b] += 1
    total = len(data)
    return -sum(c / total * math.log2(c / total) for c in counts if c)


def is_code(path: str, head: bytes) -> bool:
    """A file node or a shell would run: by extension, or a ``#!`` first line."""
    # "index.js " and "index.js." too: node loads them by that name, Windows as index.js
    name = path.rsplit("/", 1)[-1].lower().rstrip(" .")
    dot = name.rfind(".")
    if dot > 0 and name[dot:] in CODE_EXTENSIONS:
        return True
    return head.startswith(b"#!")


def native_kind(head: bytes, path: str) -> str | None:
    """ELF, Mach-O, PE or a Node addon: native code, by magic bytes (or .node)."""
    if head.startswith(b"\x7fELF"):
        return "ELF executable"
    if head[:4] in (
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ):
        return "Mach-O executable"
    if head.startswith(b"MZ") and len(head) >= 64:
        return "PE (Windows) executable"
    if path.lower().endswith(".node"):
        return "Node native addon (.node)"
    return None


def looks_binary(head: bytes) -> bool:
    return b"\0" in head[:8192]
