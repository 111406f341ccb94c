"""Errors that carry their documented exit code.

They are raised deep (client, services, parsers) and turned into one line on stderr plus
the exit code in exactly one place: :func:`aircall_ext.cli.main`.
"""

from __future__ import annotations

# The documented exit codes (README, man page); tests/cli/test_exit_codes.py checks them.
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_API = 4
EXIT_STOPPED = 5
EXIT_INTERRUPTED = 130  # Ctrl-C with nothing in flight, or EOF at a prompt


class AircallExtError(Exception):
    """Base of every expected failure: ``str(err)`` is the one-line message."""

    exit_code = EXIT_FINDINGS

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint  # what to do next, printed after the message

    def __str__(self) -> str:
        return self.message


class Refused(AircallExtError):
    """The request is understood but must not be carried out (taken extension, blocked plan)."""

    exit_code = EXIT_FINDINGS


class UsageError(AircallExtError):
    """Bad option, argument or unreadable file."""

    exit_code = EXIT_USAGE


class UnknownUser(UsageError):
    """A USER argument names nobody, or several users: the argument is wrong, not the account."""


class ConfigError(AircallExtError):
    """No credentials, rejected credentials, unusable keyring, bad config file."""

    exit_code = EXIT_AUTH


class ApiError(AircallExtError):
    """The API failed after retries, or answered something we cannot use."""

    exit_code = EXIT_API

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        hint: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.reason = reason  # the API's own sentence, when it gave one


class NotFound(ApiError):
    """404 from the API: the referenced object does not exist."""

    exit_code = EXIT_FINDINGS


class Unprocessable(ApiError):
    """The API refused a write (422, or 400 on a PUT): a taken or malformed extension, or a
    rule of its own. Never taken at its word: the caller reads the account to learn which."""

    exit_code = EXIT_FINDINGS


class ImportStopped(AircallExtError):
    """An import stopped part-way; the journal finishes the job with ``--resume``."""

    exit_code = EXIT_STOPPED
