"""Errors that carry their documented exit code.

They are raised deep (client, services, parsers) and turned into one line on stderr plus
the exit code in exactly one place: :func:`aircall_ext.cli.main`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

# The documented exit codes (README, man page); tests/cli/test_exit_codes.py checks them.
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_API = 4
EXIT_STOPPED = 5
EXIT_INTERRUPTED = 130  # Ctrl-C with nothing in flight, or EOF at a prompt


@dataclass(frozen=True, init=False)
class Remedy:
    """A command a message suggests, as data: ``Remedy("assign", "42", "101")``.

    Whoever prints it writes the command line, with the global options of the run that
    suggests it (``--sandbox``, ``--profile``, ``--base-url``, ``--rate-limit``,
    ``--numbering``; none for the sandbox's own commands, which act on its state file), so
    the hint acts on the same account and plan when pasted. Core and services never write
    ``aircall-ext ...`` text themselves.
    """

    words: tuple[str, ...]

    def __init__(self, *words: str) -> None:
        object.__setattr__(self, "words", words)


# A hint: text, or text and remedies in reading order (each remedy shown as `command`).
HintPart = str | Remedy
Hint = str | Sequence[HintPart]
CommandWriter = Callable[[Remedy], str]


def bare_command(remedy: Remedy) -> str:
    """A remedy's command line without any global option of a run."""
    from aircall_ext.names import command_line

    return command_line(*remedy.words)


def hint_parts(hint: Hint | None) -> tuple[HintPart, ...]:
    if hint is None:
        return ()
    return (hint,) if isinstance(hint, str) else tuple(hint)


def write_hint(parts: Sequence[HintPart], write: CommandWriter = bare_command) -> str:
    """The hint as people read it: each remedy written as a command line in backquotes."""
    return "".join(part if isinstance(part, str) else f"`{write(part)}`" for part in parts)


class AircallExtError(Exception):
    """Base of every expected failure: ``str(err)`` is the one-line message; ``hint`` says
    what to do next (its commands written by ``write_command``, which the CLI sets to
    keep the run's global options)."""

    exit_code = EXIT_FINDINGS

    def __init__(self, message: str, *, hint: Hint | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint_parts = hint_parts(hint)
        self.write_command: CommandWriter = bare_command

    @property
    def hint(self) -> str | None:
        return write_hint(self.hint_parts, self.write_command) if self.hint_parts else None

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
        hint: Hint | None = None,
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
