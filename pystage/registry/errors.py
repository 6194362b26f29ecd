"""The one error type of the registry's service layer, rendered by the app as JSON."""

from __future__ import annotations


class RegistryError(Exception):
    """An HTTP error answer: ``{"error": message}`` with ``status`` and extra headers.

    ``otp_user`` marks a challenge for a missing one-time password, so that a registry
    with web authentication can add an ``authUrl``/``doneUrl`` pair for that user.
    """

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        otp_user: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.otp_user = otp_user


def otp_required(message: str, user: str | None = None) -> RegistryError:
    # npm-registry-fetch turns a 401 whose www-authenticate names "otp" into EOTP.
    return RegistryError(401, message, {"www-authenticate": "OTP"}, otp_user=user)
