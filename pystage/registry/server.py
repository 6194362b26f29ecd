"""Bind the listening socket and run the registry under uvicorn until interrupted."""

from __future__ import annotations

import logging
import re
import signal
import socket
from collections.abc import Callable

from pystage.registry.config import RegistryConfig


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and without it every keep-alive response waits ~40 ms on a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(config: RegistryConfig, announce: Callable[[str], None]) -> None:
    """Serve until SIGINT/SIGTERM. ``announce`` gets one line with the bound URL."""
    import uvicorn

    from pystage.registry.app import create_app

    app = create_app(config)  # opens storage before the port accepts anything
    sock = bind(config.host, config.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="info" if config.access_log else "warning",
            access_log=config.access_log,
            lifespan="off",
            timeout_keep_alive=30,
            backlog=2048,
            log_config=_log_config(),
        )
    )
    logging.getLogger("uvicorn.access").addFilter(_RedactTokens())
    announce(f"pystage registry listening on http://{shown}:{port}/ (storage: {config.storage})")
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal;
    # with SIGTERM mapped to KeyboardInterrupt both end here as a clean exit.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _log_config() -> dict:
    """uvicorn's logging, with the access log on stderr as documented (uvicorn's default
    sends it to stdout, where a script reading the "listening on" line would get it)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    for handler in config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
    return config


class _RedactTokens(logging.Filter):
    """Logout and npm token revoke put a token in the URL (DELETE /-/user/token/<token>,
    DELETE /-/npm/v1/tokens/token/<token or key>): keep it out of logs."""

    _PATH = re.compile(r"(/-/user/token/|/-/npm/v1/tokens/token/)[^/?\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._PATH.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def _interrupt(signum, frame):
    raise KeyboardInterrupt
