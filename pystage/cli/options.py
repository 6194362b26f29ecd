"""Global options, accepted before or after the subcommand name.

Each global option is declared on the root group and again on every
subcommand (through ``@global_options``); both spellings store into the one
``GlobalOptions`` object on the root context, and a value given after the
subcommand wins over one given before it.
"""

from __future__ import annotations

import click


class GlobalOptions:
    """The global options' values (a plain class: a dataclass costs ~0.6 ms of start-up)."""

    def __init__(
        self,
        registry: str | None = None,
        userconfig: str | None = None,
        json: bool = False,
        color: bool | None = None,  # None: decide from the terminal and NO_COLOR
        verbose: bool = False,
        quiet: bool = False,
        given: set[str] | None = None,
    ) -> None:
        self.registry = registry
        self.userconfig = userconfig
        self.json = json
        self.color = color
        self.verbose = verbose
        self.quiet = quiet
        self.given = set() if given is None else given  # the options the user gave

    @property
    def ui(self):
        """What the layers below cli/ may ask or tell the user (prompts, notices, -v)."""
        from pystage.cli.terminal import TerminalUI

        return TerminalUI(self)

    def __repr__(self) -> str:
        return f"GlobalOptions({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


def get_options(ctx: click.Context | None = None) -> GlobalOptions:
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, GlobalOptions):
        root.obj = GlobalOptions()
    return root.obj


def _store(ctx: click.Context, param: click.Parameter, value):
    source = ctx.get_parameter_source(param.name)
    if source is not None and source.name == "DEFAULT":
        return value
    opts = get_options(ctx)
    setattr(opts, param.name, value)
    opts.given.add(param.name)
    return value


def _declarations():
    return [
        click.option("--registry", metavar="URL", help="Registry base URL."),
        click.option("--userconfig", metavar="FILE", help="User npmrc file (default ~/.npmrc)."),
        click.option(
            "--json", "json", is_flag=True, default=None, help="Machine-readable JSON output."
        ),
        click.option(
            "--color/--no-color",
            "color",
            default=None,
            help="Force or disable colour (NO_COLOR is honoured).",
        ),
        click.option(
            "-v",
            "--verbose",
            is_flag=True,
            default=None,
            help="Log each HTTP request (-vv: and the traceback of a failure).",
        ),
        click.option(
            "-q", "--quiet", is_flag=True, default=None, help="Print only what scripts need."
        ),
    ]


def global_options(f):
    """Attach the global options to a command (or the root group)."""
    for decl in reversed(_declarations()):
        f = decl(f)
    for p in f.__click_params__[-len(_declarations()) :]:
        p.expose_value = False
        p.callback = _store
        p.is_eager = True
    return f
