"""Credentials, one module per job.

- ``lookup``: which credential goes with which request URL (npm's nerf-dart rules);
- ``keyring_store``: the OS keyring, where ``pystage login`` keeps tokens;
- ``npmrc``: editing the user npmrc (writing and removing tokens);
- ``trusted_publishing``: the CI's OIDC exchange, above the registry client.

The names most callers need are re-exported here.
"""

from __future__ import annotations

from pystage.credentials.keyring_store import (
    KEYRING_SERVICE,
    OTP_KEYRING_SERVICE,
    keyring_backend,
    keyring_delete,
    keyring_get,
    keyring_store,
    no_keyring_error,
)
from pystage.credentials.lookup import (
    Credential,
    CredentialResolver,
    check_legacy_auth,
    config_credential_for,
    keyring_credential_for,
    legacy_auth_problems,
    same_host,
)
from pystage.credentials.npmrc import (
    remove_credentials_from_npmrc,
    save_scope_registry_to_npmrc,
    save_token_to_npmrc,
)

__all__ = [
    "KEYRING_SERVICE",
    "OTP_KEYRING_SERVICE",
    "Credential",
    "CredentialResolver",
    "check_legacy_auth",
    "config_credential_for",
    "keyring_backend",
    "keyring_credential_for",
    "keyring_delete",
    "keyring_get",
    "keyring_store",
    "legacy_auth_problems",
    "no_keyring_error",
    "remove_credentials_from_npmrc",
    "same_host",
    "save_scope_registry_to_npmrc",
    "save_token_to_npmrc",
]
