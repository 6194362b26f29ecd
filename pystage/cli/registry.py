"""``pystage registry serve``: run the embedded staging registry."""

from __future__ import annotations

import click

from pystage.cli.options import global_options
from pystage.errors import PystageError, UsageError


def _limit(name: str, default: int, metavar: str, help: str):
    """A lockout/throttling limit: a positive integer, also read from
    PYSTAGE_REGISTRY_<NAME> (the flag wins), so a service file can tune it."""
    return click.option(
        name,
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        metavar=metavar,
        envvar="PYSTAGE_REGISTRY_" + name.lstrip("-").upper().replace("-", "_"),
        help=help,
    )


@click.group("registry")
@global_options
def command():
    """Run the embedded npm-compatible staging registry."""


@command.command("serve")
@click.option(
    "--listen",
    default="127.0.0.1:4873",
    show_default=True,
    metavar="HOST:PORT",
    help="Address to listen on (port 0 picks a free one).",
)
@click.option(
    "--storage",
    metavar="DIR",
    help="Where the database and tarballs live (default: per-user data directory).",
)
@click.option(
    "--open-registration", is_flag=True, help="Let anyone create an account with npm adduser."
)
@click.option("--public-url", metavar="URL", help="Base URL for tarball links when behind a proxy.")
@click.option(
    "--max-body-size",
    default="512MiB",
    show_default=True,
    metavar="SIZE",
    help="Largest accepted publish body (e.g. 200MB).",
)
@_limit(
    "--otp-max-failures",
    5,
    "N",
    "Wrong one-time passwords in a row through one token (or one password login "
    "from one address) before that token is locked.",
)
@_limit(
    "--otp-account-max-failures",
    20,
    "N",
    "Wrong one-time passwords in a row, through any credential, before the whole "
    "account is locked.",
)
@_limit(
    "--otp-lockout",
    300,
    "SECONDS",
    "How long a locked token or account refuses one-time passwords.",
)
@_limit(
    "--password-max-failures",
    10,
    "N",
    "Wrong passwords for one account within --password-window before its "
    "password checks answer 429.",
)
@_limit(
    "--password-max-failures-per-address",
    30,
    "N",
    "Wrong passwords from one client address within --password-window before its "
    "password checks answer 429.",
)
@_limit(
    "--password-window", 900, "SECONDS", "The sliding window in which wrong passwords are counted."
)
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
@click.option(
    "--web-auth",
    is_flag=True,
    help="Offer npm's browser flows: web login (npm login --auth-type=web) and "
    "confirming one-time passwords on a web page.",
)
@click.option(
    "--notify",
    "notify_urls",
    multiple=True,
    metavar="URL",
    help="POST a JSON event to URL for every stage, approval, rejection, expiry, publish, "
    "policy and owner change (repeatable). Retried a few times, never blocks the action.",
)
@click.option(
    "--expiry-sweep",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How often staged versions past their policy's expiry are discarded.",
)
@click.option(
    "--no-web",
    "no_web",
    is_flag=True,
    help="Do not serve the review page under /-/web/ (on by default).",
)
@global_options  # last: the serve options are listed first in --help
def serve(
    listen,
    storage,
    open_registration,
    public_url,
    max_body_size,
    otp_max_failures,
    otp_account_max_failures,
    otp_lockout,
    password_max_failures,
    password_max_failures_per_address,
    password_window,
    access_log,
    web_auth,
    notify_urls,
    expiry_sweep,
    no_web,
):
    """Serve the registry until interrupted; GET /-/ping answers once it is ready."""
    from pathlib import Path

    from pystage.registry.config import (
        RegistryConfig,
        default_storage_dir,
        parse_listen,
        parse_size,
    )

    try:
        host, port = parse_listen(listen)
        max_body = parse_size(max_body_size)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if public_url is not None:
        if not public_url.startswith(("http://", "https://")):
            raise UsageError(f"--public-url must be an http(s) URL, not {public_url!r}")
        public_url = public_url.rstrip("/") + "/"
    from pystage.registry.notify import url_problem

    for number, url in enumerate(notify_urls, 1):
        problem = url_problem(url)
        if problem:  # not echoed: a hook URL often holds a secret, and stderr ends up in logs
            raise UsageError(f"--notify URL #{number} {problem}")
    config = RegistryConfig(
        storage=Path(storage).expanduser().resolve() if storage else default_storage_dir(),
        host=host,
        port=port,
        public_url=public_url,
        open_registration=open_registration,
        max_body_bytes=max_body,
        otp_max_failures=otp_max_failures,
        otp_account_max_failures=otp_account_max_failures,
        otp_lockout_seconds=otp_lockout,
        password_max_failures=password_max_failures,
        password_max_failures_per_address=password_max_failures_per_address,
        password_window_seconds=password_window,
        access_log=access_log,
        web_auth=web_auth,
        notify_urls=tuple(notify_urls),
        expiry_sweep_seconds=expiry_sweep,
        web_page=not no_web,
    )
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        if config.web_page:
            import jinja2  # noqa: F401  (the review page's templates)
    except ModuleNotFoundError as exc:
        raise PystageError(
            "EMISSINGDEP",
            f"the registry needs {exc.name}, which is not installed",
            "install the extra: python -m pip install 'pystage-npm[registry]' "
            "(with pipx: pipx install --force 'pystage-npm[registry]')",
        ) from None
    from pystage.registry.server import serve as run
    from pystage.registry.storage_faults import StorageUnusable

    try:
        run(config, announce=lambda line: click.echo(line, err=False))
    except StorageUnusable as exc:
        raise PystageError(exc.code, str(exc)) from None
    except PermissionError as exc:
        raise PystageError(
            "EACCES", f"cannot use storage {config.storage}: {exc.strerror}"
        ) from None
    except OSError as exc:
        if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise PystageError(
                "EADDRINUSE", f"cannot listen on {listen}: address already in use"
            ) from None
        if exc.errno in (99, 49, -2, -3):
            raise PystageError(
                "EADDRNOTAVAIL", f"cannot listen on {listen}: {exc.strerror}"
            ) from None
        raise PystageError("EIO", f"registry failed: {exc}") from None
