"""The per-run application context shared by every command.

Holds the global options, builds (lazily and once) the one API client of the run, and is
the one way a command talks to the terminal: data on stdout (:meth:`AppContext.emit`,
:meth:`AppContext.out`), status, warnings and errors on stderr, prompts, progress, and
the exit code. Command modules never call ``click.echo`` or exit a context themselves.
Every start-up (``--help`` included) imports this module, so only click and the output layer
are imported at module level; settings and the client are imported when first needed.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

import click

from aircall_ext import output
from aircall_ext.errors import Hint, Refused, Remedy, UsageError, hint_parts, write_hint
from aircall_ext.names import ENV_NUMBERING, command_line
from aircall_ext.output import ALL_FORMATS, FORMATS, Format

if TYPE_CHECKING:
    from aircall_ext.api.client import ApiClient
    from aircall_ext.columns import Columns
    from aircall_ext.config import PlanFile, Settings
    from aircall_ext.core.identity import AccountIdentity
    from aircall_ext.core.numbering import NumberingPlan

P = ParamSpec("P")
R = TypeVar("R")


class AppContext:
    """Global options of the run (a plain class: dataclasses would cost start-up time)."""

    def __init__(
        self,
        *,
        profile: str | None = None,
        base_url: str | None = None,
        rate_limit: str | None = None,
        sandbox: bool = False,
        output: Format = "table",
        quiet: bool = False,
        verbose: int = 0,
        progress: bool = True,
        numbering: str | None = None,
    ) -> None:
        self.profile = profile
        self.base_url = base_url
        self.rate_limit = rate_limit
        self.sandbox = sandbox
        self.output: Format = output
        self.quiet = quiet
        self.verbose = verbose
        self.progress = progress
        self.numbering = numbering  # --numbering FILE as given ('' : no plan)
        self._client: ApiClient | None = None
        self._settings: Settings | None = None
        self._plan: tuple[NumberingPlan | None] | None = None  # read once, when first needed
        self._warned: set[str] = set()

    def command_line(self, remedy: Remedy, *, sandbox: bool | None = None) -> str:
        """The command a hint suggests, with this run's --profile, --base-url, --rate-limit,
        --numbering and --sandbox, so that it acts on the same account and plan, at the same
        pace, when pasted. ``sandbox``: whether the account it acts on is the sandbox, when
        that is not the run's (a job ``jobs`` lists). The sandbox's own commands act on its
        state file, not on an account: they take none of these."""
        if remedy.words[:1] == ("sandbox",):
            return command_line(*remedy.words)
        options = ["--profile", self.profile] if self.profile else []
        if self.base_url:
            options += ["--base-url", self.base_url]
        if self.rate_limit:
            options += ["--rate-limit", self.rate_limit]
        if self.numbering is not None:
            options += ["--numbering", self.numbering]
        sandbox = self.sandbox if sandbox is None else sandbox
        return command_line(*options, *remedy.words, sandbox=sandbox)

    def exit(self, code: int) -> None:
        """End the command with ``code``, after what it printed (no message of its own)."""
        if code:
            click.get_current_context().exit(code)

    def text(self, message: Hint) -> str:
        """``message`` as people read it: text, or text and remedies, each remedy written
        as a command line of this run (:meth:`command_line`)."""
        return write_hint(hint_parts(message), self.command_line)

    # -- output -----------------------------------------------------------------------
    def emit(
        self,
        doc: Mapping[str, Any],
        rows: Sequence[Mapping[str, Any]],
        columns: Columns,
        *,
        csv: Columns | None = None,
        empty: str | None = None,
    ) -> None:
        """Print one result in the run's format: ``doc`` for JSON, ``rows`` for table and CSV
        (``csv``: the columns of CSV, when scripts get more than the table shows).

        ``empty`` is said on stderr instead of an empty table, so stdout stays clean (with
        --quiet, the empty table is printed: only data and errors).
        """
        if self.output == "json":
            self.out(output.render_json(doc), nl=False)
        elif self.output == "csv":
            self.out(output.render_csv(rows, csv or columns), nl=False)
        elif not rows and empty and not self.quiet:
            output.status(empty)
        else:
            self.out(output.render_table(rows, columns))

    def out(self, text: str = "", *, nl: bool = True, color: bool | None = None) -> None:
        """Data that is not a table on stdout: a trace, a map, a script, workflow commands.
        ``color``: keep the styles in ``text`` (Click strips them off a terminal)."""
        click.echo(text, nl=nl, color=color)

    def step_summary(self, markdown: str) -> None:
        """Append ``markdown`` to the file ``GITHUB_STEP_SUMMARY`` names (GitHub Actions
        shows it on the run's page). A failure is only a warning: the annotations, which
        carry the verdict, are out already."""
        path = os.environ.get("GITHUB_STEP_SUMMARY")
        if not path:
            return
        try:
            with open(path, "a", encoding="utf-8") as summary:
                summary.write(markdown)
        except OSError as err:
            self.warn(f"cannot append the step summary to {path}: {err.strerror or err}")

    def say(self, message: Hint, *, fg: str | None = None, always: bool = False) -> None:
        """Status for people on stderr; silenced by ``-q`` unless ``always`` (a line a
        script reads there: the address a server listens on). Remedies in it are written
        as this run's command lines."""
        if always or not self.quiet:
            output.status(self.text(message), fg=fg)

    def warn(self, message: Hint) -> None:
        """Warnings are shown even with ``-q``: they are about the user's data."""
        output.warn(self.text(message))

    def error(self, message: Hint) -> None:
        """An error that does not end the run (one of several a command lists), on stderr
        even with ``-q``; the error that ends it is raised instead."""
        output.status(f"error: {self.text(message)}")

    def prompt(self, label: str, *, hidden: bool = False) -> str:
        """A value typed on the terminal (``hidden``: not echoed), asked on stderr."""
        return str(click.prompt(label, hide_input=hidden, err=True))

    def progress_bar(self, label: str) -> output.Progress | None:
        """Progress of a long job on stderr (off a terminal, plain lines now and then);
        None with ``--no-progress`` or ``-q``."""
        return output.Progress(label) if self.progress and not self.quiet else None

    # -- API --------------------------------------------------------------------------
    def settings(self) -> Settings:
        """Resolved connection settings (option > environment > profile)."""
        if self._settings is None:
            from aircall_ext.config import resolve_settings

            self._settings = resolve_settings(
                profile=self.profile,
                base_url=self.base_url,
                rate_limit=self.rate_limit,
                sandbox=self.sandbox,
            )
            for warning in self._settings.warnings:
                self._warn_once(warning)
        return self._settings

    def _warn_once(self, message: str) -> None:
        """A warning about the run's configuration, which the settings and the plan's
        resolution may both find (a broken config file): said once a run."""
        if message not in self._warned:
            self._warned.add(message)
            self.warn(message)

    def plan_file(self) -> PlanFile | None:
        """Where the numbering plan comes from: --numbering > environment > profile."""
        from aircall_ext.config import resolve_numbering

        return resolve_numbering(
            self.numbering, warn=self._warn_once, profile=self.profile, sandbox=self.sandbox
        )

    def plan(self) -> NumberingPlan | None:
        """The numbering plan in effect, read and checked once; None when none is set. A
        plan that cannot be right, or a file that cannot be read, is exit 2."""
        if self._plan is None:
            found = self.plan_file()
            if found is None:
                self._plan = (None,)
            else:
                from aircall_ext.services.numbering import read_plan

                self._plan = (read_plan(found.path, found.shown),)
        return self._plan[0]

    def never_park(self) -> frozenset[str]:
        """Where a swap or a cycle may not park a user even for a moment: the reserved
        extensions of the plan in effect (callers dial 911), or none without a plan."""
        plan = self.plan()
        return plan.reserved if plan is not None else frozenset()

    def require_plan(self, what: str) -> NumberingPlan:
        """The plan ``what`` (a command or option) cannot work without."""
        plan = self.plan()
        if plan is None:
            raise UsageError(f"{what} needs a numbering plan", hint=NO_PLAN_HINT)
        return plan

    def client(self) -> ApiClient:
        """The run's one HTTP client, created on first use and closed when the run ends."""
        if self._client is None:
            self._client = open_client(self, self.settings())
            click.get_current_context().call_on_close(self._client.close)
        return self._client

    def identity(self) -> AccountIdentity:
        """The account the run is configured for, as journals and saved plans record it."""
        from aircall_ext.services.identity import settings_identity

        return settings_identity(self.settings())


NO_PLAN_HINT = (
    f'give one with --numbering FILE, set {ENV_NUMBERING}, or add numbering = "FILE" to '
    "the profile in config.toml"
)
NUMBERING_HELP = (
    "The numbering plan (TOML: reserved, default and team ranges) to check and hand out "
    f"extensions by; '' for none [env: {ENV_NUMBERING}; profile: numbering]."
)


def _set_numbering(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(AppContext).numbering = value


def numbering_option(func: Callable[P, R]) -> Callable[P, R]:
    """``--numbering FILE`` on a command that uses a plan; overrides the global one given
    before the command (so ``validate --offline --numbering plan.toml`` works as a hook)."""
    return click.option(
        "--numbering",
        metavar="FILE",
        type=click.Path(dir_okay=False),
        callback=_set_numbering,
        expose_value=False,
        is_eager=True,
        help=NUMBERING_HELP,
    )(func)


# The one wording of where -o github works, said wherever it is refused.
GITHUB_USAGE = "-o github is only for validate, import --dry-run, diff and dial --batch"
GITHUB_HINT = "table, json and csv work on every command that prints data"
OUTPUT_HELP = "Output format: table for people, json or csv for scripts."
GITHUB_OUTPUT_HELP = (
    "Output format: table for people, json or csv for scripts, github for GitHub Actions "
    "annotations (and a step summary when GITHUB_STEP_SUMMARY is set)."
)


class OutputFormat(click.Choice[str]):
    """The formats a command takes. ``github`` is known to every command, so that one which
    does not take it says which ones do, instead of only listing its own choices."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value == "github" and "github" not in self.choices:
            self.fail(GITHUB_USAGE, param, ctx)
        return super().convert(value, param, ctx)


def takes_github(command: click.Command) -> bool:
    """Whether ``command`` has an -o/--output that offers github."""
    return any(
        param.name == "output"
        and isinstance(param.type, click.Choice)
        and "github" in param.type.choices
        for param in command.params
    )


def refuse_github() -> UsageError:
    return UsageError(GITHUB_USAGE, hint=GITHUB_HINT)


def _set_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(AppContext).output = cast(Format, value)


def _output(formats: Sequence[str], help: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """``-o/--output`` on a command; overrides the global one given before the command."""
    return click.option(
        "-o",
        "--output",
        type=OutputFormat(formats),
        callback=_set_output,
        expose_value=False,
        is_eager=True,
        help=help,
    )


def output_option(func: Callable[P, R]) -> Callable[P, R]:
    """``-o/--output`` with the formats every data command has."""
    return _output(FORMATS, OUTPUT_HELP)(func)


def github_output_option(
    *, requires: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """``-o/--output`` that offers github too (GitHub Actions workflow commands).

    ``requires`` names the parameter without which the command refuses github: ``import``
    annotates only its ``--dry-run``, ``dial`` only its ``--batch``. The check runs before
    the command does anything, whether -o came before the command or after it.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            app = click.get_current_context().ensure_object(AppContext)
            if requires and app.output == "github" and not kwargs.get(requires):
                raise refuse_github()
            return func(*args, **kwargs)

        return _output(ALL_FORMATS, GITHUB_OUTPUT_HELP)(wrapper)

    return decorate


def with_app(func: Callable[Concatenate[AppContext, P], R]) -> Callable[P, R]:
    """Pass the :class:`AppContext` as first argument (a typed ``pass_obj``)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        app = click.get_current_context().ensure_object(AppContext)
        return func(app, *args, **kwargs)

    return wrapper


def open_client(app: AppContext, settings: Settings) -> ApiClient:
    """A client for ``settings`` that warns on stderr and, with ``-v``, logs each request
    there (``-vv``: with its headers, redacted)."""
    from aircall_ext.services import session

    log = output.status if app.verbose else None
    return session.open_client(settings, warn=output.warn, log=log, log_headers=app.verbose >= 2)


def check_rate_limit(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A request budget option (N/SECONDS), checked as it is parsed; kept as written."""
    if value is None:
        return None
    from aircall_ext.api.ratelimit import Budget

    try:
        Budget.parse(value)
    except ValueError as err:
        raise click.BadParameter(str(err), param=param) from None
    return value


def file_option(
    *decls: str, metavar: str, help: str, exists: bool = False, allow_dash: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """An option naming a file the command reads or writes (never a directory); ``exists``:
    one that must be there already; ``allow_dash``: ``-`` for standard input or output."""
    path = click.Path(exists=exists, dir_okay=False, allow_dash=allow_dash)
    return click.option(*decls, metavar=metavar, type=path, help=help)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def ask(count: int) -> None:
    """The confirmation before writing: refused off a terminal, "n" is exit 1."""
    if not stdin_is_terminal():
        raise UsageError(
            "refusing to write without confirmation: standard input is not a terminal",
            hint="pass --yes to apply, or --dry-run to only see the plan",
        )
    from aircall_ext.core.findings import plural

    if not click.confirm(f"Apply {plural(count, 'write')}?", err=True):
        raise Refused("aborted: nothing was written")
