"""The ``aircall-ext`` command line: root group, global options, exit-code mapping.

Every expected failure is an :class:`~aircall_ext.errors.AircallExtError` raised somewhere
below; :func:`main` is the one place that turns it into a line on stderr and an exit code.

To add a command: one line in :data:`COMMANDS` (its name and where it lives); its docstring
is its help, and ``python -m tests.tools.generate`` lists its summary for ``--help``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Iterator
from typing import cast

import click

from aircall_ext import __version__
from aircall_ext.cli.completers import complete_profiles
from aircall_ext.cli.context import (
    NUMBERING_HELP,
    AppContext,
    check_rate_limit,
    file_option,
    refuse_github,
    takes_github,
)
from aircall_ext.cli.summaries import SUMMARIES
from aircall_ext.errors import EXIT_API, EXIT_INTERRUPTED, EXIT_USAGE, AircallExtError, UsageError
from aircall_ext.names import (
    APP_NAME,
    DEFAULT_BASE_URL,
    DEFAULT_RATE_LIMIT,
    ENV_BASE_URL,
    ENV_DEBUG,
    ENV_PROFILE,
    ENV_RATE_LIMIT,
    ENV_SANDBOX,
)
from aircall_ext.output import ALL_FORMATS, Format

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

PROG = APP_NAME  # as Click names the program in usage lines and completion scripts

# Objects allocated before the cyclic collector runs (Python's default: 700). Reading a large
# account makes hundreds of thousands that all live to the end of the run, and with the
# default the collector walks them over and over: a sixth of reading 10,000 users.
GC_ALLOCATIONS = 50_000


# Every command: name -> "module:attribute" under aircall_ext.cli. This is the only list of
# commands; each command's docstring is its whole help, the summary on its first line. A
# module is imported only when one of its commands runs, is completed or is documented, so
# `--help`, `--version` and `completion` import none of them (Click's decorators cost about
# 2 ms per module): `--help` lists the summaries from SUMMARIES, generated from those
# docstrings.
COMMANDS: dict[str, str] = {
    "assign": "assign:assign",
    "auth": "auth:auth",
    "completion": "completion:completion",
    "dial": "dial:dial",
    "diff": "bulk:diff",
    "export": "bulk:export",
    "import": "imports:import_command",
    "jobs": "jobs:jobs_command",
    "list": "users:list_users",
    "map": "numbering:map_command",
    "next-free": "assign:next_free",
    "numbers": "users:list_numbers",
    "renumber": "numbering:renumber",
    "sandbox": "sandbox:sandbox",
    "show": "users:show_user",
    "validate": "validate:validate",
}


def load_command(target: str) -> click.Command:
    """Import the command ``module:attribute``."""
    module, _, attribute = target.partition(":")
    command: click.Command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    return command


class ReaderLeft(Exception):
    """Standard output or error was closed before everything was written (``aircall-ext
    list | head``). Not an OSError: Click's main would take that for its own and exit 1."""


@contextlib.contextmanager
def _reader_may_leave() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError as err:
        raise ReaderLeft from err


class LazyGroup(click.Group):
    """The root group: a command's module is imported the first time the command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the global options (``--help`` and ``--version`` print from here)."""
        with _reader_may_leave():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; an error's suggested commands are then written with this run's
        global options (``--sandbox``, ``--profile``, ``--base-url``, ``--rate-limit``,
        ``--numbering``)."""
        try:
            with _reader_may_leave():
                return super().invoke(ctx)
        except AircallExtError as err:
            if isinstance(ctx.obj, AppContext):
                err.write_command = ctx.obj.command_line
            raise

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(load_command(COMMANDS[cmd_name]), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's command list, with the generated summaries for commands not loaded yet."""
        commands = [
            self.commands.get(name) or click.Command(name, help=SUMMARIES.get(name))
            for name in self.list_commands(ctx)
        ]
        shown = [cmd for cmd in commands if not cmd.hidden]
        if not shown:
            return
        limit = formatter.width - 6 - max(len(cmd.name or "") for cmd in shown)
        with formatter.section("Commands"):
            formatter.write_dl([(cmd.name or "", cmd.get_short_help_str(limit)) for cmd in shown])


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--profile",
    metavar="NAME",
    envvar=ENV_PROFILE,
    shell_complete=complete_profiles,
    help=f"Credentials profile from config.toml [env: {ENV_PROFILE}].",
)
@click.option(
    "--base-url",
    metavar="URL",
    help=(
        f"API root URL (default {DEFAULT_BASE_URL}; a trailing /v1 or /v2 is ignored) "
        f"[env: {ENV_BASE_URL}]."
    ),
)
@click.option(
    "--rate-limit",
    metavar="N/SECONDS",
    callback=check_rate_limit,
    help=(
        "Request budget: at most N requests in any SECONDS-long window (default "
        f"{DEFAULT_RATE_LIMIT}, "
        "the pace Aircall's guides budget; lower it when other integrations share the "
        f"account) [env: {ENV_RATE_LIMIT}]."
    ),
)
@click.option(
    "--sandbox",
    is_flag=True,
    default=None,
    help=f"Run against the embedded sandbox account; no credentials [env: {ENV_SANDBOX}=1].",
)
@file_option("--numbering", metavar="FILE", help=NUMBERING_HELP)
@click.option(
    "-o",
    "--output",
    type=click.Choice(ALL_FORMATS),
    default="table",
    show_default=True,
    help=(
        "Output format: table for people, json or csv for scripts, github for GitHub "
        "Actions annotations (validate, import --dry-run, diff, dial --batch)."
    ),
)
@click.option("-q", "--quiet", is_flag=True, help="Only data and errors; no status lines.")
@click.option(
    "-v", "--verbose", count=True, help="Log HTTP requests (-vv: with headers, secrets redacted)."
)
@click.option("--no-progress", is_flag=True, help="Never show progress bars.")
@click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
@click.pass_context
def cli(
    ctx: click.Context,
    profile: str | None,
    base_url: str | None,
    rate_limit: str | None,
    sandbox: bool | None,
    numbering: str | None,
    output: str,
    quiet: bool,
    verbose: int,
    no_progress: bool,
) -> None:
    """Manage the user extensions of an Aircall-style cloud phone system.

    List, assign, audit and bulk-import extensions, catch collisions and dead extensions of
    outgoing-only users, and dry-run what a caller's dialed digits do on a number.

    Try it without an account: aircall-ext --sandbox list
    """
    if output == "github" and ctx.invoked_subcommand is not None:
        command = cast(click.Group, ctx.command).get_command(ctx, ctx.invoked_subcommand)
        if command is None or not takes_github(command):
            raise refuse_github()
    if sandbox is None:
        sandbox = os.environ.get(ENV_SANDBOX, "").strip().lower() in {"1", "true", "yes"}
    ctx.obj = AppContext(
        profile=profile,
        base_url=base_url,
        rate_limit=rate_limit,
        sandbox=sandbox,
        output=cast(Format, output),
        quiet=quiet,
        verbose=verbose,
        progress=not no_progress,
        numbering=numbering,
    )


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and map every failure to its exit code."""
    code = run(argv)
    sys.exit(code)


def run(argv: list[str] | None = None) -> int:
    gc.set_threshold(GC_ALLOCATIONS, *gc.get_threshold()[1:])
    try:
        _check_text(sys.argv[1:] if argv is None else argv)
        # Not standalone: click returns the code of ctx.exit(n) instead of exiting.
        result = cli.main(args=argv, prog_name=PROG, standalone_mode=False)
    except AircallExtError as err:
        _error(err.message, err.hint)
        return err.exit_code
    except click.exceptions.NoArgsIsHelpError as err:
        err.show()  # a group run bare: its help, as Click does
        return EXIT_USAGE
    except click.ClickException as err:
        # Usage errors, bad parameters and unreadable files are all usage errors (exit 2),
        # said in one line like every other error, with where to read more.
        ctx = getattr(err, "ctx", None)
        _error(err.format_message(), f"see `{ctx.command_path} -h`" if ctx else None)
        return EXIT_USAGE
    except click.Abort:
        _error("aborted")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except (ReaderLeft, BrokenPipeError):  # bare from shell completion, outside Click's main
        # `aircall-ext list | head`: the reader left; that is not an error of ours.
        _drop_unread_output()
        return 0
    except Exception as err:  # last line of defence: never a traceback
        if os.environ.get(ENV_DEBUG):
            raise
        _error(f"internal error: {type(err).__name__}: {err}", "please report this bug")
        return EXIT_API
    return result if isinstance(result, int) else 0


def _drop_unread_output() -> None:
    """Point standard output or error, when its reader has left, at the null device. Python
    flushes both at exit; what they still hold would fail again there, print "Exception
    ignored" and turn the exit code into 120 (the recipe of Python's own documentation)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except ValueError:  # closed: nothing is flushed at exit
            pass
        except OSError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            with contextlib.suppress(OSError, ValueError):  # no descriptor: nothing to point
                os.dup2(devnull, stream.fileno())
            os.close(devnull)


def _check_text(argv: list[str]) -> None:
    """Refuse a word that is not text before it reaches a lookup, a path or the output.

    Python hands a non-UTF-8 argv byte over as a lone surrogate (surrogateescape); such a
    word cannot be matched against the account nor printed to stdout, so it is a usage
    error here rather than a crash wherever it first gets encoded.
    """
    for position, word in enumerate(argv, start=1):
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            try:  # the bytes the user typed, when Python got them through surrogateescape
                raw = word.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raw = word.encode("utf-8", "backslashreplace")
            shown = raw.decode("ascii", "backslashreplace")
            raise UsageError(
                f"argument {position} ({shown}) is not valid UTF-8 text",
                hint="type it in UTF-8; for a file with such a name, pipe it in with `-`",
            ) from None


def _error(message: str, hint: str | None = None) -> None:
    """One line, whatever the message carries (a value read from a file may hold newlines)."""
    line = f"{PROG}: error: {' '.join(message.split())}"
    if hint:
        line += f" ({hint})"
    click.echo(line, err=True)
