"""The per-run application context shared by every command.

Holds the global options and builds, lazily and once, the one API client of the run.
Only click is imported here at module level: ``--help`` must not pay for httpx or pydantic.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

import click

from aircall_ext import output
from aircall_ext.output import FORMATS, Format

if TYPE_CHECKING:
    from aircall_ext.api.client import ApiClient
    from aircall_ext.config import Settings

P = ParamSpec("P")
R = TypeVar("R")


class AppContext:
    """Global options of the run (a plain class: dataclasses would cost start-up time)."""

    def __init__(
        self,
        *,
        profile: str | None = None,
        base_url: str | None = None,
        sandbox: bool = False,
        output: Format = "table",
        quiet: bool = False,
        verbose: int = 0,
        progress: bool = True,
    ) -> None:
        self.profile = profile
        self.base_url = base_url
        self.sandbox = sandbox
        self.output: Format = output
        self.quiet = quiet
        self.verbose = verbose
        self.progress = progress
        self._client: ApiClient | None = None
        self._settings: Settings | None = None

    # -- output -----------------------------------------------------------------------
    def emit(
        self,
        doc: Mapping[str, Any],
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str],
        *,
        headers: Sequence[str] | None = None,
        empty: str | None = None,
    ) -> None:
        output.emit(
            self.output, doc, rows, columns, headers=headers, empty=None if self.quiet else empty
        )

    def say(self, message: str, *, fg: str | None = None) -> None:
        """Status for people on stderr; silenced by ``-q``."""
        if not self.quiet:
            output.status(message, fg=fg)

    def warn(self, message: str) -> None:
        """Warnings are shown even with ``-q``: they are about the user's data."""
        output.warn(message)

    @property
    def show_progress(self) -> bool:
        """Progress unless ``--no-progress`` or ``-q``; off a terminal it is plain lines."""
        return self.progress and not self.quiet

    # -- API --------------------------------------------------------------------------
    def settings(self) -> Settings:
        """Resolved connection settings (option > environment > profile)."""
        if self._settings is None:
            from aircall_ext.config import resolve_settings

            self._settings = resolve_settings(
                profile=self.profile, base_url=self.base_url, sandbox=self.sandbox
            )
            for warning in self._settings.warnings:  # resolved once per run: said once
                self.warn(warning)
        return self._settings

    def client(self) -> ApiClient:
        """The run's one HTTP client, created on first use and closed when the run ends."""
        if self._client is None:
            from aircall_ext.services.session import open_client

            self._client = open_client(self.settings(), verbose=self.verbose)
            click.get_current_context().call_on_close(self._client.close)
        return self._client


def _set_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(AppContext).output = cast(Format, value)


def output_option(func: Callable[P, R]) -> Callable[P, R]:
    """``-o/--output`` on a command; overrides the global one given before the command."""
    return click.option(
        "-o",
        "--output",
        type=click.Choice(FORMATS),
        callback=_set_output,
        expose_value=False,
        is_eager=True,
        help="Output format: table for people, json or csv for scripts.",
    )(func)


def with_app(func: Callable[Concatenate[AppContext, P], R]) -> Callable[P, R]:
    """Pass the :class:`AppContext` as first argument (a typed ``pass_obj``)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        app = click.get_current_context().ensure_object(AppContext)
        return func(app, *args, **kwargs)

    return wrapper
