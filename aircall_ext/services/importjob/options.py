"""What the caller of an import job gives it: its options, and the callbacks through which
it shows the plan, asks before writing, reports progress and hands over its result.

The CLI gives its own (a terminal prompt, a progress bar, tables); a Python caller may give
none: the defaults say nothing and refuse to write without ``yes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from aircall_ext.api.client import ApiClient
from aircall_ext.core.identity import AccountIdentity
from aircall_ext.errors import Hint, UsageError
from aircall_ext.services.importjob.apply import NoProgress, Progress
from aircall_ext.services.journal import Clock, utc_now

if TYPE_CHECKING:
    from aircall_ext.services.importjob.prepared import Prepared
    from aircall_ext.services.importjob.results import ImportResult


class Connection(Protocol):
    """The account a job runs on: its client, made when first needed, and its identity."""

    def client(self) -> ApiClient: ...

    def identity(self) -> AccountIdentity: ...


@dataclass(frozen=True)
class Connected:
    """A :class:`Connection` over a client made already (for Python callers)."""

    api: ApiClient
    account: AccountIdentity

    def client(self) -> ApiClient:
        return self.api

    def identity(self) -> AccountIdentity:
        return self.account


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = False  # check and plan, write nothing
    yes: bool = False  # write without asking ``confirm``
    strict: bool = False  # warnings in the input refuse it, as errors do
    journal: Path | None = None  # where a new job's journal goes (default: the state dir)
    save_plan: str | None = None  # with ``dry_run``: where the plan is saved
    # Where the caller writes the report: no output may overwrite an input or another output.
    report: str | None = None
    fsync: bool = True  # each journal record reaches the disk before the next request
    clock: Clock = utc_now
    # Extensions a cycle never parks a user on, even for a moment (a numbering plan's
    # reserved ones: callers dial 911); a saved plan keeps the parking it was made with.
    never_park: frozenset[str] = frozenset()


class JobUi(Protocol):
    """The job's callbacks: how it talks to whoever runs it."""

    def say(self, message: Hint) -> None: ...

    def warn(self, message: str) -> None: ...

    def show(self, prepared: Prepared) -> None: ...

    def confirm(self, writes: int) -> None: ...

    def progress(self) -> Progress: ...

    def finished(self, result: ImportResult) -> None: ...


class ImportUi:
    """The callbacks of a caller that gives none: each does nothing, except
    :meth:`confirm`, which refuses (give ``yes``)."""

    def say(self, message: Hint) -> None:
        """Status for people: the journal's path, why nothing is written (text, or text and
        commands: :class:`~aircall_ext.errors.Remedy` values, written with the run's options)."""

    def warn(self, message: str) -> None:
        """What people must know about their data."""

    def show(self, prepared: Prepared) -> None:
        """The plan, before any confirmation (not for an input refused with errors)."""

    def confirm(self, writes: int) -> None:
        """Agree to ``writes`` writes, or raise to write nothing."""
        raise UsageError(
            "refusing to write without confirmation",
            hint="give the import job yes=True, or a confirm callback",
        )

    def progress(self) -> Progress:
        return NoProgress()

    def finished(self, result: ImportResult) -> None:
        """The job's result, before it returns; called while stop signals only note, so
        the report is never cut short."""
