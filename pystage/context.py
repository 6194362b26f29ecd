"""Glue for commands: global options -> Config -> RegistryClient."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pystage.config import Config, load_config


def config_from_options(
    options,
    *,
    cwd=None,
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
    return load_config(cwd=cwd, cli=cli, env=env)


def make_client(
    options,
    *,
    otp=None,
    package=None,
    command="stage",
    cwd=None,
    manifest=None,
    extra: Mapping[str, Any] | None = None,
    interactive: bool | None = None,
    env: Mapping[str, str] | None = None,
    oidc: bool | None = None,
    registry: str | None = None,
):
    """A RegistryClient for a command.

    ``manifest``: apply its publishConfig (publish only). ``otp``: the --otp value.
    ``registry``: talk to this registry rather than the configured one.
    ``oidc``: try trusted publishing (defaults to on for ``command == "publish"``
    in a supported CI); it silently falls back to configured credentials.
    """
    from pystage.http import RegistryClient, stderr_logger

    cli = dict(extra or {})
    if otp:
        cli["otp"] = otp
    config = config_from_options(options, cwd=cwd, extra=cli, env=env)
    if manifest is not None:
        config = config.with_publish_config(manifest)
    from pystage.credentials import check_legacy_auth

    check_legacy_auth(config)
    if package is None and manifest is not None:
        package = manifest.get("name")
    log = stderr_logger() if getattr(options, "verbose", False) else None
    client = RegistryClient(
        config,
        registry=registry,
        command=command,
        otp=otp,
        package=package,
        interactive=interactive,
        log=log,
    )
    if oidc is None:
        oidc = command == "publish"
    if oidc and package:
        from pystage.credentials import exchange_oidc_token

        token = exchange_oidc_token(client, package)
        if token:
            client.set_token(token, "oidc")
    return client
