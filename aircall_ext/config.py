"""Profiles (config.toml) and the resolution of connection settings.

Precedence, in one function (:func:`resolve_settings`): option > environment > profile.
The config file holds only non-secret settings; the token lives in the OS keyring.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aircall_ext.errors import ConfigError

APP_NAME = "aircall-ext"
DEFAULT_BASE_URL = "https://api.aircall.io"
DEFAULT_PROFILE = "default"
SANDBOX_BASE_URL = "http://sandbox.invalid"
CONFIG_FILE = "config.toml"

ENV_API_ID = "AIRCALL_API_ID"
ENV_API_TOKEN = "AIRCALL_API_TOKEN"
ENV_BASE_URL = "AIRCALL_BASE_URL"
ENV_PROFILE = "AIRCALL_EXT_PROFILE"
ENV_CONFIG_DIR = "AIRCALL_EXT_CONFIG_DIR"

NO_CREDENTIALS_HINT = (
    f"run `aircall-ext auth login`, or set {ENV_API_ID} and {ENV_API_TOKEN}; "
    "or try the demo account with --sandbox"
)


@dataclass(frozen=True)
class Profile:
    name: str
    api_id: str | None = None
    base_url: str | None = None


@dataclass(frozen=True)
class Config:
    path: Path
    default_profile: str = DEFAULT_PROFILE
    profiles: dict[str, Profile] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """Where and as whom to connect, and where each value came from (for ``auth status``)."""

    profile: str
    base_url: str
    api_id: str | None
    api_token: str | None = field(repr=False)
    sandbox: bool = False
    sources: dict[str, str] = field(default_factory=dict)


def config_dir() -> Path:
    override = os.environ.get(ENV_CONFIG_DIR)
    if override:
        return Path(override)
    import click

    return Path(click.get_app_dir(APP_NAME))


def config_path() -> Path:
    return config_dir() / CONFIG_FILE


def load_config() -> Config:
    """Read config.toml; a missing file is an empty config, a broken one a clear error."""
    path = config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path)
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}", hint="fix or delete the file") from None
    return _parse_config(path, data)


def _parse_config(path: Path, data: dict[str, Any]) -> Config:
    default = data.get("default_profile", DEFAULT_PROFILE)
    raw_profiles = data.get("profiles", {})
    if not isinstance(default, str) or not isinstance(raw_profiles, dict):
        raise ConfigError(f'{path}: expected default_profile = "NAME" and [profiles.NAME] tables')
    profiles: dict[str, Profile] = {}
    for name, values in raw_profiles.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: [profiles.{name}] must be a table")
        for key in ("api_id", "base_url"):
            if key in values and not isinstance(values[key], str):
                raise ConfigError(f"{path}: profiles.{name}.{key} must be a string")
        profiles[name] = Profile(name, values.get("api_id"), values.get("base_url"))
    return Config(path, default, profiles)


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
    _write_config(Config(config.path, config.default_profile, profiles))
    return True


def _write_config(config: Config) -> None:
    import tomli_w

    data: dict[str, Any] = {
        "default_profile": config.default_profile,
        "profiles": {
            p.name: {k: v for k, v in (("api_id", p.api_id), ("base_url", p.base_url)) if v}
            for p in config.profiles.values()
        },
    }
    path = config.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(path.name + ".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(tomli_w.dumps(data))
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except OSError as err:
        raise ConfigError(f"cannot write {path}: {err}") from None


def resolve_settings(
    *,
    profile: str | None = None,
    base_url: str | None = None,
    sandbox: bool = False,
    need_token: bool = True,
) -> Settings:
    """Settings from option > environment > profile (config file + keyring)."""
    if sandbox:
        return Settings("sandbox", SANDBOX_BASE_URL, "sandbox", "sandbox", True, {"all": "sandbox"})
    config = load_config()
    name = profile or config.default_profile
    if profile and profile not in config.profiles and not os.environ.get(ENV_API_ID):
        raise ConfigError(
            f"no profile {profile!r} in {config.path}",
            hint=f"run `aircall-ext --profile {profile} auth login`",
        )
    stored = config.profiles.get(name, Profile(name))
    sources: dict[str, str] = {}
    url = _pick(
        sources,
        "base_url",
        ("option --base-url", base_url),
        (f"env {ENV_BASE_URL}", os.environ.get(ENV_BASE_URL)),
        (f"profile {name!r}", stored.base_url),
        ("default", DEFAULT_BASE_URL),
    )
    api_id = _pick(
        sources,
        "api_id",
        (f"env {ENV_API_ID}", os.environ.get(ENV_API_ID)),
        (f"profile {name!r}", stored.api_id),
    )
    token = _pick(sources, "api_token", (f"env {ENV_API_TOKEN}", os.environ.get(ENV_API_TOKEN)))
    if token is None and api_id is not None and need_token:
        from aircall_ext.credentials import get_token

        token = get_token(name)
        if token is not None:
            sources["api_token"] = f"keyring (service {APP_NAME!r}, profile {name!r})"
    return Settings(name, url or DEFAULT_BASE_URL, api_id, token, False, sources)


def _pick(sources: dict[str, str], key: str, *candidates: tuple[str, str | None]) -> str | None:
    for source, value in candidates:
        if value is not None and value.strip():
            sources[key] = source
            return value.strip()
    return None


def require_credentials(settings: Settings) -> tuple[str, str]:
    if settings.api_id and settings.api_token:
        return settings.api_id, settings.api_token
    missing = "API ID" if not settings.api_id else "API token"
    raise ConfigError(f"no {missing} for profile {settings.profile!r}", hint=NO_CREDENTIALS_HINT)
