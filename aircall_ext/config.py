"""Profiles (config.toml) and the resolution of connection settings.

Precedence, in one function (:func:`resolve_settings`): option > environment > profile.
The config file holds only non-secret settings; the token lives in the OS keyring.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aircall_ext.api.ratelimit import DEFAULT_BUDGET, Budget
from aircall_ext.credentials import SERVICE, KeyringUnavailable, get_token
from aircall_ext.errors import ConfigError, Hint, Remedy, UsageError
from aircall_ext.files import PRIVATE_DIR_MODE, write_atomic
from aircall_ext.names import (
    DEFAULT_BASE_URL,
    ENV_API_ID,
    ENV_API_TOKEN,
    ENV_BASE_URL,
    ENV_NUMBERING,
    ENV_RATE_LIMIT,
    config_dir,
)

DEFAULT_PROFILE = "default"
SANDBOX_BASE_URL = "http://sandbox.invalid"
CONFIG_FILE = "config.toml"

_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_AT_END = " (at end of document)"


# The command that stores credentials (for the run's --profile, which the CLI adds).
LOGIN = Remedy("auth", "login")


def no_credentials_hint() -> Hint:
    return (
        "run ",
        LOGIN,
        f", or set {ENV_API_ID} and {ENV_API_TOKEN}; or try the demo account with --sandbox",
    )


@dataclass(frozen=True)
class Profile:
    name: str
    api_id: str | None = None
    base_url: str | None = None
    rate_limit: str | None = None  # as written: checked when a run uses it
    rate_limit_line: int | None = field(default=None, compare=False)  # where, in config.toml
    numbering: str | None = None  # the numbering plan file, as written


@dataclass(frozen=True)
class Config:
    path: Path
    default_profile: str = DEFAULT_PROFILE
    profiles: dict[str, Profile] = field(default_factory=dict)
    error: ConfigError | None = None  # the file exists but is unusable (lenient reads only)


@dataclass(frozen=True)
class Settings:
    """Where and as whom to connect, and where each value came from (for ``auth status``)."""

    profile: str
    base_url: str
    api_id: str | None
    api_token: str | None = field(repr=False)
    sandbox: bool = False
    sources: dict[str, str] = field(default_factory=dict)
    # Why the credentials are missing when the obvious message would mislead (a keyring
    # that cannot be read, a variable set but empty); raised when they are needed.
    problem: ConfigError | None = None
    warnings: tuple[str, ...] = ()  # for the run to show once (a config file ignored)
    # The request budget; None paces nothing of its own (the in-process sandbox has no limit).
    rate_limit: Budget | None = DEFAULT_BUDGET


def config_path() -> Path:
    return config_dir() / CONFIG_FILE


def load_config(*, lenient: bool = False) -> Config:
    """Read config.toml; a missing file is an empty config, a broken one a clear error.

    ``lenient``: a broken file is returned as an empty config carrying the error, for
    callers that may not need anything from it.
    """
    path = config_path()
    try:
        return _read_config(path)
    except ConfigError as err:
        if lenient:
            return Config(path, error=err)
        raise


def _read_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path)
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read {path}: {err}", hint="fix or delete the file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message, where = str(err), str(path)
        at = _TOML_WHERE.search(message)
        if at:
            message, where = message[: at.start()], f"{path}:{at.group(1)}:{at.group(2)}"
        elif message.endswith(_AT_END):
            message, where = message[: -len(_AT_END)], f"{path}:{len(text.splitlines()) or 1}"
        raise ConfigError(
            f"{where}: invalid TOML: {message}", hint="fix or delete the file"
        ) from None
    return _parse_config(path, data, text)


def _parse_config(path: Path, data: dict[str, Any], text: str = "") -> Config:
    default = data.get("default_profile", DEFAULT_PROFILE)
    raw_profiles = data.get("profiles", {})
    if not isinstance(default, str) or not isinstance(raw_profiles, dict):
        raise ConfigError(f'{path}: expected default_profile = "NAME" and [profiles.NAME] tables')
    profiles: dict[str, Profile] = {}
    for name, values in raw_profiles.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: [profiles.{name}] must be a table")
        for key in ("api_id", "base_url", "numbering"):
            if key in values and not isinstance(values[key], str):
                raise ConfigError(f"{path}: profiles.{name}.{key} must be a string")
        rate_limit = values.get("rate_limit")
        profiles[name] = Profile(
            name,
            values.get("api_id"),
            values.get("base_url"),
            None if rate_limit is None else str(rate_limit),
            _line_of(text, name, "rate_limit") if rate_limit is not None else None,
            values.get("numbering"),
        )
    return Config(path, default, profiles)


def _line_of(text: str, profile: str, key: str) -> int | None:
    """The line ``profiles.PROFILE.KEY`` is written on (in its table, as a dotted key or in
    an inline table), for messages."""
    from aircall_ext.core.tomlkeys import locate_keys

    place = locate_keys(text).places.get(("profiles", profile, key))
    return place.key.line if place is not None else None


def save_profile(profile: Profile, *, make_default: bool = False) -> Path:
    """Add or replace one profile; the file is private (0600) and written atomically."""
    config = load_config()
    profiles = dict(config.profiles)
    profiles[profile.name] = profile
    default = profile.name if make_default or not config.profiles else config.default_profile
    _write_config(Config(config.path, default, profiles))
    return config.path


def remove_profile(name: str) -> bool:
    config = load_config()
    if name not in config.profiles:
        return False
    profiles = {k: v for k, v in config.profiles.items() if k != name}
    default = DEFAULT_PROFILE if config.default_profile == name else config.default_profile
    _write_config(Config(config.path, default, profiles))
    return True


def _write_config(config: Config) -> None:
    import tomli_w

    data: dict[str, Any] = {
        "default_profile": config.default_profile,
        "profiles": {
            p.name: {
                k: v
                for k, v in (
                    ("api_id", p.api_id),
                    ("base_url", p.base_url),
                    ("rate_limit", p.rate_limit),
                    ("numbering", p.numbering),
                )
                if v
            }
            for p in config.profiles.values()
        },
    }
    path = config.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        write_atomic(path, tomli_w.dumps(data).encode("utf-8"), private=True)
    except OSError as err:
        raise ConfigError(f"cannot write {path}: {err}") from None


def resolve_settings(
    *,
    profile: str | None = None,
    base_url: str | None = None,
    rate_limit: str | None = None,
    sandbox: bool = False,
    need_token: bool = True,
    new_profile: bool = False,
) -> Settings:
    """Settings from option > environment > profile (config file + keyring).

    Nothing here fails for want of a token: a missing token is said by
    :func:`require_credentials` when a request needs it, so ``auth status`` can still show
    where everything else comes from. ``new_profile``: ``profile`` need not exist yet
    (``auth login`` creates it).
    """
    if sandbox:
        return Settings(
            "sandbox",
            SANDBOX_BASE_URL,
            "sandbox",
            "sandbox",
            True,
            {"all": "sandbox"},
            rate_limit=None,
        )
    env = {
        key: os.environ.get(key)
        for key in (ENV_API_ID, ENV_API_TOKEN, ENV_BASE_URL, ENV_RATE_LIMIT)
    }
    given = {key: bool(value and value.strip()) for key, value in env.items()}
    config = load_config(lenient=True)
    warnings: list[str] = []
    if config.error is not None:
        needed = [
            (what, how)
            for what, how, known in (
                (
                    "base URL",
                    f"--base-url or {ENV_BASE_URL}",
                    bool(base_url and base_url.strip()) or given[ENV_BASE_URL],
                ),
                ("API ID", ENV_API_ID, given[ENV_API_ID]),
                ("API token", ENV_API_TOKEN, given[ENV_API_TOKEN] or not need_token),
            )
            if not known
        ]
        if needed:
            raise ConfigError(
                f"{config.error.message}; the {', '.join(what for what, _ in needed)} "
                "would come from it",
                hint=f"{config.error.hint}, or set {', '.join(how for _, how in needed)}",
            )
        warnings.append(ignoring(config.error))
    name = profile or config.default_profile
    unknown = profile is not None and profile not in config.profiles
    if unknown and not (given[ENV_API_ID] or new_profile or config.error is not None):
        raise ConfigError(
            f"no profile {profile!r} in {config.path}",
            hint=("run ", LOGIN, f", or set {ENV_API_ID} and {ENV_API_TOKEN}"),
        )
    stored = config.profiles.get(name, Profile(name))
    sources: dict[str, str] = {}
    url = _pick(
        sources,
        "base_url",
        ("option --base-url", base_url),
        (f"env {ENV_BASE_URL}", env[ENV_BASE_URL]),
        (f"profile {name!r}", stored.base_url),
        ("default", DEFAULT_BASE_URL),
    )
    api_id = _pick(
        sources,
        "api_id",
        (f"env {ENV_API_ID}", env[ENV_API_ID]),
        (f"profile {name!r}", stored.api_id),
    )
    budget = _budget(
        sources,
        ("option --rate-limit", rate_limit, "--rate-limit"),
        (f"env {ENV_RATE_LIMIT}", env[ENV_RATE_LIMIT], ENV_RATE_LIMIT),
        (f"profile {name!r}", stored.rate_limit, _where(config.path, stored)),
    )
    token = _pick(sources, "api_token", (f"env {ENV_API_TOKEN}", env[ENV_API_TOKEN]))
    problem: ConfigError | None = None
    if token is None and api_id is not None and need_token:
        token, problem = _keyring_token(name, sources)
    # An unset CI secret arrives as a variable set but empty: name it, not the keyring.
    missing = {ENV_API_ID: api_id is None, ENV_API_TOKEN: token is None and need_token}
    empty = [key for key, gone in missing.items() if gone and env[key] is not None]
    if empty:
        problem = _empty_variables(empty, problem)
        for key, setting in ((ENV_API_ID, "api_id"), (ENV_API_TOKEN, "api_token")):
            if key in empty:
                sources.setdefault(setting, f"env {key} (set but empty)")
    return Settings(
        name,
        url or DEFAULT_BASE_URL,
        api_id,
        token,
        False,
        sources,
        problem,
        tuple(warnings),
        budget,
    )


def ignoring(error: ConfigError) -> str:
    """The warning for a broken config file a run can do without."""
    return f"ignoring {error.message}: every setting comes from options and environment"


def _budget(sources: dict[str, str], *candidates: tuple[str, str | None, str]) -> Budget:
    """The first budget given, checked: a bad one is a usage error naming where it was."""
    for source, value, where in candidates:
        if value is not None and value.strip():
            try:
                budget = Budget.parse(value)
            except ValueError as err:
                raise UsageError(
                    f"{where}: {err}",
                    hint="N requests per SECONDS, e.g. 30/60 to leave half of the API's "
                    "budget to other integrations",
                ) from None
            sources["rate_limit"] = source
            return budget
    sources["rate_limit"] = "default"
    return DEFAULT_BUDGET


def _where(path: Path, profile: Profile) -> str:
    line = f":{profile.rate_limit_line}" if profile.rate_limit_line else ""
    return f"{path}{line}: profiles.{profile.name}.rate_limit"


def _keyring_token(profile: str, sources: dict[str, str]) -> tuple[str | None, ConfigError | None]:
    """The profile's token from the OS keyring, or why it cannot be read (kept for later)."""
    try:
        token = get_token(profile)
    except KeyringUnavailable as err:
        sources["api_token"] = f"unavailable ({err.short})"
        return None, err
    if token is not None:
        sources["api_token"] = f"keyring (service {SERVICE!r}, profile {profile!r})"
    return token, None


def _empty_variables(names: list[str], keyring_problem: ConfigError | None) -> ConfigError:
    what = " and ".join(names)
    verb, it = ("are", "them") if len(names) > 1 else ("is", "it")
    also = ""
    if isinstance(keyring_problem, KeyringUnavailable):
        also = f" (and the OS keyring cannot be read either: {keyring_problem.short})"
    return ConfigError(
        f"{what} {verb} set but empty{also}",
        hint=(
            f"set {it} to the API credentials (a CI secret that is not defined arrives "
            f"empty), or unset {it} to use the ones ",
            LOGIN,
            " stored",
        ),
    )


def _pick(sources: dict[str, str], key: str, *candidates: tuple[str, str | None]) -> str | None:
    for source, value in candidates:
        if value is not None and value.strip():
            sources[key] = source
            return value.strip()
    return None


def require_credentials(settings: Settings) -> tuple[str, str]:
    if settings.api_id and settings.api_token:
        return settings.api_id, settings.api_token
    if settings.problem is not None:
        raise settings.problem
    missing = "API ID" if not settings.api_id else "API token"
    raise ConfigError(f"no {missing} for profile {settings.profile!r}", hint=no_credentials_hint())


@dataclass(frozen=True)
class PlanFile:
    """The numbering plan file a run uses, and where that choice came from."""

    path: Path  # to open
    shown: str  # how messages name it: as typed, or the profile's value
    source: str  # "option --numbering", "env AIRCALL_EXT_NUMBERING", "profile 'default'"


def resolve_numbering(
    option: str | None,
    *,
    warn: Callable[[str], None],
    profile: str | None = None,
    sandbox: bool = False,
) -> PlanFile | None:
    """The plan file: option > environment > profile; None when none is set.

    An empty ``--numbering ''`` means no plan, whatever the environment and profile say.
    The profile is not consulted under ``--sandbox`` (it describes another account), and
    a relative path there is relative to the config file's directory (``~`` is expanded),
    so it means the same file from wherever the command runs. A broken config file is
    passed to ``warn`` (as :func:`resolve_settings` says it): a run that resolves no
    settings, such as ``validate --offline``, would otherwise lose its plan silently.
    """
    if option is not None:
        text = option.strip()
        return PlanFile(Path(text), text, "option --numbering") if text else None
    from_env = os.environ.get(ENV_NUMBERING, "").strip()
    if from_env:
        return PlanFile(Path(from_env), from_env, f"env {ENV_NUMBERING}")
    if sandbox:
        return None
    config = load_config(lenient=True)
    if config.error is not None:
        warn(ignoring(config.error))
    name = profile or config.default_profile
    stored = config.profiles.get(name)
    written = (stored.numbering or "").strip() if stored is not None else ""
    if not written:
        return None
    path = Path(written).expanduser()
    if not path.is_absolute():
        path = config.path.parent / path
    return PlanFile(path, str(path), f"profile {name!r}")
