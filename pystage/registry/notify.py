"""Webhooks: ``pystage registry serve --notify URL`` POSTs every history event as JSON.

The action never waits for a hook: events are queued after their transaction
commits and one daemon thread per URL delivers them in order, so a slow or dead
hook delays neither the request nor the other hooks. A delivery that fails
(connection error, timeout, 5xx, 408, 429) is retried with exponential backoff a
few times, then logged and dropped; any other non-2xx answer is logged at once.
Redirects are not followed (a POST turned into a GET would lose the event).

The standard library's HTTP client is enough for one JSON POST with a timeout,
and keeps the registry free of the client's HTTP stack.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlsplit

log = logging.getLogger("pystage.registry.notify")

RETRIES = 3
BACKOFF_SECONDS = 0.5  # then 1 s, 2 s
TIMEOUT_SECONDS = 5.0
MAX_PENDING = 10_000  # per hook: a hook down for long costs the newest events, not memory
_RETRYABLE_STATUS = {408, 429}


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a hook, or None."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    return None


def hook_label(url: str) -> str:
    """What the logs may say about a hook: its origin. Hook URLs often carry a secret
    in the path or query (Slack, Teams), and logs are read by more people than the config."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx surfaces as an HTTPError: a failed delivery


class _Hook:
    def __init__(self, url: str, retries: int, backoff: float, timeout: float) -> None:
        self.url = url
        self.label = hook_label(url)
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.pending: queue.Queue = queue.Queue(maxsize=MAX_PENDING)
        self.opener = urllib.request.build_opener(_NoRedirect)
        self.thread = threading.Thread(target=self._run, name=f"notify {self.label}", daemon=True)
        self.thread.start()

    def put(self, event: dict | None) -> None:
        try:
            self.pending.put_nowait(event)
        except queue.Full:
            log.warning(
                "notification hook %s: %d events pending, dropping %s #%s",
                self.label,
                MAX_PENDING,
                event and event.get("event"),
                event and event.get("seq"),
            )

    def _run(self) -> None:
        while True:
            event = self.pending.get()
            if event is None:
                return
            try:
                self._deliver(event)
            except Exception:  # a bug here must not kill the thread and silence every later event
                log.exception("notification hook %s: unexpected error", self.label)

    def _deliver(self, event: dict) -> None:
        body = json.dumps(event).encode()
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(
                self.url,
                data=body,
                method="POST",
                headers={"content-type": "application/json", "user-agent": "pystage-registry"},
            )
            try:
                with self.opener.open(request, timeout=self.timeout) as response:
                    response.read(65536)
                return
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code}"
                exc.close()
                if exc.code < 500 and exc.code not in _RETRYABLE_STATUS:
                    break
            except (OSError, ValueError) as exc:  # refused, reset, timeout, bad answer
                cause = getattr(exc, "reason", None)  # URLError wraps the socket's error
                cause = cause if isinstance(cause, BaseException) else exc
                problem = f"{type(cause).__name__}: {cause}"
        log.warning(
            "notification %s #%s to %s failed after %d attempt(s): %s",
            event.get("event"),
            event.get("seq"),
            self.label,
            attempt + 1,
            problem,
        )


class Notifier:
    """Delivers events to every hook; ``send`` never blocks and never raises."""

    def __init__(
        self,
        urls: Iterable[str] = (),
        *,
        retries: int = RETRIES,
        backoff: float = BACKOFF_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.hooks = [_Hook(url, retries, backoff, timeout) for url in urls]

    def send(self, events: Iterable[dict]) -> None:
        for event in events:
            for hook in self.hooks:
                hook.put(event)

    def close(self, grace: float = 2.0) -> None:
        """Let queued events go out for up to ``grace`` seconds (at shutdown)."""
        deadline = time.monotonic() + grace
        for hook in self.hooks:
            hook.put(None)
        for hook in self.hooks:
            hook.thread.join(max(0.0, deadline - time.monotonic()))
