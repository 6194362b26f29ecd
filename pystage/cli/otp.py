"""pystage otp set|remove: let pystage compute one-time passwords from a stored TOTP secret."""

from __future__ import annotations

import sys

import click

from pystage.cli.options import get_options, global_options

WARNING = (
    "warning: storing the TOTP secret on this machine, next to your token, means "
    "anyone who can read the keyring has both factors: 2FA no longer protects "
    "this account from this machine."
)


@click.group("otp")
@global_options
def command():
    """Store or remove a TOTP secret used to answer OTP challenges (opt-in)."""


@command.command("set")
@global_options
def set_secret():
    """Store a TOTP secret (base32, or an otpauth:// URI) read from a hidden prompt or stdin.

    Refused in CI. Keyring service "pystage-otp", keyed by the registry's //host/path/.
    """
    from pystage.config import nerf_dart
    from pystage.context import config_from_options
    from pystage.credentials import OTP_KEYRING_SERVICE, keyring_store
    from pystage.errors import PystageError
    from pystage.otp import is_ci, parse_secret
    from pystage.render.auth import AuthRenderer

    options = get_options()
    config = config_from_options(options)
    if is_ci(config.env):
        raise PystageError(
            "ECI",
            "refusing to store a TOTP secret in a CI environment",
            "in CI, use trusted publishing or pass --otp; a stored secret "
            "would make 2FA meaningless",
        )
    render = AuthRenderer(options.json, options.quiet)
    render.notice(WARNING)
    if sys.stdin.isatty():
        import getpass

        text = getpass.getpass("TOTP secret or otpauth:// URI: ", stream=sys.stderr)
    else:
        text = sys.stdin.readline()
    secret = parse_secret(text)
    key = nerf_dart(config.registry)
    keyring_store(OTP_KEYRING_SERVICE, key, secret)
    render.otp_stored(key)


@command.command("remove")
@global_options
def remove_secret():
    """Forget the stored TOTP secret for the registry."""
    from pystage.config import nerf_dart
    from pystage.context import config_from_options
    from pystage.credentials import OTP_KEYRING_SERVICE, keyring_delete
    from pystage.render.auth import AuthRenderer

    options = get_options()
    key = nerf_dart(config_from_options(options).registry)
    removed = keyring_delete(OTP_KEYRING_SERVICE, key)
    AuthRenderer(options.json, options.quiet).otp_removed(key, removed)
