"""Findings: what the audit, the CSV check and the import planner report.

One shape for all of them (code, severity, message, user, extension, CSV line and column)
so that they render the same way as a table, JSON or CSV, and so that the exit code
follows from severities alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from aircall_ext.api.models import User

Severity = Literal["error", "warning", "info"]

# A message names at most this many users or extensions: a blocked plan on a full account
# must stay one readable line, not 20 KB of it.
LIST_LIMIT = 10


def listed(items: Iterable[str], *, limit: int = LIST_LIMIT, sep: str = ", ") -> str:
    """``items`` joined for a one-line message: the first ``limit``, then "and N more"."""
    shown: list[str] = []
    more = 0
    for item in items:
        if len(shown) < limit:
            shown.append(item)
        else:
            more += 1
    return sep.join(shown) + (f" and {more} more" if more else "")


def who(user: User) -> str:
    """How every message names a user: ``user 42 (ann@example.com)``, the name when the
    user has no email, else ``user 42``."""
    return who_is(user.id, user.email or user.name)


def who_is(user_id: int, known: str | None) -> str:
    """:func:`who` for a user known only by id and maybe an email (a document's row)."""
    return f"user {user_id} ({known})" if known else f"user {user_id}"


def plural(count: int, word: str, *, counted: bool = True) -> str:
    """``1 write``, ``0 writes``, ``2 writes``: a count and its word (regular plurals);
    without ``counted``, the word alone in the number the count asks for."""
    noun = word if count == 1 else f"{word}s"
    return f"{count} {noun}" if counted else noun


# Every code and its fixed severity: scripts match on codes, the exit code on severities.
SEVERITY: dict[str, Severity] = {
    "duplicate-extension": "error",
    "invalid-extension": "error",
    "missing-extension": "warning",
    "outgoing-only": "warning",
    "unknown-user": "error",
    "duplicate-user-in-file": "error",
    "duplicate-extension-in-file": "error",
    "extension-taken": "error",
    "identity-mismatch": "error",
    "bad-header": "error",
    "bad-row": "error",
    "no-change": "info",
    "blank-extension": "info",
    "outgoing-only-unknown": "info",
    # Codes of checks beyond the validation every user relies on:
    "extension-space-exhausted": "info",
    "unknown-column": "info",
    "encoding-fallback": "warning",
    "plan-blocked": "error",
    "no-rows": "error",
    "undo-skipped": "warning",
    # Numbering-plan checks (only with a plan in effect):
    "out-of-range": "warning",
    "reserved-extension": "warning",
    "unknown-team": "warning",
    "range-full": "warning",
}

_ORDER: dict[Severity, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    user_id: int | None = None
    email: str | None = None
    extension: str | None = None
    line: int | None = None  # 1-based physical line of the CSV (header = 1); CSV input only
    column: int | None = None  # 1-based field position in that line; CSV input only

    @classmethod
    def about(cls, code: str, user: User, message: str) -> Finding:
        """A finding about a user of the account and the extension they hold."""
        return cls(code, message, user_id=user.id, email=user.email, extension=user.extension)

    @property
    def severity(self) -> Severity:
        return SEVERITY.get(self.code, "error")

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "user_id": self.user_id,
            "email": self.email,
            "extension": self.extension,
        }
        if self.line is not None:
            doc["line"] = self.line
            doc["column"] = self.column
        return doc


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {"errors": 0, "warnings": 0, "infos": 0}
    for finding in findings:
        counts[finding.severity + "s"] += 1
    return counts


def failing(findings: Iterable[Finding], *, strict: bool = False) -> list[Finding]:
    """The findings that fail a check, in their order: errors always; with ``--strict``
    warnings too. Empty: the check passes (what "has errors" means everywhere)."""
    severities = {"error", "warning"} if strict else {"error"}
    return [f for f in findings if f.severity in severities]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then by file position, then by extension and user."""
    return sorted(
        findings,
        key=lambda f: (
            _ORDER[f.severity],
            f.line or 0,
            f.column or 0,
            f.extension or "",
            f.user_id or 0,
            f.code,
        ),
    )
