"""The parts of node-semver that publishing needs: parse, clean, order, and
"is this a valid range" (npm refuses a dist-tag that is one)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Every pattern is matched whole (``fullmatch``: ``$`` would let "1.0.0\n" through) and
# digits are ASCII, as in JavaScript (``\d`` would take "١.٠.٠" and int() would read it)
_NUM = r"0|[1-9][0-9]*"
_PRE_ID = rf"(?:{_NUM}|[0-9]*[a-zA-Z-][a-zA-Z0-9-]*)"
_PRE_ID_LOOSE = r"(?:[0-9]+|[0-9]*[a-zA-Z-][a-zA-Z0-9-]*)"
_BUILD = r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))"

_FULL = re.compile(rf"v?({_NUM})\.({_NUM})\.({_NUM})(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?{_BUILD}?")
_LOOSE = re.compile(
    rf"[v=\s]*([0-9]+)\.([0-9]+)\.([0-9]+)(?:-?({_PRE_ID_LOOSE}(?:\.{_PRE_ID_LOOSE})*))?{_BUILD}?"
)
_MAX_LENGTH = 256
_MAX_SAFE_INTEGER = 2**53 - 1


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()

    def __str__(self) -> str:
        main = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            return main + "-" + ".".join(str(p) for p in self.prerelease)
        return main

    def _key(self):
        # A release sorts above its prereleases; numeric ids sort below alphanumeric ones.
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Version) -> bool:
        return self._key() <= other._key()


def parse(text: object, loose: bool = False) -> Version | None:
    if not isinstance(text, str) or len(text) > _MAX_LENGTH:
        return None
    match = (_LOOSE if loose else _FULL).fullmatch(text.strip())
    if not match:
        return None
    numbers = [int(g) for g in match.groups()[:3]]
    if any(n > _MAX_SAFE_INTEGER for n in numbers):
        return None
    pre: list[int | str] = []
    if match.group(4):
        for part in match.group(4).split("."):
            pre.append(int(part) if part.isdigit() and int(part) <= _MAX_SAFE_INTEGER else part)
    major, minor, patch = numbers
    return Version(major, minor, patch, prerelease=tuple(pre))


def valid(text: object, loose: bool = False) -> str | None:
    version = parse(text, loose)
    return str(version) if version else None


def clean(text: str, loose: bool = False) -> str | None:
    return valid(re.sub(r"^[=v]+", "", text.strip()), loose)


# --- ranges: only "is it valid", as npm uses it to reject range-like tags ---
_XID = rf"(?:{_NUM}|x|X|\*)"
_XRANGE_PLAIN = rf"[v=\s]*{_XID}(?:\.{_XID}(?:\.{_XID}(?:-{_PRE_ID}(?:\.{_PRE_ID})*)?{_BUILD}?)?)?"
_COMPARATOR = re.compile(rf"(?:~>?|\^|[<>]?=?)?{_XRANGE_PLAIN}")
_HYPHEN = re.compile(rf"\s*({_XRANGE_PLAIN})\s+-\s+({_XRANGE_PLAIN})\s*")


def valid_range(text: str) -> bool:
    """True when node-semver's ``validRange(text)`` would return a range."""
    if not isinstance(text, str):
        return False
    for part in re.split(r"\s*\|\|\s*", text.strip()):
        if not _valid_comparator_set(part.strip()):
            return False
    return True


def _valid_comparator_set(text: str) -> bool:
    if text == "" or _HYPHEN.fullmatch(text):
        return True
    text = re.sub(rf"(\s*)((?:<|>)?=?)\s*(~>?|{_XRANGE_PLAIN})", r"\1\2\3", text)
    text = re.sub(r"(\s*)~>?\s+", r"\1~", text)
    text = re.sub(r"(\s*)\^\s+", r"\1^", text)
    return all(_COMPARATOR.fullmatch(token) for token in text.split())
