"""The OS keyring, every call wrapped: a broken or missing keyring is a clear exit 3.

There is deliberately no plaintext fallback: on a headless machine the answer is the
environment variables, and the message says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aircall_ext.errors import ConfigError
from aircall_ext.names import APP_NAME, ENV_API_ID, ENV_API_TOKEN

T = TypeVar("T")

SERVICE = APP_NAME


class KeyringUnavailable(ConfigError):
    """The OS keyring cannot be used here; ``short`` says why in a few words."""

    def __init__(self, message: str, *, short: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.short = short


def _keyring_call(action: str, call: Callable[[], T]) -> T:
    import keyring.errors

    try:
        return call()
    except keyring.errors.NoKeyringError:
        short, reason = "no keyring", "no OS keyring is available on this machine"
    except Exception as err:  # backends raise their own (D-Bus, locked vault, ...)
        short, reason = "keyring failed", f"the OS keyring failed ({type(err).__name__}: {err})"
    raise KeyringUnavailable(
        f"cannot {action}: {reason}",
        short=short,
        hint=f"set {ENV_API_ID} and {ENV_API_TOKEN} in the environment instead",
    )


def get_token(profile: str) -> str | None:
    import keyring

    return _keyring_call("read the token", lambda: keyring.get_password(SERVICE, profile))


def set_token(profile: str, token: str) -> None:
    import keyring

    _keyring_call("store the token", lambda: keyring.set_password(SERVICE, profile, token))


def delete_token(profile: str) -> bool:
    """Forget the token; False when there was none."""
    import keyring
    import keyring.errors

    def delete() -> bool:
        try:
            keyring.delete_password(SERVICE, profile)
        except keyring.errors.PasswordDeleteError:
            return False
        return True

    return _keyring_call("delete the token", delete)


def mask(secret: str | None) -> str:
    """Enough to recognise a token, never enough to use it."""
    if not secret:
        return "(none)"
    return "****" + secret[-4:] if len(secret) >= 16 else "****"
