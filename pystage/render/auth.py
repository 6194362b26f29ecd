"""Output of login, logout, whoami and otp: one line for humans, npm's shape for --json."""

from __future__ import annotations

import sys

from pystage.render import print_json, safe


class AuthRenderer:
    def __init__(self, json_mode: bool = False, quiet: bool = False) -> None:
        self.json_mode = json_mode
        self.quiet = quiet

    # every line is escaped (``safe``): user names, URLs and error texts come from the
    # registry; a message of several lines is escaped line by line
    def line(self, text: str) -> None:
        _write(sys.stdout, text)

    def notice(self, text: str) -> None:
        """Progress and warnings: stderr, so stdout stays what scripts read."""
        if not self.quiet or text.startswith("warning"):
            _write(sys.stderr, text)

    def instruction(self, text: str) -> None:
        """What the user must do to go on (the web login URL): stderr, even with -q."""
        _write(sys.stderr, text)

    def logged_in(self, registry: str, where: str, username: str | None) -> None:
        registry = _shown(registry)
        stored = "the OS keyring" if where == "keyring" else where
        if self.json_mode:
            print_json({"registry": registry, "username": username, "storedIn": where})
        elif not self.quiet:
            who = f" as {username}" if username else ""
            self.line(f"Logged in{who} on {registry} (token stored in {stored}).")

    def whoami(self, username: str) -> None:
        if self.json_mode:
            print_json(username)  # npm whoami --json prints the name as a JSON string
        else:
            self.line(username)

    def logged_out(self, result) -> None:
        if result.revoke_error:
            self.notice(
                f"warning: the registry did not revoke the token ({result.revoke_error}); "
                "it was removed locally"
            )
        if result.left_in:
            self.notice(
                f"warning: the credential also comes from {result.left_in}, which "
                "pystage cannot edit; remove it there"
            )
        if self.json_mode:
            print_json(
                {
                    "registry": _shown(result.registry),
                    "revoked": result.revoked,
                    "removedFrom": result.removed_from,
                }
            )
        elif not self.quiet:
            self.line(f"Logged out of {_shown(result.registry)}.")

    def otp_stored(self, key: str) -> None:
        if self.json_mode:
            print_json({"registry": key, "stored": True})
        elif not self.quiet:
            self.line(
                f"TOTP secret stored for {key}: pystage will answer this registry's "
                "one-time password challenges itself."
            )

    def otp_removed(self, key: str, removed: bool) -> None:
        if self.json_mode:
            print_json({"registry": key, "removed": removed})
        elif not self.quiet:
            self.line(
                f"TOTP secret for {key} removed."
                if removed
                else f"No TOTP secret was stored for {key}."
            )


def _write(stream, text: str) -> None:
    stream.write("".join(safe(line) + "\n" for line in text.split("\n")))
    stream.flush()


def _shown(registry: str) -> str:
    """A registry URL as printed: any user:password@ in it masked."""
    from pystage.http import redact

    return redact(registry)
