"""Glue for commands: global options -> Config -> frozen ClientSettings -> RegistryClient.

The configuration is read here, once; the client gets plain values and its
collaborators (credential resolver, OTP provider, log and notice callbacks).
The callbacks and the OTP prompt come from ``cli/`` (``options.ui``): nothing
below ``cli/`` talks to the terminal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pystage.config import Config, load_config

if TYPE_CHECKING:
    from pystage.http import ClientSettings, RegistryClient
    from pystage.otp import OtpHandler
    from pystage.redact import Redactor


def config_from_options(
    options: Any,
    *,
    cwd: str | os.PathLike | None = None,
    extra: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """The Config for a command: global flags (--registry, --userconfig) plus ``extra`` cli keys."""
    cli: dict[str, Any] = {}
    if getattr(options, "registry", None):
        cli["registry"] = options.registry
    if getattr(options, "userconfig", None):
        cli["userconfig"] = os.path.abspath(os.path.expanduser(options.userconfig))
    for key, value in (extra or {}).items():
        if value is not None:
            cli[key] = value
    config = load_config(cwd=cwd, cli=cli, env=env)
    from pystage.render import set_configured_color

    set_configured_color(config.get("color"))  # npmrc color=false|always, as npm reads it
    return config


def client_settings(config: Config, registry: str, command: str = "stage") -> ClientSettings:
    """The client's view of ``config``, read once (the client never sees Config)."""
    from pystage.http import ClientSettings
    from pystage.proxy import ProxySettings
    from pystage.tls import TlsSettings

    timeout = _float(config.get("fetch-timeout"), 300000) / 1000
    auth_type = config.get("auth-type")
    return ClientSettings(
        registry=registry,
        command=command,
        auth_type=str(auth_type) if auth_type else None,
        retries=_int(config.get("fetch-retries"), 2),
        retry_factor=_float(config.get("fetch-retry-factor"), 10),
        retry_min=_float(config.get("fetch-retry-mintimeout"), 10000) / 1000,
        retry_max=_float(config.get("fetch-retry-maxtimeout"), 60000) / 1000,
        timeout=timeout or None,
        proxy=ProxySettings.from_config(config),
        tls=TlsSettings.from_config(config),
    )


def client_from_config(
    config: Config,
    *,
    registry: str | None = None,
    command: str = "stage",
    otp: str | None = None,
    package: str | None = None,
    token: str | None = None,
    token_source: str = "login",
    use_keyring: bool = True,
    otp_handler: OtpHandler | None = None,
    prompt: Callable[[str], str] | None = None,
    notify: Callable[[str], None] | None = None,
    opener: Callable[[str], Any] | None = None,
    log: Callable[[str], None] | None = None,
    notice: Callable[[str], None] | None = None,
    interactive: bool | None = None,
) -> RegistryClient:
    """A RegistryClient for ``config``. Without ``prompt`` (or ``otp_handler``) an OTP
    challenge that no --otp or stored secret answers is EOTP."""
    from pystage.config import normalize_registry
    from pystage.credentials.lookup import CredentialResolver
    from pystage.http import RegistryClient
    from pystage.otp import OtpHandler
    from pystage.redact import Redactor

    registry = normalize_registry(registry) if registry else config.registry_for(package)
    redactor = Redactor()
    for url in (registry, config.get("https-proxy"), config.get("proxy")):
        _note_userinfo(redactor, url)
    credentials = CredentialResolver(
        config, registry, token=token, token_source=token_source, use_keyring=use_keyring
    )
    given = otp if otp is not None else config.get("otp")
    if otp_handler is None:
        otp_handler = OtpHandler(
            registry=registry,
            given=str(given) if given else None,
            interactive=interactive,
            env=config.env,
            prompt=prompt,
            notify=notify,
            opener=opener,
        )
    return RegistryClient(
        client_settings(config, registry, command),
        credentials,
        otp=otp_handler,
        log=log,
        notice=notice,
        redactor=redactor,
    )


def make_client(
    options: Any,
    *,
    otp: str | None = None,
    package: str | None = None,
    command: str = "stage",
    cwd: str | os.PathLike | None = None,
    manifest: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    interactive: bool | None = None,
    env: Mapping[str, str] | None = None,
    oidc: bool | None = None,
    registry: str | None = None,
    config: Config | None = None,
) -> RegistryClient:
    """A RegistryClient for a command.

    ``manifest``: apply its publishConfig (publish only). ``otp``: the --otp value.
    ``registry``: talk to this registry rather than the configured one.
    ``oidc``: try trusted publishing (defaults to on for ``command == "publish"``
    in a supported CI); it silently falls back to configured credentials.
    ``config``: one the command already read (else it is read here).
    """
    if config is None:
        config = command_config(options, otp=otp, cwd=cwd, manifest=manifest, extra=extra, env=env)
    if package is None and manifest is not None:
        package = manifest.get("name")
    ui = getattr(options, "ui", None)
    client = client_from_config(
        config,
        registry=registry,
        command=command,
        otp=otp,
        package=package,
        interactive=interactive,
        prompt=ui.prompt if ui else None,
        notify=ui.notify if ui else None,
        opener=ui.open_url if ui else None,
        log=ui.log if ui and getattr(options, "verbose", False) else None,
        notice=ui.notice if ui else None,
    )
    if ui is not None and hasattr(ui, "retry_wait"):
        client.retry_pause = ui.retry_wait
    if oidc is None:
        oidc = command == "publish"
    if oidc and package:
        from pystage.credentials.trusted_publishing import exchange_oidc_token

        token = exchange_oidc_token(client, package, config.env)
        if token:
            client.set_token(token, "oidc")
    return client


def command_config(
    options: Any,
    *,
    otp: str | None = None,
    cwd: str | os.PathLike | None = None,
    manifest: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """The Config a registry command runs with (flags, npmrc files, publishConfig),
    checked for credentials npm 11 refuses."""
    from pystage.credentials.lookup import check_legacy_auth

    cli = dict(extra or {})
    if otp:
        cli["otp"] = otp
    config = config_from_options(options, cwd=cwd, extra=cli, env=env)
    if manifest is not None:
        config = config.with_publish_config(manifest)
    check_legacy_auth(config)
    return config


def _note_userinfo(redactor: Redactor, url: object) -> None:
    """A password in a registry or proxy URL is sent as HTTP Basic: mask both forms."""
    if not url or "@" not in str(url):
        return
    from urllib.parse import unquote, urlsplit

    try:
        parts = urlsplit(str(url))
        user, password = parts.username, parts.password
    except ValueError:
        return
    if password:
        redactor.add(unquote(password))
        redactor.add_basic(unquote(user or ""), unquote(password))
    elif user:
        redactor.add(unquote(user))


def _int(v: Any, default: int) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def _float(v: Any, default: float) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return default
