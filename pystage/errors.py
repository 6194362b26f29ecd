"""The one error hierarchy of pystage.

Every failure a user can cause or meet is a PystageError with an npm-style
``code``. The CLI turns it into one line on stderr and an exit code taken from
EXIT_CODES; nothing below the CLI prints or exits.
"""

from __future__ import annotations

# Exit codes by error code. npm itself exits 1 for nearly everything; pystage
# keeps 1 as the default and gives scripts distinct codes for the cases they
# most often want to branch on.
EXIT_CODES: dict[str, int] = {
    "EUSAGE": 2,
    "EOTP": 3,
    "E401": 3,
    "ENEEDAUTH": 3,
    "E403": 3,
    "E404": 4,
    "E409": 5,
    "ECONNREFUSED": 6,
    "ECONNRESET": 6,
    "ETIMEDOUT": 6,
    "ENOTFOUND": 6,
    "EINTR": 130,
    # issue 13: `publish --wait` (scripts branch on these two)
    "EREJECTED": 9,  # the staged version was rejected (or discarded) while waiting
    "EWAITTIMEOUT": 124,  # gave up waiting, as timeout(1) exits
}
DEFAULT_EXIT_CODE = 1


class PystageError(Exception):
    """A failure with an npm-style code, a one-line message and an optional hint."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.code)

    def __str__(self) -> str:
        return self.message


def exit_code_for(code: str) -> int:
    if code in EXIT_CODES:
        return EXIT_CODES[code]
    if code.startswith("E5"):
        return 7
    return DEFAULT_EXIT_CODE


class UsageError(PystageError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__("EUSAGE", message, hint)
