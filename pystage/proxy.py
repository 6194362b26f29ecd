"""Which proxy a request goes through, decided as npm decides it.

npm-registry-fetch passes ``https-proxy || proxy`` from the config for every
URL, http or https alike; @npmcli/agent falls back to the environment only
when neither is set (``https_proxy`` for https URLs; ``https_proxy``, then
``http_proxy``, then ``proxy`` for http URLs; variable names in any case, the
last one in the environment winning) and skips the proxy for hosts that
``noproxy`` (else ``no_proxy``) names, or that ``no_proxy`` names in any case
(the agent checks the environment again when it connects): comma-separated
domain suffixes compared by dot-separated labels, without ports or wildcards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pystage.errors import PystageError

if TYPE_CHECKING:
    from pystage.config import Config

_ENV_KEYS = ("https_proxy", "http_proxy", "proxy", "no_proxy")


@dataclass(frozen=True)
class ProxySettings:
    """The proxy settings of one command: npm's keys and the proxy variables."""

    configured: str | None = None  # https-proxy || proxy
    noproxy: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)  # lower-cased proxy variables

    @classmethod
    def from_config(cls, config: Config) -> ProxySettings:
        proxy = config.get("https-proxy") or config.get("proxy")
        return cls(
            str(proxy) if proxy else None,
            tuple(_no_proxy_list(config.get("noproxy"))),
            _proxy_env(config.env),
        )


def proxy_for(url: str, settings: ProxySettings) -> str | None:
    """The proxy URL for ``url``, or None to connect directly."""
    proxy_env = settings.env
    scheme = urlsplit(url).scheme.lower()
    proxy = settings.configured
    if not proxy:
        if scheme == "https":
            proxy = proxy_env.get("https_proxy")
        else:
            proxy = (
                proxy_env.get("https_proxy")
                or proxy_env.get("http_proxy")
                or proxy_env.get("proxy")
            )
    env_no_proxy = _no_proxy_list(proxy_env.get("no_proxy"))
    no_proxy = list(settings.noproxy) or env_no_proxy
    # the agent checks no_proxy from the environment once more when it connects
    if not proxy or _is_no_proxy(url, no_proxy) or _is_no_proxy(url, env_no_proxy):
        return None
    return _checked(str(proxy))


def _proxy_env(env: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in env.items():
        if key.lower() in _ENV_KEYS:
            found[key.lower()] = value
    return found


def _no_proxy_list(value: Any) -> list[str]:
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    if not value or not isinstance(value, str):
        return []
    return [p.strip() for p in value.split(",") if p.strip()]


def _is_no_proxy(url: str, no_proxy: list[str]) -> bool:
    hostname = (urlsplit(url).hostname or "").lower()
    host_labels = hostname.split(".")[::-1]
    for entry in no_proxy:
        labels = [p for p in entry.lower().split(".") if p][::-1]
        if labels and host_labels[: len(labels)] == labels:
            return True
    return False


def _checked(proxy: str) -> str:
    try:
        parts = urlsplit(proxy)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or not parts.hostname:
        raise PystageError(
            "EINVALIDPROXY",
            f"invalid proxy URL: {_without_userinfo(proxy)}",
            "set proxy / https-proxy to http://host:port",
        )
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return proxy
    if scheme.startswith("socks"):
        try:
            import socks  # noqa: F401 - PySocks, which requests needs for socks proxies
        except ImportError:
            raise PystageError(
                "EINVALIDPROXY",
                f"socks proxies need the PySocks package: {_without_userinfo(proxy)}",
                "pip install pysocks, or use an http:// proxy",
            ) from None
        return proxy
    raise PystageError(
        "EINVALIDPROXY", f"Invalid protocol `{scheme}:` connecting to proxy `{parts.hostname}`"
    )


def _without_userinfo(url: str) -> str:
    head, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if sep and "@" in netloc:
        return head + sep + netloc.rsplit("@", 1)[1] + slash + path
    return url
