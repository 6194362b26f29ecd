"""pystage login: get a token from the registry and store it (OS keyring by default)."""

from __future__ import annotations

import sys

import click

from pystage.cli.options import get_options, global_options


@click.command("login")
@click.option("--username", "-u", metavar="NAME", help="User name (prompted for at a terminal).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin (for scripts).",
)
@click.option(
    "--auth-type",
    type=click.Choice(["web", "legacy"]),
    default=None,
    help="web: log in through the browser when the registry offers it (the default "
    "at a terminal); legacy: user name and password.",
)
@click.option(
    "--save-to-npmrc",
    is_flag=True,
    help="Store the token in the user npmrc (mode 0600) instead of the OS keyring.",
)
@click.option("--otp", metavar="CODE", help="One-time password, if your account has 2FA.")
@click.option(
    "--scope",
    metavar="@SCOPE",
    help="Log in to the scope's registry (its @scope:registry, else --registry) "
    "and map the scope to it in the user npmrc.",
)
@global_options
def command(username, password_stdin, auth_type, save_to_npmrc, otp, scope):
    """Log in to the registry and store the token.

    The token goes to the OS keyring (service "pystage", keyed by the
    registry's //host/path/), or with --save-to-npmrc to your user npmrc as
    //host/path/:_authToken. pystage finds tokens in this order: PYSTAGE_TOKEN,
    npm configuration (flags, npm_config_* variables, project, user and global
    npmrc), then the keyring.
    """
    from pystage import account
    from pystage.context import command_config, make_client
    from pystage.errors import UsageError
    from pystage.otp import is_ci, is_interactive
    from pystage.render.auth import AuthRenderer

    options = get_options()
    render = AuthRenderer(options.json, options.quiet)
    if not save_to_npmrc:
        account.ensure_keyring()  # before asking for a password we could not keep
    if password_stdin and not username:
        raise UsageError("--password-stdin needs --username")
    interactive = is_interactive()
    if scope is not None:
        scope = scope.strip()
        if scope.lstrip("@") == "" or "/" in scope:
            raise UsageError(f"invalid scope: {scope!r}", "a scope looks like @mycorp")
        scope = "@" + scope.lstrip("@")
    config = command_config(options, otp=otp, extra={"scope": scope} if scope else None)
    with make_client(
        options,
        command="login",
        otp=otp,
        config=config,
        # npm login: --registry wins; else the scope's @scope:registry (the
        # client picks it from the scope setting), else registry
        registry=options.registry or None,
    ) as client:
        scope = config.get("scope") or None
        if scope:
            scope = "@" + str(scope).lstrip("@")
        npmrc = config.get("userconfig") if save_to_npmrc else None
        kind = auth_type or (
            "web" if interactive and config.get("auth-type") == "web" else "legacy"
        )
        token = None
        if kind == "web":

            def open_url(url):
                if is_ci(config.env):
                    return
                import webbrowser

                try:
                    webbrowser.open(url)
                except Exception:
                    pass

            token = account.login_web(client, notify=render.instruction, open_url=open_url)
            if token is None:
                render.notice(
                    "This registry does not offer web login; using user name and password."
                )
        if token is None:
            name = username or _ask_username(interactive)
            password = _read_password(password_stdin, interactive)
            token = account.login_couch(client, name, password)
            username = name
        stored = account.store_token(client.registry, token, npmrc_path=npmrc)
        if scope:
            from pystage.credentials import save_scope_registry_to_npmrc

            save_scope_registry_to_npmrc(config.get("userconfig"), scope, client.registry)
        if not username:
            client.set_token(token)
            try:
                username = account.whoami(client)
            except Exception:
                username = None
    render.logged_in(client.registry, stored.where, username)


def _ask_username(interactive: bool) -> str:
    from pystage.errors import UsageError

    if not interactive:
        raise UsageError(
            "no user name given", "pass --username (and --password-stdin) when not at a terminal"
        )
    name = click.prompt("Username", err=True).strip()
    if not name:
        raise UsageError("no user name given")
    return name


def _read_password(from_stdin: bool, interactive: bool) -> str:
    from pystage.errors import UsageError

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif interactive:
        import getpass

        password = getpass.getpass("Password: ", stream=sys.stderr)
    else:
        raise UsageError(
            "no password given",
            "pass --password-stdin and write the password to stdin, or run at a terminal",
        )
    if not password:
        raise UsageError("empty password")
    return password
