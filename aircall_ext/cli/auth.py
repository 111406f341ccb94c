"""``auth login|status|logout``: credentials in the OS keyring, profiles in config.toml."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from aircall_ext.cli.context import (
    AppContext,
    check_rate_limit,
    file_option,
    open_client,
    output_option,
    with_app,
)
from aircall_ext.columns import Columns
from aircall_ext.config import Profile, load_config, remove_profile, resolve_settings, save_profile
from aircall_ext.credentials import SERVICE, KeyringUnavailable, delete_token, mask, set_token
from aircall_ext.errors import ConfigError, UsageError
from aircall_ext.names import DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT

if TYPE_CHECKING:
    from aircall_ext.api.client import ApiClient

SETTINGS = Columns.of("setting", "value", "source")


@click.group("auth")
def auth() -> None:
    """Log in, see where credentials come from, log out."""


@auth.command("login")
@click.option("--api-id", metavar="ID", help="API ID (prompted for when interactive).")
@click.option(
    "--rate-limit",
    metavar="N/SECONDS",
    callback=check_rate_limit,
    help=(
        "Request budget to keep in the profile: at most N requests in any SECONDS-long "
        f"window (default {DEFAULT_RATE_LIMIT}; e.g. 30/60 leaves half to other integrations)."
    ),
)
@file_option(
    "--numbering",
    metavar="FILE",
    exists=True,
    help=(
        "Numbering plan to keep in the profile (checked first; stored as an absolute path): "
        "commands that use a plan use it unless --numbering or AIRCALL_EXT_NUMBERING says "
        "otherwise."
    ),
)
@click.option(
    "--token-stdin",
    is_flag=True,
    help=(
        "Read the API token from standard input (for scripts; never pass it in argv). "
        "On a terminal the token is prompted for, hidden."
    ),
)
@with_app
def login(
    app: AppContext,
    api_id: str | None,
    rate_limit: str | None,
    numbering: str | None,
    token_stdin: bool,
) -> None:
    """Verify credentials against the API and remember them.

    The token goes to the OS keyring (service "aircall-ext"); the API ID, base URL and
    request budget go to config.toml under the profile named by --profile or
    AIRCALL_EXT_PROFILE (default "default"), which is created if it does not exist yet.
    Without --rate-limit (--numbering), the budget (plan) the profile had is kept.
    """

    if app.sandbox:
        raise UsageError(
            "the sandbox needs no login", hint="drop --sandbox to log in to an account"
        )
    config = load_config()  # saved there: a broken file fails before the token is typed
    plan_path = _checked_plan(numbering) if numbering is not None else None
    interactive = sys.stdin.isatty()
    api_id = (api_id or "").strip() or _prompt_api_id(app, interactive)
    token = _read_token(app, token_stdin, interactive)
    base = resolve_settings(
        profile=app.profile, base_url=app.base_url, need_token=False, new_profile=True
    )
    settings = dataclasses.replace(base, api_id=api_id, api_token=token, problem=None)
    with open_client(app, settings) as client:
        try:
            company = client.get_company()
        except ConfigError as err:  # the one a request raises: the credentials were refused
            raise ConfigError(
                err.message,
                hint=f"check the API ID and token you gave, and that {settings.base_url} "
                "is the account's API",
            ) from None
    set_token(settings.profile, token)
    custom_url = settings.base_url if settings.base_url != DEFAULT_BASE_URL else None
    kept = config.profiles.get(settings.profile)
    budget = rate_limit.strip() if rate_limit else kept.rate_limit if kept else None
    plan = plan_path or (kept.numbering if kept else None)
    path = save_profile(Profile(settings.profile, api_id, custom_url, budget, numbering=plan))
    app.say(
        f"logged in to {company.name!r} as profile {settings.profile!r}; "
        f"token stored in the OS keyring, profile in {path}"
    )


def _checked_plan(numbering: str) -> str:
    """The plan file's absolute path, once it reads as a plan (else exit 2, nothing saved)."""
    from pathlib import Path

    from aircall_ext.services.numbering import read_plan

    path = Path(numbering).expanduser().absolute()
    read_plan(path, numbering)
    return str(path)


def _prompt_api_id(app: AppContext, interactive: bool) -> str:
    if not interactive:
        raise UsageError("--api-id is required when there is no terminal to prompt on")
    return app.prompt("API ID").strip()


def _read_token(app: AppContext, from_stdin: bool, interactive: bool) -> str:
    """The token, never echoed: standard input on a terminal is a person typing it."""
    if interactive:
        token = app.prompt("API token", hidden=True).strip()
    elif from_stdin:
        token = sys.stdin.readline().strip()
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
    """Show which profile, API ID, token and request budget are in use, where each comes
    from, and the company.

    The token is masked. A limit the API imposed on the account in an earlier run (a 429)
    caps the budget and is shown as its source. Exit 3 when credentials are missing or
    refused.
    """
    settings = app.settings()
    sources = dict(settings.sources)
    plan_file = app.plan_file()
    sources["numbering"] = plan_file.source if plan_file else "not set"
    doc: dict[str, Any] = {
        "profile": settings.profile,
        "base_url": settings.base_url,
        "api_id": settings.api_id,
        "token": mask(settings.api_token),
        "rate_limit": str(settings.rate_limit) if settings.rate_limit else None,
        "numbering": plan_file.shown if plan_file else None,
        "sources": sources,
        "company": None,
    }
    problem: ConfigError | None = None
    client: ApiClient | None = None
    try:
        client = app.client()
        doc["company"] = client.get_company().name
    except ConfigError as err:
        problem = err
    budget = client.pacer.budget if client is not None else None
    if budget is not None and budget != settings.rate_limit:  # lowered by the API's 429
        sources["rate_limit"] = (
            f"the API's limit (HTTP 429), remembered for this account; configured "
            f"{settings.rate_limit} from {_src(sources, 'rate_limit')}"
        )
        doc["rate_limit"] = str(budget)
    rows: list[dict[str, Any]] = [
        {"setting": "profile", "value": settings.profile, "source": ""},
        {"setting": "base URL", "value": settings.base_url, "source": _src(sources, "base_url")},
        {"setting": "API ID", "value": settings.api_id, "source": _src(sources, "api_id")},
        {"setting": "token", "value": doc["token"], "source": _src(sources, "api_token")},
        {
            "setting": "rate limit",
            "value": doc["rate_limit"] or "none",
            "source": _src(sources, "rate_limit"),
        },
        {
            "setting": "numbering plan",
            "value": doc["numbering"] or "none",
            "source": sources["numbering"],
        },
        {
            "setting": "company",
            "value": doc["company"],
            "source": "GET /v1/company" if problem is None else "not checked",
        },
    ]
    app.emit(doc, rows, SETTINGS)
    if problem is not None:
        raise problem


def _src(sources: Mapping[str, str], key: str) -> str:
    return sources.get(key) or sources.get("all") or "not set"


@auth.command("logout")
@with_app
def logout(app: AppContext) -> None:
    """Forget the profile's token (keyring) and its entry in config.toml.

    The config entry is removed even when the keyring cannot be used; exit 3 then says the
    token could not be cleared. Forgetting a profile that does not exist says so, exit 0.
    """
    config = load_config()
    name = app.profile or config.default_profile
    had_profile = remove_profile(name)
    entry = f"its entry in {config.path} removed" if had_profile else f"no entry in {config.path}"
    try:
        had_token = delete_token(name)
    except KeyringUnavailable as err:
        known = "" if had_profile else _known_profiles(config.profiles)
        raise ConfigError(
            f"profile {name!r}: {entry}{known}, but the OS keyring could not be cleared: "
            f"{err.message}",
            hint=f"if a token was stored from a session where the keyring works, delete it "
            f'there: `keyring del {SERVICE} {name}` (service "{SERVICE}", user "{name}")',
        ) from None
    if had_profile or had_token:
        token = "its token removed from" if had_token else "no token was in"
        app.say(f"logged out: profile {name!r} forgotten ({entry}; {token} the OS keyring)")
    else:
        app.warn(
            f"nothing to forget: no profile {name!r} in {config.path} and no token for it "
            f"in the OS keyring{_known_profiles(config.profiles)}"
        )


def _known_profiles(profiles: Mapping[str, object]) -> str:
    return f" (profiles: {', '.join(sorted(profiles))})" if profiles else " (no profiles)"
