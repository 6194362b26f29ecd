"""Where a one-time password comes from.

In order, when the registry challenges a request:

1. ``--otp CODE`` (sent up front, with the first request);
2. a TOTP code computed from a secret the user stored with ``pystage otp set``
   (keyring service ``pystage-otp``; refused in CI, where it would turn 2FA
   into a second copy of the token);
3. the registry's web flow, when the challenge carries ``authUrl``/``doneUrl``
   and we are at a terminal: show the URL, try a browser, poll ``doneUrl``;
4. a hidden prompt, when stdin and stdout are terminals.

Otherwise: EOTP with a hint about ``--otp``. After a refused code a terminal
user is asked once more (prompt only).

This module never touches the terminal: the prompt, the notices and the
browser opener are injected by ``cli/`` (``pystage/cli/terminal.py``). A
handler without a prompt is not interactive, whatever the terminal is.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from pystage.errors import PystageError
from pystage.render.escape import escape_registry_text

CI_VARS = (
    "CI",
    "CONTINUOUS_INTEGRATION",
    "BUILD_NUMBER",
    "RUN_ID",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "CIRCLECI",
    "TRAVIS",
    "BUILDKITE",
    "JENKINS_URL",
    "TEAMCITY_VERSION",
    "TF_BUILD",
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID",
    "DRONE",
)


def is_ci(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    for name in CI_VARS:
        val = env.get(name)
        if val and val.lower() != "false":
            return True
    return False


def is_interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def otp_required_error(registry: str | None = None, detail: str | None = None) -> PystageError:
    msg = "this operation requires a one-time password"
    if detail:
        msg += f": {detail}"
    return PystageError(
        "EOTP",
        msg,
        "pass --otp=<code> from your authenticator app, "
        "or run pystage at a terminal to be prompted",
    )


def normalize_code(code: str) -> str:
    return "".join(str(code).split())


# -- TOTP secrets --------------------------------------------------------------


def parse_secret(text: str) -> str:
    """A base32 TOTP secret, from a bare secret or an ``otpauth://totp/...`` URI."""
    import base64
    import binascii

    text = text.strip()
    if not text:
        raise PystageError("EUSAGE", "no TOTP secret given")
    if text.lower().startswith("otpauth://"):
        import pyotp

        try:
            otp = pyotp.parse_uri(text)
        except ValueError as exc:
            if "112 bits" in str(exc):
                raise PystageError(
                    "EUSAGE", "the TOTP secret is too short (under 112 bits)"
                ) from None
            raise PystageError("EUSAGE", "not a valid otpauth:// URI") from None
        except Exception:
            raise PystageError("EUSAGE", "not a valid otpauth:// URI") from None
        if not isinstance(otp, pyotp.TOTP):
            raise PystageError("EUSAGE", "only time-based (totp) otpauth URIs are supported")
        text = otp.secret
    secret = "".join(text.split()).upper().rstrip("=")
    try:
        raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
    except (binascii.Error, ValueError):
        raise PystageError("EUSAGE", "the TOTP secret is not valid base32") from None
    if len(raw) < 14:  # pyotp (and RFC 4226) want at least 112 bits
        raise PystageError("EUSAGE", "the TOTP secret is too short (under 112 bits)")
    return secret


TOTP_PERIOD = 30


def totp_now(secret: str, now: float | None = None) -> str:
    import pyotp

    return pyotp.TOTP(secret, interval=TOTP_PERIOD).at(time.time() if now is None else now)


def stored_totp_secret(registry: str, env: Mapping[str, str] | None = None) -> str | None:
    from pystage.config import nerf_dart
    from pystage.credentials.keyring_store import OTP_KEYRING_SERVICE, keyring_get

    if is_ci(env):
        return None
    return keyring_get(OTP_KEYRING_SERVICE, nerf_dart(registry))


def stored_totp_code(registry: str, env: Mapping[str, str] | None = None) -> str | None:
    secret = stored_totp_secret(registry, env)
    return totp_now(secret) if secret else None


# -- the challenge -------------------------------------------------------------

PollFn = Callable[[str], tuple[int, Mapping[str, str], Any]]


class OtpHandler:
    """Answers a registry's OTP challenge; one instance per command."""

    def __init__(
        self,
        *,
        registry: str,
        given: str | None = None,
        interactive: bool | None = None,
        env: Mapping[str, str] | None = None,
        prompt: Callable[[str], str] | None = None,
        opener: Callable[[str], Any] | None = None,
        notify: Callable[[str], None] | None = None,
        use_stored_secret: bool = True,
        web_timeout: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.given = normalize_code(given) if given else None
        # at a terminal (web flow, prompt): as told, else when a prompt was injected
        # and stdin/stdout are terminals; asking needs the injected prompt either way
        if interactive is None:
            interactive = prompt is not None and is_interactive()
        self.interactive = interactive
        self.env = os.environ if env is None else env
        self._prompt = prompt
        self._opener = opener
        self._notify = notify or (lambda msg: None)
        self.use_stored_secret = use_stored_secret
        self.web_timeout = web_timeout
        self._sleep = sleep
        self._clock = clock
        self._wall = wall
        self.last_source: str | None = "flag" if self.given else None
        self.codes: list[str] = [self.given] if self.given else []

    def challenge(self, body: Any, poll: PollFn) -> str:
        """A code for a first challenge (no code, or a --otp code, was sent)."""
        code, source = self._obtain(body, poll)
        self.last_source = source
        self.codes.append(code)
        return code

    def retry_after_refusal(self, refusal: str) -> str | None:
        """After the registry refused a code: ask a terminal user once more, else None.

        A refused code from the stored secret was most likely already used (a second
        approval within its 30 s): wait for the next one, once."""
        if self.last_source == "totp":
            code = self._next_totp()
            if code:
                self.last_source = "totp-retry"
                self.codes.append(code)
                return code
        if not self.interactive or self.last_source not in ("prompt", "flag"):
            return None
        # registry text: escaped here, so a line break in it cannot start a line of our own
        self._notify(f"The registry refused the one-time password: {escape_registry_text(refusal)}")
        code = self._ask()
        self.last_source = "prompt-retry"
        self.codes.append(code)
        return code

    # -- sources ---------------------------------------------------------------
    def _obtain(self, body: Any, poll: PollFn) -> tuple[str, str]:
        if self.use_stored_secret:
            if is_ci(self.env):
                pass  # never use a stored secret in CI (see `pystage otp set`)
            else:
                secret = stored_totp_secret(self.registry, self.env)
                if secret and self.last_source != "totp":
                    return totp_now(secret, self._wall()), "totp"
        if (
            isinstance(body, Mapping)
            and body.get("authUrl")
            and body.get("doneUrl")
            and self.interactive
        ):
            auth_url, done_url = body["authUrl"], body["doneUrl"]
            if not (is_plain_url(auth_url) and is_plain_url(done_url)):
                # it is shown, opened in a browser and polled: only a plain http(s) URL
                raise PystageError(
                    "EWEBAUTH",
                    "the registry's one-time password challenge has an invalid "
                    f"authUrl or doneUrl: {escape_registry_text(auth_url, limit=200)}",
                    "pass --otp=<code> from your authenticator app",
                )
            return self._web(auth_url, done_url, poll), "web"
        if self.interactive:
            return self._ask(), "prompt"
        raise otp_required_error(self.registry)

    def _next_totp(self) -> str | None:
        secret = stored_totp_secret(self.registry, self.env)
        if not secret:
            return None
        wait = TOTP_PERIOD - self._wall() % TOTP_PERIOD + 0.5
        self._notify(
            f"The registry refused the code from the stored TOTP secret (already "
            f"used?); waiting {wait:.0f} s for the next one."
        )
        self._sleep(wait)
        return totp_now(secret, self._wall())

    def _ask(self) -> str:
        if self._prompt is None:
            raise otp_required_error(self.registry)
        try:
            code = normalize_code(
                self._prompt("This operation requires a one-time password.\nEnter OTP: ")
            )
        except EOFError:  # Ctrl-D: the user was asked and gave nothing
            code = ""
        if not code:
            raise PystageError(
                "EOTP",
                "no one-time password entered",
                "run the command again and type the code from your "
                "authenticator app, or pass --otp=<code>",
            )
        return code

    def _web(self, auth_url: str, done_url: str, poll: PollFn) -> str:
        return wait_for_web_auth(
            auth_url,
            done_url,
            poll,
            notify=self._notify,
            open_url=self._open,
            timeout=self.web_timeout,
            sleep=self._sleep,
            clock=self._clock,
            message="Authenticate your account at:",
        )

    def _open(self, url: str) -> None:
        if self._opener is not None:
            try:
                self._opener(url)
            except Exception:  # a browser that fails to start: the URL was shown
                pass


def is_plain_url(value: Any) -> bool:
    """An http(s) URL with nothing a terminal would act on: a login or authentication
    URL from the registry is shown to the user and opened in a browser (a real one has
    no space or control character; ``javascript:`` or ``file:`` would open anything)."""
    import re

    return (
        isinstance(value, str)
        and value.lower().startswith(("http://", "https://"))
        and not re.search(
            r"[\x00-\x20\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]", value
        )
    )


def wait_for_web_auth(
    url: str,
    done_url: str,
    poll: PollFn,
    *,
    notify: Callable[[str], None],
    open_url: Callable[[str], None],
    timeout: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    message: str = "Authenticate your account at:",
) -> str:
    """npm-profile's web flow: show ``url``, try a browser, poll ``done_url`` for ``{"token"}``.

    202 means "not yet": wait ``retry-after`` seconds (1 when absent) and poll again.
    """
    # the URL is the registry's: escaped here, so only our own line break splits the notice
    notify(f"{message}\n{escape_registry_text(url)}")
    open_url(url)
    deadline = clock() + timeout
    while True:
        status, headers, data = poll(done_url)
        if status == 200:
            if isinstance(data, Mapping) and data.get("token"):
                return str(data["token"])
            raise PystageError("EWEBAUTH", "invalid response from the web authentication endpoint")
        if status != 202:
            raise PystageError("EWEBAUTH", f"web authentication failed ({status})")
        wait = _retry_after(headers, default=1.0)
        if clock() + wait > deadline:
            raise PystageError(
                "ETIMEDOUT",
                "timed out waiting for web authentication",
                "finish in the browser sooner, or use --otp / --auth-type=legacy",
            )
        sleep(wait)


def _retry_after(headers: Mapping[str, str], default: float) -> float:
    value = None
    for k, v in headers.items():
        if k.lower() == "retry-after":
            value = v
    if value is None:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        return default
