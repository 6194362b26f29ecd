"""The OS keyring, where ``pystage login`` keeps tokens and ``pystage otp set`` TOTP secrets.

Optional by design (as twine's): a headless machine without a backend is normal,
reading then finds nothing and storing says how to do without.
"""

from __future__ import annotations

from typing import Any

from pystage.errors import PystageError

KEYRING_SERVICE = "pystage"
OTP_KEYRING_SERVICE = "pystage-otp"


def keyring_backend() -> Any:
    """The usable keyring backend, or None when there is none (headless CI)."""
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring):
        return None
    try:
        from keyring.backends import chainer

        if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
            return None
    except ImportError:
        pass
    if getattr(backend, "priority", 1) <= 0 and type(backend).__name__ == "ChainerBackend":
        return None
    return backend


def no_keyring_error() -> PystageError:
    return PystageError(
        "ENOKEYRING",
        "no OS keyring backend is available to store the token",
        "use --save-to-npmrc to store it in your user npmrc (mode 0600) instead, "
        "or configure a keyring backend (PYTHON_KEYRING_BACKEND)",
    )


def keyring_store(service: str, key: str, secret: str) -> None:
    backend = keyring_backend()
    if backend is None:
        raise no_keyring_error()
    try:
        backend.set_password(service, key, secret)
    except Exception as exc:
        raise PystageError(
            "ENOKEYRING", f"the keyring refused to store the secret: {type(exc).__name__}"
        ) from None


def keyring_get(service: str, key: str) -> str | None:
    backend = keyring_backend()
    if backend is None:
        return None
    try:
        return backend.get_password(service, key)
    except Exception:
        return None


def keyring_delete(service: str, key: str) -> bool:
    backend = keyring_backend()
    if backend is None:
        return False
    try:
        if backend.get_password(service, key) is None:
            return False
        backend.delete_password(service, key)
        return True
    except Exception:
        return False
