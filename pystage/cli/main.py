"""The ``pystage`` entry point: the root group, lazy subcommands, error mapping."""

from __future__ import annotations

import importlib
import re
import sys

import click

from pystage import __version__
from pystage.cli.options import get_options, global_options
from pystage.errors import PystageError, exit_code_for

# name -> "module:attribute"; modules are imported only when their command runs
# (or when --help lists them), so start-up stays fast.
COMMANDS: dict[str, str] = {
    "pack": "pystage.cli.pack:command",
    "publish": "pystage.cli.publish:command",
    "list": "pystage.cli.list:command",
    "view": "pystage.cli.view:command",
    "review": "pystage.cli.review:command",
    "download": "pystage.cli.download:command",
    "approve": "pystage.cli.approve:command",
    "reject": "pystage.cli.reject:command",
    "login": "pystage.cli.login:command",
    "logout": "pystage.cli.logout:command",
    "whoami": "pystage.cli.whoami:command",
    "otp": "pystage.cli.otp:command",
    "registry": "pystage.cli.registry:command",
    # issue 13's team commands
    "owner": "pystage.cli.owner:command",
    "policy": "pystage.cli.policy:command",
    "token": "pystage.cli.token:command",
    "history": "pystage.cli.history:command",
    # issue 15: where am I pointing, and shell integration
    "doctor": "pystage.cli.doctor:command",
    "completion": "pystage.cli.completion:command",
}
ALIASES = {"ls": "list"}
DOCS_URL = "https://pystage-npm.readthedocs.io/"


class LazyGroup(click.Group):
    def invoke(self, ctx):
        # Ctrl-C in a command: ours to report (click's own handler adds a blank line first)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise PystageError("EINTR", "interrupted") from None
        except BrokenPipeError:
            # `pystage view ID | head -1`: the reader has what it wanted (click would
            # exit 1 here)
            _quiet_exit()

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            raise _no_such_command(name, self.list_commands(ctx) + list(ALIASES))
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx, formatter):
        """Each command's whole first sentence (click cuts them to fit), aliases beside."""
        aliases: dict[str, list[str]] = {}
        for alias, target in ALIASES.items():
            aliases.setdefault(target, []).append(alias)
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            shown = ", ".join([name, *aliases.get(name, [])])
            # the whole first paragraph: never cut off with "..."
            rows.append((shown, cmd.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def list_commands(self, ctx):
        return sorted(set(self.commands) | {name for name in COMMANDS if _available(name)})

    def get_command(self, ctx, name):
        name = ALIASES.get(name, name)
        if name in self.commands:
            return self.commands[name]
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None  # not built yet
            raise
        return getattr(module, attr)


def _available(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(COMMANDS[name].split(":")[0]) is not None


def _no_such_command(name: str, known: list[str]) -> PystageError:
    """A mistyped command: say so, and name the one it most looks like (``aprove``)."""
    import difflib

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean `pystage {close[0]}`?" if close else "run `pystage --help` for usage"
    return PystageError("EUSAGE", f"no such command: {name}", hint)


def _quiet_exit() -> None:
    from pystage.render import exit_after_closed_pipe

    exit_after_closed_pipe()


_EPILOG = f"""\b
Examples:
  pystage publish                     stage the package in this directory
  pystage list                        what is staged, one or two lines each
  pystage view @acme/greet@1.2.0      every field of one staged version
  pystage approve @acme/greet@1.2.0   publish it (asks, then for your OTP)

\b
Shell completion: pystage completion bash|zsh|fish
Documentation: {DOCS_URL}"""


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_EPILOG,
)
@click.version_option(__version__, "--version", prog_name="pystage", message="%(version)s")
@global_options
def cli():
    """Stage, inspect, approve and reject npm package versions.

    CI stages a version with `pystage publish` (no one-time password needed); a
    maintainer inspects it and approves it with their one-time password, which
    makes it public, or rejects it."""


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    # -v logs each request; -vv (or -v -v) adds the traceback of a failure
    verbose = _verbosity(args) >= 2
    json_mode = "--json" in args
    try:
        cli.main(args=args, prog_name="pystage", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:  # Ctrl-C (or EOF) at a click prompt
        _fail(PystageError("EINTR", "interrupted"), verbose, json_mode)
    except _NoArgsIsHelp as exc:
        # a bare group (`pystage`, `pystage otp`): its help, readable, then a usage exit
        sys.stderr.write(exc.ctx.get_help() + "\n")
        sys.exit(exit_code_for("EUSAGE"))
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        path = ctx.command_path if ctx is not None else _command_path(args)
        hint = f"run `{path} --help` for usage"
        _fail(PystageError("EUSAGE", exc.format_message(), hint), verbose, json_mode)
    except PystageError as exc:
        _fail(exc, verbose, json_mode)
    except KeyboardInterrupt:
        _fail(PystageError("EINTR", "interrupted"), verbose, json_mode)
    except BrokenPipeError:
        _quiet_exit()
    except Exception as exc:  # a bug: say so in one line, trace only with --verbose
        _fail(
            PystageError(
                "EUNKNOWN",
                f"{type(exc).__name__}: {exc}",
                "re-run with -vv for the traceback",
            ),
            verbose,
            json_mode,
        )
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_exit()
    sys.exit(0)


def _verbosity(args: list[str]) -> int:
    count = 0
    for arg in args:
        if arg == "--":
            break
        if arg == "--verbose":
            count += 1
        elif _VERBOSE_SHORT.fullmatch(arg):
            count += arg.count("v")
    return count


# -v alone or among other value-less short flags (-qv); -uv and -ov are -u/-o with the value v
_VERBOSE_SHORT = re.compile(r"-[qfh]*v[qvfh]*")


def _command_path(args: list[str]) -> str:
    """`pystage <command>` from the arguments, for errors click raises without a context
    (an option missing its value)."""
    for arg in args:
        name = ALIASES.get(arg, arg)
        if name in COMMANDS:
            return f"pystage {name}"
    return "pystage"


# Click >= 8.2 raises this for a group called without a command (older: prints help, exits)
_NoArgsIsHelp = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _fail(exc: PystageError, verbose: bool, json_mode: bool) -> None:
    from pystage.render import print_error, print_traceback

    if exc.code == "EINTR" and sys.stderr.isatty():
        sys.stderr.write("\n")  # the cursor is after the terminal's ^C or a prompt
    if verbose:
        print_traceback()  # redacted and escaped: exception messages quote registries
    print_error(exc, json_mode=json_mode)
    sys.exit(exit_code_for(exc.code))


__all__ = ["cli", "main", "get_options"]
