"""The names the tool is known by outside its code, and where it keeps its files.

Each is defined here only: the program name (also the keyring service and the app-dir
name), the tool's signature in the files it writes, the command lines its messages suggest,
the environment variables, the default API root, the per-user directories, and the cell
starts a spreadsheet runs as a formula. Every start-up imports this module, so the functions
import what they need when called.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from aircall_ext import __version__

if TYPE_CHECKING:
    from pathlib import Path

APP_NAME = "aircall-ext"
TOOL = f"{APP_NAME} {__version__}"  # what journals and saved plans record as their maker
DEFAULT_BASE_URL = "https://api.aircall.io"
# The default request budget (N/SECONDS), as text: help texts show it without importing
# the client's pacing, which parses it.
DEFAULT_RATE_LIMIT = "60/60"

ENV_API_ID = "AIRCALL_API_ID"
ENV_API_TOKEN = "AIRCALL_API_TOKEN"
ENV_BASE_URL = "AIRCALL_BASE_URL"
ENV_RATE_LIMIT = "AIRCALL_RATE_LIMIT"
ENV_PROFILE = "AIRCALL_EXT_PROFILE"
ENV_NUMBERING = "AIRCALL_EXT_NUMBERING"  # the numbering plan file
ENV_CONFIG_DIR = "AIRCALL_EXT_CONFIG_DIR"
ENV_SANDBOX = "AIRCALL_EXT_SANDBOX"
ENV_SANDBOX_STATE = "AIRCALL_EXT_SANDBOX_STATE"
ENV_SANDBOX_ID = "AIRCALL_EXT_SANDBOX_ID"
ENV_SANDBOX_TOKEN = "AIRCALL_EXT_SANDBOX_TOKEN"
ENV_DEBUG = "AIRCALL_EXT_DEBUG"  # set: an internal error shows its traceback
COMPLETE_VAR = "_AIRCALL_EXT_COMPLETE"  # Click's completion variable for APP_NAME

# Cells a spreadsheet would evaluate as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def command_line(*words: str, sandbox: bool = False) -> str:
    """``aircall-ext [--sandbox] WORDS``, quoted for a shell: a command a message suggests."""
    import shlex

    return shlex.join([APP_NAME, *(["--sandbox"] if sandbox else []), *words])


def config_dir() -> Path:
    """``AIRCALL_EXT_CONFIG_DIR``, else the per-user config dir (Click's, as before)."""
    from pathlib import Path

    override = os.environ.get(ENV_CONFIG_DIR)
    if override:
        return Path(override)
    import click

    return Path(click.get_app_dir(APP_NAME))


def state_dir() -> Path:
    """The per-user state dir (journals, the sandbox database)."""
    from platformdirs import user_state_path

    return user_state_path(APP_NAME, appauthor=False)


def cache_dir() -> Path:
    """The per-user cache dir (the completion cache)."""
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def rate_limits_path() -> Path:
    """Where the limits the API imposed (a 429's) are remembered, per account."""
    return cache_dir() / "rate-limits.json"
