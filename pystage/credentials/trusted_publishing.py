"""Trusted publishing: the CI's OIDC id token exchanged for a package-scoped npm token.

It sits above the registry client and uses only its public methods (``json``,
``request``, ``add_secret``, ``log``): the client knows nothing of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pystage.http import RegistryClient


def oidc_provider(env: Mapping[str, str]) -> str | None:
    """The CI vendor npm supports trusted publishing for, or None (npm uses ci-info)."""
    if env.get("GITHUB_ACTIONS"):
        return "github"
    if env.get("GITLAB_CI"):
        return "gitlab"
    if env.get("CIRCLECI"):
        return "circleci"
    return None


def exchange_oidc_token(client: RegistryClient, package: str, env: Mapping[str, str]) -> str | None:
    """Exchange the CI's OIDC id token for a package-scoped npm token, as npm's publish does.

    Never raises: trusted publishing is optional, and any failure (no CI, no
    id-token permission, a registry without the endpoint) falls back silently
    to the configured credentials. Returns the token, or None.
    """
    from urllib.parse import quote

    provider = oidc_provider(env)
    if provider is None:
        return None
    try:
        id_token = env.get("NPM_ID_TOKEN")
        if not id_token and provider == "github":
            id_token = _github_id_token(client, env)
        if not id_token:
            client.log("oidc skipped: no id token available")
            return None
        client.add_secret(id_token)
        escaped = quote(package, safe="@").replace("%2F", "%2f")  # npa escapedName
        data = client.json(
            "POST",
            f"-/npm/v1/oidc/token/exchange/package/{escaped}",
            headers={"authorization": f"Bearer {id_token}"},
            otp_ok=False,
            expect=(200, 201),
        )
    except Exception as exc:  # noqa: BLE001 - documented: OIDC is best effort
        client.log(
            f"oidc exchange failed, using configured credentials: "
            f"{getattr(exc, 'code', type(exc).__name__)}"
        )
        return None
    token = data.get("token") if isinstance(data, dict) else None
    if token:
        client.add_secret(token)
        client.log("oidc: using a package-scoped token from the trusted publisher exchange")
    return token or None


def _github_id_token(client: RegistryClient, env: Mapping[str, str]) -> str | None:
    from urllib.parse import urlencode

    from pystage.errors import PystageError

    url, bearer = env.get("ACTIONS_ID_TOKEN_REQUEST_URL"), env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not (url and bearer):
        client.log("oidc skipped: the workflow lacks `permissions: id-token: write`")
        return None
    client.add_secret(bearer)
    host = urlsplit(client.registry).hostname
    sep = "&" if "?" in url else "?"
    token_url = f"{url}{sep}{urlencode({'audience': f'npm:{host}'})}"
    try:
        data = client.json(
            "GET",
            token_url,
            headers={"accept": "application/json", "authorization": f"Bearer {bearer}"},
            otp_ok=False,
        )
    except PystageError:
        return None
    value = data.get("value") if isinstance(data, dict) else None
    return str(value) if value else None
