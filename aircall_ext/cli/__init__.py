"""The ``aircall-ext`` command line: root group, global options, exit-code mapping.

Every expected failure is an :class:`~aircall_ext.errors.AircallExtError` raised somewhere
below; :func:`main` is the one place that turns it into a line on stderr and an exit code.
"""

from __future__ import annotations

import os
import sys
from typing import cast

import click

from aircall_ext import __version__
from aircall_ext.cli.completers import complete_profiles
from aircall_ext.cli.context import AppContext
from aircall_ext.errors import EXIT_API, EXIT_USAGE, AircallExtError
from aircall_ext.output import FORMATS, Format

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

PROG = "aircall-ext"


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--profile",
    metavar="NAME",
    envvar="AIRCALL_EXT_PROFILE",
    shell_complete=complete_profiles,
    help="Credentials profile from config.toml [env: AIRCALL_EXT_PROFILE].",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="API base URL (default https://api.aircall.io/v1) [env: AIRCALL_BASE_URL].",
)
@click.option(
    "--sandbox",
    is_flag=True,
    default=None,
    help="Run against the embedded sandbox account; no credentials [env: AIRCALL_EXT_SANDBOX=1].",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format: table for people, json or csv for scripts.",
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
    sandbox: bool | None,
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
    if sandbox is None:
        sandbox = os.environ.get("AIRCALL_EXT_SANDBOX", "").strip().lower() in {"1", "true", "yes"}
    ctx.obj = AppContext(
        profile=profile,
        base_url=base_url,
        sandbox=sandbox,
        output=cast(Format, output),
        quiet=quiet,
        verbose=verbose,
        progress=not no_progress,
    )


def _register() -> None:
    from aircall_ext.cli import (
        assign,
        auth,
        bulk,
        completion,
        dial,
        imports,
        sandbox,
        users,
        validate,
    )

    for module in (auth, users, validate, assign, imports, bulk, dial, sandbox, completion):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and map every failure to its exit code."""
    code = run(argv)
    sys.exit(code)


def run(argv: list[str] | None = None) -> int:
    try:
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
        return 130
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:
        # `aircall-ext list | head`: the reader left; that is not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as err:  # last line of defence: never a traceback
        if os.environ.get("AIRCALL_EXT_DEBUG"):
            raise
        _error(f"internal error: {type(err).__name__}: {err}", "please report this bug")
        return EXIT_API
    return result if isinstance(result, int) else 0


def _error(message: str, hint: str | None = None) -> None:
    """One line, whatever the message carries (a value read from a file may hold newlines)."""
    line = f"{PROG}: error: {' '.join(message.split())}"
    if hint:
        line += f" ({hint})"
    click.echo(line, err=True)
