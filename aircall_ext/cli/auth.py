"""``auth login|status|logout``: credentials in the OS keyring, profiles in config.toml."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import click

from aircall_ext.cli.context import AppContext, output_option, with_app
from aircall_ext.errors import ConfigError, UsageError


@click.group("auth")
def auth() -> None:
    """Log in, see where credentials come from, log out."""


@auth.command("login")
@click.option("--api-id", metavar="ID", help="API ID (prompted for when interactive).")
@click.option(
    "--token-stdin",
    is_flag=True,
    help="Read the API token from standard input (for scripts; never pass it in argv).",
)
@with_app
def login(app: AppContext, api_id: str | None, token_stdin: bool) -> None:
    """Verify credentials against the API and remember them.

    The token goes to the OS keyring (service "aircall-ext"); the API ID and base URL go to
    config.toml under the profile named by --profile (default "default").
    """
    from aircall_ext.config import DEFAULT_BASE_URL, Profile, resolve_settings, save_profile
    from aircall_ext.credentials import set_token
    from aircall_ext.services.session import open_client

    if app.sandbox:
        raise UsageError(
            "the sandbox needs no login", hint="drop --sandbox to log in to an account"
        )
    interactive = sys.stdin.isatty()
    api_id = (api_id or "").strip() or _prompt_api_id(interactive)
    token = _read_token(token_stdin, interactive)
    base = resolve_settings(profile=app.profile, base_url=app.base_url, need_token=False)
    settings = dataclasses.replace(base, api_id=api_id, api_token=token)
    with open_client(settings, verbose=app.verbose) as client:
        company = client.get_company()
    set_token(settings.profile, token)
    custom_url = settings.base_url if settings.base_url != DEFAULT_BASE_URL else None
    path = save_profile(Profile(settings.profile, api_id, custom_url))
    app.say(
        f"logged in to {company.name!r} as profile {settings.profile!r}; "
        f"token stored in the OS keyring, profile in {path}"
    )


def _prompt_api_id(interactive: bool) -> str:
    if not interactive:
        raise UsageError("--api-id is required when there is no terminal to prompt on")
    return str(click.prompt("API ID", err=True)).strip()


def _read_token(from_stdin: bool, interactive: bool) -> str:
    if from_stdin:
        token = sys.stdin.readline().strip()
    elif interactive:
        token = str(click.prompt("API token", hide_input=True, err=True)).strip()
    else:
        raise UsageError(
            "no terminal to prompt for the token", hint="pipe it in with --token-stdin"
        )
    if not token:
        raise UsageError("the API token is empty")
    return token


@auth.command("status")
@output_option
@with_app
def status(app: AppContext) -> None:
    """Show which profile, API ID and token are in use, where each comes from, and the company.

    The token is masked. Exit 3 when credentials are missing or refused.
    """
    from aircall_ext.credentials import mask

    settings = app.settings()
    doc: dict[str, Any] = {
        "profile": settings.profile,
        "base_url": settings.base_url,
        "api_id": settings.api_id,
        "token": mask(settings.api_token),
        "sources": settings.sources,
        "company": None,
    }
    problem: ConfigError | None = None
    try:
        doc["company"] = app.client().get_company().name
    except ConfigError as err:
        problem = err
    rows: list[dict[str, Any]] = [
        {"setting": "profile", "value": settings.profile, "source": ""},
        {"setting": "base URL", "value": settings.base_url, "source": _src(settings, "base_url")},
        {"setting": "API ID", "value": settings.api_id, "source": _src(settings, "api_id")},
        {"setting": "token", "value": doc["token"], "source": _src(settings, "api_token")},
        {"setting": "company", "value": doc["company"], "source": "GET /company"},
    ]
    app.emit(doc, rows, ["setting", "value", "source"])
    if problem is not None:
        raise problem


def _src(settings: Any, key: str) -> str:
    sources: dict[str, str] = settings.sources
    return sources.get(key) or sources.get("all") or "not set"


@auth.command("logout")
@with_app
def logout(app: AppContext) -> None:
    """Forget the profile's token (keyring) and its entry in config.toml."""
    from aircall_ext.config import load_config, remove_profile
    from aircall_ext.credentials import delete_token

    name = app.profile or load_config().default_profile
    had_token = delete_token(name)
    had_profile = remove_profile(name)
    if had_token or had_profile:
        app.say(f"logged out: profile {name!r} forgotten")
    else:
        app.say(f"nothing to forget: no stored credentials for profile {name!r}")


COMMANDS: list[click.Command] = [auth]
