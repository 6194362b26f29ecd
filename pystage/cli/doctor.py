"""pystage doctor: where pystage points from here, and with what.

The effective registry for the current directory (the package's scope counts) and
which setting chose it; the credential a request would carry and where it comes from
(never any part of the secret); the account and its two-factor status as the
registry reports them; the keyring backend; where TLS trust comes from; the proxy;
whether trusted publishing (OIDC) is possible here. It never fails on what it finds:
a problem is a line of the report (and exit 1 when something would stop a command).
"""

from __future__ import annotations

import click

from pystage.cli.options import get_options, global_options


@click.command("doctor")
@click.option("--offline", is_flag=True, help="Do not ask the registry who you are.")
@global_options
def command(offline):
    """Show the registry, credential, account and 2FA, keyring, CA, proxy and OIDC
    pystage would use here (secrets redacted). --json for scripts."""
    import os

    from pystage.context import command_config
    from pystage.render.doctor import DoctorRenderer

    options = get_options()
    config = command_config(options)
    package = _package_name(os.getcwd())
    where = _registry(config, package)
    registry = where["url"]
    credential = _credential(config, registry)
    report: dict[str, dict | None] = {
        "registry": where,
        "credential": credential,
        "account": None if offline else _account(config, registry, credential),
        "keyring": _keyring(),
        "ca": _ca(config),
        "proxy": _proxy(config, registry),
        "oidc": _oidc(config),
    }
    render = DoctorRenderer(options.color, options.quiet)
    if options.json:
        render.json(report)
    else:
        render.report(report)
    problems = [k for k, v in report.items() if isinstance(v, dict) and v.get("problem")]
    if problems:
        from pystage.errors import PystageError

        raise PystageError(
            "EDOCTOR",
            f"found a problem with: {', '.join(problems)}",
            "see the report above",
        )


def _package_name(cwd: str) -> str | None:
    """The name in ./package.json (its scope picks @scope:registry), if there is one."""
    import json
    import os

    try:
        with open(os.path.join(cwd, "package.json"), encoding="utf-8") as handle:
            name = json.load(handle).get("name")
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) and name else None


def _where(config, key: str) -> str:
    layer = config.where(key)
    if layer is None or layer.where == "default":
        return "npm's default"
    if layer.where in ("cli", "env"):
        return {"cli": "the command line", "env": "an npm_config_* variable"}[layer.where]
    return f"{layer.where} config {layer.source}"


def _registry(config, package: str | None) -> dict:
    url = config.registry_for(package)
    scope = package.split("/", 1)[0] if package and package.startswith("@") else None
    key = f"{scope}:registry" if scope and config.get(f"{scope}:registry") else "registry"
    return {
        "url": url,
        "source": _where(config, key),
        "package": package,
    }


def _credential(config, registry: str) -> dict:
    from pystage.credentials.lookup import CredentialResolver

    try:
        cred = CredentialResolver(config, registry).for_url(registry)
    except Exception as exc:  # noqa: BLE001 - a report, not a command: say it and go on
        return {"kind": None, "problem": f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"}
    if cred is None:
        return {"kind": None, "source": None, "note": "none: commands that need one say ENEEDAUTH"}
    kind = (
        "token"
        if cred.token
        else "username and password"
        if cred.basic
        else "client certificate"
        if cred.certfile
        else "unknown"
    )
    source = cred.source
    if source.startswith("config:") or cred.file:
        source = f"{cred.file or source[len('config:') :]} ({cred.reg_key}:{cred.auth_key})"
    elif source == "env":
        source = "the PYSTAGE_TOKEN variable"
    elif source == "keyring":
        source = f"the OS keyring ({cred.reg_key})"
    return {"kind": kind, "source": source, "secret": "redacted"}


def _account(config, registry: str, credential: dict) -> dict:
    """Who the registry says we are, and the account's 2FA mode (npm profile's tfa)."""
    if not credential.get("kind"):
        return {"name": None, "tfa": None, "note": "not logged in"}
    from pystage.context import client_from_config
    from pystage.errors import PystageError

    try:
        with client_from_config(config, registry=registry, interactive=False) as client:
            answer = client.json("GET", "-/whoami", otp_ok=False)
            name = answer.get("username") if isinstance(answer, dict) else None
            try:
                profile = client.json("GET", "-/npm/v1/user", otp_ok=False)
            except PystageError as err:
                profile, tfa_note = None, f"unknown: the registry answered {err.code}"
            else:
                tfa_note = ""
    except PystageError as err:
        return {"name": None, "tfa": None, "problem": f"{err.code}: {err.message}"}
    tfa = profile.get("tfa") if isinstance(profile, dict) else None
    if isinstance(tfa, dict):
        mode = tfa.get("mode") if not tfa.get("pending") else "pending"
    elif tfa is False:
        mode = "disabled"
    else:
        mode = None
    result = {"name": name if isinstance(name, str) else None, "tfa": mode}
    if tfa_note or mode is None:
        result["note"] = tfa_note or "the registry does not say"
    return result


def _keyring() -> dict:
    from pystage.credentials.keyring_store import keyring_backend

    backend = keyring_backend()
    if backend is None:
        return {"backend": None, "note": "none (tokens go to the npmrc: login --save-to-npmrc)"}
    cls = type(backend)
    return {"backend": f"{cls.__module__}.{cls.__name__}"}


def _ca(config) -> dict:
    from pystage.tls import TlsSettings

    try:
        tls = TlsSettings.from_config(config)
    except Exception as exc:  # noqa: BLE001
        return {"source": None, "problem": str(getattr(exc, "message", exc))}
    if not tls.verify:
        return {"source": "none: certificates are not checked (strict-ssl=false)"}
    if tls.pems:
        source = (
            f"{tls.source} (from {_where(config, 'cafile' if 'cafile' in tls.source else 'ca')})"
        )
    elif tls.system_ca:
        source = "the operating system's trust store and Mozilla's roots (NODE_USE_SYSTEM_CA)"
    else:
        source = "Mozilla's roots (certifi), as Node bundles them"
    result = {"source": source}
    if tls.extra_ca_file and not tls.pems:
        result["extra"] = f"{tls.extra_ca_file} (NODE_EXTRA_CA_CERTS)"
    return result


def _proxy(config, registry: str) -> dict:
    from pystage.proxy import ProxySettings, _without_userinfo, proxy_for

    try:
        proxy = proxy_for(registry, ProxySettings.from_config(config))
    except Exception as exc:  # noqa: BLE001
        return {"url": None, "problem": str(getattr(exc, "message", exc))}
    return {"url": _without_userinfo(proxy) if proxy else None}


def _oidc(config) -> dict:
    from pystage.credentials.trusted_publishing import oidc_provider

    provider = oidc_provider(config.env)
    if provider is None:
        return {"provider": None, "note": "not in a CI that npm supports for trusted publishing"}
    env = config.env
    ready = bool(env.get("NPM_ID_TOKEN")) or (
        provider == "github"
        and bool(env.get("ACTIONS_ID_TOKEN_REQUEST_URL"))
        and bool(env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
    )
    result = {"provider": provider, "id_token": ready}
    if not ready:
        result["note"] = (
            "no id token: give the job `permissions: id-token: write`"
            if provider == "github"
            else "no id token: set NPM_ID_TOKEN from the CI's OIDC token"
        )
    return result
