"""Glob rules as npm's ignore machinery reads them (minimatch with
``matchBase, dot, flipNegate, nocase``).

Only what ignore files and package.json ``files`` need: negation, brace
expansion, ``**``, ``*``, ``?``, character classes, extglobs, escapes, and
minimatch's *partial* matching (does a directory possibly contain a match?).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pystage.packing.jstext import js_trim

GLOBSTAR = object()

_RANGE = re.compile(r"^(-?\d+|[^\d])\.\.(-?\d+|[^\d])(?:\.\.(-?\d+))?$")


def brace_expand(pattern: str) -> list[str]:
    """Bash-style ``{a,b}`` and ``{1..3}`` expansion, as the brace-expansion package does."""
    if not re.search(r"\{(?:(?!\{).)*\}", pattern):
        return [pattern]
    return _expand(pattern)


def _expand(s: str) -> list[str]:
    start = _find_brace(s)
    if start is None:
        return [s]
    open_i, close_i = start
    pre, body, post = s[:open_i], s[open_i + 1 : close_i], s[close_i + 1 :]
    options = _split_top_commas(body)
    if len(options) == 1:
        rng = _RANGE.match(body)
        if rng:
            options = _range(rng)
        else:
            # "{a}" stays literal; keep expanding what follows
            return [pre + "{" + body + "}" + rest for rest in _expand(post)]
    posts = _expand(post)
    out = []
    for opt in options:
        for expanded in _expand(opt):
            for rest in posts:
                out.append(pre + expanded + rest)
    return out


def _find_brace(s: str):
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth, j = 0, i
            while j < len(s):
                if s[j] == "\\":
                    j += 2
                    continue
                if s[j] == "{":
                    depth += 1
                elif s[j] == "}":
                    depth -= 1
                    if depth == 0:
                        body = s[i + 1 : j]
                        if len(_split_top_commas(body)) > 1 or _RANGE.match(body):
                            return i, j
                        break
                j += 1
        i += 1
    return None


def _split_top_commas(body: str) -> list[str]:
    parts, depth, cur, i = [], 0, "", 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            cur += body[i : i + 2]
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def _range(m: re.Match) -> list[str]:
    a, b, step = m.group(1), m.group(2), m.group(3)
    inc = abs(int(step)) if step else 1
    inc = inc or 1
    if a.lstrip("-").isdigit() and b.lstrip("-").isdigit():
        x, y = int(a), int(b)
        width = (
            max(len(a), len(b))
            if (a.lstrip("-").startswith("0") and len(a.lstrip("-")) > 1)
            or (b.lstrip("-").startswith("0") and len(b.lstrip("-")) > 1)
            else 0
        )
        seq = range(x, y + 1, inc) if x <= y else range(x, y - 1, -inc)
        return [str(n).zfill(width) if width else str(n) for n in seq]
    if len(a) == 1 and len(b) == 1 and not a.isdigit() and not b.isdigit():
        x, y = ord(a), ord(b)
        seq = range(x, y + 1, inc) if x <= y else range(x, y - 1, -inc)
        return ["\\\\" if chr(n) == "\\" else chr(n) for n in seq]
    return ["{" + m.group(0) + "}"]


def _class_to_regex(glob: str, pos: int):
    """Translate ``[...]`` starting at pos; None when it is not a class."""
    i = pos + 1
    negate = False
    if i < len(glob) and glob[i] in "!^":
        negate = True
        i += 1
    items: list[str] = []
    first = True
    while i < len(glob):
        c = glob[i]
        if c == "]" and not first:
            body = "".join(items)
            return ("[^" if negate else "[") + body + "]", i + 1
        first = False
        if c == "[" and glob.startswith("[:", i):
            end = glob.find(":]", i)
            if end != -1:
                items.append(_POSIX.get(glob[i : end + 2], ""))
                i = end + 2
                continue
        if c == "\\" and i + 1 < len(glob):
            i += 1
            c = glob[i]
        if i + 2 < len(glob) and glob[i + 1] == "-" and glob[i + 2] != "]":
            hi = glob[i + 2]
            if hi == "\\" and i + 3 < len(glob):
                hi = glob[i + 3]
                i += 1
            if hi >= c:
                items.append(re.escape(c) + "-" + re.escape(hi))
            i += 3
            continue
        items.append(re.escape(c))
        i += 1
    return None


_POSIX = {
    "[:alnum:]": r"^\W_",
    "[:alpha:]": r"^\W\d_",
    "[:digit:]": r"\d",
    "[:lower:]": "a-z",
    "[:upper:]": "A-Z",
    "[:space:]": r"\s",
    "[:xdigit:]": "A-Fa-f0-9",
    "[:word:]": r"\w",
    "[:ascii:]": r"\x00-\x7f",
    "[:blank:]": r" \t",
    "[:punct:]": r"!-/:-@\[-`{-~",
}


def _segment_regex(seg: str) -> tuple[str, bool]:
    """Regex source for one path segment and whether it has any magic."""
    out, i, magic = [], 0, False
    while i < len(seg):
        c = seg[i]
        if c == "\\" and i + 1 < len(seg):
            out.append(re.escape(seg[i + 1]))
            i += 2
            continue
        if c in "+@!?*" and i + 1 < len(seg) and seg[i + 1] == "(":
            close = _matching_paren(seg, i + 1)
            if close is not None:
                alts = [_segment_regex(a)[0] for a in _split_pipes(seg[i + 2 : close])]
                inner = "(?:" + "|".join(alts) + ")"
                rest = _segment_regex(seg[close + 1 :])[0]
                magic = True
                if c == "!":
                    out.append(f"(?:(?!{inner}{rest}$)[^/]*?)")
                else:
                    out.append(inner + {"+": "+", "@": "", "?": "?", "*": "*"}[c])
                i = close + 1
                continue
        if c == "*":
            magic = True
            while i < len(seg) and seg[i] == "*":
                i += 1
            out.append("[^/]*?")
            continue
        if c == "?":
            magic = True
            out.append("[^/]")
            i += 1
            continue
        if c == "[":
            cls = _class_to_regex(seg, i)
            if cls is not None:
                magic = True
                out.append(cls[0])
                i = cls[1]
                continue
        out.append(re.escape(c))
        i += 1
    return "".join(out), magic


def _matching_paren(s: str, open_i: int):
    depth, i = 0, open_i
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        if s[i] == "(":
            depth += 1
        elif s[i] == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _split_pipes(s: str) -> list[str]:
    parts, depth, cur, i = [], 0, "", 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur += s[i : i + 2]
            i += 2
            continue
        depth += (c == "(") - (c == ")")
        if c == "|" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


class _Segment:
    __slots__ = ("regex",)

    def __init__(self, seg: str):
        source, _ = _segment_regex(seg)
        if re.fullmatch(r"\*+", seg):
            source = "[^/]+"
        # with dot:true a leading wildcard still never matches "." or ".."
        guard = (
            "(?!\\.\\.?$)"
            if seg[:1] in ("*", "?", "[") or seg[:2] in {"+(", "@(", "!(", "?(", "*("}
            else ""
        )
        self.regex = re.compile(guard + source, re.IGNORECASE | re.DOTALL)

    def test(self, f: str) -> bool:
        return self.regex.fullmatch(f) is not None


def _levels_one(parts: list[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        prev = out[-1] if out else None
        if part == "**" and prev == "**":
            continue
        if part == ".." and prev and prev not in ("..", ".", "**"):
            out.pop()
            continue
        out.append(part)
    return out or [""]


class Rule:
    """One minimatch pattern as ignore-walk compiles it."""

    def __init__(self, pattern: str):
        self.source = pattern
        negate = False
        while pattern.startswith("!"):
            negate = not negate
            pattern = pattern[1:]
        self.negate = negate
        self.comment = pattern.startswith("#") and not negate
        self.empty = pattern == ""
        self.glob_parts: list[list[str]] = []
        self.set: list[list] = []
        self._memo: dict[tuple[int, str, bool], bool] = {}
        self._literals: list[frozenset[str]] = []
        self.is_relative = False
        # every pattern has one segment: any match depends on the file name alone
        self.base_only = False
        self.memo: dict = {}  # free for callers whose answers depend on names alone
        # for a quick "cannot match": the literal segments each pattern needs
        # (None when some pattern needs none)
        self.needed_literals: tuple[frozenset[str], ...] | None = None
        if self.comment or self.empty:
            return
        seen = []
        for expanded in brace_expand(pattern):
            if expanded not in seen:
                seen.append(expanded)
        self.glob_parts = [_levels_one(re.split(r"/+", s)) for s in seen]
        for parts in self.glob_parts:
            self.set.append([_compile_part(p) for p in parts])
        self._literals = [_required_literals(parts) for parts in self.glob_parts]
        prefixes = [_required_prefixes(parts) for parts in self.glob_parts]
        self.is_relative = self._is_relative()
        self.base_only = bool(self.set) and all(len(p) == 1 for p in self.set)
        if self.set and all(lit or pre for lit, pre in zip(self._literals, prefixes, strict=True)):
            self.needed_literals = tuple(self._literals)
            self._needed_prefixes = tuple(prefixes)

    def may_match_within(self, folded_segments: frozenset[str]) -> bool:
        """False when no full (non-partial) match is possible for a path whose segments
        (case-folded, see ``folded_segments``) are all among these."""
        needed = self.needed_literals
        if needed is None:
            return True
        for literals, prefixes in zip(needed, self._needed_prefixes, strict=True):
            if literals <= folded_segments and all(
                any(segment.startswith(prefix) for segment in folded_segments)
                for prefix in prefixes
            ):
                return True
        return False

    def match(self, path: str, partial: bool = False) -> bool:
        if self.comment:
            return False
        if self.empty:
            return path == ""
        if path == "/" and partial:
            return True
        ff, filename, folded = _split_path(path)
        for index, (pattern, literals) in enumerate(zip(self.set, self._literals, strict=True)):
            if len(pattern) == 1:
                # a one-segment pattern sees only the file name (matchBase): the answer
                # is shared by every path that ends in it, at every depth of the walk
                key = (index, filename, partial)
                hit = self._memo.get(key)
                if hit is None:
                    hit = self._memo[key] = _match_one([filename], 0, pattern, 0, partial)
            elif not partial and not literals <= folded:
                continue  # a literal segment of the pattern is in no segment of the path
            else:
                hit = _match_one(ff, 0, pattern, 0, partial)
            if hit:
                return True
        return False

    def _is_relative(self) -> bool:
        """ignore-walk's test for a rule that may match a basename at any depth."""
        return any(len(p) <= (1 if p[-1] else 2) for p in self.glob_parts)


_SLASHES = re.compile(r"/+")


@lru_cache(maxsize=65536)
def _split_path(path: str) -> tuple[list[str], str, frozenset[str]]:
    """Segments, the name minimatch's matchBase compares, and the case-folded segments."""
    ff = _SLASHES.split(path)
    filename = ff[-1]
    if not filename:
        for seg in reversed(ff[:-1]):
            if seg:
                filename = seg
                break
    return ff, filename, frozenset(_fold(seg) for seg in ff)


def folded_segments(path: str) -> frozenset[str]:
    """The path's segments, case-folded as ``Rule.may_match_within`` compares them."""
    return _split_path(path)[2]


def _fold(segment: str) -> str:
    # re's IGNORECASE also lets "i" match dotted and dotless I (U+0130, U+0131)
    return segment.casefold().replace("i\u0307", "i").replace("\u0131", "i")


_MAGIC = frozenset("*?[]{}()!+@\\")


def _required_prefixes(parts: list[str]) -> tuple[str, ...]:
    """Case-folded plain ASCII starts of wildcard segments (".wafpickle-" of
    ".wafpickle-*"): a full match needs a path segment beginning with each."""
    prefixes = []
    for p in parts:
        if not p or p == "**" or not _MAGIC.intersection(p):
            continue
        cut = next(i for i, c in enumerate(p) if c in _MAGIC)
        if cut and p[:cut].isascii():
            prefixes.append(p[:cut].casefold())
    return tuple(prefixes)


def _required_literals(parts: list[str]) -> frozenset[str]:
    """Case-folded plain ASCII segments a full (non-partial) match must find among the
    path's segments: each is compared to exactly one of them, case-insensitively.
    Non-ASCII segments are left out, as their case-insensitive regex match is subtler."""
    return frozenset(
        p.casefold()
        for p in parts
        if p and p != "**" and p.isascii() and not _MAGIC.intersection(p)
    )


def _compile_part(part: str):
    if part == "**":
        return GLOBSTAR
    if part == "":
        return ""
    return _compiled_segment(part)


@lru_cache(maxsize=4096)
def _compiled_segment(part: str) -> _Segment:
    return _Segment(part)


def _match_one(file: list[str], fi: int, pattern: list, pi: int, partial: bool) -> bool:
    fl, pl = len(file), len(pattern)
    while fi < fl and pi < pl:
        p = pattern[pi]
        if p is GLOBSTAR:
            if pi == pl - 1:
                return all(seg not in (".", "..") for seg in file[fi:])
            fr = fi
            while fr < fl:
                if _match_one(file, fr, pattern, pi + 1, partial):
                    return True
                if file[fr] in (".", ".."):
                    return False
                fr += 1
            return partial
        f = file[fi]
        hit = (f == p) if isinstance(p, str) else p.test(f)
        if not hit:
            return False
        fi += 1
        pi += 1
    if fi == fl and pi == pl:
        return True
    if fi == fl:
        if partial:
            return True
        # a trailing "**" also matches nothing at all only after something matched it
        return False
    return fi == fl - 1 and file[fi] == ""


@lru_cache(maxsize=1024)
def parse_rules(text: str) -> tuple[Rule, ...]:
    """Rules of one ignore file: one per non-blank, non-comment line, trimmed.

    Cached by text: every directory re-reads npm's default rules, and a rule
    remembers its answers, so sharing the objects makes the walk fast."""
    rules = []
    for line in re.split(r"\r?\n", text):
        stripped = js_trim(line)
        if not stripped or stripped.startswith("#"):
            continue
        rules.append(Rule(stripped))
    return tuple(rules)
