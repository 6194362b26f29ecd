"""Which certificate authorities a request trusts, decided as npm decides it.

``strict-ssl=false`` turns verification off. Otherwise the certificates come
from ``cafile`` or from the inline ``ca`` setting (one PEM string, or a
``ca[]=`` list), whichever npm's flattening applies last (see session_trust);
they *replace* the system's authorities, as Node's ``ca`` option does. With
neither, Mozilla's roots (certifi, as Node bundles them) apply, extended by the
file ``NODE_EXTRA_CA_CERTS`` names, as Node extends them (and, as Node, not
when ``ca``/``cafile`` is set). ``NODE_USE_SYSTEM_CA=1`` or ``--use-system-ca`` in
``NODE_OPTIONS`` (Node 23.9+'s own switches, so one setting serves npm and pystage)
adds the operating system's trust store to those roots, as Node adds it: through
``truststore`` (pip's choice), which asks the platform's verifier (Keychain,
CryptoAPI, OpenSSL's system paths) and still honours the roots loaded beside it.

What requests/urllib3 cannot express is here: certificates given inline (not as
a file), a bundle that replaces rather than extends, and the extra-certificates
file. The decision is made once per command (TlsSettings, plain values); the
ssl contexts are built when the first https connection needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pystage.errors import PystageError

if TYPE_CHECKING:
    import ssl
    from collections.abc import Mapping

    from pystage.config import Config

_END = "-----END CERTIFICATE-----"


@dataclass(frozen=True)
class TlsSettings:
    verify: bool = True  # strict-ssl
    pems: tuple[str, ...] | None = None  # the CAs that replace the default roots
    source: str = ""  # where pems came from, for messages
    extra_ca_file: str | None = None  # NODE_EXTRA_CA_CERTS
    system_ca: bool = False  # NODE_USE_SYSTEM_CA=1 / NODE_OPTIONS=--use-system-ca

    @classmethod
    def from_config(cls, config: Config) -> TlsSettings:
        verify, pems, source = session_trust(config)
        extra = config.env.get("NODE_EXTRA_CA_CERTS") or None
        return cls(verify, tuple(pems) if pems else None, source, extra, use_system_ca(config.env))


def use_system_ca(env: Mapping[str, str]) -> bool:
    """Node's switch for the system's trust store: ``--use-system-ca`` (or
    ``--no-use-system-ca``) in NODE_OPTIONS, the last one written, else
    ``NODE_USE_SYSTEM_CA=1`` (Node: "when both are set, --use-system-ca takes
    precedence")."""
    flag = None
    for option in env.get("NODE_OPTIONS", "").split():
        if option in ("--use-system-ca", "--no-use-system-ca"):
            flag = option == "--use-system-ca"
    if flag is not None:
        return flag
    return env.get("NODE_USE_SYSTEM_CA") == "1"


def session_trust(config: Config) -> tuple[bool, list[str] | None, str]:
    """(requests' ``verify``, the PEMs to trust instead of the system's or None, their source).

    npm flattens its config layers from the lowest (defaults) to the highest
    (command line), each layer's keys in the order they were written, and both
    ``ca`` and ``cafile`` set the one ``ca`` option: the last one applied wins,
    except a ``cafile`` that is missing or empty, which sets nothing.
    """
    if config.get("strict-ssl") is False:
        return False, None, ""
    pems: list[str] | None = None
    source = ""
    for layer in reversed(config.layers):
        for key, value in layer.data.items():
            if key == "ca":
                pems, source = _inline_pems(value) or None, "the ca setting"
            elif key == "cafile" and value:
                from_file = _file_pems(str(value))
                if from_file:
                    pems, source = from_file, f"cafile {value}"
    # the certificates are parsed when the first https connection needs them (see
    # client_context): loading a system-sized bundle costs ~25 ms that a plain-http
    # registry never needs, and a bad one still fails before anything is sent
    return True, pems, source


def _file_pems(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return []  # npm ignores a missing cafile
    except (OSError, UnicodeDecodeError) as exc:
        raise PystageError("ECONFIG", f"cannot read cafile {path}: {exc}") from None
    sections = text.replace("\r\n", "\n").split(_END)
    return [section.lstrip() + _END for section in sections if section.strip()]


def _inline_pems(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    pems = []
    for item in values:
        if not isinstance(item, str) or not item.strip():
            continue
        # a PEM never holds a backslash: an unquoted ca= value keeps its literal "\n"
        pems.append(item.replace("\\n", "\n").strip())
    return pems


def context(pems: list[str], source: str = "the ca setting") -> ssl.SSLContext:
    import ssl

    # not create_default_context: the configured CAs replace the system store
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    try:
        ctx.load_verify_locations(cadata="\n".join(pems) + "\n")
    except (ssl.SSLError, ValueError) as exc:
        raise PystageError(
            "ECONFIG",
            f"{source} holds no valid PEM certificate ({exc})",
            'write each certificate as ca="-----BEGIN CERTIFICATE-----\\n'
            '...\\n-----END CERTIFICATE-----", or use cafile=<path>',
        ) from None
    return ctx


def client_context(settings: TlsSettings, cert: tuple[str, str] | None = None) -> ssl.SSLContext:
    """The ssl context for https connections under ``settings``, with ``cert``
    (certfile, keyfile) offered to the server when given. Built on the first https
    connection only (a plain-http registry never loads a certificate bundle)."""
    import ssl

    if not settings.verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif settings.pems:
        ctx = context(list(settings.pems), settings.source)
    elif settings.system_ca:
        ctx = _system_context()
        if settings.extra_ca_file:
            _load_extra(ctx, settings.extra_ca_file)
    else:
        ctx = ssl.create_default_context(cafile=_default_bundle())
        if settings.extra_ca_file:
            _load_extra(ctx, settings.extra_ca_file)
    if cert:
        certfile, keyfile = cert
        try:
            ctx.load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise PystageError(
                "ECONFIG", f"cannot use the client certificate {certfile} / {keyfile}: {exc}"
            ) from None
    return ctx


def _system_context() -> ssl.SSLContext:
    """The operating system's trust store along with Mozilla's roots, as Node's
    --use-system-ca: a truststore context (the platform verifies the chain, taking
    the roots loaded here as extra anchors)."""
    import ssl

    import truststore

    ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    bundle = _default_bundle()
    if bundle:
        ctx.load_verify_locations(cafile=bundle)
    return ctx


def _load_extra(ctx: ssl.SSLContext, path: str) -> None:
    """NODE_EXTRA_CA_CERTS: Node warns about a file it cannot load and goes on with
    the default roots; so does pystage (the warning is the certificate error that
    follows, if the registry needed the extra certificates)."""
    import ssl

    try:
        ctx.load_verify_locations(cafile=path)
    except (OSError, ssl.SSLError, ValueError):
        pass


def _default_bundle() -> str | None:
    """Mozilla's roots (certifi), as Node bundles them; the system's when certifi is absent."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi is a dependency
        return None
    return certifi.where()
